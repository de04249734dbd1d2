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
 * Pending verification rows this store created or read lately, by id and by bound id, until a write
 * of this store changes them (a completion, a failed attempt, a recovery check). Kept where a read
 * is a round trip to another process — a runner that guesses: PostgreSQL — for two uses, each only
 * a shortcut that the completion's transaction checks:
 *
 * - the read that opens a completion (Store.findVerificationByBoundId with `forCompletion`) may be
 *   answered from here, one round trip less per completion: the transaction reads the row again
 *   under its lock and decides on that, so a row another instance changed meanwhile costs at most
 *   the upstream lookup the completion then makes for nothing (it is answered as the row is:
 *   replayed, not found), never another outcome;
 * - the completion's locked read goes out with its writes on the guess that the row is still as
 *   kept here (store/steps.ts `likelyFirst`); the runner checks the guess against the locked row
 *   before the COMMIT and runs the transaction again when it differs.
 *
 * Pending rows only — a finished one is answered as a replay and never completed, and it holds the
 * identity — so no row kept holds personal data: a pending row has no identity columns yet, an
 * expected identity only as keyed hashes. In memory only, and bounded: past `limit`, the oldest row
 * kept goes first. A pending row is ≈ 1 KiB of heap, so the default bound is ≈ 8 MiB at most; it
 * covers the verifications created in the minutes before their completions at a few hundred a
 * second (rows that expire unfinished are pushed out by newer ones).
 */
export interface RecentRows {
  remember(row: Selectable<VerificationsTable>): void;
  /** The pending row bound to `boundId`, if kept (it stays kept: its completion takes it). */
  byBoundId(boundId: string): Selectable<VerificationsTable> | undefined;
  /** The row of verification `id`, if kept; forgotten once taken (before a write to it). */
  take(id: string): Selectable<VerificationsTable> | undefined;
}

/** {@link RecentRows}, kept only when `keep` (a runner that guesses). */
export function recentRows(keep: boolean, limit = 8_192): RecentRows {
  const rows = new Map<string, Selectable<VerificationsTable>>();
  const ids = new Map<string, string>();
  const take = (id: string) => {
    const row = rows.get(id);
    if (row === undefined) return undefined;
    rows.delete(id);
    ids.delete(row.bound_id);
    return row;
  };
  return {
    remember(row) {
      if (!keep) return;
      // A row read again replaces the one kept; read finished, it is no longer kept at all.
      take(row.id);
      if (row.status !== "pending") return;
      if (rows.size >= limit) take(rows.keys().next().value as string);
      rows.set(row.id, row);
      ids.set(row.bound_id, row.id);
    },
    byBoundId(boundId) {
      const id = ids.get(boundId);
      return id === undefined ? undefined : rows.get(id);
    },
    take,
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
