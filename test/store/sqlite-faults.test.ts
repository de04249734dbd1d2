/**
 * SQLite faults through the merchant API and the browser route: a database locked by another
 * connection, one that refuses writes, and one that is full each answer 503 with a stable code
 * (`store_busy`, `store_read_only`, `store_full`) and a Retry-After; nothing already committed is
 * lost, a completion cut off by the fault leaves its verification pending with no audit event, and
 * once the fault is gone the same request succeeds.
 *
 * Each fault is SQLite's own, raised on the store's real connection: a second connection holding
 * the write lock (`BEGIN IMMEDIATE`), `PRAGMA query_only` (SQLITE_READONLY), and
 * `PRAGMA max_page_count` capped at the file's size (SQLITE_FULL, which SQLite answers by rolling
 * the transaction back itself).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import type { Hono } from "hono";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { Store } from "../../src/core/store.js";
import { createEmulator, type Emulator, TEST_MERCHANT } from "../../src/emulator/index.js";
import { createHttpApp } from "../../src/http/app.js";
import { createMetrics, type Metrics } from "../../src/observability/metrics.js";
import { createV1Client } from "../../src/portone/index.js";
import { createVerificationService } from "../../src/service/verifications.js";
import { createKeyring } from "../../src/store/crypto.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";

const API_KEY = "sqlite_faults_api_key_0001";
const silent = { info() {}, warn() {}, error() {} };
const errorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
const created = z.object({ id: z.string(), merchant_uid: z.string() });
const merchantView = z.object({ verification: z.object({ status: z.string() }) });

let dir: string;
let file: string;
let database: BetterSqlite3.Database;
let store: Store;
let emulator: Emulator;
let app: Hono;
let metrics: Metrics;
const others: BetterSqlite3.Database[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "certgate-sqlite-faults-"));
  file = join(dir, "certgate.sqlite");
  database = new BetterSqlite3(file);
  // A short busy_timeout: better-sqlite3 waits synchronously, and the default 5 s would only slow the test.
  metrics = createMetrics({ defaultMetrics: false });
  store = metrics.instrumentStore(
    await openSqliteStore({
      database,
      keyring: createKeyring({ secret: "sqlite-faults-secret-not-a-real-one-00" }),
      busyTimeoutMs: 50,
    }),
  );
  emulator = createEmulator({ admin: true });
  const v1 = createV1Client({
    apiKey: TEST_MERCHANT.impKey,
    apiSecret: TEST_MERCHANT.impSecret,
    baseUrl: "http://emulator.local",
    fetch: emulator.fetch,
    now: () => emulator.clock.now(),
  });
  const service = createVerificationService({ store, v1, now: () => new Date(emulator.clock.now()) });
  app = createHttpApp({
    service,
    apiKeys: [API_KEY],
    returnOrigins: [],
    sandbox: false,
    sdk: { impCode: TEST_MERCHANT.impCode },
    logger: silent,
    ready: () => store.ping(),
    metrics,
  });
});

afterEach(async () => {
  for (const other of others.splice(0)) other.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function create() {
  return app.request("/api/verifications", {
    method: "POST",
    headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ account_ref: `acct-${Math.random()}`, policy: { min_age: 19 } }),
  });
}

async function createPending(): Promise<{ id: string; merchantUid: string; impUid: string }> {
  const res = await create();
  expect(res.status).toBe(201);
  const v = created.parse(await res.json());
  const { imp_uid } = emulator.createCertification({
    person: { name: "Fault Tester", birthday: "1990-07-21", seed: `fault-${v.id}` },
    merchant_uid: v.merchant_uid,
  });
  return { id: v.id, merchantUid: v.merchant_uid, impUid: imp_uid };
}

function complete(v: { merchantUid: string; impUid: string }) {
  return app.request("/certifications", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ imp_uid: v.impUid, merchant_uid: v.merchantUid }),
  });
}

async function statusOf(id: string): Promise<string> {
  const res = await app.request(`/api/verifications/${id}`, {
    headers: { authorization: `Bearer ${API_KEY}` },
  });
  expect(res.status).toBe(200);
  return merchantView.parse(await res.json()).verification.status;
}

async function expectStoreFault(res: Response, code: string): Promise<void> {
  expect({ status: res.status, code: errorBody.parse(await res.json()).error.code }).toEqual({
    status: 503,
    code,
  });
  expect(res.headers.get("retry-after")).toBe("1");
}

/** A verification verified before the fault: it must read the same during and after it. */
async function committedBefore(): Promise<string> {
  const v = await createPending();
  expect((await complete(v)).status).toBe(200);
  return v.id;
}

