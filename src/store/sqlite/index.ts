/**
 * The embedded store: one SQLite file through better-sqlite3 12.
 *
 * Kysely's SqliteDriver runs every query on one connection guarded by a mutex, and a transaction
 * holds that connection until it commits, so completions never interleave inside one process. WAL
 * lets readers (another process, a backup) proceed beside the writer; `busy_timeout` makes a second
 * process wait for the write lock instead of failing at once.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import type { Keyring } from "../crypto.js";
import { openMigratedStore } from "../kysely-store.js";
import type { Database } from "../schema.js";
import type { Store } from "../types.js";
import { SQLITE_DIALECT } from "./dialect.js";

/** How long a write waits for another process's lock before failing, in ms. */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

export interface SqliteStoreOptions {
  /** Path of the database file (its directory is created), or ":memory:". */
  filename: string;
  keyring: Keyring;
}

/**
 * Opens (creating if needed) the SQLite database at `filename` and migrates it.
 * @example const store = await openSqliteStore({ filename: "./data/certgate.db", keyring });
 */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  if (options.filename !== ":memory:") mkdirSync(dirname(options.filename), { recursive: true });
  const database = new BetterSqlite3(options.filename);
  try {
    database.pragma("journal_mode = WAL");
    database.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    database.pragma("foreign_keys = ON");
  } catch (error) {
    database.close();
    throw error;
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  return openMigratedStore({ db, dialect: SQLITE_DIALECT, keyring: options.keyring });
}
