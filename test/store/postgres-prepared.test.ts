/**
 * The PostgreSQL store sends the hot path's statements by name (store/postgres/index.ts), so the
 * server parses and plans each once per connection. On the real PostgreSQL of 127.0.0.1:5432, in a
 * fresh schema: the statement is kept prepared, answers the same rows, and goes on answering after
 * a migration adds a column (it names its columns: no "cached plan must not change result type").
 */
import { randomBytes } from "node:crypto";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolvePolicy } from "../../src/core/policy.js";
import type { Store } from "../../src/core/store.js";
import { createKeyring } from "../../src/store/crypto.js";
import { POSTGRES_DIALECT } from "../../src/store/postgres/dialect.js";
import { openPostgresStore, prepareHotStatements } from "../../src/store/postgres/index.js";
import type { Database } from "../../src/store/schema.js";
import { completionStatements } from "../../src/store/statements.js";

const URL = process.env.CERTGATE_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = `cg_prep_${randomBytes(6).toString("hex")}`;
const options = `-c search_path=${schema}`;
const admin = new pg.Client({ connectionString: URL });
let store: Store;
// One connection, so the statement prepared is the one asked about.
const pool = new pg.Pool({ connectionString: URL, options, max: 1 });
prepareHotStatements(pool);
const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });

beforeAll(async () => {
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  store = await openPostgresStore({
    connectionString: URL,
    keyring: createKeyring({ secret: "p".repeat(40) }),
    options,
  });
});
afterAll(async () => {
  await store?.close();
  await db.destroy();
  await admin.query(`drop schema if exists ${schema} cascade`);
  await admin.end();
});

describe("PostgreSQL prepared statements", () => {
  it("keeps a hot-path statement prepared by name and answers through it after a column is added", async () => {
    const now = new Date("2026-03-01T03:00:00Z");
    await store.createVerification({
      id: "ver_prepared",
      apiVersion: "v1",
      boundId: "mid_prepared",
      policy: resolvePolicy({}, { creatingAccount: false }),
      createdAt: now,
      expiresAt: new Date(now.getTime() + 900_000),
    });
    const statements = completionStatements(db, POSTGRES_DIALECT);
    const read = async () =>
      (await db.executeQuery(statements.verificationByBoundId({ boundId: "mid_prepared" }))).rows;
    expect(await read()).toMatchObject([{ id: "ver_prepared", status: "pending" }]);

    const query = statements.verificationByBoundId({ boundId: "x" }).sql;
    const prepared = await db.executeQuery<{ name: string; statement: string }>({
      ...statements.verificationByBoundId({ boundId: "x" }),
      sql: "select name, statement from pg_prepared_statements",
      parameters: [],
    });
    expect(prepared.rows).toContainEqual({ name: expect.stringMatching(/^certgate_\d+$/), statement: query });

    // A later migration, by another instance: the kept statement still answers.
    await admin.query(`alter table ${schema}.verifications add column later_column text`);
    expect(await read()).toMatchObject([{ id: "ver_prepared", status: "pending" }]);
  });
});
