/**
 * The embedded store: one SQLite file through better-sqlite3 12.
 *
 * Kysely's SqliteDriver runs every query on one connection guarded by a mutex, and a transaction
 * holds that connection until it commits. WAL lets readers (another process, a backup, this
 * thread while the store's worker writes: offload.ts) proceed beside the writer; every transaction
 * begins IMMEDIATE and `busy_timeout` makes a second connection wait for the write lock instead of
 * failing at once, so transactions of the store's two connections, or of two processes, never
 * interleave.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { type CompiledQuery, Kysely, type QueryResult, type SqliteDatabase, SqliteDialect } from "kysely";
import { ConfigError } from "../../core/errors.js";
import type { Store } from "../../core/store.js";
import { checkOptionKeys } from "../../core/unknown-fields.js";
import { errorCode } from "../../util/error-code.js";
import { type Keyring, keyringOptionsOf } from "../crypto.js";
import { createKyselyStore } from "../kysely-store.js";
import { importPeer } from "../peers.js";
import type { Database } from "../schema.js";
import { driveSync, type StepRunner, type Steps } from "../steps.js";
import { isTimeoutMs, MAX_TIMEOUT_MS } from "../timeouts.js";
import { FALLBACK_AUTOCHECKPOINT_PAGES, startCheckpointer } from "./checkpointer.js";
import { SQLITE_DIALECT } from "./dialect.js";
import { INLINE_BUSY_TIMEOUT_MS, offloadingStore, type SqliteOffload } from "./offload.js";

export type { SqliteOffload, WorkerEvent } from "./offload.js";

/** How long a write waits for another process's lock before failing, in ms. */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

export type SqliteStoreOptions = {
  keyring: Keyring;
  /** How long a write waits for another connection's lock before a `store_busy`, in ms. Default 5000. */
  busyTimeoutMs?: number | undefined;
  /**
   * A second thread for the store's work while other requests are being served (offload.ts): off
   * by default; `certgate serve` turns it on. Needs a file database and a keyring of
   * {@link createKeyring}; otherwise every operation runs on the calling thread, as without it.
   */
  offload?: SqliteOffload | undefined;
} & (
  | {
      /** Path of the database file (its directory is created), or ":memory:". */
      filename: string;
      database?: undefined;
    }
  | {
      /**
       * A better-sqlite3 connection the caller opened (e.g. with pragmas of its own); the store sets
       * its pragmas on it, owns it from now on and closes it on `close`.
       */
      database: BetterSqlite3.Database;
      filename?: undefined;
    }
);

const SQLITE_OPTION_KEYS: Record<keyof SqliteStoreOptions, true> = {
  keyring: true,
  busyTimeoutMs: true,
  offload: true,
  filename: true,
  database: true,
};

