/**
 * Step 6 of a completion (core/policy.ts), in ONE transaction: the upstream id consumed once (and
 * the deletion of PortOne's copy owed, when asked), a `reverify`'s person checked against its
 * account, the expected identity compared, the person found or created under any key of the
 * keyring, the person bound to the account, and the outcome written with its audit and outbox
 * events (the expected identity's hashes dropped). The facts come from the database; the decisions
 * from core/settlement.ts and core/expected.ts. Also withdrawal (`unbindAccount`), which frees the
 * person again.
 */
import type { Selectable } from "kysely";
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
import { accountUnboundEvent, completedEvent, VERIFICATION_COMPLETED } from "../core/webhook-event.js";
import { insertAudit, insertOutboxEvent, type StoreContext } from "./context.js";
import { newEventId } from "./outbox.js";
import {
  expectedHashContext,
  expectedHashesOf,
  msOf,
  purposeOf,
  sealIdentity,
  verificationFromRow,
} from "./rows.js";
import type { VerificationsTable } from "./schema.js";
import { auditRow, type FinishColumns, finishedColumns, outboxRow } from "./statements.js";
import { affected, all, first, later, likely, likelyFirst, type Steps } from "./steps.js";

/**
 * The person row of `key` under any key of the keyring (the current key's row first), if any;
 * `hashes` are `key`'s under each key of the keyring, when the caller has them already.
 */
function* findPerson(ctx: StoreContext, key: PersonKey, hashes = ctx.keyring.lookupHashes(key)) {
  const rows = yield* all(
    ctx.statements.personsByHashes({
      kind: key.kind,
      scope: scopeOf(key),
      hashes: hashes.map((h) => h.hash),
    }),
  );
  // Lookup order: a row under the current key wins over one under an older key.
  return hashes.map((h) => rows.find((row) => row.key_hash === h.hash)).find((row) => row !== undefined);
}

function scopeOf(key: PersonKey): string {
  return key.kind === "di" ? key.provider : "";
}

/**
 * The person row for `key`, found under any key of the keyring (rewritten to the current one) or
 * created. With a keyring of one key there is no other key to find it under: it is inserted at
 * once and read only when it exists already (the insert's conflict), one statement for a new
 * person — the common case of a signup. With previous keys it is looked for first, so that a
 * person hashed under one of them is rewritten, not created again. `expectNew`: the insert is
 * {@link likely} to create the row (a signup's person, met before only by a duplicate account).
 */
