/**
 * Which commands may create a SQLite database. Opening a SQLite path creates the file and its
 * directories, which is right for a command that starts a deployment and wrong for one that acts on
 * data already there: there a missing file is a mistyped path, and an empty database created in its
 * place would report success on nothing ("0 identities purged", exit 0). So, per command:
 *
 * - `serve` and `migrate` create it: a fresh deployment starts with one of them.
 * - `purge`, `keys rotate|forget`, `webhooks list` and `webhooks replay` refuse a missing file, creating
 *   nothing, and an empty one (0 bytes), changing nothing: {@link openExistingStore}.
 * - `doctor` creates nothing either: it reports a missing file as one `serve` would create, when its
 *   directory can be made (doctor.ts).
 * - `lookup` and `emulator` open no database.
 *
 * On PostgreSQL certgate creates no database (the server refuses one that does not exist), but it
 * creates its tables: those commands also refuse a database whose search_path holds none (a
 * mistyped schema, the application's own database), creating nothing.
 */
import { statSync } from "node:fs";
import { StartupError } from "../core/errors.js";
import type { Store } from "../core/store.js";
import { maskDatabaseUrl, openStoreOrExplain } from "../startup-errors.js";
import { createKeyring, type Keyring } from "../store/crypto.js";
import { isPostgresUrl } from "../store/index.js";
import { importPeer } from "../store/peers.js";
import { errorCode } from "../util/error-code.js";
import type { Config } from "./config.js";

/**
 * Whether `databaseUrl` is a SQLite path with no file behind it (nothing there, or a part of the
 * path missing or not a directory). A PostgreSQL URL and `:memory:` are never missing; a path that
 * cannot be examined (permission denied) is left to the open to explain.
 */
export function isMissingSqliteFile(databaseUrl: string): boolean {
  if (isPostgresUrl(databaseUrl) || databaseUrl === ":memory:") return false;
  try {
    statSync(databaseUrl);
    return false;
  } catch (error) {
    const code = errorCode(error);
    return code === "ENOENT" || code === "ENOTDIR";
  }
}

/**
 * Whether the PostgreSQL database of `databaseUrl` has no migration table on its search_path: no
 * certgate database (yet). False when it cannot be asked: the open then explains the fault.
 */
async function holdsNoCertgateTables(databaseUrl: string): Promise<boolean> {
  const { default: pg } = await importPeer("pg", "a PostgreSQL store", () => import("pg"));
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  client.on("error", () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ found: string | null }>(
      "select to_regclass('kysely_migration')::text as found",
    );
    return rows[0]?.found === null;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether `databaseUrl` is a SQLite path to a file of 0 bytes. */
function isEmptySqliteFile(databaseUrl: string): boolean {
  if (isPostgresUrl(databaseUrl) || databaseUrl === ":memory:") return false;
  try {
    const stat = statSync(databaseUrl);
    return stat.isFile() && stat.size === 0;
  } catch {
    return false;
  }
}

/**
 * Opens (and migrates) the database of `databaseUrl` for `command`, which must not create one.
 * @throws StartupError naming DATABASE_URL when it is a SQLite path with no file, before anything
 *   is created; otherwise as {@link openStoreOrExplain}.
 */
export async function openExistingStore(
  databaseUrl: string,
  keyring: Keyring,
  command: string,
  options: { checkKeys?: boolean } = {},
): Promise<Store> {
  if (isMissingSqliteFile(databaseUrl)) {
    // Masked like a URL all the same (a mistyped one with a scheme is refused before: core/database-url.ts).
    throw new StartupError(
      "DATABASE_URL",
      `the SQLite file ${maskDatabaseUrl(databaseUrl)} does not exist, and certgate ${command} creates none (check the path; certgate migrate creates a new database)`,
    );
  }
  if (isPostgresUrl(databaseUrl) && (await holdsNoCertgateTables(databaseUrl))) {
    // Migrated in place, an empty schema (a mistyped search_path) or the application's own
    // database was given certgate's tables, and the command reported success on nothing.
    throw new StartupError(
      "DATABASE_URL",
      `the PostgreSQL database ${maskDatabaseUrl(databaseUrl)} holds no certgate tables (on its search_path), and certgate ${command} creates none (check the database and its search_path; certgate migrate creates them)`,
    );
  }
  if (isEmptySqliteFile(databaseUrl)) {
    // SQLite reads a 0-byte file as an empty database: migrated in place, it reported success on
    // nothing, as a missing file did (a `touch`ed or truncated path is no certgate database).
    throw new StartupError(
      "DATABASE_URL",
      `the SQLite file ${maskDatabaseUrl(databaseUrl)} is empty, not a certgate database, and certgate ${command} makes none of it (check the path; certgate migrate creates a new database)`,
    );
  }
  return openStoreOrExplain(databaseUrl, keyring, undefined, options);
}

/**
 * The keyring of the commands that neither hash nor decrypt (migrate, purge, webhooks): in sandbox
 * mode, with no secret configured, a placeholder suffices; production always has CERTGATE_SECRET.
 */
export function maintenanceKeyring(config: Config): Keyring {
  return createKeyring({ secret: config.secret ?? "maintenance-commands-use-no-key-0000" });
}
