/**
 * The statements of a completion's hot path — reading the verification, consuming the upstream id
 * (and owing its upstream deletion), finding or creating the person, binding the account, writing
 * the outcome with its audit and outbox events — each a Kysely builder compiled once per store and shape (store/prepared.ts). The
 * rest of the store reads a verification and writes audit and outbox events with these same
 * statements (context.ts), so each has one builder. The
 * builders are shape-pure: every value is a parameter, none is branched on (a null is passed, not
 * an omitted column). Written once for both dialects; `FOR UPDATE` where the dialect has row locks.
 */
import type { Kysely, Selectable } from "kysely";
import type { AuditEvent } from "../core/store.js";
import type { StoreDialect } from "./dialect.js";
import { prepared } from "./prepared.js";
import type { Database, VerificationsTable } from "./schema.js";

/** The statements of {@link completionStatements}, bound to one store's database and dialect. */
export type CompletionStatements = ReturnType<typeof completionStatements>;

/**
 * Every column of `verifications`, named: what the statements below read and return instead of
 * `*`, so a statement PostgreSQL keeps prepared never changes its result type when a later
 * migration adds a column (it would fail with "cached plan must not change result type"). A column
 * missing here fails the type check where the rows become records (rows.ts takes every column).
 */
const VERIFICATION_COLUMNS = [
  "id",
  "api_version",
  "bound_id",
  "status",
  "reason",
  "policy_json",
  "account_ref",
  "return_url",
  "upstream_id",
  "person_id",
  "existing_account_ref",
  "created_at",
  "expires_at",
  "completed_at",
  "name_enc",
  "birth_date_enc",
  "phone_enc",
  "enc_key_id",
  "gender",
  "foreigner",
  "carrier",
  "provider",
  "verified_at",
  "purged_at",
  "failed_attempts",
  "max_attempts",
  "purpose",
  "expected_name_hash",
  "expected_birth_date_hash",
  "expected_phone_hash",
  "mismatched_fields",
  "next_check_at",
  "recovery_checks",
] as const satisfies readonly (keyof VerificationsTable)[];

export function completionStatements(db: Kysely<Database>, dialect: StoreDialect) {
  const verifications = (db: Kysely<Database>) => db.selectFrom("verifications").select(VERIFICATION_COLUMNS);
  const persons = (db: Kysely<Database>, p: { kind: string; scope: string }) =>
    db
      .selectFrom("persons")
      .select(["id", "key_hash", "key_id"])
      .where("key_kind", "=", p.kind)
      .where("key_scope", "=", p.scope);
  return {
    verificationById: prepared(db, (db, p: { id: string }) => verifications(db).where("id", "=", p.id)),
    /** The verification under `FOR UPDATE` (PostgreSQL): completions and attempts of one queue here. */
    lockedVerificationById: prepared(db, (db, p: { id: string }) =>
      verifications(db)
        .where("id", "=", p.id)
        .$if(dialect.rowLocks, (qb) => qb.forUpdate()),
    ),
    verificationByBoundId: prepared(db, (db, p: { boundId: string }) =>
      verifications(db).where("bound_id", "=", p.boundId),
    ),
    consumeUpstreamId: prepared(db, (db, p: { upstreamId: string; verificationId: string; nowMs: number }) =>
      db
        .insertInto("consumed_ids")
        .values({ upstream_id: p.upstreamId, verification_id: p.verificationId, consumed_at: p.nowMs })
        .onConflict((oc) => oc.doNothing()),
    ),
    /** The person rows of a key under any of `hashes` (one per key of the keyring). */
    personsByHashes: prepared(db, (db, p: { kind: string; scope: string; hashes: readonly string[] }) =>
      persons(db, p).where("key_hash", "in", p.hashes),
    ),
    personByHash: prepared(db, (db, p: { kind: string; scope: string; hash: string }) =>
      persons(db, p).where("key_hash", "=", p.hash),
    ),
    insertPerson: prepared(
      db,
      (db, p: { id: string; kind: string; scope: string; hash: string; keyId: string; nowMs: number }) =>
        db
          .insertInto("persons")
          .values({
            id: p.id,
            key_kind: p.kind,
            key_scope: p.scope,
            key_hash: p.hash,
            key_id: p.keyId,
            created_at: p.nowMs,
          })
          .onConflict((oc) => oc.doNothing()),
    ),
    /** Rotation: a person's row rewritten to the current key, unless a row under it already exists. */
    rekeyPerson: prepared(
      db,
      (db, p: { id: string; kind: string; scope: string; hash: string; keyId: string }) =>
        db
          .updateTable("persons")
          .set({ key_hash: p.hash, key_id: p.keyId })
          .where("id", "=", p.id)
          .where("key_id", "<>", p.keyId)
          .where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom("persons as other")
                  .select("other.id")
                  .where("other.key_kind", "=", p.kind)
                  .where("other.key_scope", "=", p.scope)
                  .where("other.key_hash", "=", p.hash),
              ),
            ),
          ),
    ),
    /** The person bound to an account, under `FOR UPDATE` (PostgreSQL): a withdrawal waits for us. */
    personOfAccount: prepared(db, (db, p: { accountRef: string }) =>
      db
        .selectFrom("accounts")
        .select("person_id")
        .where("account_ref", "=", p.accountRef)
        .$if(dialect.rowLocks, (qb) => qb.forUpdate()),
    ),
    accountOfPerson: prepared(db, (db, p: { personId: string }) =>
      db.selectFrom("accounts").select("account_ref").where("person_id", "=", p.personId),
    ),
    bindAccount: prepared(
      db,
      (db, p: { accountRef: string; personId: string; verificationId: string; nowMs: number }) =>
        db
          .insertInto("accounts")
          .values({
            account_ref: p.accountRef,
            person_id: p.personId,
            verification_id: p.verificationId,
            created_at: p.nowMs,
          })
          .onConflict((oc) => oc.doNothing()),
    ),
    /**
     * A finish: the outcome, the person and account it settled on, the identity columns (null when
     * not verified), the expected identity's hashes dropped. Returns nothing: the row as written is
     * the row read plus {@link finishedColumns}, which the caller builds (no second 33-column read).
     */
    finishVerification: prepared(db, (db, p: FinishColumns & { id: string }) =>
      db.updateTable("verifications").set(finishedColumns(p)).where("id", "=", p.id),
    ),
    insertAudit: prepared(
      db,
      (db, p: { verificationId: string | null; type: string; dataJson: string; nowMs: number }) =>
        db.insertInto("audit_events").values({
          verification_id: p.verificationId,
          type: p.type,
          data_json: p.dataJson,
          created_at: p.nowMs,
        }),
    ),
    /** A deletion of PortOne's copy owed by the completion that consumed `upstreamId`. */
    queueUpstreamDeletion: prepared(
      db,
      (db, p: { upstreamId: string; verificationId: string; dueMs: number; nowMs: number }) =>
        db
          .insertInto("upstream_deletions")
          .values({
            upstream_id: p.upstreamId,
            verification_id: p.verificationId,
            due_at: p.dueMs,
            attempts: 0,
            created_at: p.nowMs,
          })
          .onConflict((oc) => oc.doNothing()),
    ),
    insertOutbox: prepared(
      db,
      (db, p: { id: string; verificationId: string; type: string; payloadJson: string; nowMs: number }) =>
        db.insertInto("webhook_outbox").values({
          id: p.id,
          verification_id: p.verificationId,
          type: p.type,
          payload_json: p.payloadJson,
          attempts: 0,
          created_at: p.nowMs,
          next_attempt_at: p.nowMs,
        }),
    ),
  };
}

