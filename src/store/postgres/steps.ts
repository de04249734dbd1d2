/**
 * Steps (store/steps.ts) on PostgreSQL in fewer round trips. The pool's clients run in pg's pipeline
 * mode (postgres/index.ts): a query is written as soon as it is asked, without waiting for the one
 * before to be answered. So this runner asks without waiting wherever nothing needs the answer yet,
 * and writes what it asks in one go:
 *
 * - BEGIN goes out with the transaction's first statement;
 * - a {@link later} statement (the finish under its row lock, an audit or outbox insert) goes out
 *   with the next statement whose result the steps read, or with the COMMIT;
 * - a {@link Likely} statement goes out with them too, and the steps go on with its guessed answer
 *   (the rows an insert almost always affects; the row a read by bound id just saw, read again
 *   under its lock: store/context.ts RecentRows). Before the COMMIT, or the next statement waited
 *   for, the runner checks each guess against the answer. When one was wrong — the upstream id was
 *   consumed already, the person exists, the account is taken, the row changed — or anything failed
 *   while a guess was unchecked, the transaction is rolled back and run again from its first step,
 *   waiting for every answer: what the steps decided on a wrong guess is never committed, and the
 *   second run decides on the real answers, as SQLite does. (A fault of the database met while a
 *   guess was unchecked is thus tried once more, on a fresh client, before it is answered.)
 *
 * A new person's signup is then two round trips: everything from BEGIN and the locked read to the
 * finish and its audit event, then the COMMIT — eight statements, each waited for, without this
 * runner; five when every guessed answer is waited for. (The read by bound id before the upstream
 * call is one more.) The statements, their order and the decisions between them are the steps',
 * as on SQLite, and so are the locks, taken in the same order. A failure of any statement, waited
 * for or not, fails the transaction (an error aborts a PostgreSQL transaction, whose COMMIT then
 * rolls back): the runner waits for everything it sent to be answered, rolls back and throws the
 * first failure.
 */
import type { CompiledQuery, QueryResult } from "kysely";
import type pg from "pg";
import { isLater, isLikely, queryOf, type StepRunner, type Steps } from "../steps.js";

/**
 * The pipelined runner on `pool`'s clients. It talks to the client itself, as Kysely's PostgreSQL
 * driver does (`query(sql, parameters)`, answered as rows and affected rows): Kysely runs one query
 * of a connection at a time.
 */
export function pipelinedStepRunner(pool: pg.Pool): StepRunner {
  const withClient = async <T>(use: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    try {
      return await use(client);
    } finally {
      client.release();
    }
  };
  const transaction = <T>(steps: () => Steps<T>, guess: boolean) =>
    withClient(async (client) => {
      const sent: Promise<unknown>[] = [];
      try {
        return await drive(client, steps(), sent, { transaction: true, guess });
      } catch (error) {
        // Nothing may be left in flight on the client before the ROLLBACK, nor when it goes
        // back to the pool.
        await Promise.allSettled(sent);
        await client.query("rollback").catch(() => {});
        throw error;
      }
    });
  return {
    guesses: true,
    transaction: (steps) =>
      transaction(steps, true).catch((error: unknown) => {
        if (!(error instanceof WrongGuess)) throw error;
        // Rolled back: run again from the first step, on the answers alone.
        return transaction(steps, false);
      }),
    run: (steps) =>
      withClient(async (client) => {
        const sent: Promise<unknown>[] = [];
        try {
          return await drive(client, steps(), sent, { transaction: false, guess: false });
        } finally {
          await Promise.allSettled(sent);
        }
      }),
  };
}

/** A {@link likely} statement affected other rows than guessed, or something failed while one was unchecked. */
class WrongGuess extends Error {
  constructor() {
    super("store: a guessed answer was wrong; the transaction runs again");
  }
}

/** A {@link Likely} statement in flight and the answer the steps went on with. */
interface Guess {
  answer: Promise<QueryResult<unknown>>;
  guess: QueryResult<unknown>;
}

/**
 * Whether `answer` is `guess`: the same affected rows, and the same rows column for column. The
 * store's columns come back as strings, numbers and nulls (int8 parsed: postgres/index.ts); a column
 * pg answered as an object (a timestamptz, a jsonb) would never compare equal and every completion
 * would run twice — test/store/postgres-pipeline.test.ts counts a real signup's writes to catch it.
 */
