/**
 * certgate mounted in a merchant's Express app (`toNodeHandler`, as in express.test.ts) on
 * PostgreSQL, when the database fails: the merchant's process — this test's — must not die and its
 * own routes must keep serving, while certgate's routes answer 503 `store_unavailable` and its
 * `/readyz` 503, and recover by themselves.
 * - kill -9 of a PostgreSQL server the test owns (reliability/own-postgres.ts) and its restart;
 * - pg_terminate_backend of the store's idle, then busy connections on the shared server (a fresh
 *   schema; only the backends whose application_name this test set).
 * An `error` event of pg with no listener would be an uncaught exception here, which fails the run.
 */
import { randomInt } from "node:crypto";
import { once } from "node:events";
import type { Server } from "node:http";
import express from "express";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createEmulator, serveEmulator, TEST_MERCHANT } from "../../src/emulator/index.js";
import {
  createHttpApp,
  createKeyring,
  createV1Client,
  createVerificationService,
  openStore,
  type Store,
  toNodeHandler,
} from "../../src/index.js";
import { PG_URL } from "../integration/harness.js";
import { faultAnswers, startFaultLoad, statusOf, timeUntil } from "../reliability/fault-load.js";
import { ownTestDatabase, startOwnPostgres, terminateOwnBackends } from "../reliability/own-postgres.js";
import { checkInvariants, createTestDatabase, waitFor } from "../reliability/service-process.js";

const silent = { info() {}, warn() {}, error() {} };
const API_KEY = "express_faults_api_key_0001";
const ONLY_STORE_UNAVAILABLE = /^(create|complete) 503 store_unavailable$/;

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

/** The merchant's Express app with certgate under /certgate, on `databaseUrl`. */
async function startMerchantApp(databaseUrl: string) {
  const emulator = createEmulator({ admin: true, realTime: true });
  const upstream = await serveEmulator(emulator);
  cleanups.push(upstream.close);
  const store: Store = await openStore({
    databaseUrl,
    keyring: createKeyring({ secret: "express-faults-secret-not-a-real-one-0" }),
  });
  cleanups.push(() => store.close());
  const v1 = createV1Client({
    apiKey: TEST_MERCHANT.impKey,
    apiSecret: TEST_MERCHANT.impSecret,
    baseUrl: upstream.url,
  });
  const service = createVerificationService({ store, v1 });
  const certgate = createHttpApp({
    service,
    apiKeys: [API_KEY],
    returnOrigins: [],
    sandbox: false,
    sdk: { impCode: TEST_MERCHANT.impCode },
    logger: silent,
    ready: () => store.ping(),
  });
  const app = express();
  app.use("/certgate", toNodeHandler(certgate));
  // A route of the merchant's own that needs no database: it must keep serving throughout.
  app.get("/shop/status", (_req, res) => void res.json({ ok: true }));
  const server: Server = app.listen(0, "127.0.0.1");
  await once(server, "listening");
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const address = server.address();
  const base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  return { emulator, base, certgate: `${base}/certgate` };
}

describe("certgate in an Express app when its PostgreSQL is killed and restarted", () => {
  it("answers 503 store_unavailable meanwhile, keeps the app serving, and recovers within 5 s", {
    timeout: 120_000,
  }, async () => {
    const own = await startOwnPostgres();
    cleanups.push(own.remove);
    const merchant = await startMerchantApp(own.url);
    const load = startFaultLoad({
      baseUrl: merchant.certgate,
      apiKey: API_KEY,
      emulator: merchant.emulator,
      concurrency: 4,
    });
    try {
      await waitFor("completions before the kill", async () => load.verified.length >= 10, 60_000);
      await own.kill9();
      load.phase = "down";
      await waitFor("503s while down", async () => load.count("down", (a) => a.status === 503) >= 10, 60_000);
      expect(await statusOf(`${merchant.certgate}/readyz`)).toBe(503);
      expect(await statusOf(`${merchant.base}/shop/status`)).toBe(200);

      await own.start();
      load.phase = "back";
      const recovered = await timeUntil(
        "certgate to serve again",
        async () => (await statusOf(`${merchant.certgate}/readyz`)) === 200,
        20_000,
      );
      expect(recovered).toBeLessThanOrEqual(5_000);
      const before = load.verified.length;
      await waitFor("completions after the restart", async () => load.verified.length >= before + 10, 60_000);
    } finally {
      await load.stop();
    }
    expect(faultAnswers(load.answers).filter((f) => !ONLY_STORE_UNAVAILABLE.test(f))).toEqual([]);
    expect(load.count("down", (a) => a.status === 503)).toBeGreaterThan(0);
    expect((await checkInvariants(ownTestDatabase(own), false)).violations).toEqual([]);
  });
});

describe("certgate in an Express app when its connections are terminated", () => {
  const appName = `cg_express_${randomInt(1e9).toString(36)}`;

  it("keeps serving through pg_terminate_backend of idle and of busy connections", {
    timeout: 120_000,
  }, async () => {
    const db = await createTestDatabase("postgres");
    cleanups.push(db.drop);
    const admin = new pg.Client(PG_URL);
    await admin.connect();
    cleanups.push(() => admin.end());
    const terminate = (which: "idle" | "busy") => terminateOwnBackends(admin, appName, which);
    const merchant = await startMerchantApp(`${db.url}&application_name=${appName}`);

    const load = startFaultLoad({
      baseUrl: merchant.certgate,
      apiKey: API_KEY,
      emulator: merchant.emulator,
      concurrency: 4,
    });
    let idle = 0;
    let busy = 0;
    try {
      await waitFor("a warm pool", async () => load.verified.length >= 10, 60_000);
      await load.stop();
      await waitFor(
        "idle backends terminated",
        async () => {
          idle += await terminate("idle");
          return idle >= 2;
        },
        30_000,
      );
      // A request may still draw a terminated client the pool has not heard of yet (503); the
      // pool drops it and the next request connects afresh.
      const recovered = await timeUntil(
        "certgate to serve again",
        async () => (await statusOf(`${merchant.certgate}/readyz`)) === 200,
        20_000,
      );
      expect(recovered).toBeLessThanOrEqual(5_000);
    } finally {
      await load.stop();
    }
    const busyLoad = startFaultLoad({
      baseUrl: merchant.certgate,
      apiKey: API_KEY,
      emulator: merchant.emulator,
      concurrency: 6,
    });
    busyLoad.phase = "busy";
    try {
      await waitFor(
        "busy backends terminated and requests cut off",
        async () => {
          busy += await terminate("busy");
          return busy >= 5 && busyLoad.count("busy", (a) => a.status === 503) >= 3;
        },
        90_000,
      );
      busyLoad.phase = "after";
      const before = busyLoad.verified.length;
      await waitFor("completions afterwards", async () => busyLoad.verified.length >= before + 10, 60_000);
    } finally {
      await busyLoad.stop();
    }
    expect(faultAnswers(load.answers)).toEqual([]);
    expect(faultAnswers(busyLoad.answers).filter((f) => !ONLY_STORE_UNAVAILABLE.test(f))).toEqual([]);
    expect(await statusOf(`${merchant.base}/shop/status`)).toBe(200);
    expect(await statusOf(`${merchant.certgate}/readyz`)).toBe(200);
    expect((await checkInvariants(db, false)).violations).toEqual([]);
  });
});
