/** Creating and reading verifications, and reading the audit trail. */
import type { Kysely } from "kysely";
import * as z from "zod";
import { DEFAULT_MAX_ATTEMPTS } from "../core/attempts.js";
import { DuplicateIdError } from "../core/errors.js";
import { defaultPurpose } from "../core/purpose.js";
import type { AuditEvent, Store } from "../core/store.js";
import type { NewVerification } from "../core/verification.js";
import { readVerification, type StoreContext } from "./context.js";
import { dateOf, expectedColumns, msOf } from "./rows.js";
import type { Database } from "./schema.js";
import { first } from "./steps.js";

const AUDIT_DATA = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));

/**
 * Inserts a pending verification, its expected identity as keyed hashes only; undefined when its id
 * or bound id is taken.
 */
export async function insertVerification(
  ctx: StoreContext,
  executor: Kysely<Database>,
  input: NewVerification,
) {
  return executor
    .insertInto("verifications")
    .values({
      id: input.id,
      api_version: input.apiVersion,
      bound_id: input.boundId,
      status: "pending",
      reason: null,
      policy_json: JSON.stringify(input.policy),
      purpose: input.purpose ?? defaultPurpose(input.accountRef),
      account_ref: input.accountRef ?? null,
      ...expectedColumns(input.expected, input.id, ctx.keyring),
      return_url: input.returnUrl ?? null,
      max_attempts: input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      created_at: msOf(input.createdAt),
      expires_at: msOf(input.expiresAt),
    })
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
}

export function verificationMethods(
  ctx: StoreContext,
): Pick<
  Store,
  | "createVerification"
  | "getVerification"
  | "findVerificationByBoundId"
  | "isAccountBound"
  | "listAuditEvents"
> {
  const { db, toRecord } = ctx;
  return {
    async createVerification(input: NewVerification) {
      const inserted = await insertVerification(ctx, db, input);
      if (inserted === undefined) {
        throw new DuplicateIdError();
      }
      return toRecord(inserted);
    },

    async getVerification(id: string) {
      const row = await readVerification(ctx, db, id);
      return row === undefined ? undefined : toRecord(row);
    },

    async findVerificationByBoundId(boundId: string) {
      // On a completion's hot path: compiled once, and on SQLite run synchronously (store/steps.ts).
      const row = await ctx.steps.run(() => first(ctx.statements.verificationByBoundId({ boundId })));
      return row === undefined ? undefined : toRecord(row);
    },

    async isAccountBound(accountRef: string) {
      const row = await db
        .selectFrom("accounts")
        .select("account_ref")
        .where("account_ref", "=", accountRef)
        .executeTakeFirst();
      return row !== undefined;
    },

    async listAuditEvents(verificationId?: string) {
      const rows = await db
        .selectFrom("audit_events")
        .selectAll()
        .$if(verificationId !== undefined, (qb) => qb.where("verification_id", "=", verificationId ?? ""))
        .orderBy("id")
        .execute();
      return rows.map(
        (row): AuditEvent => ({
          id: Number(row.id),
          verificationId: row.verification_id,
          type: row.type,
          data: AUDIT_DATA.parse(JSON.parse(row.data_json)),
          createdAt: dateOf(row.created_at),
        }),
      );
    },
  };
}
