/**
 * What every part of the Kysely store shares: the database, its dialect, the keyring, the person id
 * source, and the few statements more than one part runs (read a verification, write an audit event).
 */
import type { Kysely, Selectable, Transaction } from "kysely";
import type { AuditEvent } from "../core/store.js";
import type { VerificationRecord } from "../core/verification.js";
import type { Keyring } from "./crypto.js";
import type { StoreDialect } from "./dialect.js";
import type { Database, VerificationsTable } from "./schema.js";
import type { CompletionStatements } from "./statements.js";
import type { StepRunner } from "./steps.js";

export interface StoreContext {
  db: Kysely<Database>;
  /** Runs store operations written as steps in one transaction (synchronously on SQLite). */
  steps: StepRunner;
  /** The hot path's statements, compiled once (store/statements.ts). */
  statements: CompletionStatements;
  dialect: StoreDialect;
  keyring: Keyring;
  /** Person ids. */
  newId: () => string;
  /** A row as a record, its personal fields decrypted (rows.ts). */
  toRecord: (row: Selectable<VerificationsTable>) => VerificationRecord;
}

/** The query reading verification `id`; `FOR UPDATE` when `lock` and the dialect has row locks. */
export function verificationRead(ctx: StoreContext, executor: Kysely<Database>, id: string, lock: boolean) {
  return executor
    .selectFrom("verifications")
    .selectAll()
    .where("id", "=", id)
    .$if(lock && ctx.dialect.rowLocks, (qb) => qb.forUpdate());
}

/** The verification `id`; under `FOR UPDATE` when `lock` and the dialect has row locks. */
export async function readVerification(
  ctx: StoreContext,
  executor: Kysely<Database>,
  id: string,
  lock: boolean,
) {
  return verificationRead(ctx, executor, id, lock).executeTakeFirst();
}

/** The query writing an audit event. */
export function auditInsert(
  executor: Kysely<Database>,
  verificationId: string | null,
  type: string,
  nowMs: number,
  data: AuditEvent["data"],
) {
  return executor
    .insertInto("audit_events")
    .values({ verification_id: verificationId, type, data_json: JSON.stringify(data), created_at: nowMs });
}

export async function insertAudit(
  trx: Transaction<Database>,
  verificationId: string | null,
  type: string,
  nowMs: number,
  data: AuditEvent["data"],
): Promise<void> {
  await auditInsert(trx, verificationId, type, nowMs, data).execute();
}