/** The parameters of `insertAudit` for an audit event of `type` with `data` (ids and decisions only). */
export function auditRow(
  verificationId: string | null,
  type: string,
  nowMs: number,
  data: AuditEvent["data"],
) {
  return { verificationId, type, dataJson: JSON.stringify(data), nowMs };
}

/** The parameters of `insertOutbox` for `event`, whose JSON is the delivered body, due at once. */
export function outboxRow(verificationId: string, event: { id: string; type: string }, nowMs: number) {
  return { id: event.id, verificationId, type: event.type, payloadJson: JSON.stringify(event), nowMs };
}

/**
 * The columns a finish sets, by name: what `finishVerification` writes, and what a caller lays
 * over the row it read to have the row as written.
 */
export function finishedColumns(p: FinishColumns) {
  return {
    status: p.status,
    reason: p.reason,
    upstream_id: p.upstreamId,
    person_id: p.personId,
    existing_account_ref: p.existingAccountRef,
    mismatched_fields: p.mismatchedFields,
    expected_name_hash: null,
    expected_birth_date_hash: null,
    expected_phone_hash: null,
    completed_at: p.nowMs,
    failed_attempts: p.failedAttempts,
    name_enc: p.nameEnc,
    birth_date_enc: p.birthDateEnc,
    phone_enc: p.phoneEnc,
    enc_key_id: p.encKeyId,
    gender: p.gender,
    foreigner: p.foreigner,
    carrier: p.carrier,
    provider: p.provider,
    verified_at: p.verifiedAt,
  } satisfies Partial<Selectable<VerificationsTable>>;
}

/** The parameters of `finishVerification` (see {@link finishedColumns}). */
export type FinishColumns = {
  status: string;
  reason: string | null;
  upstreamId: string | null;
  personId: string | null;
  existingAccountRef: string | null;
  mismatchedFields: string | null;
  nowMs: number;
  failedAttempts: number;
  nameEnc: string | null;
  birthDateEnc: string | null;
  phoneEnc: string | null;
  encKeyId: string | null;
  gender: string | null;
  foreigner: number | null;
  carrier: string | null;
  provider: string | null;
  verifiedAt: number | null;
};
