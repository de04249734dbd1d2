/**
 * What every part of the Kysely store shares: the database, its dialect, the keyring, the person id
 * source, the hot path's statements, and the helpers that run three of them outside a completion (read
 * a verification, write an audit or outbox event).
 */
import type { Kysely, Selectable } from "kysely";
import type { AuditEvent } from "../core/store.js";
import type { VerificationRecord } from "../core/verification.js";
import type { Keyring } from "./crypto.js";
import type { StoreDialect } from "./dialect.js";
import type { Database, VerificationsTable } from "./schema.js";
import { auditRow, type CompletionStatements, outboxRow } from "./statements.js";
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
  /** Verification rows read lately, kept while the runner guesses ({@link recentRows}). */
  recent: RecentRows;
}

/**
 * The pending verification rows a completion just read by bound id, by id, until that completion
 * takes its row: on a runner that guesses (PostgreSQL: store/steps.ts `likelyFirst`), the
 * completion's locked read goes out with its writes on the guess that the row is still as read. A
 * guess only: the runner checks it against the locked row before the COMMIT and runs the
 * transaction again when it differs. Pending rows only — a finished one is answered as a replay
 * and never completed, and it holds the identity — so no row kept holds personal data: a pending
 * row has no identity columns yet, an expected identity only as keyed hashes. In memory only, and
 * bounded: past `limit`, the oldest row read goes first.
 */
export interface RecentRows {
  remember(row: Selectable<VerificationsTable>): void;
  /** The row of verification `id` read lately, if any; forgotten once taken. */
  take(id: string): Selectable<VerificationsTable> | undefined;
}

/** {@link RecentRows}, kept only when `keep` (a runner that guesses). */
export function recentRows(keep: boolean, limit = 1_024): RecentRows {
  const rows = new Map<string, Selectable<VerificationsTable>>();
  return {
    remember(row) {
      if (!keep) return;
      // A row read again replaces the one kept; read finished, it is no longer kept at all (the
      // kept one would only be a wrong guess).
      rows.delete(row.id);
      if (row.status !== "pending") return;
      if (rows.size >= limit) rows.delete(rows.keys().next().value as string);
      rows.set(row.id, row);
    },
    take(id) {
      const row = rows.get(id);
      rows.delete(id);
      return row;
    },
  };
}

/** The verification `id` (no lock), read with the hot path's statement on `executor` (a transaction or `db`). */
export async function readVerification(ctx: StoreContext, executor: Kysely<Database>, id: string) {
  return (await executor.executeQuery(ctx.statements.verificationById({ id }))).rows[0];
}

/** Writes an audit event on `executor` with the hot path's statement. */
export async function insertAudit(
  ctx: StoreContext,
  executor: Kysely<Database>,
  verificationId: string | null,
  type: string,
  nowMs: number,
  data: AuditEvent["data"],
): Promise<void> {
  await executor.executeQuery(ctx.statements.insertAudit(auditRow(verificationId, type, nowMs, data)));
}

/** Writes `event` to the outbox on `executor`, due at once, with the hot path's statement. */
export async function insertOutboxEvent(
  ctx: StoreContext,
  executor: Kysely<Database>,
  verificationId: string,
  event: { id: string; type: string },
  nowMs: number,
): Promise<void> {
  await executor.executeQuery(ctx.statements.insertOutbox(outboxRow(verificationId, event, nowMs)));
}
