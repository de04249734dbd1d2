/**
 * A PostgreSQL schema of its own for a CLI test file, on the shared `test` database: created before
 * the file's tests and dropped after them. `url` is a DATABASE_URL whose search_path is the schema;
 * `admin` queries it from outside.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { PG_URL } from "../integration/harness.js";

export function throwawaySchema(prefix: string) {
  const schema = `${prefix}_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  const url = new URL(PG_URL);
  url.searchParams.set("options", `-c search_path=${schema}`);
  beforeAll(async () => {
    await admin.connect();
    await admin.query(`create schema ${schema}`);
  });
  afterAll(async () => {
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
  });
  return { schema, admin, url };
}
