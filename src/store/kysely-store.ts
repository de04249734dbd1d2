/**
 * The one implementation of {@link Store}: Kysely queries shared by SQLite and PostgreSQL.
 *
 * The guarantees live in unique constraints, reached with `INSERT … ON CONFLICT DO NOTHING` and a
 * re-read, never find-then-create and never a caught unique violation (which would abort a
 * PostgreSQL transaction): the upstream id is consumed once (`consumed_ids` primary key), a person
 * exists once per key (`persons (key_kind, key_scope, key_hash)`), a person holds one account
 * (`accounts.person_id`), an account belongs to one person (`accounts.account_ref`) and an
 * Idempotency-Key names one verification per API key (`idempotency_keys` primary key).
 */
import { type Kysely, type Selectable, sql, type Transaction } from "kysely";
import { z } from "zod";
import { DEFAULT_MAX_ATTEMPTS } from "../core/attempts.js";
import { formatCalendarDate } from "../core/calendar.js";
import { RequestError } from "../core/errors.js";
import { carrierFrom, type Gender, type PersonKey, type VerifiedIdentity } from "../core/identity.js";
import type { Policy } from "../core/policy.js";
import {
  isRejectionReason,
  isVerificationStatus,
  type RejectionReason,
  type VerificationStatus,
} from "../core/reasons.js";
import type {
  AuditEvent,
  CompletionInput,
  CompletionResult,
  FailedAttemptInput,
  FailedAttemptResult,
  IdempotentCreationInput,
  IdempotentCreationResult,
  Store,
} from "../core/store.js";
import type {
  ApiVersion,
  NewVerification,
  StoredIdentity,
  VerificationRecord,
} from "../core/verification.js";
import { secureRandomBytes } from "../util/random.js";
import type { Keyring } from "./crypto.js";
import type { DialectName, StoreDialect } from "./dialect.js";
import { withStoreErrors } from "./errors.js";
import { migrateToLatest } from "./migrations.js";
import { POSTGRES_DIALECT } from "./postgres/dialect.js";
import type { Database, VerificationsTable } from "./schema.js";
import { SQLITE_DIALECT } from "./sqlite/dialect.js";

export interface KyselyStoreOptions {
  /** A Kysely instance over certgate's {@link Database}; the store owns it and destroys it on `close`. */
  db: Kysely<Database>;
  dialect: DialectName | StoreDialect;
  /** Hashes person keys and encrypts identity fields. */
  keyring: Keyring;
  /** Person ids. Default: "prs_" + 16 random bytes in base64url. */
  newId?: (() => string) | undefined;
}

/**
 * A {@link Store} over `db`. Does not migrate by itself: call `migrate()` (the `open…Store` helpers do).
 * Every method but `migrate` and `close` throws a database fault as a `StoreError` (store/errors.ts).
 *
 * @example
 * const store = createKyselyStore({ db, dialect: "sqlite", keyring });
 * await store.migrate();
 */
