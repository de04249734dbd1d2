/**
 * A database a suite opens again and again, each time under the keyring it gives (as each restart
 * or instance would): a SQLite file in a temp directory, or a fresh PostgreSQL schema. Each factory
 * adds its removal to `cleanups`, which the suite runs after all, and can count rows with its own
 * SQL, outside the store (what a suite checks of the stored bytes).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import type { Store } from "../../src/core/store.js";
import type { Keyring } from "../../src/store/crypto.js";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { adminQuery, POSTGRES_URL } from "./fixtures.js";

/**
 * Opens the suite's database under `keyring`; `count(sql)` runs `select count(*) as n …` on it
 * directly (read-only on SQLite).
 */
export type Reopen = ((keyring: Keyring) => Promise<Store>) & { count(sql: string): Promise<number> };

export type Cleanups = (() => Promise<void>)[];

/** A SQLite file in a temp directory named after `name`. */
export function reopenableSqlite(name: string, cleanups: Cleanups): Reopen {
  const dir = mkdtempSync(join(tmpdir(), `certgate-${name}-`));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const filename = join(dir, "certgate.db");
  return Object.assign((keyring: Keyring) => openSqliteStore({ filename, keyring }), {
    async count(sql: string) {
      const db = new Database(filename, { readonly: true });
      try {
        return Number((db.prepare(sql).get() as { n: number }).n);
      } finally {
        db.close();
      }
    },
  });
}

/** A PostgreSQL schema of its own, created on the first open; pools of `max` connections. */
export function reopenablePostgres(name: string, cleanups: Cleanups, max: number): Reopen {
  const schema = `cg_${name}_${randomBytes(6).toString("hex")}`;
  let created: Promise<void> | undefined;
  cleanups.push(() => adminQuery(`drop schema if exists ${schema} cascade`));
  const options = `-c search_path=${schema}`;
  const open = async (keyring: Keyring) => {
    created ??= adminQuery(`create schema ${schema}`);
    await created;
    return openPostgresStore({ connectionString: POSTGRES_URL, keyring, options, max });
  };
  return Object.assign(open, {
    async count(sql: string) {
      const client = new pg.Client({ connectionString: POSTGRES_URL, options });
      await client.connect();
      try {
        return Number((await client.query<{ n: string }>(sql)).rows[0]?.n);
      } finally {
        await client.end();
      }
    },
  });
}
