/**
 * Store operations written once for both dialects as STEPS: a generator that yields each Kysely
 * query it needs, compiled (`query.compile()`: the one source of truth for the SQL), and receives
 * that query's result back. A {@link StepRunner} drives the generator inside one transaction:
 *
 * - on SQLite synchronously (store/sqlite/index.ts): better-sqlite3 runs every yielded statement on
 *   the spot, so the whole transaction — BEGIN, the statements, COMMIT — is one synchronous call
 *   with no await, no promise and no event-loop turn inside it. It first takes the Kysely driver's
 *   connection (`db.connection()`), so it never runs inside, or beside, a transaction of Kysely's
 *   own API on the same connection.
 * - on PostgreSQL (and any Kysely a library user passes) asynchronously: `db.transaction()`, each
 *   yielded query awaited through `trx.executeQuery`.
 *
 * The same generator, hence the same statements in the same order with the same decisions between
 * them, runs on both.
 *
 * @example
 * function* count(db: Kysely<Database>) {
 *   const rows = yield* all(db.selectFrom("persons").select("id"));
 *   return rows.length;
 * }
 * const n = await runner.transaction(() => count(db));
 */
import type { Compilable, CompiledQuery, Kysely, QueryResult } from "kysely";
import type { Database } from "./schema.js";

/** A store operation as steps: yields compiled queries, receives their results, returns `T`. */
export type Steps<T> = Generator<CompiledQuery, T, QueryResult<unknown>>;

/** Runs steps in one transaction, or (`run`) each statement on its own. */
export interface StepRunner {
  transaction<T>(steps: () => Steps<T>): Promise<T>;
  /**
   * Runs `steps` with no transaction around them: for a single statement (a read), or statements
   * that need no atomicity together. On SQLite synchronously, like `transaction`.
   */
  run<T>(steps: () => Steps<T>): Promise<T>;
}

/** A query to yield: a Kysely builder, or a query compiled already (store/prepared.ts). */
export type Query<R> = Compilable<R> | CompiledQuery<R>;

function compiled<R>(query: Query<R>): CompiledQuery<R> {
  return "compile" in query ? query.compile() : query;
}

/** Every row `query` returns. */
export function* all<R>(query: Query<R>): Steps<R[]> {
  const result = yield compiled(query);
  return result.rows as R[];
}

/** The first row `query` returns, if any. */
export function* first<R>(query: Query<R>): Steps<R | undefined> {
  return (yield* all(query))[0];
}

/** Runs `query` (a write without RETURNING); resolves with the rows it affected. */
export function* affected(query: Query<unknown>): Steps<number> {
  const result = yield compiled(query);
  return Number(result.numAffectedRows ?? 0n);
}

/** Drives `steps` to its end, executing each yielded query with `execute` (synchronously). */
export function driveSync<T>(steps: Steps<T>, execute: (query: CompiledQuery) => QueryResult<unknown>): T {
  let next = steps.next();
  while (next.done !== true) next = steps.next(execute(next.value));
  return next.value;
}

/** Drives `steps` to its end, awaiting each yielded query on `executor`. */
async function driveAsync<T>(steps: Steps<T>, executor: Kysely<Database>): Promise<T> {
  let next = steps.next();
  while (next.done !== true) next = steps.next(await executor.executeQuery(next.value));
  return next.value;
}

/** The asynchronous runner: a Kysely transaction, each yielded query awaited in it. */
export function kyselyStepRunner(db: Kysely<Database>): StepRunner {
  return {
    transaction: (steps) => db.transaction().execute((trx) => driveAsync(steps(), trx)),
    run: (steps) => driveAsync(steps(), db),
  };
}
