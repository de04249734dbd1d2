/**
 * Step 6 of a completion (core/policy.ts), in ONE transaction: the upstream id consumed once, a
 * `reverify`'s person checked against its account, the expected identity compared, the person found
 * or created under any key of the keyring, the person bound to the account, and the outcome written
 * with its audit and outbox events (the expected identity's hashes dropped). The facts come from the
 * database; the decisions from core/settlement.ts and core/expected.ts. Also withdrawal
 * (`unbindAccount`), which frees the person again.
 */
import type { Selectable, Transaction } from "kysely";
import { type ExpectedField, mismatchedFields } from "../core/expected.js";
import type { PersonKey } from "../core/identity.js";
import { personCheckOf } from "../core/purpose.js";
import {
  type Settlement,
  settleBeforeBinding,
  settleBinding,
  settlePersonCheck,
} from "../core/settlement.js";
import type { CompletionInput, CompletionResult, Store } from "../core/store.js";
import type { VerificationRecord } from "../core/verification.js";
import { completedEvent, VERIFICATION_COMPLETED } from "../core/webhook-event.js";
import { insertAudit, readVerification, type StoreContext } from "./context.js";
import { insertOutboxEvent, newEventId } from "./outbox.js";
import {
  expectedHashContext,
  expectedHashesOf,
  identityColumns,
  msOf,
  NO_EXPECTED_COLUMNS,
  purposeOf,
} from "./rows.js";
import type { Database, VerificationsTable } from "./schema.js";

/** The person row of `key` under any key of the keyring (the current key's row first), if any. */
async function findPerson(ctx: StoreContext, trx: Transaction<Database>, key: PersonKey) {
  const scope = key.kind === "di" ? key.provider : "";
  const hashes = ctx.keyring.lookupHashes(key);
  const rows = await trx
    .selectFrom("persons")
    .select(["id", "key_hash", "key_id"])
    .where("key_kind", "=", key.kind)
    .where("key_scope", "=", scope)
    .where(
      "key_hash",
      "in",
      hashes.map((h) => h.hash),
    )
    .execute();
  // Lookup order: a row under the current key wins over one under an older key.
  return hashes.map((h) => rows.find((row) => row.key_hash === h.hash)).find((row) => row !== undefined);
}

/** The person row for `key`, found under any key of the keyring (rewritten to the current one) or created. */
async function personIdFor(
  ctx: StoreContext,
  trx: Transaction<Database>,
  key: PersonKey,
  nowMs: number,
): Promise<string> {
  const { keyring, newId } = ctx;
  const scope = key.kind === "di" ? key.provider : "";
  const current = keyring.hashPersonKey(key);
  const byKey = trx
    .selectFrom("persons")
    .select(["id", "key_hash", "key_id"])
    .where("key_kind", "=", key.kind)
    .where("key_scope", "=", scope);
  const found = await findPerson(ctx, trx, key);
  if (found !== undefined) {
    if (found.key_id !== current.keyId) {
      // Rotation: rewrite to the current key unless a row under it already exists (it can only when
      // two instances with different keyrings raced; then the current-key row is found next time).
      await trx
        .updateTable("persons")
        .set({ key_hash: current.hash, key_id: current.keyId })
        .where("id", "=", found.id)
        .where("key_id", "<>", current.keyId)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom("persons as other")
                .select("other.id")
                .where("other.key_kind", "=", key.kind)
                .where("other.key_scope", "=", scope)
                .where("other.key_hash", "=", current.hash),
            ),
          ),
        )
        .execute();
    }
    return found.id;
  }
  const inserted = await trx
    .insertInto("persons")
    .values({
      id: newId(),
      key_kind: key.kind,
      key_scope: scope,
      key_hash: current.hash,
      key_id: current.keyId,
      created_at: nowMs,
    })
    .onConflict((oc) => oc.doNothing())
    .returning("id")
    .executeTakeFirst();
  if (inserted !== undefined) return inserted.id;
  // A concurrent completion created the person first (PostgreSQL; SQLite serializes): read it.
  const row = await byKey.where("key_hash", "=", current.hash).executeTakeFirst();
  if (row === undefined) throw new Error("store: person row missing after insert");
  return row.id;
}

/**
 * The person bound to `accountRef`, read under `FOR UPDATE` (PostgreSQL) so a withdrawal or a
 * re-binding waits for this transaction instead of changing the answer under it.
 */
async function personOfAccount(ctx: StoreContext, trx: Transaction<Database>, accountRef: string) {
  return (
    await trx
      .selectFrom("accounts")
      .select("person_id")
      .where("account_ref", "=", accountRef)
      .$if(ctx.dialect.rowLocks, (qb) => qb.forUpdate())
      .executeTakeFirst()
  )?.person_id;
}

/** 6b's fact: the expected fields the verified identity does not match, by their keyed hashes. */
function mismatchedExpected(
  ctx: StoreContext,
  row: Selectable<VerificationsTable>,
  input: CompletionInput,
): ExpectedField[] {
  const hashes = expectedHashesOf(row);
  const given = Object.keys(hashes) as ExpectedField[];
  if (!input.decision.ok || given.length === 0) return [];
  return mismatchedFields(given, input.decision.identity, (field, canonical) =>
    ctx.keyring.matchesHash(hashes[field] ?? "", canonical, expectedHashContext(row.id, field)),
  );
}

async function accountOf(trx: Transaction<Database>, personId: string) {
  return (
    await trx
      .selectFrom("accounts")
      .select("account_ref")
      .where("person_id", "=", personId)
      .executeTakeFirst()
  )?.account_ref;
}