function guessed(answer: QueryResult<unknown>, guess: QueryResult<unknown>): boolean {
  if (answer.numAffectedRows !== guess.numAffectedRows || answer.rows.length !== guess.rows.length)
    return false;
  return answer.rows.every((row, i) => {
    const expected = guess.rows[i] as Record<string, unknown>;
    const actual = row as Record<string, unknown>;
    const columns = Object.keys(actual);
    return (
      columns.length === Object.keys(expected).length &&
      columns.every((column) => Object.is(actual[column], expected[column]))
    );
  });
}

/**
 * Drives `steps` on `client`, inside BEGIN … COMMIT when `transaction`. What it asks between two
 * waits is written in one go (the socket corked meanwhile); it waits only for a statement whose
 * result the steps read — and, unless `guess`, for a {@link likely} one — and then for everything
 * sent before it too, checking the guesses. `sent` holds what is in flight.
 * @throws WrongGuess when a guess was wrong, or anything failed while one was unchecked.
 */
async function drive<T>(
  client: pg.PoolClient,
  steps: Steps<T>,
  sent: Promise<unknown>[],
  mode: { transaction: boolean; guess: boolean },
): Promise<T> {
  const writes = corkable(client);
  const guesses: Guess[] = [];
  /** Everything sent answered, every guess checked (before anything reads an answer or commits). */
  const answered = async () => {
    writes.release();
    try {
      await settle(sent);
      for (const { answer, guess } of guesses) if (!guessed(await answer, guess)) throw new WrongGuess();
    } catch (error) {
      throw guesses.length > 0 ? new WrongGuess() : error;
    }
    guesses.length = 0;
    writes.hold();
  };
  writes.hold();
  try {
    if (mode.transaction) sent.push(client.query("begin"));
    let next = steps.next();
    while (next.done !== true) {
      const step = next.value;
      if (isLater(step)) {
        sent.push(execute(client, step.later));
        next = steps.next({ rows: [] });
        continue;
      }
      const answer = execute(client, queryOf(step));
      sent.push(answer);
      if (mode.guess && isLikely(step)) {
        guesses.push({ answer, guess: step.guess });
        next = steps.next(step.guess);
        continue;
      }
      await answered();
      next = steps.next(await answer);
    }
    if (guesses.length > 0) await answered();
    if (mode.transaction) sent.push(client.query("commit"));
    writes.release();
    await settle(sent);
    return next.value;
  } catch (error) {
    // A step that threw on a guessed answer (an invariant a wrong guess broke): run again, waiting.
    throw guesses.length > 0 ? new WrongGuess() : error;
  } finally {
    // A step that threw while writes were held: what was asked goes out, to be answered (and
    // waited for by the caller) before anything else is sent.
    writes.release();
  }
}

/**
 * Holding and releasing the client's writes (Node's cork and uncork of its socket): queries asked
 * while held go out in one write. pg keeps its socket as `connection.stream`; without one, holding
 * does nothing and each query goes out as it is asked.
 */
function corkable(client: pg.PoolClient) {
  const socket = (client as { connection?: { stream?: { cork?(): void; uncork?(): void } } }).connection
    ?.stream;
  let held = false;
  return {
    hold() {
      if (held) return;
      socket?.cork?.();
      held = true;
    },
    release() {
      if (!held) return;
      held = false;
      socket?.uncork?.();
    },
  };
}

/** `query` on `client`, answered as Kysely answers it (store/steps.ts reads Kysely's shape). */
async function execute(client: pg.PoolClient, query: CompiledQuery): Promise<QueryResult<unknown>> {
  const { command, rowCount, rows } = await client.query(query.sql, [...query.parameters]);
  const counted = command === "INSERT" || command === "UPDATE" || command === "DELETE" || command === "MERGE";
  return { rows: rows ?? [], numAffectedRows: counted ? BigInt(rowCount ?? 0) : undefined };
}

/** Waits for every promise of `sent` to settle, empties it, and throws the first failure. */
async function settle(sent: Promise<unknown>[]): Promise<void> {
  const outcomes = await Promise.allSettled(sent.splice(0));
  const failed = outcomes.find((outcome) => outcome.status === "rejected");
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
}
