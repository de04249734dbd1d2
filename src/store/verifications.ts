/** Creating and reading verifications, and reading the audit trail. */
import type { Kysely } from "kysely";
import { DEFAULT_MAX_ATTEMPTS } from "../core/attempts.js";
import { DuplicateIdError } from "../core/errors.js";
import { defaultPurpose } from "../core/purpose.js";
import type { AuditEvent, Store } from "../core/store.js";
import type { NewVerification } from "../core/verification.js";
import { readVerification, type StoreContext } from "./context.js";
import { dateOf, expectedColumns, msOf } from "./rows.js";
import type { Database } from "./schema.js";
import { first } from "./steps.js";

/**
 * An audit event's stored data, checked as it is read back: an object of strings, numbers, booleans
 * and nulls (what `auditRow` writes). Checked by hand: the store has no other use for a schema
 * library, and its worker thread (sqlite/offload.ts) loads the store's code alone.
 */
function auditDataOf(json: string): AuditEvent["data"] {
  const data: unknown = JSON.parse(json);
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new Error("store: an audit event's data is not an object");
  }
  for (const value of Object.values(data)) {
    if (
      value !== null &&
      typeof value !== "string" &&
      typeof value !== "number" &&
      typeof value !== "boolean"
    ) {
      throw new Error(
        "store: an audit event's data holds a value that is not a string, number, boolean or null",
      );
    }
  }
  return data as AuditEvent["data"];
}

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
      if (row === undefined) return undefined;
      // Read to be completed: the completion's locked read may go on with it (context.ts RecentRows).
      ctx.recent.remember(row);
      return toRecord(row);
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
          data: auditDataOf(row.data_json),
          createdAt: dateOf(row.created_at),
        }),
      );
    },
  };
}
