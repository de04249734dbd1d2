/**
 * The PostgreSQL step runner (store/postgres/steps.ts) sends what it need not wait for — BEGIN, the
 * `later` statements, COMMIT — with what it must, on a client in pg's pipeline mode. On the real
 * PostgreSQL of 127.0.0.1:5432, in a fresh schema: the answers are the same as statement by
 * statement; a later statement that fails fails the whole transaction, which leaves nothing
 * behind; and the client is fit for the next transaction. A `likely` statement goes out without
 * waiting too (fewer writes on the socket, counted here), and when its guess is wrong the
 * transaction runs again on the real answers, keeping nothing decided on the guess.
 */
import { randomBytes } from "node:crypto";
import { CompiledQuery, Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createKeyring } from "../../src/store/crypto.js";
import { createKyselyStore } from "../../src/store/kysely-store.js";
import { pipelinedStepRunner } from "../../src/store/postgres/steps.js";
import type { Database } from "../../src/store/schema.js";
import { all, first, later, likely, likelyFirst, type Steps } from "../../src/store/steps.js";
import { makeIdentity, makeVerification, NOW, uid, verified } from "./fixtures.js";

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
/**
 * The writes `pool`'s connections make to their sockets so far: each is one round trip's worth of
 * statements.
 */
function countWrites(pool: pg.Pool): () => number {
  let writes = 0;
  pool.on("connect", (client) => {
    const socket = (client as unknown as { connection: { stream: Record<string, unknown> } }).connection
      .stream;
    for (const method of ["_write", "_writev"]) {
      const original = socket[method] as (...args: unknown[]) => unknown;
      socket[method] = function (this: unknown, ...args: unknown[]) {
        writes++;
        return original.apply(this, args);
      };
    }
  });
  return () => writes;
}
const socketWrites = countWrites(pool);
const db = new Kysely<Scratch>({ dialect: new PostgresDialect({ pool }) });
const runner = pipelinedStepRunner(pool);

const insert = (id: string, n: number) => db.insertInto("items").values({ id, n });
/** Inserts `id` unless it exists: affects 1 row, or 0. */
const insertNew = (id: string, n: number) => insert(id, n).onConflict((oc) => oc.column("id").doNothing());
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

