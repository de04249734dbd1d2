import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { describeDatabaseFailure } from "../../src/startup-errors.js";
import { createKeyring, isPostgresUrl, openSqliteStore, openStore } from "../../src/store/index.js";

const POSTGRES_URL = process.env.CERTGATE_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const keyring = createKeyring({ secret: "open-store-secret-00000000000000000000" });

describe("choosing the backend by database URL", () => {
  it.each([
    ["postgres://u@h/db", true],
    ["postgresql://u@h/db", true],
    ["POSTGRES://u@h/db", true],
    ["./data/certgate.db", false],
    ["/var/lib/certgate/postgres.db", false],
    [":memory:", false],
  ])("%s is PostgreSQL: %s", (url, expected) => {
    expect(isPostgresUrl(url)).toBe(expected);
  });

  const dir = mkdtempSync(join(tmpdir(), "certgate-open-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("opens a SQLite file path, creating its directory", async () => {
    const filename = join(dir, "a", "b", "certgate.db");
    const store = await openStore({ databaseUrl: filename, keyring });
    try {
      expect(store.dialect).toBe("sqlite");
      await store.ping();
      expect(existsSync(filename)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it("sets the pragmas the SQLite store relies on, on a connection it is given", async () => {
    const database = new BetterSqlite3(join(dir, "pragmas.db"));
    const store = await openSqliteStore({ database, keyring });
    try {
      const pragma = (name: string) => database.pragma(name, { simple: true });
      expect(pragma("journal_mode")).toBe("wal");
      expect(pragma("synchronous")).toBe(1); // NORMAL: durable against a crash of the process
      expect(pragma("foreign_keys")).toBe(1);
      expect(pragma("busy_timeout")).toBe(5000);
    } finally {
      await store.close();
    }
  });

  it("refuses a SQLite file it cannot write, at open, instead of answering every write 503 for good", async () => {
    const filename = join(dir, "read-only.db");
    await (await openStore({ databaseUrl: filename, keyring })).close(); // created and migrated
    // What SQLite does without a word to a file this process may not write: opens it read-only.
    const database = new BetterSqlite3(filename, { readonly: true });
    const error = await openSqliteStore({ database, keyring }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: expect.stringMatching(/^SQLITE_READONLY/) });
    expect(database.open).toBe(false); // closed by the refusal, not left behind
    // The one line certgate serve prints for it names DATABASE_URL and the cause.
    expect(describeDatabaseFailure(error, filename)).toBe(
      `the SQLite file ${filename} is read-only (${(error as { code: string }).code})`,
    );
  });

  it("opens a SQLite file another process holds the write lock of (the lock is not a refusal)", async () => {
    const filename = join(dir, "locked.db");
    await (await openStore({ databaseUrl: filename, keyring })).close();
    const other = new BetterSqlite3(filename);
    other.exec("BEGIN IMMEDIATE");
    try {
      const store = await openStore({ databaseUrl: filename, keyring });
      await store.close();
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
  });

  it("opens a postgres:// URL (here with a search_path in its options)", async () => {
    const schema = `cg_test_${randomBytes(6).toString("hex")}`;
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    try {
      await admin.query(`create schema ${schema}`);
      const url = `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
      const store = await openStore({ databaseUrl: url, keyring });
      try {
        expect(store.dialect).toBe("postgres");
        await store.ping();
        const tables = await admin.query(
          "select count(*)::int as n from information_schema.tables where table_schema = $1",
          [schema],
        );
        expect(tables.rows[0]?.n).toBeGreaterThanOrEqual(5);
      } finally {
        await store.close();
      }
    } finally {
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    }
  });

  it("migrates while other schemas of the same database are created and dropped", async () => {
    // Kysely's introspector reads every schema: one dropped at that moment raised 3F000 and failed
    // startup (seen in CI while other suites dropped their test schemas).
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    const ours: string[] = [];
    let churning = true;
    const churn = (async () => {
      for (let i = 0; churning && i < 2_000; i++) {
        const other = `cg_churn_${randomBytes(6).toString("hex")}`;
        await admin.query(`create schema ${other}; create table ${other}.t (x integer)`);
        await admin.query(`drop schema ${other} cascade`);
      }
    })();
    try {
      for (let i = 0; i < 5; i++) {
        const schema = `cg_test_${randomBytes(6).toString("hex")}`;
        ours.push(schema);
        await admin.query(`create schema ${schema}`);
        const url = `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
        const store = await openStore({ databaseUrl: url, keyring });
        await store.close();
      }
    } finally {
      churning = false;
      await churn;
      for (const schema of ours) await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    }
  });
});
