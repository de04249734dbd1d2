/**
 * The PostgreSQL step runner (store/postgres/steps.ts) sends what it need not wait for — BEGIN, the
 * `later` statements, COMMIT — with what it must, on a client in pg's pipeline mode. On the real
 * PostgreSQL of 127.0.0.1:5432, in a fresh schema: the answers are the same as statement by
 * statement; a later statement that fails fails the whole transaction, which leaves nothing
 * behind; and the client is fit for the next transaction.
 */
import { randomBytes } from "node:crypto";
import { CompiledQuery, Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { pipelinedStepRunner } from "../../src/store/postgres/steps.js";
import { all, first, later, type Steps } from "../../src/store/steps.js";

interface Scratch {
  items: { id: string; n: number };
}

const URL = process.env.CERTGATE_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = `cg_pipe_${randomBytes(6).toString("hex")}`;
const admin = new pg.Client({ connectionString: URL });
// One client: every transaction below runs on the connection the one before it used.
const pool = new pg.Pool({
  connectionString: URL,
  options: `-c search_path=${schema}`,
  max: 1,
  pipeline: true,
});
const db = new Kysely<Scratch>({ dialect: new PostgresDialect({ pool }) });
const runner = pipelinedStepRunner(pool);

const insert = (id: string, n: number) => db.insertInto("items").values({ id, n });
const byId = (id: string) => db.selectFrom("items").selectAll().where("id", "=", id);
const stored = async () =>
  (await db.selectFrom("items").select("id").orderBy("id").execute()).map((r) => r.id);

beforeAll(async () => {
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.query(`create table ${schema}.items (id text primary key, n integer not null check (n >= 0))`);
});
beforeEach(async () => {
  await admin.query(`delete from ${schema}.items`);
});
afterAll(async () => {
  await db.destroy();
  await admin.query(`drop schema if exists ${schema} cascade`);
  await admin.end();
});

describe("PostgreSQL pipelined steps", () => {
  it("answers each statement waited for, with the later ones before it applied", async () => {
    const seen = await runner.transaction(function* (): Steps<unknown> {
      yield* later(insert("a", 1));
      yield* later(insert("b", 2));
      const rows = yield* all(db.selectFrom("items").select(["id", "n"]).orderBy("id"));
      yield* later(db.updateTable("items").set({ n: 3 }).where("id", "=", "a"));
      const a = yield* first(byId("a"));
      return { rows, a };
    });
    expect(seen).toEqual({
      rows: [
        { id: "a", n: 1 },
        { id: "b", n: 2 },
      ],
      a: { id: "a", n: 3 },
    });
    expect(await stored()).toEqual(["a", "b"]);
  });

  it("fails the transaction when a later statement fails, keeping none of it, and serves the next one", async () => {
    const failed = await runner
      .transaction(function* (): Steps<unknown> {
        yield* later(insert("a", 1));
        yield* later(insert("b", -1)); // the check constraint refuses it
        return yield* first(byId("a"));
      })
      .catch((error: unknown) => error);
    expect(failed).toMatchObject({ code: "23514" });
    expect(await stored()).toEqual([]);
    expect(await runner.transaction(() => oneInsert("c"))).toBe("c");
    expect(await stored()).toEqual(["c"]);
  });

  it("fails the transaction when a later statement at its end fails: the COMMIT does not keep the rest", async () => {
    const failed = await runner
      .transaction(function* (): Steps<void> {
        yield* later(insert("a", 1));
        yield* later(insert("a", 2)); // the primary key refuses it
      })
      .catch((error: unknown) => error);
    expect(failed).toMatchObject({ code: "23505" });
    expect(await stored()).toEqual([]);
  });

  it("fails the transaction when a statement waited for fails after later ones were sent", async () => {
    const failed = await runner
      .transaction(function* (): Steps<unknown> {
        yield* later(insert("a", 1));
        return yield* first(CompiledQuery.raw("select 1 / 0 as x"));
      })
      .catch((error: unknown) => error);
    expect(failed).toMatchObject({ code: "22012" });
    expect(await stored()).toEqual([]);
    expect(await runner.run(() => first(byId("a")))).toBeUndefined();
  });
});

function* oneInsert(id: string): Steps<string> {
  yield* later(insert(id, 0));
  return (yield* first(byId(id)))?.id ?? "";
}