describe("PostgreSQL pipelined steps with likely statements", () => {
  /** Runs `steps` in a transaction; how many times they started and how many socket writes it took. */
  async function counted<T>(steps: () => Steps<T>) {
    let runs = 0;
    const before = socketWrites();
    const value = await runner.transaction(() => {
      runs++;
      return steps();
    });
    return { value, runs, writes: socketWrites() - before };
  }

  it("sends them without waiting and answers as statement by statement when the guesses hold", async () => {
    await runner.run(() => later(insert("x", 1)));
    const steps = function* (): Steps<unknown> {
      const x = yield* first(byId("x"));
      const a = yield* likely(insertNew("a", 1), 1);
      const b = yield* likely(insertNew("b", 2), 1);
      yield* later(db.updateTable("items").set({ n: 5 }).where("id", "=", "x"));
      return { x, a, b };
    };
    const guessed = await counted(steps);
    expect(guessed).toEqual({ value: { x: { id: "x", n: 1 }, a: 1, b: 1 }, runs: 1, writes: 3 });
    expect(await stored()).toEqual(["a", "b", "x"]);
    expect(await runner.run(() => first(byId("x")))).toEqual({ id: "x", n: 5 });

    // The same steps waiting for every answer (as when a guess fails) take four writes: BEGIN with
    // the read, each insert, the update with the COMMIT.
    await admin.query(`delete from ${schema}.items where id in ('a', 'b')`);
    const waited = await counted(function* () {
      const x = yield* first(byId("x"));
      const a = yield* all(insertNew("a", 1).returning("id"));
      const b = yield* all(insertNew("b", 2).returning("id"));
      yield* later(db.updateTable("items").set({ n: 5 }).where("id", "=", "x"));
      return { x, a: a.length, b: b.length };
    });
    expect(waited).toEqual({ value: { x: { id: "x", n: 5 }, a: 1, b: 1 }, runs: 1, writes: 4 });
  });

  it("goes on with a row guessed for a read, and runs again on the row as it is when it differs", async () => {
    await runner.run(() => later(insert("x", 1)));
    const steps = (guess: { id: string; n: number }) =>
      function* (): Steps<number | undefined> {
        const x = yield* likelyFirst(byId("x").forUpdate(), guess);
        yield* later(insert(`x${x?.n}`, 0));
        return x?.n;
      };
    // Right: the read, the insert decided on it and the COMMIT in two writes.
    expect(await counted(steps({ id: "x", n: 1 }))).toEqual({ value: 1, runs: 1, writes: 2 });
    // Wrong (the row changed since it was guessed): decided on the row as it is.
    await runner.run(() => later(db.updateTable("items").set({ n: 2 }).where("id", "=", "x")));
    expect(await counted(steps({ id: "x", n: 1 }))).toMatchObject({ value: 2, runs: 2 });
    expect(await stored()).toEqual(["x", "x1", "x2"]);
  });

  it("runs the transaction again on the real answers when a guess is wrong, keeping nothing decided on it", async () => {
    await runner.run(() => later(insert("a", 1)));
    const result = await counted(function* (): Steps<string> {
      const inserted = yield* likely(insertNew("a", 2), 1);
      const decided = inserted === 1 ? "on-the-guess" : "on-the-answer";
      yield* later(insert(decided, 0));
      return decided;
    });
    expect(result.value).toBe("on-the-answer");
    expect(result.runs).toBe(2);
    expect(await stored()).toEqual(["a", "on-the-answer"]);
    expect(await runner.run(() => first(byId("a")))).toEqual({ id: "a", n: 1 });
  });

  it("runs it again when the steps throw on a guessed answer", async () => {
    await runner.run(() => later(insert("a", 1)));
    const again = await counted(function* (): Steps<number> {
      const inserted = yield* likely(insertNew("a", 2), 1);
      if (inserted === 1) throw new Error("an invariant only the guess breaks");
      return inserted;
    });
    expect(again).toMatchObject({ value: 0, runs: 2 });
    expect(await stored()).toEqual(["a"]);
  });

  it("runs it again when a statement sent on a guess fails, and fails only on a failure of the real answers", async () => {
    await runner.run(() => later(insert("a", 1)));
    // On the guess the steps insert a row the check constraint refuses; on the answer, one it takes.
    const again = await counted(function* (): Steps<number> {
      const inserted = yield* likely(insertNew("a", 2), 1);
      yield* later(insert("b", inserted === 1 ? -1 : 3));
      return inserted;
    });
    expect(again).toMatchObject({ value: 0, runs: 2 });
    expect(await stored()).toEqual(["a", "b"]);

    // A failure the real answers meet too is the transaction's, as before, and keeps nothing.
    const failed = await runner
      .transaction(function* (): Steps<void> {
        yield* likely(insertNew("c", 1), 1);
        yield* later(insert("d", -1));
      })
      .catch((error: unknown) => error);
    expect(failed).toMatchObject({ code: "23514" });
    expect(await stored()).toEqual(["a", "b"]);
  });
});

describe("a signup's completion on the pipelined runner", () => {
  // certgate's store in a schema of its own, on a pool like openPostgresStore's (int8 as numbers).
  const storeSchema = `cg_pipe_store_${randomBytes(6).toString("hex")}`;
  const storePool = new pg.Pool({
    connectionString: URL,
    options: `-c search_path=${storeSchema}`,
    max: 1,
    pipeline: true,
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === 20 && format !== "binary"
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  const storeWrites = countWrites(storePool);
  const store = createKyselyStore({
    db: new Kysely<Database>({ dialect: new PostgresDialect({ pool: storePool }) }),
    dialect: "postgres",
    keyring: createKeyring({ secret: "pipeline-test-secret-000000000000000000" }),
    steps: pipelinedStepRunner(storePool),
  });
  beforeAll(async () => {
    await admin.query(`create schema ${storeSchema}`);
    await store.migrate();
  });
  afterAll(async () => {
    await store.close();
    await admin.query(`drop schema if exists ${storeSchema} cascade`);
  });

  it("takes the row its read by bound id saw as the locked read's guess: two writes, nothing run again", async () => {
    const input = makeVerification({ accountRef: uid("acct") });
    const created = await store.createVerification(input);
    expect((await store.findVerificationByBoundId(input.boundId))?.status).toBe("pending");
    const before = storeWrites();
    const done = await store.completeVerification({
      verificationId: created.id,
      upstreamId: uid("imp"),
      decision: verified(makeIdentity()),
      now: NOW,
    });
    expect(done.kind === "finished" && done.verification.status).toBe("verified");
    // BEGIN, the locked read, the consumed id, the person, the account, the finish and its audit
    // event in one write; the COMMIT in the next. A guess the real row did not match would have
    // added a ROLLBACK and the five writes of the run that waits.
    expect(storeWrites() - before).toBe(2);
  });
});

function* oneInsert(id: string): Steps<string> {
  yield* later(insert(id, 0));
  return (yield* first(byId(id)))?.id ?? "";
}
