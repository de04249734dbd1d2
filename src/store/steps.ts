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
 * - on PostgreSQL asynchronously, in as few round trips as the steps allow (store/postgres/steps.ts);
 * - on any other Kysely a library user passes, asynchronously: `db.transaction()`, each yielded
 *   query awaited through `trx.executeQuery` ({@link kyselyStepRunner}).
 *
 * The same generator, hence the same statements in the same order with the same decisions between
 * them, runs on both. A statement whose result nothing after it reads (an audit or outbox insert,
 * the finish under its row lock) is yielded with {@link later}: SQLite runs it on the spot as any
 * other; PostgreSQL (store/postgres/steps.ts) sends it without waiting, together with the next
 * statement that is waited for or the COMMIT, one round trip for all of them. A write whose
 * affected-row count the steps read but can all but foresee (the first consumption of an upstream
 * id, a new person, a new account) is yielded with {@link likely}, and a read whose row the store
 * has just seen with {@link likelyFirst}: PostgreSQL sends it without waiting too, goes on with the
 * guess, and checks it before the COMMIT; when the answer differs, the transaction is rolled back
 * and run again waiting for every answer (store/postgres/steps.ts). SQLite waits for each, as ever.
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
export type Steps<T> = Generator<Step, T, QueryResult<unknown>>;

/** Runs steps in one transaction, or (`run`) each statement on its own. */
export interface StepRunner {
  /**
   * True when it goes on from a {@link Likely} statement's guess before the answer is back: a guess
   * is then worth keeping at hand (a row read now for the completion that will lock it).
   */
  readonly guesses?: boolean;
  transaction<T>(steps: () => Steps<T>): Promise<T>;
  /**
   * Runs `steps` with no transaction around them: for a single statement (a read), or statements
   * that need no atomicity together. On SQLite synchronously, like `transaction`.
   */
  run<T>(steps: () => Steps<T>): Promise<T>;
}

/** A statement yielded by {@link later}: run in the transaction, its result not returned. */
export interface Later {
  later: CompiledQuery;
}

/** A statement yielded by {@link likely} or {@link likelyFirst}, and the answer it most likely gets. */
export interface Likely {
  likely: CompiledQuery;
  guess: QueryResult<unknown>;
}

/** What steps yield: a statement whose result they receive back, a {@link Later} or a {@link Likely} one. */
export type Step = CompiledQuery | Later | Likely;

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

/**
 * Runs `query` in the transaction without returning its result: nothing after it may depend on it,
 * not even how many rows it affected — on PostgreSQL the COMMIT may be on its way before that is
 * known. Its failure (an error of the database) still fails the transaction: an error aborts a
 * PostgreSQL transaction, whose COMMIT then rolls back.
 */
export function* later(query: Query<unknown>): Steps<void> {
  yield { later: compiled(query) };
}

/**
 * Runs `query` (a write without RETURNING) and resolves with the rows it affected, like
 * {@link affected}; `expected` is what it affects but in rare cases (an insert that almost never
 * conflicts). A runner may go on as if it did before the answer is back, and must then check the
 * answer before the COMMIT and run the whole transaction again, waiting, when it differs: so the
 * steps decide on the real count either way, and nothing decided on a wrong guess is committed.
 */
export function* likely(query: Query<unknown>, expected: number): Steps<number> {
  const result = yield { likely: compiled(query), guess: { rows: [], numAffectedRows: BigInt(expected) } };
  return Number(result.numAffectedRows ?? 0n);
}

/**
 * The first row `query` returns, like {@link first}, where `expected` is what it most likely is (a
 * row read a moment ago, read again under its lock): a runner may go on with `expected` and check,
 * as for {@link likely}. `expected` must be a row as the database answers it, column for column.
 */
export function* likelyFirst<R>(query: Query<R>, expected: R): Steps<R | undefined> {
  const result = yield { likely: compiled(query), guess: { rows: [expected] } };
  return result.rows[0] as R | undefined;
}

export function isLater(step: Step): step is Later {
  return "later" in step;
}

export function isLikely(step: Step): step is Likely {
  return "likely" in step;
}

/** The statement `step` runs. */
export function queryOf(step: Step): CompiledQuery {
  if (isLater(step)) return step.later;
  return isLikely(step) ? step.likely : step;
}

/** What a {@link Later} statement answers the steps: nothing. */
const NO_RESULT: QueryResult<unknown> = { rows: [] };

/** Drives `steps` to its end, executing each yielded query with `execute` (synchronously). */
export function driveSync<T>(steps: Steps<T>, execute: (query: CompiledQuery) => QueryResult<unknown>): T {
  let next = steps.next();
  while (next.done !== true) {
    const step = next.value;
    const result = execute(queryOf(step));
    next = steps.next(isLater(step) ? NO_RESULT : result);
  }
  return next.value;
}

/** Drives `steps` to its end, awaiting each yielded query (a later one too) on `executor`. */
async function driveAsync<T>(steps: Steps<T>, executor: Kysely<Database>): Promise<T> {
  let next = steps.next();
  while (next.done !== true) {
    const step = next.value;
    const result = await executor.executeQuery(queryOf(step));
    next = steps.next(isLater(step) ? NO_RESULT : result);
  }
  return next.value;
}

/** The asynchronous runner: a Kysely transaction, each yielded query awaited in it. */
export function kyselyStepRunner(db: Kysely<Database>): StepRunner {
  return {
    transaction: (steps) => db.transaction().execute((trx) => driveAsync(steps(), trx)),
    run: (steps) => driveAsync(steps(), db),
  };
}
