/**
 * Migration 0008 on SQLite: persons, consumed_ids and accounts become WITHOUT ROWID tables and
 * audit_events loses AUTOINCREMENT, so a completion writes fewer pages. A database with
 * completions in it goes down to 0007 and up again with every row, id and constraint kept; a
 * rebuild that already happened runs again as a no-op; the store's connection has its foreign keys
 * on again afterwards. New person ids sort after the ones before them, so new persons land at the
 * end of persons' B-tree (ordered by id) rather than on a random page of it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { Kysely, Migrator, SqliteDialect } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { resolvePolicy } from "../../src/core/policy.js";
import type { Store } from "../../src/core/store.js";
import { createKeyring } from "../../src/store/crypto.js";
import { newPersonId } from "../../src/store/kysely-store.js";
import { createMigrations } from "../../src/store/migrations.js";
import { SQLITE_DIALECT } from "../../src/store/sqlite/dialect.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";

const keyring = createKeyring({ secret: "compact-tables-secret-00000000000000000" });
const NOW = new Date("2026-03-01T03:00:00Z");
const COMPACT = ["persons", "consumed_ids", "accounts"];
const dir = mkdtempSync(join(tmpdir(), "certgate-compact-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Creates and completes verification `n`: a person, an account, a consumed id, audit events. */
async function complete(store: Store, n: number): Promise<void> {
  await store.createVerification({
    id: `ver_compact_${n}`,
    apiVersion: "v1",
    boundId: `mid_compact_${n}`,
    purpose: "signup",
    accountRef: `account-${n}`,
    policy: resolvePolicy({}, { creatingAccount: true }),
    createdAt: NOW,
    expiresAt: new Date(NOW.getTime() + 900_000),
  });
  const result = await store.completeVerification({
    verificationId: `ver_compact_${n}`,
    upstreamId: `imp_compact_${n}`,
    decision: {
      ok: true,
      identity: { name: "김테스트", phone: "01000000001", provider: "danal", source: "v1" },
      personKey: { kind: "ci", value: `test-ci-${n}` },
    },
    now: NOW,
  });
  expect(result.kind).toBe("finished");
}

/** A database file named `name` in which verifications 0 … n − 1 were completed; the store closed. */
async function databaseWithCompletions(name: string, n: number): Promise<string> {
  const file = join(dir, name);
  const store = await openSqliteStore({ filename: file, keyring });
  for (let i = 0; i < n; i++) await complete(store, i);
  await store.close();
  return file;
}

/** Every row of the tables 0008 rebuilds, in key order. */
function snapshot(file: string) {
  const db = new Database(file, { readonly: true });
  try {
    const rows = (table: string, key: string) => db.prepare(`select * from ${table} order by ${key}`).all();
    return {
      persons: rows("persons", "id"),
      consumed: rows("consumed_ids", "upstream_id"),
      accounts: rows("accounts", "account_ref"),
      audit: rows("audit_events", "id"),
    };
  } finally {
    db.close();
  }
}

function shapes(file: string) {
  const db = new Database(file, { readonly: true });
  try {
    const sqlOf = (table: string) =>
      (
        db.prepare("select sql from sqlite_master where type = 'table' and name = ?").get(table) as {
          sql: string;
        }
      ).sql;
    return {
      withoutRowid: COMPACT.filter((table) => /\) without rowid$/.test(sqlOf(table))),
      autoincrement: /autoincrement/i.test(sqlOf("audit_events")),
      indexes: (db.pragma("index_list(audit_events)") as { name: string }[]).map((i) => i.name),
      uniques: COMPACT.flatMap((table) =>
        (db.pragma(`index_list(${table})`) as { name: string; unique: number }[])
          .filter((i) => i.unique === 1)
          .map(
            (i) =>
              `${table}:${(db.pragma(`index_info(${i.name})`) as { name: string }[]).map((c) => c.name).join(",")}`,
          ),
      ).sort(),
    };
  } finally {
    db.close();
  }
}

function migratorOn(file: string) {
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(file) }) });
  const migrations = createMigrations(SQLITE_DIALECT);
  return {
    db,
    migrations,
    migrator: new Migrator({ db, provider: { getMigrations: async () => migrations } }),
  };
}