/**
 * Opens (creating if needed) the SQLite database at `filename`, or takes over `database`, and
 * migrates it.
 * @example const store = await openSqliteStore({ filename: "./data/certgate.db", keyring });
 */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  checkOptionKeys("openSqliteStore options", options, SQLITE_OPTION_KEYS);
  // Written into a pragma: an integer, or the pragma would fail (NaN) or read as something else.
  if (options.busyTimeoutMs !== undefined && !isTimeoutMs(options.busyTimeoutMs, 0)) {
    throw new ConfigError("busyTimeoutMs", `must be an integer from 0 to ${MAX_TIMEOUT_MS} ms`);
  }
  if (options.filename !== undefined && options.filename !== ":memory:") {
    mkdirSync(dirname(options.filename), { recursive: true });
  }
  const database = options.database ?? new (await loadBetterSqlite3())(options.filename);
  const busyTimeoutMs = options.busyTimeoutMs ?? SQLITE_BUSY_TIMEOUT_MS;
  const store = sqliteStoreOn(database, options.keyring, busyTimeoutMs);
  try {
    await store.migrate();
    refuseReadOnly(database);
  } catch (error) {
    await store.close();
    throw error;
  }
  // A file database is checkpointed off the event loop (checkpointer.ts); SQLite's own automatic
  // checkpoint, further away, stays as the backstop.
  const checkpointer = database.memory ? undefined : startCheckpointer(database.name);
  if (checkpointer !== undefined) database.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
  const keyringOptions = keyringOptionsOf(options.keyring);
  const offloaded =
    options.offload === undefined || database.memory || keyringOptions === undefined
      ? store
      : offloadingStore(store, {
          filename: database.name,
          keyringOptions,
          busyTimeoutMs,
          autocheckpointPages: checkpointer === undefined ? undefined : FALLBACK_AUTOCHECKPOINT_PAGES,
          busy: options.offload.busy,
          onWorker: options.offload.onWorker,
        });
  // With a worker to wait on another process's lock, this thread waits only briefly (offload.ts).
  if (offloaded !== store) database.pragma(`busy_timeout = ${INLINE_BUSY_TIMEOUT_MS}`);
  if (checkpointer === undefined) return offloaded;
  return Object.freeze({
    ...offloaded,
    async close() {
      await checkpointer.stop();
      await offloaded.close();
    },
  });
}

/**
 * Throws SQLite's own SQLITE_READONLY when `database` cannot write. SQLite opens a file it may not
 * write (its permissions, a directory where the -wal file cannot be made) read-only without a
 * word, and migrating an up-to-date file writes nothing: the store opened, `/readyz` said ready,
 * and every write was a 503 `store_read_only` until a restart, even after the permissions were
 * fixed. A lock another connection holds is not this refusal: the write lock's wait is left to
 * the store's calls.
 */
function refuseReadOnly(database: BetterSqlite3.Database): void {
  if (database.memory) return;
  const previous = database.pragma("busy_timeout", { simple: true });
  database.pragma("busy_timeout = 0");
  try {
    // A write that changes nothing (the header's user_version, to its own value), rolled back.
    database.exec("BEGIN IMMEDIATE");
    database.pragma(`user_version = ${database.pragma("user_version", { simple: true })}`);
  } catch (error) {
    if (errorCode(error)?.startsWith("SQLITE_READONLY")) throw error;
  } finally {
    if (database.inTransaction) database.exec("ROLLBACK");
    database.pragma(`busy_timeout = ${previous}`);
  }
}

/**
 * The store on one better-sqlite3 connection, its pragmas set, not migrated: what
 * {@link openSqliteStore} opens on the calling thread, and what the worker thread opens on its own
 * connection (worker.ts). Closes `database` if a pragma fails.
 */
export function sqliteStoreOn(
  database: BetterSqlite3.Database,
  keyring: Keyring,
  busyTimeoutMs: number,
): Store {
  return sqliteStoreWithBatches(database, keyring, busyTimeoutMs).store;
}

/**
 * Runs `run` in ONE transaction of the store's connection (BEGIN IMMEDIATE … COMMIT), inside which
 * each of the store's synchronous transactions (completions: store/steps.ts) is a SAVEPOINT of its
 * own: one that fails is rolled back to its savepoint, alone, and the others commit together with
 * one COMMIT. Throws, having committed nothing, if `run` throws or the COMMIT fails, and when the
 * connection is inside a transaction already. What `run` learns from the store inside (a
 * completion's promise) is only true once this has returned: before, nothing is committed.
 */
export type SqliteBatch = <T>(run: () => T) => T;

/** What a store call inside a batch whose transaction SQLite already rolled back fails with. */
class BatchEnded extends Error {
  constructor() {
    super("store: the batch's transaction was rolled back");
  }
}

