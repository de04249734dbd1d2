/**
 * Prepared queries (store/prepared.ts): built and compiled once per shape, then reused with new
 * parameters. Checked against what Kysely compiles from the real values, on both dialects' compilers,
 * and run on a real SQLite database. `npm test` runs with CERTGATE_CHECK_PREPARED=1 (vitest.config.ts),
 * under which a builder that branches on a value is refused.
 */
import BetterSqlite3 from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { prepared } from "../../src/store/prepared.js";
import type { Database } from "../../src/store/schema.js";

const sqlite = new Kysely<Database>({
  dialect: new SqliteDialect({ database: new BetterSqlite3(":memory:") }),
});
// Compiling needs no connection: the pool never connects in this file.
const postgres = new Kysely<Database>({
  dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: "postgres://127.0.0.1:1/none" }) }),
});

afterAll(async () => {
  await sqlite.destroy();
  await postgres.destroy();
});

describe.each([
  ["sqlite", sqlite],
  ["postgres", postgres],
])("prepared queries on %s", (_name, db) => {
  it("reuses the SQL of the first call and puts each call's values where its parameters are", () => {
    const build = (db: Kysely<Database>, p: { kind: string; scope: string; hashes: readonly string[] }) =>
      db
        .selectFrom("persons")
        .select("id")
        .where("key_kind", "=", p.kind)
        .where("key_scope", "=", p.scope)
        .where("key_hash", "in", p.hashes);
    const query = prepared(db, build);
    for (const params of [
      { kind: "ci", scope: "", hashes: ["h1"] },
      { kind: "di", scope: "danal", hashes: ["h2"] },
      { kind: "ci", scope: "", hashes: ["h3", "h4"] },
      { kind: "di", scope: "kcp", hashes: ["h5", "h6", "h7"] },
      { kind: "ci", scope: "", hashes: ["h8"] },
    ]) {
      const reused = query(params);
      const built = build(db, params).compile();
      expect(reused.sql).toBe(built.sql);
      expect(reused.parameters).toEqual(built.parameters);
      expect(reused.parameters).toEqual([params.kind, params.scope, ...params.hashes]);
    }
  });

  it("keeps constants the builder wrote itself and takes null as a value", () => {
    const build = (db: Kysely<Database>, p: { id: string; reason: string | null }) =>
      db
        .updateTable("verifications")
        .set({ status: "rejected", reason: p.reason, expected_name_hash: null })
        .where("id", "=", p.id);
    const query = prepared(db, build);
    for (const params of [
      { id: "ver_1", reason: "underage" },
      { id: "ver_2", reason: null },
    ]) {
      expect(query(params).parameters).toEqual(["rejected", params.reason, null, params.id]);
      expect(query(params).sql).toBe(build(db, params).compile().sql);
    }
  });

  it("refuses a builder that branches on a value (CERTGATE_CHECK_PREPARED=1)", () => {
    expect(process.env.CERTGATE_CHECK_PREPARED).toBe("1");
    const query = prepared(db, (db, p: { id: string; lock: string }) =>
      db
        .selectFrom("verifications")
        .selectAll()
        .where("id", "=", p.id)
        // Not shape-pure: on the first call the value is a slot, so this branch was not taken then.
        .$if(typeof p.lock === "string", (qb) => qb.where("status", "=", "pending")),
    );
    expect(() => query({ id: "ver_1", lock: "yes" })).toThrow(/not shape-pure/);
  });
});

describe("prepared queries run", () => {
  it("answer each call's own rows on SQLite", async () => {
    const database = new BetterSqlite3(":memory:");
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
    database.exec("create table persons (id text primary key, key_kind text, key_scope text, key_hash text)");
    database.exec(
      "insert into persons values ('p1', 'ci', '', 'a'), ('p2', 'ci', '', 'b'), ('p3', 'di', 'x', 'a')",
    );
    const query = prepared(db, (db, p: { kind: string; hashes: readonly string[] }) =>
      db
        .selectFrom("persons")
        .select("id")
        .where("key_kind", "=", p.kind)
        .where("key_hash", "in", p.hashes)
        .orderBy("id"),
    );
    const ids = async (params: { kind: string; hashes: readonly string[] }) =>
      (await db.executeQuery(query(params))).rows.map((row) => row.id);
    expect(await ids({ kind: "ci", hashes: ["a"] })).toEqual(["p1"]);
    expect(await ids({ kind: "ci", hashes: ["a", "b"] })).toEqual(["p1", "p2"]);
    expect(await ids({ kind: "di", hashes: ["a"] })).toEqual(["p3"]);
    expect(await ids({ kind: "di", hashes: ["b"] })).toEqual([]);
    await db.destroy();
  });
});
