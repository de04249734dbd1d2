/**
 * Idempotency across instances: two real `certgate serve` processes on one PostgreSQL schema, and
 * 20 creations with one Idempotency-Key sent to both at once (10 each). Exactly one verification
 * row is written (counted in SQL), and all 20 answers are 201 with its id — 19 of them marked
 * `Idempotent-Replayed: true`. With two bodies racing under one key, one body wins: its copies get
 * the verification, the other's 409 `idempotency_conflict`, and still one row is written.
 */
import { randomInt } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { RELIABILITY_TIMEOUT_MS, scaled } from "./scale.js";
import {
  API_KEY,
  createTestDatabase,
  killAllServices,
  type ServiceProcess,
  serviceEnv,
  startService,
  startUpstream,
  type TestDatabase,
} from "./service-process.js";

const ROUNDS = scaled(3, 20);
const COPIES = 20;

const createdBody = z.object({ id: z.string() });
const errorBody = z.object({ error: z.object({ code: z.string() }) });

let upstream: Awaited<ReturnType<typeof startUpstream>>;
let db: TestDatabase;
let pair: [ServiceProcess, ServiceProcess];
const run = randomInt(1e9).toString(36);

beforeAll(async () => {
  upstream = await startUpstream();
  db = await createTestDatabase("postgres");
  // One after the other: the first migrates, the second finds the schema current.
  const env = serviceEnv({ databaseUrl: db.url, upstreamUrl: upstream.url });
  const a = await startService(env);
  const b = await startService(env);
  pair = [a, b];
}, RELIABILITY_TIMEOUT_MS);

afterAll(async () => {
  killAllServices();
  await db?.drop().catch(() => {});
  await upstream?.close();
});

/** One creation under `key` on instance `i % 2`: status, replay header and id or error code. */
async function create(i: number, key: string, body: Record<string, unknown>) {
  const url = (i % 2 === 0 ? pair[0] : pair[1]).url;
  const res = await fetch(`${url}/api/verifications`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${API_KEY}`,
      "content-type": "application/json",
      "idempotency-key": key,
    },
    body: JSON.stringify(body),
  });
  const json: unknown = await res.json();
  return {
    status: res.status,
    replayed: res.headers.get("idempotent-replayed") === "true",
    id: createdBody.safeParse(json).data?.id,
    code: errorBody.safeParse(json).data?.error.code,
    body: body.account_ref,
  };
}

const count = async (sql: string) =>
  (await db.query<{ n: number }>(`select cast(count(*) as integer) as n ${sql}`))[0]?.n;

describe("Idempotency-Key across two instances on one PostgreSQL", () => {
  it("20 parallel creations with one key give one verification, and every answer its id", {
    timeout: RELIABILITY_TIMEOUT_MS,
  }, async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      const key = `same-${run}-${round}`;
      const before = await count("from verifications");
      const answers = await Promise.all(
        Array.from({ length: COPIES }, (_, i) => create(i, key, { account_ref: `idem-${run}-${round}` })),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(COPIES).fill(201));
      const ids = new Set(answers.map((a) => a.id));
      expect(ids.size).toBe(1);
      expect(answers.filter((a) => !a.replayed)).toHaveLength(1);
      expect(await count("from verifications")).toBe((before ?? 0) + 1);
      const [id] = ids;
      expect(await count(`from verifications where id = '${id}'`)).toBe(1);
      expect(await count(`from idempotency_keys where idempotency_key = '${key}'`)).toBe(1);
    }
  });

  it("two bodies racing under one key: one wins everywhere, the other is 409 idempotency_conflict", {
    timeout: RELIABILITY_TIMEOUT_MS,
  }, async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      const key = `split-${run}-${round}`;
      const before = await count("from verifications");
      const bodies = [`split-${run}-${round}-a`, `split-${run}-${round}-b`];
      const answers = await Promise.all(
        // Body a to both instances, body b to both instances.
        Array.from({ length: COPIES }, (_, i) => create(i >> 1, key, { account_ref: bodies[i % 2] })),
      );
      const winners = answers.filter((a) => a.status === 201);
      const losers = answers.filter((a) => a.status !== 201);
      expect(new Set(winners.map((a) => a.body)).size).toBe(1);
      expect(new Set(winners.map((a) => a.id)).size).toBe(1);
      expect(winners).toHaveLength(COPIES / 2);
      expect(losers.map((a) => [a.status, a.code])).toEqual(
        Array(COPIES / 2).fill([409, "idempotency_conflict"]),
      );
      expect(await count("from verifications")).toBe((before ?? 0) + 1);
    }
  });

  it("afterwards both instances stop cleanly with no error logged", {
    timeout: RELIABILITY_TIMEOUT_MS,
  }, async () => {
    expect(await Promise.all(pair.map((s) => s.stop()))).toEqual([0, 0]);
    expect(pair.flatMap((p) => p.errorLines)).toEqual([]);
  });
});