function* personIdFor(ctx: StoreContext, key: PersonKey, nowMs: number, expectNew: boolean): Steps<string> {
  const { keyring, newId, statements } = ctx;
  const kind = key.kind;
  const scope = scopeOf(key);
  // The current key's hash comes first (Keyring.lookupHashes): each HMAC is computed once.
  const hashes = keyring.lookupHashes(key);
  const current = hashes[0] ?? keyring.hashPersonKey(key);
  if (hashes.length > 1) {
    const found = yield* findPerson(ctx, key, hashes);
    if (found !== undefined) {
      if (found.key_id !== current.keyId) {
        // Rotation: rewrite to the current key unless a row under it already exists (it can only
        // when two instances with different keyrings raced; then the current-key row is found next time).
        yield* affected(
          statements.rekeyPerson({ id: found.id, kind, scope, hash: current.hash, keyId: current.keyId }),
        );
      }
      return found.id;
    }
  }
  const id = newId();
  const insert = statements.insertPerson({
    id,
    kind,
    scope,
    hash: current.hash,
    keyId: current.keyId,
    nowMs,
  });
  const inserted = yield* expectNew ? likely(insert, 1) : affected(insert);
  if (inserted > 0) return id;
  // The person exists already (or a concurrent completion created it first, on PostgreSQL): read it.
  const row = yield* first(statements.personByHash({ kind, scope, hash: current.hash }));
  if (row === undefined) throw new Error("store: person row missing after insert");
  return row.id;
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

function* accountOf(ctx: StoreContext, personId: string): Steps<string | undefined> {
  return (yield* first(ctx.statements.accountOfPerson({ personId })))?.account_ref;
}

/** Steps 6a–6d: the facts only the database can establish, decided by core/settlement.ts. */
function* settle(
  ctx: StoreContext,
  row: Selectable<VerificationsTable>,
  input: CompletionInput,
  nowMs: number,
): Steps<Settlement> {
  const { statements } = ctx;
  let consumed: boolean | undefined;
  if (input.upstreamId !== undefined) {
    // An upstream id is consumed once: presented to a second verification it is refused.
    const inserted = yield* likely(
      statements.consumeUpstreamId({ upstreamId: input.upstreamId, verificationId: row.id, nowMs }),
      1,
    );
    consumed = inserted > 0;
    // Consumed here, so owed here: in this transaction, so a completion never commits without it.
    if (consumed && input.upstreamDeletionDueAt !== undefined) {
      yield* later(
        statements.queueUpstreamDeletion({
          upstreamId: input.upstreamId,
          verificationId: row.id,
          dueMs: msOf(input.upstreamDeletionDueAt),
          nowMs,
        }),
      );
    }
  }
  // 6a: a reverify's person must be the account's; found only, never created (nothing of anyone
  // else is kept). The account's person is read under FOR UPDATE (PostgreSQL), so a withdrawal or
  // a re-binding waits for this transaction instead of changing the answer under it.
  const check = personCheckOf(purposeOf(row), input.decision);
  if (check !== undefined) {
    const person = check.personKey && (yield* findPerson(ctx, check.personKey));
    const accountPersonId =
      row.account_ref === null
        ? undefined
        : (yield* first(statements.personOfAccount({ accountRef: row.account_ref })))?.person_id;
    const mismatch = settlePersonCheck({
      personId: person?.id,
      accountPersonId,
      upstreamId: input.upstreamId,
      consumed,
    });
    if (mismatch !== undefined) return mismatch;
  }
  const before = settleBeforeBinding(
    input.decision,
    input.upstreamId,
    consumed,
    mismatchedExpected(ctx, row, input),
  );
  if (!("bind" in before)) return before;

  // A signup binds a new account: its person is new but for a duplicate account.
  const signup = check === undefined && row.account_ref !== null;
  const personId = yield* personIdFor(ctx, before.bind, nowMs, signup);
  const binding = { upstreamId: before.upstreamId, identity: before.identity, personId };
  if (check !== undefined) {
    // The account is this person's already (6a): nothing to bind.
    return settleBinding({
      ...binding,
      accountRef: row.account_ref ?? undefined,
      held: row.account_ref ?? undefined,
    });
  }
  if (row.account_ref === null) {
    return settleBinding({ ...binding, accountRef: undefined, held: yield* accountOf(ctx, personId) });
  }
  const bound = yield* likely(
    statements.bindAccount({ accountRef: row.account_ref, personId, verificationId: row.id, nowMs }),
    1,
  );
  // Inserted: the account is this person's. Else the person or the account_ref is taken: read which.
  const held = bound > 0 ? row.account_ref : yield* accountOf(ctx, personId);
  return settleBinding({ ...binding, accountRef: row.account_ref, held });
}

/** No identity: the columns of an outcome that is not `verified`. */
const NO_IDENTITY = {
  nameEnc: null,
  birthDateEnc: null,
  phoneEnc: null,
  encKeyId: null,
  gender: null,
  foreigner: null,
  carrier: null,
  provider: null,
  verifiedAt: null,
} as const;

/**
 * Writes a settled outcome, its audit event and (when asked) its outbox event. The record answered
 * is the row as written, its personal fields the plaintext just sealed (not decrypted again).
 */
export function* finishRow(
  ctx: StoreContext,
  row: Selectable<VerificationsTable>,
  outcome: Settlement,
  nowMs: number,
  emitEvent: boolean,
): Steps<VerificationRecord> {
  const { statements } = ctx;
  const sealed =
    outcome.status === "verified" && outcome.identity !== undefined
      ? sealIdentity(outcome.identity, row.id, ctx.keyring)
      : undefined;
  const identity: Pick<FinishColumns, keyof typeof NO_IDENTITY> =
    sealed === undefined
      ? NO_IDENTITY
      : {
          nameEnc: sealed.columns.name_enc,
          birthDateEnc: sealed.columns.birth_date_enc,
          phoneEnc: sealed.columns.phone_enc,
          encKeyId: sealed.columns.enc_key_id,
          gender: sealed.columns.gender,
          foreigner: sealed.columns.foreigner,
          carrier: sealed.columns.carrier,
          provider: sealed.columns.provider,
          verifiedAt: sealed.columns.verified_at,
        };
  const columns: FinishColumns & { id: string } = {
    id: row.id,
    status: outcome.status,
    reason: outcome.reason ?? null,
    upstreamId: outcome.upstreamId ?? null,
    personId: outcome.personId ?? null,
    existingAccountRef: outcome.existingAccountRef ?? null,
    mismatchedFields: outcome.mismatchedFields ? JSON.stringify(outcome.mismatchedFields) : null,
    nowMs,
    // Unchanged unless the outcome counts one more (too_many_attempts).
    failedAttempts: outcome.failedAttempts ?? row.failed_attempts,
    ...identity,
  };
  // The row read under its lock (FOR UPDATE, or SQLite's one writer), so it exists to be updated.
  yield* later(statements.finishVerification(columns));
  // The row as written: the row read (locked) with the finished columns over it.
  const updated: Selectable<VerificationsTable> = { ...row, ...finishedColumns(columns) };
  const audit = {
    status: outcome.status,
    reason: outcome.reason ?? null,
    api_version: row.api_version,
    purpose: row.purpose,
    ...(outcome.mismatchedFields ? { mismatched_fields: outcome.mismatchedFields.join(",") } : {}),
  };
  yield* later(statements.insertAudit(auditRow(row.id, VERIFICATION_COMPLETED, nowMs, audit)));
  const verification = verificationFromRow(updated, ctx.keyring, sealed?.plaintext);
  if (emitEvent) {
    const event = completedEvent(verification, newEventId(), new Date(nowMs));
    yield* later(statements.insertOutbox(outboxRow(row.id, event, nowMs)));
  }
  return verification;
}

export function completionMethods(ctx: StoreContext): Pick<Store, "completeVerification" | "unbindAccount"> {
  const { db, toRecord } = ctx;
  return {
    async completeVerification(input: CompletionInput): Promise<CompletionResult> {
      const nowMs = msOf(input.now);
      // Steps (store/steps.ts): on SQLite one synchronous transaction, on PostgreSQL an async one.
      return ctx.steps.transaction(function* (): Steps<CompletionResult> {
        // PostgreSQL: FOR UPDATE makes concurrent completions of one verification queue here and
        // then see it completed. SQLite: the transaction holds the only connection.
        // The row as read by bound id a moment ago, if this store keeps it: a guess (context.ts).
        const read = ctx.recent.take(input.verificationId);
        const locked = ctx.statements.lockedVerificationById({ id: input.verificationId });
        const row = yield* read === undefined ? first(locked) : likelyFirst(locked, read);
        if (row === undefined) return { kind: "not_found" };
        if (row.status !== "pending") return { kind: "replayed", verification: toRecord(row) };

        const outcome = yield* settle(ctx, row, input, nowMs);
        const verification = yield* finishRow(ctx, row, outcome, nowMs, input.emitEvent ?? false);
        return { kind: "finished", verification };
      });
    },

    async unbindAccount(accountRef: string, now: Date, options: { emitEvent?: boolean } = {}) {
      const nowMs = msOf(now);
      return db.transaction().execute(async (trx) => {
        const removed = await trx
          .deleteFrom("accounts")
          .where("account_ref", "=", accountRef)
          .returning(["person_id", "verification_id"])
          .executeTakeFirst();
        if (removed === undefined) return false;
        await insertAudit(ctx, trx, removed.verification_id, "account.unbound", nowMs, {
          account_ref: accountRef,
          person_id: removed.person_id,
        });
        if (options.emitEvent === true) {
          const { verification_id: verificationId } = removed;
          const event = accountUnboundEvent({ accountRef, verificationId }, newEventId(), now);
          await insertOutboxEvent(ctx, trx, verificationId, event, nowMs);
        }
        return true;
      });
    },
  };
}
