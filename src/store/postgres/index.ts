/**
 * The shared store: PostgreSQL through a `pg` pool. Its unique constraints and `FOR UPDATE` row locks
 * carry certgate's guarantees across any number of service instances.
 */
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { Keyring } from "../crypto.js";
import { openMigratedStore } from "../kysely-store.js";
import type { Database } from "../schema.js";
import type { Store } from "../types.js";
import { POSTGRES_DIALECT } from "./dialect.js";

export interface PostgresStoreOptions {
  /** `postgres://user@host:port/db`; may carry `?options=-c search_path=…`. */
  connectionString: string;
  keyring: Keyring;
  /** Pool size. Default 10. */
  max?: number | undefined;
  /** Extra libpq-style startup options, e.g. `-c search_path=tenant_a`. */
  options?: string | undefined;
}

const INT8_OID = 20;

/**
 * Opens a pool on `connectionString` and migrates the database.
 * @example const store = await openPostgresStore({ connectionString: "postgres://…", keyring });
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
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
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return openMigratedStore({ db, dialect: POSTGRES_DIALECT, keyring: options.keyring });
}
