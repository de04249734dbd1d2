/**
 * The store: choose a backend by URL. `postgres://` / `postgresql://` opens PostgreSQL, a plain
 * path a SQLite file; any other scheme is refused (core/database-url.ts).
 */

import { databaseUrlProblem, isPostgresUrl } from "../core/database-url.js";
import { ConfigError } from "../core/errors.js";
import { methodsOption, optionsObject } from "../core/option-values.js";
import type { Store } from "../core/store.js";
import { checkOptionKeys } from "../core/unknown-fields.js";
import type { Keyring } from "./crypto.js";
import { openPostgresStore } from "./postgres/index.js";
import { openSqliteStore, type SqliteOffload } from "./sqlite/index.js";

export type * from "../core/store.js";
export type * from "../core/verification.js";
export type { Keyring, KeyringOptions, PersonKeyHash } from "./crypto.js";
export { createKeyring, generateSecret, MIN_SECRET_LENGTH, validateSecret } from "./crypto.js";
export type { DialectName, StoreDialect } from "./dialect.js";
export { createKyselyStore, type KyselyStoreOptions } from "./kysely-store.js";
export { createMigrations, migrateToLatest } from "./migrations.js";
export { openPostgresStore, type PostgresStoreOptions } from "./postgres/index.js";
export type { Database } from "./schema.js";
export {
  openSqliteStore,
  type SqliteOffload,
  type SqliteStoreOptions,
  type WorkerEvent,
} from "./sqlite/index.js";

/**
 * Which database {@link openStore} opens, and the keyring its personal fields are sealed with.
 *
 * @example
 * import { createKeyring, type OpenStoreOptions, openStore } from "certgate";
 * const options: OpenStoreOptions = {
 *   databaseUrl: "postgres://certgate@127.0.0.1:5432/certgate",
 *   keyring: createKeyring({ secret: process.env.CERTGATE_SECRET ?? "" }),
 * };
 * const store = await openStore(options);
 */
export interface OpenStoreOptions {
  /** `postgres://…` / `postgresql://…`, or a SQLite file path (e.g. "./data/certgate.db"). */
  databaseUrl: string;
  keyring: Keyring;
  /** For a SQLite file: when the store hands its work to a worker thread ({@link SqliteOffload}). */
  offload?: SqliteOffload | undefined;
}

const OPEN_STORE_OPTION_KEYS: Record<keyof OpenStoreOptions, true> = {
  databaseUrl: true,
  keyring: true,
  offload: true,
};

export { isPostgresUrl };

/**
 * Opens and migrates the store `databaseUrl` names.
 * @example const store = await openStore({ databaseUrl: process.env.DATABASE_URL ?? "./data/certgate.db", keyring });
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  optionsObject("openStore options", options);
  checkOptionKeys("openStore options", options, OPEN_STORE_OPTION_KEYS);
  methodsOption(
    "openStore options.keyring",
    options.keyring,
    ["hashPersonKey", "lookupHashes", "encrypt", "decrypt"],
    "is required: a keyring from createKeyring",
  );
  if (options.offload !== undefined)
    methodsOption(
      "openStore options.offload",
      options.offload,
      ["busy"],
      "must be { busy() } (SqliteOffload), or left out",
    );
  const problem = databaseUrlProblem(options.databaseUrl);
  if (problem !== undefined) throw new ConfigError("databaseUrl", problem);
  return isPostgresUrl(options.databaseUrl)
    ? openPostgresStore({ connectionString: options.databaseUrl, keyring: options.keyring })
    : openSqliteStore({ filename: options.databaseUrl, keyring: options.keyring, offload: options.offload });
}