describe("a SQLite database locked by another connection", () => {
  it("answers 503 store_busy, loses nothing, and works again once the lock is released", async () => {
    const done = await committedBefore();
    const pending = await createPending();
    const other = new BetterSqlite3(file);
    others.push(other);
    other.exec("BEGIN IMMEDIATE");

    await expectStoreFault(await create(), "store_busy");
    await expectStoreFault(await complete(pending), "store_busy");
    // WAL: readers go on beside the writer that holds the lock.
    expect(await statusOf(done)).toBe("verified");
    expect(await statusOf(pending.id)).toBe("pending");
    expect(await store.listAuditEvents(pending.id)).toEqual([]);

    // Counted by operation and code only: no id, no account_ref.
    const exposition = await metrics.render();
    expect(exposition).toContain('certgate_store_errors_total{operation="createVerification",code="busy"} 1');
    expect(exposition).toContain(
      'certgate_store_errors_total{operation="completeVerification",code="busy"} 1',
    );
    expect(exposition).not.toMatch(/certgate_store_errors_total\{[^}]*(ver_|mid_|acct)/);

    other.exec("ROLLBACK");
    expect((await complete(pending)).status).toBe(200);
    expect((await create()).status).toBe(201);
    expect(await statusOf(done)).toBe("verified");
  });
});

describe("a SQLite database that refuses writes", () => {
  it("answers 503 store_read_only to writes, still serves reads, and works again afterwards", async () => {
    const done = await committedBefore();
    const pending = await createPending();
    database.pragma("query_only = ON");

    await expectStoreFault(await create(), "store_read_only");
    await expectStoreFault(await complete(pending), "store_read_only");
    expect(await statusOf(done)).toBe("verified");
    expect(await statusOf(pending.id)).toBe("pending");
    expect((await app.request("/readyz")).status).toBe(200);

    database.pragma("query_only = OFF");
    expect((await complete(pending)).status).toBe(200);
    expect(await statusOf(done)).toBe("verified");
  });
});

describe("a full SQLite database", () => {
  it("answers 503 store_full, rolls the cut-off completion back, and loses nothing", async () => {
    const done = await committedBefore();
    const pending = await Promise.all(Array.from({ length: 40 }, () => createPending()));
    const pages = Number(database.pragma("page_count", { simple: true }));
    database.pragma(`max_page_count = ${pages}`);

    // The free room left in the file's pages fills up; the first completion that needs a new page
    // is refused, and everything it had written in its transaction is gone with it.
    const answers: { id: string; status: number; code: string | undefined }[] = [];
    for (const v of pending) {
      const res = await complete(v);
      const code = res.status === 503 ? errorBody.parse(await res.json()).error.code : undefined;
      answers.push({ id: v.id, status: res.status, code });
      if (res.status === 503) break;
    }
    const refused = answers.at(-1);
    expect(answers.filter((a) => a.status !== 200 && a.status !== 503)).toEqual([]);
    expect(refused).toMatchObject({ status: 503, code: "store_full" });
    if (refused === undefined) throw new Error("no completion was refused");
    expect(await statusOf(refused.id)).toBe("pending");
    expect(await store.listAuditEvents(refused.id)).toEqual([]);
    let createAnswer = await create();
    while (createAnswer.status === 201) createAnswer = await create();
    await expectStoreFault(createAnswer, "store_full");
    expect(await statusOf(done)).toBe("verified");

    database.pragma("max_page_count = 1073741823");
    const again = pending.find((v) => v.id === refused.id);
    if (again === undefined) throw new Error("lost the refused verification");
    expect((await complete(again)).status).toBe(200);
    for (const a of answers.slice(0, -1)) expect(await statusOf(a.id)).toBe("verified");
    expect(await statusOf(done)).toBe("verified");
  });
});
