/**
 * The shared store: PostgreSQL through a `pg` pool. Its unique constraints and `FOR UPDATE` row locks
 * carry certgate's guarantees across any number of service instances.
 */
import { Kysely, PostgresDialect } from "kysely";
import type pg from "pg";
import { ConfigError } from "../../core/errors.js";
import type { Store } from "../../core/store.js";
import { checkOptionKeys } from "../../core/unknown-fields.js";
import type { Keyring } from "../crypto.js";
import { createKyselyStore, openMigratedStore } from "../kysely-store.js";
import { importPeer } from "../peers.js";
import { statementName } from "../prepared.js";
import type { Database } from "../schema.js";
import { isTimeoutMs, MAX_TIMEOUT_MS } from "../timeouts.js";
import { POSTGRES_DIALECT } from "./dialect.js";
import { pipelinedStepRunner } from "./steps.js";

export interface PostgresStoreOptions {
  /** `postgres://user@host:port/db`; may carry `?options=-c search_path=…`. */
  connectionString: string;
  keyring: Keyring;
  /** Pool size. Default 10. */
  max?: number | undefined;
  /** Extra libpq-style startup options, e.g. `-c search_path=tenant_a`. */
  options?: string | undefined;
  /** How long a statement waits for a row or table lock before a 503 `store_busy`. Default 5 s. */
  lockTimeoutMs?: number | undefined;
  /** How long a query waits for PostgreSQL's answer before a 503 `store_unavailable`. Default 30 s. */
  queryTimeoutMs?: number | undefined;
}

const POSTGRES_OPTION_KEYS: Record<keyof PostgresStoreOptions, true> = {
  connectionString: true,
  keyring: true,
  max: true,
  options: true,
  lockTimeoutMs: true,
  queryTimeoutMs: true,
};

/**
 * A PostgreSQL that stops answering without closing its connections (a frozen VM, a stopped
 * process, a network that drops packets) held every request on a pooled connection for as long as
 * it lasted; TCP keepalive does not notice a peer whose kernel still acknowledges. Past this bound
 * pg gives up on the query ("Query read timeout", `store_unavailable`) and drops the connection;
 * the next request connects afresh (CONNECT_TIMEOUT_MS bounds that). Generous, since every query
 * of the store is short: the retention purge works in batches (store/retention.ts). Migrations run
 * before, on a connection of their own without it: one may take longer.
 */
export const QUERY_TIMEOUT_MS = 30_000;

/**
 * A lock another session holds (a long transaction in psql, a stuck migration, a batch job) made a
 * request wait as long as that session lived: no answer, not even a 503. Past this bound PostgreSQL
 * cancels the wait (55P03), which store/errors.ts answers as `store_busy` with Retry-After, as
 * SQLite's `busy_timeout` (5 s) is. Waiting for another instance's migration is not bounded by it:
 * Kysely's PostgreSQL migrator takes its advisory lock with its own `lock_timeout` (one hour), so a
 * second instance that starts while the first migrates waits for it
 * (test/store/postgres-lock-timeout.test.ts). Kysely sets that hour for the lock's statement only;
 * the migration's own statements keep this bound, on purpose: a DDL waiting behind another
 * session's lock holds every later query of its table behind it, so it fails start-up after 5 s
 * (`store_busy`) rather than stall the database's other clients.
 */
export const LOCK_TIMEOUT_MS = 5_000;

const INT8_OID = 20;

/** How long a request waits for a connection (new, or free in the pool) before a 503. */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * pg emits `error` on the pool for an idle client whose connection dies (a terminated backend, a
 * restart), and on a checked-out client between two of its queries; an EventEmitter with no
 * listener turns that into an uncaught exception that ends the process — the whole merchant app
 * when certgate is mounted in it. Both are answered where it matters instead: pg-pool has already
 * dropped the idle client, and a checked-out one fails its next query (a StoreError, 503) and is
 * dropped on release because it is no longer queryable. The next request connects afresh, so the
 * store recovers by itself when the database returns.
 */
function survivePoolErrors(pool: pg.Pool): void {
  pool.on("error", () => {});
  pool.on("connect", (client) => {
    client.on("error", () => {});
  });
}

/**
 * The statements of a completion's hot path (store/statements.ts) prepared once per connection:
 * sent by name, so PostgreSQL parses and plans each once, not on every completion. Any other SQL
 * (migrations, the rest of the store) is sent as it was. Kysely runs a query as `query(text, values)`.
 */
export function prepareHotStatements(pool: pg.Pool): void {
  pool.on("connect", (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = (...args: unknown[]) => {
      const [text, values] = args;
      const name = args.length === 2 && typeof text === "string" ? statementName(text) : undefined;
      return name === undefined ? query(...args) : query({ name, text, values });
    };
  });
}

/**
 * Opens a pool on `connectionString` and migrates the database.
 * @example const store = await openPostgresStore({ connectionString: "postgres://…", keyring });
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  checkOptionKeys("openPostgresStore options", options, POSTGRES_OPTION_KEYS);
  // 0 is pg's and PostgreSQL's "no bound": the very waits these bounds exist to end (see above).
  for (const name of ["lockTimeoutMs", "queryTimeoutMs"] as const) {
    const value = options[name];
    if (value !== undefined && !isTimeoutMs(value, 1)) {
      throw new ConfigError(
        name,
        `must be an integer from 1 to ${MAX_TIMEOUT_MS} ms (0 would remove the bound)`,
      );
    }
  }
  if (
    options.max !== undefined &&
    !(Number.isInteger(options.max) && options.max >= 1 && options.max <= 1_000)
  ) {
    throw new ConfigError("max", "must be an integer from 1 to 1000 connections");
  }
  // pg, an optional peer dependency, is imported when the first PostgreSQL store opens.
  const { default: pg } = await importPeer("pg", "a PostgreSQL store", () => import("pg"));
  const config = (max: number, bounded: boolean): pg.PoolConfig => ({
    connectionString: options.connectionString,
    max,
    lock_timeout: options.lockTimeoutMs ?? LOCK_TIMEOUT_MS,
    ...(bounded ? { query_timeout: options.queryTimeoutMs ?? QUERY_TIMEOUT_MS } : {}),
    // A database that cannot be reached answers within this bound instead of holding the request
    // forever (a refused port fails at once anyway); also bounds the wait for a free client.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    // Queries are written without waiting for the previous answer (pg's pipeline mode): the
    // completion's runner sends what it need not wait for with what it must (steps.ts).
    pipeline: true,
    // Lets the kernel notice a peer that vanished without closing the connection.
    keepAlive: true,
    ...(options.options === undefined ? {} : { options: options.options }),
    // Instants are BIGINT ms, well inside Number's safe range; pg returns int8 as text by default.
    // Set per pool, not through pg.types, so no other pg user in the process is affected.
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === INT8_OID && format !== "binary"
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // Migrations first, on one connection whose queries are not bounded (QUERY_TIMEOUT_MS says why).
  const migrating = new pg.Pool(config(1, false));
  survivePoolErrors(migrating);
  await openMigratedStore({
    db: new Kysely<Database>({ dialect: new PostgresDialect({ pool: migrating }) }),
    dialect: POSTGRES_DIALECT,
    keyring: options.keyring,
  }).then((migrated) => migrated.close());
  const pool = new pg.Pool(config(options.max ?? 10, true));
  survivePoolErrors(pool);
  prepareHotStatements(pool);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return createKyselyStore({
    db,
    dialect: POSTGRES_DIALECT,
    keyring: options.keyring,
    steps: pipelinedStepRunner(pool),
  });
}