/** {@link sqliteStoreOn} and its {@link SqliteBatch}: what the store's worker thread opens (worker.ts). */
export function sqliteStoreWithBatches(
  database: BetterSqlite3.Database,
  keyring: Keyring,
  busyTimeoutMs: number,
): { store: Store; batch: SqliteBatch } {
  try {
    database.pragma("journal_mode = WAL");
    // Set, not left to the default: better-sqlite3 gives NORMAL to a file reopened in WAL mode but
    // FULL to the connection that creates it. WAL + NORMAL: a commit survives the process dying
    // (kill -9: test/reliability/crash.test.ts) but not the machine losing power, and costs no
    // fsync — which, better-sqlite3 being synchronous, would stall the event loop on every commit
    // (0.67 ms vs 0.05 ms per commit measured here). What a power cut can lose is the last commits
    // whole: their imp_uids unconsumed and their verifications pending, so they complete again;
    // never a half-written one.
    database.pragma("synchronous = NORMAL");
    database.pragma(`busy_timeout = ${busyTimeoutMs}`);
    database.pragma("foreign_keys = ON");
  } catch (error) {
    database.close();
    throw error;
  }
  const cached = withStatementCache(database);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cached }) });
  const { steps, batch } = synchronousSteps(db, database, cached.prepare);
  return { store: createKyselyStore({ db, dialect: SQLITE_DIALECT, keyring, steps }), batch };
}

/**
 * Steps (store/steps.ts) as ONE synchronous better-sqlite3 transaction: BEGIN, every yielded
 * statement run on the spot (prepared once, by SQL text), COMMIT — or ROLLBACK when anything
 * throws — with no await inside, so no other request's work interleaves and no promise is made
 * per statement.
 *
 * It never starts inside a transaction of Kysely's own API on the same connection (one that
 * awaits between its statements, e.g. a withdrawal): while one is open (`inTransaction`) it waits
 * for the Kysely driver's connection (its mutex), which that transaction holds until it ends. When
 * none is open it runs at once: being synchronous, it ends before any other code can begin one.
 */
function synchronousSteps(
  db: Kysely<Database>,
  database: BetterSqlite3.Database,
  prepare: (sql: string) => ReturnType<SqliteDatabase["prepare"]>,
): { steps: StepRunner; batch: SqliteBatch } {
  const readers = new Map<string, (parameters: readonly unknown[]) => unknown[]>();
  const execute = (query: CompiledQuery): QueryResult<unknown> => {
    const reader = readers.get(query.sql);
    if (reader !== undefined) return { rows: reader(query.parameters) };
    const statement = prepare(query.sql);
    // As Kysely's SqliteDriver does: a statement that returns rows is read, any other one run.
    if (statement.reader) return { rows: readerOf(readers, database, query.sql)(query.parameters) };
    const { changes, lastInsertRowid } = statement.run(query.parameters);
    return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
  };
  // BEGIN IMMEDIATE (as every transaction of the store: withStatementCache); better-sqlite3 rolls
  // back when the function throws.
  const asOneTransaction = database.transaction((steps: Steps<unknown>) =>
    driveSync(steps, execute),
  ).immediate;
  /** True while a batch's transaction is open: the only one a synchronous transaction runs inside. */
  let batchOpen = false;
  const runSync = <T>(run: () => T): Promise<T> => {
    if (database.inTransaction && !batchOpen) return db.connection().execute(async () => run());
    // SQLite rolled the batch's whole transaction back (a fault of an earlier savepoint): what
    // runs now would commit on its own, before the batch is answered. The batch fails instead.
    if (batchOpen && !database.inTransaction) return Promise.reject(new BatchEnded());
    try {
      return Promise.resolve(run());
    } catch (error) {
      return Promise.reject(error);
    }
  };
  const inOneTransaction = database.transaction((run: () => unknown) => run()).immediate;
  const batch: SqliteBatch = <T>(run: () => T): T => {
    if (database.inTransaction) throw new Error("store: a batch cannot begin inside a transaction");
    batchOpen = true;
    try {
      return inOneTransaction(run) as T;
    } finally {
      batchOpen = false;
    }
  };
  return {
    steps: {
      transaction: <T>(steps: () => Steps<T>) => runSync(() => asOneTransaction(steps()) as T),
      run: <T>(steps: () => Steps<T>) => runSync(() => driveSync(steps(), execute)),
    },
    batch,
  };
}