export function createKyselyStore(options: KyselyStoreOptions): Store {
  const { db, keyring } = options;
  const dialect = typeof options.dialect === "string" ? DIALECTS[options.dialect] : options.dialect;
  const newId = options.newId ?? (() => `prs_${secureRandomBytes(16).toString("base64url")}`);

  const toRecord = (row: Selectable<VerificationsTable>) => verificationFromRow(row, keyring);

  const readVerification = async (executor: Kysely<Database>, id: string, lock: boolean) =>
    executor
      .selectFrom("verifications")
      .selectAll()
      .where("id", "=", id)
      .$if(lock && dialect.rowLocks, (qb) => qb.forUpdate())
      .executeTakeFirst();

  /** Step 3 of completion: the person row for `key`, found under any key of the keyring or created. */
  const personIdFor = async (trx: Transaction<Database>, key: PersonKey, nowMs: number): Promise<string> => {
    const scope = key.kind === "di" ? key.provider : "";
    const hashes = keyring.lookupHashes(key);
    const current = keyring.hashPersonKey(key);
    const byKey = trx
      .selectFrom("persons")
      .select(["id", "key_hash", "key_id"])
      .where("key_kind", "=", key.kind)
      .where("key_scope", "=", scope);
    const rows = await byKey
      .where(
        "key_hash",
        "in",
        hashes.map((h) => h.hash),
      )
      .execute();
    // Lookup order: a row under the current key wins over one under an older key.
    const found = hashes
      .map((h) => rows.find((row) => row.key_hash === h.hash))
      .find((row) => row !== undefined);
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
  };

  const accountOf = async (trx: Transaction<Database>, personId: string) =>
    (
      await trx
        .selectFrom("accounts")
        .select("account_ref")
        .where("person_id", "=", personId)
        .executeTakeFirst()
    )?.account_ref;

  /** Steps 2-4 of completion: what the database decides on top of the service's decision. */
  const settle = async (
    trx: Transaction<Database>,
    row: Selectable<VerificationsTable>,
    input: CompletionInput,
    nowMs: number,
  ): Promise<Settlement> => {
    let consumed = false;
    if (input.upstreamId !== undefined) {
      const inserted = await trx
        .insertInto("consumed_ids")
        .values({ upstream_id: input.upstreamId, verification_id: row.id, consumed_at: nowMs })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      consumed = Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0;
    }
    const upstreamId = consumed ? input.upstreamId : undefined;
    const { decision } = input;
    // The service's reasons come first in the order of checks (policy.ts); the store's only after.
    if (!decision.ok) {
      return {
        status: decision.reason === "expired" ? "expired" : "rejected",
        reason: decision.reason,
        upstreamId,
      };
    }
    if (input.upstreamId !== undefined && !consumed) return { status: "rejected", reason: "already_used" };
    if (decision.personKey === undefined)
      return { status: "verified", upstreamId, identity: decision.identity };

    const personId = await personIdFor(trx, decision.personKey, nowMs);
    if (row.account_ref === null) {
      const existingAccountRef = await accountOf(trx, personId);
      return { status: "verified", upstreamId, personId, existingAccountRef, identity: decision.identity };
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
    if (held === row.account_ref)
      return { status: "verified", upstreamId, personId, identity: decision.identity };
    // Either the person holds another account (reported as existingAccountRef), or this account_ref
    // already belongs to another person (held is undefined): both are "one account per person".
    return {
      status: "rejected",
      reason: "duplicate_account",
      upstreamId,
      personId,
      existingAccountRef: held,
    };
  };

  /** Writes a settled outcome, its audit event and (when asked) its outbox event, in `trx`. */
  const finishRow = async (
    trx: Transaction<Database>,
    row: Selectable<VerificationsTable>,
    outcome: Settlement,
    nowMs: number,
    emitEvent: boolean,
  ): Promise<VerificationRecord> => {
    const updated = await trx
      .updateTable("verifications")
      .set({
        status: outcome.status,
        reason: outcome.reason ?? null,
        upstream_id: outcome.upstreamId ?? null,
        person_id: outcome.personId ?? null,
        existing_account_ref: outcome.existingAccountRef ?? null,
        completed_at: nowMs,
        ...(outcome.failedAttempts === undefined ? {} : { failed_attempts: outcome.failedAttempts }),
        ...(outcome.status === "verified" && outcome.identity !== undefined
          ? identityColumns(outcome.identity, row.id, keyring)
          : {}),
      })
      .where("id", "=", row.id)
      .returningAll()
      .executeTakeFirst();
    if (updated === undefined) throw new Error("store: verification missing after update");
    await insertAudit(trx, row.id, "verification.completed", nowMs, {
      status: outcome.status,
      reason: outcome.reason ?? null,
      api_version: row.api_version,
    });
    const verification = toRecord(updated);
    if (emitEvent) {
      const event = completedEvent(verification);
      await trx
        .insertInto("webhook_outbox")
        .values({
          id: event.id,
          verification_id: row.id,
          type: event.type,
          payload_json: JSON.stringify(event),
          attempts: 0,
          created_at: nowMs,
          next_attempt_at: nowMs,
        })
        .execute();
    }
    return verification;
  };

  const store: Store = {
    dialect: dialect.name,

    async migrate() {
      await migrateToLatest(db, dialect);
    },

    async createVerification(input: NewVerification) {
      const inserted = await insertVerification(db, input);
      if (inserted === undefined) {
        throw new RequestError("conflict", "a verification with this id or bound id already exists");
      }
      return toRecord(inserted);
    },

    async createIdempotentVerification(input: IdempotentCreationInput): Promise<IdempotentCreationResult> {
      const claimKey = { api_key_digest: input.scope, idempotency_key: input.key };
      const trx = await db.startTransaction().execute();
      try {
        // The verification first (the key row references it), then the key under its primary key.
        // PostgreSQL: a concurrent claim of the same key waits here for this transaction, then sees
        // the committed row (READ COMMITTED) and does nothing. An expired row is taken over.
        const inserted = await insertVerification(trx, input.verification);
        if (inserted === undefined) {
          throw new RequestError("conflict", "a verification with this id or bound id already exists");
        }
        const claimed = await trx
          .insertInto("idempotency_keys")
          .values({
            ...claimKey,
            fingerprint: input.fingerprint,
            verification_id: inserted.id,
            created_at: msOf(input.verification.createdAt),
          })
          .onConflict((oc) =>
            oc
              .columns(["api_key_digest", "idempotency_key"])
              .doUpdateSet((eb) => ({
                fingerprint: eb.ref("excluded.fingerprint"),
                verification_id: eb.ref("excluded.verification_id"),
                created_at: eb.ref("excluded.created_at"),
              }))
              .where("idempotency_keys.created_at", "<", msOf(input.expiredBefore)),
          )
          .returning("verification_id")
          .executeTakeFirst();
        if (claimed !== undefined) {
          await trx.commit().execute();
          return { kind: "created", verification: toRecord(inserted) };
        }
        // The key is held: the verification inserted above is rolled back, the holder's is answered.
        const held = await trx
          .selectFrom("idempotency_keys")
          .select(["fingerprint", "verification_id"])
          .where("api_key_digest", "=", claimKey.api_key_digest)
          .where("idempotency_key", "=", claimKey.idempotency_key)
          .executeTakeFirst();
        if (held === undefined) throw new Error("store: idempotency key missing after conflict");
        const prior =
          held.fingerprint === input.fingerprint
            ? await readVerification(trx, held.verification_id, false)
            : undefined;
        await trx.rollback().execute();
        if (held.fingerprint !== input.fingerprint) return { kind: "conflict" };
        if (prior === undefined) throw new Error("store: verification of an idempotency key missing");
        return { kind: "replayed", verification: toRecord(prior) };
      } catch (error) {
        if (!trx.isCommitted && !trx.isRolledBack) await trx.rollback().execute();
        throw error;
      }
    },

    async purgeIdempotencyKeys({ createdBefore }) {
      const deleted = await db
        .deleteFrom("idempotency_keys")
        .where("created_at", "<", msOf(createdBefore))
        .executeTakeFirst();
      return Number(deleted.numDeletedRows);
    },

    async getVerification(id: string) {
      const row = await readVerification(db, id, false);
      return row === undefined ? undefined : toRecord(row);
    },

    async findVerificationByBoundId(boundId: string) {
      const row = await db
        .selectFrom("verifications")
        .selectAll()
        .where("bound_id", "=", boundId)
        .executeTakeFirst();
      return row === undefined ? undefined : toRecord(row);
    },

    async completeVerification(input: CompletionInput): Promise<CompletionResult> {
      const nowMs = msOf(input.now);
      return db.transaction().execute(async (trx) => {
        // PostgreSQL: FOR UPDATE makes concurrent completions of one verification queue here and
        // then see it completed. SQLite: the transaction holds the only connection.
        const row = await readVerification(trx, input.verificationId, true);
        if (row === undefined) return { kind: "not_found" };
        if (row.status !== "pending") return { kind: "not_pending", verification: toRecord(row) };

        const outcome = await settle(trx, row, input, nowMs);
        const verification = await finishRow(trx, row, outcome, nowMs, input.emitEvent ?? false);
        return { kind: "completed", verification };
      });
    },

    async recordFailedAttempt(input: FailedAttemptInput): Promise<FailedAttemptResult> {
      const nowMs = msOf(input.now);
      return db.transaction().execute(async (trx) => {
        // The same lock as completeVerification: attempts and completions of one verification
        // queue here, so the count never passes the limit and only one of them finishes it.
        const row = await readVerification(trx, input.verificationId, true);
        if (row === undefined) return { kind: "not_found" };
        if (row.status !== "pending") return { kind: "not_pending", verification: toRecord(row) };

        const failedAttempts = row.failed_attempts + 1;
        const audit = {
          reason: input.reason,
          upstream_id: input.upstreamId ?? null,
          failed_attempts: failedAttempts,
          max_attempts: row.max_attempts,
          api_version: row.api_version,
        };
        await insertAudit(trx, row.id, "verification.attempt_failed", nowMs, audit);
        if (row.failed_attempts >= row.max_attempts) {
          const verification = await finishRow(
            trx,
            row,
            { status: "rejected", reason: "too_many_attempts", failedAttempts },
            nowMs,
            input.emitEvent ?? false,
          );
          return { kind: "completed", verification };
        }
        // Guarded as well as locked: a row that is no longer pending or already at its limit is
        // never counted, whatever the isolation level.
        const counted = await trx
          .updateTable("verifications")
          .set((eb) => ({ failed_attempts: eb("failed_attempts", "+", 1) }))
          .where("id", "=", row.id)
          .where("status", "=", "pending")
          .where("failed_attempts", "<", row.max_attempts)
          .returningAll()
          .executeTakeFirst();
        if (counted === undefined) throw new Error("store: verification changed under its lock");
        return { kind: "counted", verification: toRecord(counted) };
      });
    },

    async rotateKeys() {
      let reencrypted = 0;
      for (;;) {
        const rows = await db
          .selectFrom("verifications")
          .select(["id", "name_enc", "birth_date_enc", "phone_enc"])
          .where("enc_key_id", "is not", null)
          .where("enc_key_id", "!=", keyring.currentKeyId)
          .limit(500)
          .execute();
        if (rows.length === 0) break;
        await db.transaction().execute(async (trx) => {
          for (const row of rows) {
            const reseal = (column: string, value: string | null) => {
              if (value === null) return null;
              const context = `verifications/${row.id}/${column}`;
              return keyring.encrypt(keyring.decrypt(value, context), context);
            };
            await trx
              .updateTable("verifications")
              .set({
                name_enc: reseal("name", row.name_enc),
                birth_date_enc: reseal("birth_date", row.birth_date_enc),
                phone_enc: reseal("phone", row.phone_enc),
                enc_key_id: keyring.currentKeyId,
              })
              .where("id", "=", row.id)
              .execute();
          }
        });
        reencrypted += rows.length;
      }
      const remaining = await db
        .selectFrom("persons")
        .select((eb) => eb.fn.countAll<number | string>().as("n"))
        .where("key_id", "!=", keyring.currentKeyId)
        .executeTakeFirst();
      return { reencrypted, remainingPersonHashes: Number(remaining?.n ?? 0) };
    },

    async claimWebhookEvents({ now, limit, leaseUntil }) {
      // One UPDATE … WHERE id IN (due ids) … RETURNING: atomic on both dialects. On PostgreSQL a
      // concurrent claim of the same rows waits for the row locks, then re-checks the outer WHERE and
      // skips rows whose next attempt has just moved to the other claimer's lease.
      const due = db
        .selectFrom("webhook_outbox")
        .select("id")
        .where("delivered_at", "is", null)
        .where("next_attempt_at", "<=", msOf(now))
        .orderBy("created_at")
        .orderBy("id")
        .limit(limit);
      const rows = await db
        .updateTable("webhook_outbox")
        .set({ next_attempt_at: msOf(leaseUntil) })
        .where("id", "in", due)
        .where("delivered_at", "is", null)
        .where("next_attempt_at", "<=", msOf(now))
        .returningAll()
        .execute();
      return rows
        .sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map((r) => ({
          id: r.id,
          verificationId: r.verification_id,
          type: r.type,
          payload: r.payload_json,
          attempts: r.attempts,
          createdAt: dateOf(r.created_at),
        }));
    },

    async markWebhookDelivered(id, now) {
      await db
        .updateTable("webhook_outbox")
        .set((eb) => ({ delivered_at: msOf(now), attempts: eb("attempts", "+", 1) }))
        .where("id", "=", id)
        .execute();
    },

    async markWebhookFailed(id, { nextAttemptAt, status }) {
      await db
        .updateTable("webhook_outbox")
        .set((eb) => ({
          next_attempt_at: msOf(nextAttemptAt),
          attempts: eb("attempts", "+", 1),
          last_status: status ?? 0,
        }))
        .where("id", "=", id)
        .execute();
    },

    async purgeIdentities({ completedBefore, now }) {
      const nowMs = msOf(now);
      return db.transaction().execute(async (trx) => {
        const purged = await trx
          .updateTable("verifications")
          .set({ name_enc: null, birth_date_enc: null, phone_enc: null, purged_at: nowMs })
          .where("completed_at", "<", msOf(completedBefore))
          .where("purged_at", "is", null)
          .where((eb) =>
            eb.or([
              eb("name_enc", "is not", null),
              eb("birth_date_enc", "is not", null),
              eb("phone_enc", "is not", null),
            ]),
          )
          .returning("id")
          .execute();
        if (purged.length > 0) {
          await insertAudit(trx, null, "identities.purged", nowMs, { count: purged.length });
        }
        return purged.length;
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

    async ping() {
      await sql`select 1`.execute(db);
    },

    async close() {
      await db.destroy();
    },
  };
  // Driver faults (connection lost, database down, locked, read-only, full) leave as StoreErrors.
  return Object.freeze(withStoreErrors(store, dialect.name));
}

const DIALECTS: Record<DialectName, StoreDialect> = { sqlite: SQLITE_DIALECT, postgres: POSTGRES_DIALECT };

/** What one completion writes, decided inside its transaction. */
interface Settlement {
  status: Exclude<VerificationStatus, "pending">;
  reason?: RejectionReason | undefined;
  /** Set only when this completion consumed it. */
  upstreamId?: string | undefined;
  personId?: string | undefined;
  existingAccountRef?: string | undefined;
  identity?: VerifiedIdentity | undefined;
  /** Set when this outcome also counts a failed attempt (`too_many_attempts`). */
  failedAttempts?: number | undefined;
}

const AUDIT_DATA = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));

const AGE_BOUND = z.object({ age: z.number(), rule: z.enum(["year", "international"]) });
const POLICY = z.object({
  minAge: AGE_BOUND.optional(),
  maxAge: AGE_BOUND.optional(),
  freshnessSeconds: z.number(),
  futureToleranceSeconds: z.number(),
  judgeAgeAt: z.enum(["verification", "now"]),
  requirePersonKey: z.boolean(),
});

/** Inserts a pending verification; undefined when its id or bound id is taken. */
async function insertVerification(executor: Kysely<Database>, input: NewVerification) {
  return executor
    .insertInto("verifications")
    .values({
      id: input.id,
      api_version: input.apiVersion,
      bound_id: input.boundId,
      status: "pending",
      reason: null,
      policy_json: JSON.stringify(input.policy),
      account_ref: input.accountRef ?? null,
      return_url: input.returnUrl ?? null,
      max_attempts: input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      created_at: msOf(input.createdAt),
      expires_at: msOf(input.expiresAt),
    })
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
}

async function insertAudit(
  trx: Transaction<Database>,
  verificationId: string | null,
  type: string,
  nowMs: number,
  data: AuditEvent["data"],
): Promise<void> {
  await trx
    .insertInto("audit_events")
    .values({ verification_id: verificationId, type, data_json: JSON.stringify(data), created_at: nowMs })
    .execute();
}

/** The identity columns of a verified outcome; the personal ones encrypted, bound to row and column. */
function identityColumns(identity: VerifiedIdentity, verificationId: string, keyring: Keyring) {
  const seal = (column: string, value: string | undefined) =>
    value === undefined ? null : keyring.encrypt(value, `verifications/${verificationId}/${column}`);
  return {
    name_enc: seal("name", identity.name),
    birth_date_enc: seal("birth_date", identity.birthDate && formatCalendarDate(identity.birthDate)),
    phone_enc: seal("phone", identity.phone),
    enc_key_id: keyring.currentKeyId,
    gender: identity.gender ?? null,
    foreigner: identity.foreigner === undefined ? null : identity.foreigner ? 1 : 0,
    carrier: identity.carrier ?? null,
    provider: identity.provider,
    verified_at: identity.verifiedAt === undefined ? null : msOf(identity.verifiedAt),
  };
}

function verificationFromRow(row: Selectable<VerificationsTable>, keyring: Keyring): VerificationRecord {
  if (!isVerificationStatus(row.status))
    throw new Error(`store: verification ${row.id} has an unknown status`);
  if (row.reason !== null && !isRejectionReason(row.reason)) {
    throw new Error(`store: verification ${row.id} has an unknown reason`);
  }
  return {
    id: row.id,
    apiVersion: apiVersionOf(row),
    failedAttempts: Number(row.failed_attempts),
    maxAttempts: Number(row.max_attempts),
    boundId: row.bound_id,
    status: row.status,
    reason: row.reason ?? undefined,
    policy: POLICY.parse(JSON.parse(row.policy_json)) satisfies Policy,
    accountRef: row.account_ref ?? undefined,
    returnUrl: row.return_url ?? undefined,
    upstreamId: row.upstream_id ?? undefined,
    personId: row.person_id ?? undefined,
    existingAccountRef: row.existing_account_ref ?? undefined,
    createdAt: dateOf(row.created_at),
    expiresAt: dateOf(row.expires_at),
    completedAt: row.completed_at === null ? undefined : dateOf(row.completed_at),
    identity: row.provider === null ? undefined : identityFromRow(row, row.provider, keyring),
    purgedAt: row.purged_at === null ? undefined : dateOf(row.purged_at),
  };
}

function identityFromRow(
  row: Selectable<VerificationsTable>,
  provider: string,
  keyring: Keyring,
): StoredIdentity {
  const open = (column: string, value: string | null) =>
    value === null || row.purged_at !== null
      ? undefined
      : keyring.decrypt(value, `verifications/${row.id}/${column}`);
  return {
    name: open("name", row.name_enc),
    birthDate: open("birth_date", row.birth_date_enc),
    phone: open("phone", row.phone_enc),
    gender: genderOf(row.gender),
    foreigner: row.foreigner === null ? undefined : row.foreigner !== 0,
    carrier: carrierFrom(row.carrier ?? undefined),
    provider,
    verifiedAt: row.verified_at === null ? undefined : dateOf(row.verified_at),
  };
}

function apiVersionOf(row: Selectable<VerificationsTable>): ApiVersion {
  if (row.api_version === "v1" || row.api_version === "v2") return row.api_version;
  throw new Error(`store: verification ${row.id} has an unknown api version`);
}

function genderOf(value: string | null): Gender | undefined {
  return value === "male" || value === "female" || value === "other" ? value : undefined;
}

function msOf(date: Date): number {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError("store: invalid Date");
  return ms;
}

/** Instants are integer ms; PostgreSQL BIGINT may arrive as text if a pool was built without our parser. */
function dateOf(ms: number | string): Date {
  return new Date(Number(ms));
}

/**
 * Creates the store and brings its schema up to date (migrations run at startup); closes the
 * connection again if migrating fails, so a failed start leaks no pool or file handle.
 */
export async function openMigratedStore(options: KyselyStoreOptions): Promise<Store> {
  const store = createKyselyStore(options);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

/**
 * The `verification.completed` event: ids and decisions only, never personal data (the receiver
 * reads the identity through `GET /api/verifications/:id` while it is retained).
 */
function completedEvent(v: VerificationRecord) {
  return {
    id: `evt_${secureRandomBytes(16).toString("base64url")}`,
    type: "verification.completed",
    timestamp: (v.completedAt ?? new Date()).toISOString(),
    data: {
      verification_id: v.id,
      api_version: v.apiVersion,
      status: v.status,
      reason: v.reason ?? null,
      account_ref: v.accountRef ?? null,
      existing_account_ref: v.existingAccountRef ?? null,
    },
  };
}