/** Steps 6a–6d: the facts only the database can establish, decided by core/settlement.ts. */
async function settle(
  ctx: StoreContext,
  trx: Transaction<Database>,
  row: Selectable<VerificationsTable>,
  input: CompletionInput,
  nowMs: number,
): Promise<Settlement> {
  let consumed: boolean | undefined;
  if (input.upstreamId !== undefined) {
    const inserted = await trx
      .insertInto("consumed_ids")
      .values({ upstream_id: input.upstreamId, verification_id: row.id, consumed_at: nowMs })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    consumed = Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0;
  }
  // 6a: a reverify's person must be the account's; found only, never created (nothing of anyone
  // else is kept).
  const check = personCheckOf(purposeOf(row), input.decision);
  if (check !== undefined) {
    const person = check.personKey && (await findPerson(ctx, trx, check.personKey));
    const accountPersonId =
      row.account_ref === null ? undefined : await personOfAccount(ctx, trx, row.account_ref);
    const mismatch = settlePersonCheck({
      personId: person?.id,
      accountPersonId,
      upstreamId: input.upstreamId,
      consumed,
    });
    if (mismatch !== undefined) return mismatch;
  }
  const first = settleBeforeBinding(
    input.decision,
    input.upstreamId,
    consumed,
    mismatchedExpected(ctx, row, input),
  );
  if (!("bind" in first)) return first;

  const personId = await personIdFor(ctx, trx, first.bind, nowMs);
  const binding = { upstreamId: first.upstreamId, identity: first.identity, personId };
  if (check !== undefined) {
    // The account is this person's already (6a): nothing to bind.
    return settleBinding({
      ...binding,
      accountRef: row.account_ref ?? undefined,
      held: row.account_ref ?? undefined,
    });
  }
  if (row.account_ref === null) {
    return settleBinding({ ...binding, accountRef: undefined, held: await accountOf(trx, personId) });
  }
  const bound = await trx
    .insertInto("accounts")
    .values({
      account_ref: row.account_ref,
      person_id: personId,
      verification_id: row.id,
      created_at: nowMs,
    })
    .onConflict((oc) => oc.doNothing())
    .returning("account_ref")
    .executeTakeFirst();
  // Inserted: the account is this person's. Else the person or the account_ref is taken: read which.
  const held = bound !== undefined ? bound.account_ref : await accountOf(trx, personId);
  return settleBinding({ ...binding, accountRef: row.account_ref, held });
}

/** Writes a settled outcome, its audit event and (when asked) its outbox event, in `trx`. */
export async function finishRow(
  ctx: StoreContext,
  trx: Transaction<Database>,
  row: Selectable<VerificationsTable>,
  outcome: Settlement,
  nowMs: number,
  emitEvent: boolean,
): Promise<VerificationRecord> {
  const updated = await trx
    .updateTable("verifications")
    .set({
      status: outcome.status,
      reason: outcome.reason ?? null,
      upstream_id: outcome.upstreamId ?? null,
      person_id: outcome.personId ?? null,
      existing_account_ref: outcome.existingAccountRef ?? null,
      mismatched_fields: outcome.mismatchedFields ? JSON.stringify(outcome.mismatchedFields) : null,
      ...NO_EXPECTED_COLUMNS,
      completed_at: nowMs,
      ...(outcome.failedAttempts === undefined ? {} : { failed_attempts: outcome.failedAttempts }),
      ...(outcome.status === "verified" && outcome.identity !== undefined
        ? identityColumns(outcome.identity, row.id, ctx.keyring)
        : {}),
    })
    .where("id", "=", row.id)
    .returningAll()
    .executeTakeFirst();
  if (updated === undefined) throw new Error("store: verification missing after update");
  await insertAudit(trx, row.id, VERIFICATION_COMPLETED, nowMs, {
    status: outcome.status,
    reason: outcome.reason ?? null,
    api_version: row.api_version,
    purpose: row.purpose,
    ...(outcome.mismatchedFields ? { mismatched_fields: outcome.mismatchedFields.join(",") } : {}),
  });
  const verification = ctx.toRecord(updated);
  if (emitEvent) {
    await insertOutboxEvent(trx, row.id, completedEvent(verification, newEventId(), new Date(nowMs)), nowMs);
  }
  return verification;
}

export function completionMethods(ctx: StoreContext): Pick<Store, "completeVerification" | "unbindAccount"> {
  const { db, toRecord } = ctx;
  return {
    async completeVerification(input: CompletionInput): Promise<CompletionResult> {
      const nowMs = msOf(input.now);
      return db.transaction().execute(async (trx) => {
        // PostgreSQL: FOR UPDATE makes concurrent completions of one verification queue here and
        // then see it completed. SQLite: the transaction holds the only connection.
        const row = await readVerification(ctx, trx, input.verificationId, true);
        if (row === undefined) return { kind: "not_found" };
        if (row.status !== "pending") return { kind: "replayed", verification: toRecord(row) };

        const outcome = await settle(ctx, trx, row, input, nowMs);
        const verification = await finishRow(ctx, trx, row, outcome, nowMs, input.emitEvent ?? false);
        return { kind: "finished", verification };
      });
    },

    async unbindAccount(accountRef: string, now: Date) {
      const nowMs = msOf(now);
      return db.transaction().execute(async (trx) => {
        const removed = await trx
          .deleteFrom("accounts")
          .where("account_ref", "=", accountRef)
          .returning(["person_id", "verification_id"])
          .executeTakeFirst();
        if (removed === undefined) return false;
        await insertAudit(trx, removed.verification_id, "account.unbound", nowMs, {
          account_ref: accountRef,
          person_id: removed.person_id,
        });
        return true;
      });
    },
  };
}