/**
 * The rows of a statement that returns some, as objects keyed by column name, read as arrays
 * (better-sqlite3's `raw` mode) and named here: better-sqlite3 builds each row object through V8's
 * API one property at a time, twice the cost of the read itself for the verification's 33 columns.
 * Its own statement (raw mode is a setting of the statement), prepared once per SQL text.
 */
function readerOf(
  readers: Map<string, (parameters: readonly unknown[]) => unknown[]>,
  database: BetterSqlite3.Database,
  sql: string,
): (parameters: readonly unknown[]) => unknown[] {
  let reader = readers.get(sql);
  if (reader === undefined) {
    const statement = database.prepare(sql).raw(true);
    const names = statement.columns().map((column) => column.name);
    const named = (values: unknown[]) => {
      const row: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) row[names[i] as string] = values[i];
      return row;
    };
    reader = (parameters) => (statement.all(parameters) as unknown[][]).map(named);
    if (readers.size >= STATEMENT_CACHE_SIZE) readers.clear();
    readers.set(sql, reader);
  }
  return reader;
}

/** better-sqlite3, an optional peer dependency, imported when the first SQLite store opens. */
export async function loadBetterSqlite3(): Promise<typeof BetterSqlite3> {
  // A CommonJS module imported from ESM: its `module.exports` is the default export. The types
  // (`export =`, read without esModuleInterop) do not say so.
  const load = () =>
    import("better-sqlite3") as Promise<unknown> as Promise<{ default: typeof BetterSqlite3 }>;
  return (await importPeer("better-sqlite3", "a SQLite store", load)).default;
}

/** What Kysely's driver calls for a ROLLBACK (it only reads `reader` and calls `run`). */
const NO_OP_ROLLBACK = {
  reader: false,
  all: () => [],
  run: () => ({ changes: 0, lastInsertRowid: 0 }),
  iterate: () => [][Symbol.iterator](),
} satisfies ReturnType<SqliteDatabase["prepare"]>;

const BEGIN_IMMEDIATE = "begin immediate";

/** How many distinct SQL texts keep a prepared statement; the store's queries are far fewer. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * The database as Kysely's SqliteDriver sees it, with prepared statements reused by SQL text: the
 * driver calls `prepare` for every query, and preparing costs about as much as running one of the
 * store's statements. Reuse is safe because the driver runs each statement to completion
 * (`all`/`run`) on the one connection before the next; it never streams.
 */
function withStatementCache(
  database: BetterSqlite3.Database,
): SqliteDatabase & { prepare(sql: string): ReturnType<SqliteDatabase["prepare"]> } {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      // SQLite itself rolls a transaction back on some faults (SQLITE_FULL, an I/O error, a busy
      // COMMIT); Kysely's ROLLBACK after them would fail with "no transaction is active" and hide
      // the fault that happened. With no transaction open, the rollback has nothing left to do.
      if (sql === "rollback" && !database.inTransaction) return NO_OP_ROLLBACK;
      // Every transaction takes the write lock as it begins (Kysely's SqliteDriver begins deferred).
      // A deferred one that has read fails at its first write with SQLITE_BUSY when another
      // connection (another process, or the store's worker thread: offload.ts) holds the lock —
      // SQLite does not run the busy handler for a transaction that has begun reading — or with
      // SQLITE_BUSY_SNAPSHOT when that one committed meanwhile; an immediate one waits for the
      // lock, then reads what the other left.
      const text = sql === "begin" ? BEGIN_IMMEDIATE : sql;
      let statement = statements.get(text);
      if (statement === undefined) {
        statement = database.prepare(text);
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.clear();
        statements.set(text, statement);
      }
      return statement;
    },
  };
}