describe("compact SQLite tables (migration 0008)", () => {
  it("a new database has them; down to 0007 and up again keeps every row, id and constraint", async () => {
    const file = await databaseWithCompletions("roundtrip.db", 20);
    const compact = shapes(file);
    expect(compact.withoutRowid).toEqual(COMPACT);
    expect(compact.autoincrement).toBe(false);
    const before = snapshot(file);
    expect(before.persons).toHaveLength(20);
    expect(before.accounts).toHaveLength(20);
    expect(before.consumed).toHaveLength(20);

    const { db, migrator } = migratorOn(file);
    const down = await migrator.migrateTo("0007_pending_indexes");
    await db.destroy();
    expect(down.error).toBeUndefined();
    const rowid = shapes(file);
    expect(rowid.withoutRowid).toEqual([]);
    expect(rowid.autoincrement).toBe(true);
    expect(rowid.indexes).toEqual(compact.indexes);
    expect(rowid.uniques).toEqual(compact.uniques);
    expect(snapshot(file)).toEqual(before);

    // Up again through the store, which then goes on numbering audit events after the last one.
    const reopened = await openSqliteStore({ filename: file, keyring });
    try {
      expect(snapshot(file)).toEqual(before);
      expect(shapes(file)).toEqual(compact);
      await complete(reopened, 20);
      const events = await reopened.listAuditEvents();
      const lastBefore = Math.max(...(before.audit as { id: number }[]).map((row) => row.id));
      const added = events.filter((event) => event.id > lastBefore);
      expect(added.length).toBeGreaterThan(0);
      expect(events.map((event) => event.id)).toEqual(
        [...events.map((event) => event.id)].sort((a, b) => a - b),
      );

      // The guarantees the rebuilt tables carry: one person per key, one account per person, an
      // upstream id consumed once, and references that must point somewhere.
      const raw = new Database(file);
      try {
        const fails = (statement: string) => expect(() => raw.exec(statement)).toThrow(/constraint/i);
        raw.pragma("foreign_keys = on");
        const person = before.persons[0] as {
          id: string;
          key_kind: string;
          key_scope: string;
          key_hash: string;
        };
        fails(
          `insert into persons values ('prs_dup', '${person.key_kind}', '${person.key_scope}', '${person.key_hash}', 'k', 0)`,
        );
        fails(`insert into accounts values ('another-account', '${person.id}', 'ver_compact_0', 0)`);
        fails("insert into consumed_ids values ('imp_compact_0', 'ver_compact_1', 0)");
        fails("insert into accounts values ('dangling', 'prs_nobody', 'ver_compact_0', 0)");
        fails("insert into consumed_ids values ('imp_dangling', 'ver_nobody', 0)");
      } finally {
        raw.close();
      }
    } finally {
      await reopened.close();
    }
  });

  it("runs again as a no-op when its rebuild committed but was not recorded", async () => {
    const file = await databaseWithCompletions("rerun.db", 3);
    const before = snapshot(file);
    const schemaOf = () => {
      const db = new Database(file, { readonly: true });
      const rows = db.prepare("select name, sql from sqlite_master order by name").all();
      db.close();
      return rows;
    };
    const schema = schemaOf();
    const { db, migrations } = migratorOn(file);
    try {
      await migrations["0008_sqlite_compact_tables"]?.up(db);
    } finally {
      await db.destroy();
    }
    expect(schemaOf()).toEqual(schema);
    expect(snapshot(file)).toEqual(before);
  });

  it("leaves the store's connection with its foreign keys on", async () => {
    const database = new Database(join(dir, "pragma.db"));
    const store = await openSqliteStore({ database, keyring });
    try {
      expect(database.pragma("foreign_keys", { simple: true })).toBe(1);
    } finally {
      await store.close();
    }
  });
});

describe("person ids", () => {
  it("sort in the order they were made, whatever their random part", () => {
    const made = [0, 1, 2, 1_000, 86_400_000].map((offset) => newPersonId(Date.UTC(2026, 0, 1) + offset));
    for (const id of made) expect(id).toMatch(/^prs_[0-9a-f]{12}[A-Za-z0-9_-]{22}$/);
    expect([...made].sort()).toEqual(made);
    // Not guessable from the time: the random part differs for the same millisecond.
    expect(newPersonId(0)).not.toBe(newPersonId(0));
  });

  it("of the store's persons follow the order of their completions", async () => {
    const store = await openSqliteStore({ filename: join(dir, "ordered.db"), keyring });
    try {
      for (let n = 0; n < 8; n++) {
        await complete(store, n);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const ids: string[] = [];
      for (let n = 0; n < 8; n++) ids.push((await store.getVerification(`ver_compact_${n}`))?.personId ?? "");
      expect(ids.every((id) => id.startsWith("prs_"))).toBe(true);
      expect([...ids].sort()).toEqual(ids);
    } finally {
      await store.close();
    }
  });
});
