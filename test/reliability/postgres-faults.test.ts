/**
 * PostgreSQL faults under the real `certgate serve` (production mode, webhooks on):
 * - kill -9 of a PostgreSQL server the test owns (own-postgres.ts), during load, and its restart on
 *   the same data directory, cycle after cycle: the service never exits; while the database is gone
 *   every request is answered, each failure 503 `store_unavailable` (never a 500, never a dropped
 *   socket) and `/readyz` 503; within 5 s of the database's return `/readyz` is 200 and a
 *   verification is created; the completions cut off, retried, finish (200, or 409 when their
 *   commit had landed before the answer was lost); the reliability invariants hold and every
 *   outbox event reaches the receiver (the webhook dispatcher resumed by itself).
 * - pg_terminate_backend of the service's idle connections, then of its busy ones during load, on
 *   the shared server (a fresh schema; only the backends whose application_name this test set).
 * - the webhook dispatcher and the retention job in process, over a store on the own server that
 *   is killed: no rejection escapes them, and they resume when it returns.
 */
import { randomInt } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { resolvePolicy } from "../../src/core/policy.js";
import { startRetention } from "../../src/service/retention.js";
import { createWebhookDispatcher } from "../../src/service/webhooks.js";
import { createKeyring } from "../../src/store/crypto.js";
import { openStore } from "../../src/store/index.js";
import { PG_URL } from "../integration/harness.js";
import {
  completeSlot,
  faultAnswers,
  type LoadSlot,
  startFaultLoad,
  statusOf,
  timeUntil,
} from "./fault-load.js";
import { type OwnPostgres, ownTestDatabase, startOwnPostgres, terminateOwnBackends } from "./own-postgres.js";
import { RELIABILITY_TIMEOUT_MS, scaled } from "./scale.js";
import {
  API_KEY,
  checkInvariants,
  createTestDatabase,
  killAllServices,
  outboxIds,
  type ServiceProcess,
  serviceEnv,
  startService,
  startUpstream,
  startWebhookReceiver,
  type TestDatabase,
  undeliveredEvents,
  WEBHOOK_SECRET,
  waitFor,
} from "./service-process.js";

const CYCLES = scaled(2, 6);
const CONCURRENCY = 8;
/** The contract: a returned database serves again within this long. */
const RECOVERY_MS = 5_000;
const ONLY_STORE_UNAVAILABLE = /^(create|complete) 503 store_unavailable$/;

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  killAllServices();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

/** Whether the process is still running: it has not exited and answers signal 0. */
function running(service: ServiceProcess, exited: { value: boolean }): boolean {
  if (exited.value) return false;
  try {
    process.kill(service.pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Throws (with the tail of its stderr) once the service has exited: fails a wait at once. */
function assertRunning(service: ServiceProcess, exited: { value: boolean }): void {
  if (!running(service, exited)) throw new Error(`certgate exited; stderr: ${service.stderr()}`);
}

/** Retries each unfinished completion once: it finishes now (200) or had committed before (409). */
async function retryUnfinished(baseUrl: string, slots: readonly LoadSlot[]): Promise<string[]> {
  const answers = await Promise.all(slots.map((slot) => completeSlot(baseUrl, slot)));
  return answers
    .map((a) => (a.kind === "answered" ? a.status : a.cause))
    .filter((s) => s !== 200 && s !== 409)
    .map(String);
}

describe("kill -9 of PostgreSQL under load, certgate serve", () => {
  it(`${CYCLES} kill and restart cycles: 503 meanwhile, recovery within 5 s, every guarantee kept`, {
    timeout: RELIABILITY_TIMEOUT_MS,
  }, async () => {
    const own = await startOwnPostgres();
    cleanups.push(own.remove);
    const upstream = await startUpstream();
    cleanups.push(upstream.close);
    const receiver = await startWebhookReceiver();
    cleanups.push(receiver.close);
    const db = ownTestDatabase(own);
    const service = await startService(
      serviceEnv({ databaseUrl: own.url, upstreamUrl: upstream.url, webhookUrl: receiver.url }),
    );
    const exited = { value: false };
    void service.exited.then(() => {
      exited.value = true;
    });

    const load = startFaultLoad({
      baseUrl: service.url,
      apiKey: API_KEY,
      emulator: upstream.emulator,
      concurrency: CONCURRENCY,
    });
    const recoveries: number[] = [];
    try {
      for (let cycle = 1; cycle <= CYCLES; cycle++) {
        const up = `up-${cycle}`;
        const down = `down-${cycle}`;
        load.phase = up;
        await waitFor("completions before the kill", async () => load.count(up) >= 40, 60_000);

        await own.kill9();
        load.phase = down;
        await waitFor(
          "answers while the database is down",
          async () => {
            assertRunning(service, exited);
            return load.count(down, (a) => a.status === 503) >= 10;
          },
          60_000,
        );
        expect(await statusOf(`${service.url}/readyz`)).toBe(503);
        expect(await statusOf(`${service.url}/healthz`)).toBe(200);
        // The backlog gauges cannot be read: NaN ("no value"; prom-client writes "Nan", which
        // Prometheus parses case-insensitively), not the last value read nor 0.
        const scrape = await (await fetch(`${service.url}/metrics`)).text();
        expect(scrape).toMatch(/^certgate_webhook_backlog_events nan$/im);
        expect(scrape).toMatch(/^certgate_webhook_backlog_oldest_age_seconds nan$/im);

        await own.start();
        load.phase = `back-${cycle}`;
        const recovered = await timeUntil(
          "the service to serve again",
          async () => (await statusOf(`${service.url}/readyz`)) === 200,
          RECOVERY_MS * 4,
        );
        recoveries.push(recovered);
        expect(await (await fetch(`${service.url}/metrics`)).text()).toMatch(
          /^certgate_webhook_backlog_events \d+$/m,
        );
        expect(recovered).toBeLessThanOrEqual(RECOVERY_MS);
        const after = load.count(`back-${cycle}`, (a) => a.step === "complete" && a.status === 200);
        await waitFor(
          "completions after the restart",
          async () =>
            load.count(`back-${cycle}`, (a) => a.step === "complete" && a.status === 200) >= after + 20,
          60_000,
        );
        expect(running(service, exited)).toBe(true);
      }
    } finally {
      await load.stop();
    }

    // Every answer was a success or 503 store_unavailable (those in flight at the kill, sent in an
    // "up" phase, included); none went unanswered.
    const faults = faultAnswers(load.answers);
    expect(faults.filter((f) => !ONLY_STORE_UNAVAILABLE.test(f))).toEqual([]);
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      expect(load.count(`down-${cycle}`, (a) => a.status === 503)).toBeGreaterThan(0);
    }

    expect(await retryUnfinished(service.url, load.unfinished)).toEqual([]);
    const report = await checkInvariants(db, true);
    expect(report.violations).toEqual([]);
    const ids = await outboxIds(db);
    await waitFor(
      "every webhook to be delivered",
      async () => (await undeliveredEvents(db)) === 0 && ids.every((id) => receiver.ids.has(id)),
      60_000,
    );
    expect(receiver.badSignatures()).toBe(0);
    expect(running(service, exited)).toBe(true);
    expect(service.errorLines).toEqual([]);
    expect(await service.stop()).toBe(0);
    console.log(
      JSON.stringify({
        test: "postgres-kill",
        cycles: CYCLES,
        answers: load.answers.length,
        store_unavailable_503: faults.length,
        retried: load.unfinished.length,
        recovery_ms: recoveries,
        statuses: report.statuses,
        webhook_events: ids.length,
      }),
    );
  });
});

describe("pg_terminate_backend of certgate serve's connections", () => {
  const appName = `cg_faults_${randomInt(1e9).toString(36)}`;
  let admin: pg.Client;
  let db: TestDatabase;
  let service: ServiceProcess;
  const exited = { value: false };
  let upstream: Awaited<ReturnType<typeof startUpstream>>;

  const terminate = (which: "idle" | "busy") => terminateOwnBackends(admin, appName, which);

  it("leaves the service serving after its idle connections are terminated", {
    timeout: RELIABILITY_TIMEOUT_MS,
  }, async () => {
    admin = new pg.Client(PG_URL);
    await admin.connect();
    cleanups.push(() => admin.end());
    db = await createTestDatabase("postgres");
    cleanups.push(db.drop);
    upstream = await startUpstream();
    cleanups.push(upstream.close);
    const receiver = await startWebhookReceiver();
    cleanups.push(receiver.close);
    service = await startService(
      serviceEnv({
        databaseUrl: `${db.url}&application_name=${appName}`,
        upstreamUrl: upstream.url,
        webhookUrl: receiver.url,
      }),
    );
    void service.exited.then(() => {
      exited.value = true;
    });

    // Warm the pool with a few connections, let them go idle, then terminate every one.
    const warm = startFaultLoad({
      baseUrl: service.url,
      apiKey: API_KEY,
      emulator: upstream.emulator,
      concurrency: 4,
    });
    await waitFor("a warm pool", async () => warm.verified.length >= 10, 60_000);
    await warm.stop();
    let terminated = 0;
    await waitFor(
      "idle backends to terminate",
      async () => {
        terminated += await terminate("idle");
        return terminated >= 2;
      },
      30_000,
    );

    const after = startFaultLoad({
      baseUrl: service.url,
      apiKey: API_KEY,
      emulator: upstream.emulator,
      concurrency: 4,
    });
    after.phase = "after";
    await waitFor(
      "completions after the termination",
      async () => {
        assertRunning(service, exited);
        return after.verified.length >= 20;
      },
      60_000,
    );
    await after.stop();
    expect(faultAnswers(warm.answers)).toEqual([]);
    // The first requests may still draw a terminated client the pool has not heard of yet (503);
    // the pool drops it and the next request connects afresh.
    expect(faultAnswers(after.answers).filter((f) => !ONLY_STORE_UNAVAILABLE.test(f))).toEqual([]);
    expect(await retryUnfinished(service.url, after.unfinished)).toEqual([]);
    expect(await statusOf(`${service.url}/readyz`)).toBe(200);
    expect(running(service, exited)).toBe(true);
  });

  it("answers 503 store_unavailable to requests whose busy connection is terminated, and keeps every guarantee", {
    timeout: RELIABILITY_TIMEOUT_MS,
  }, async () => {
    const load = startFaultLoad({
      baseUrl: service.url,
      apiKey: API_KEY,
      emulator: upstream.emulator,
      concurrency: CONCURRENCY,
    });
    load.phase = "busy";
    let terminated = 0;
    try {
      await waitFor(
        "busy backends terminated and requests cut off",
        async () => {
          terminated += await terminate("busy");
          return terminated >= 5 && load.count("busy", (a) => a.status === 503) >= 3;
        },
        90_000,
      );
      load.phase = "after";
      await waitFor("completions after the terminations", async () => load.count("after") >= 40, 60_000);
    } finally {
      await load.stop();
    }
    const faults = faultAnswers(load.answers);
    expect(faults.filter((f) => !ONLY_STORE_UNAVAILABLE.test(f))).toEqual([]);
    expect(await retryUnfinished(service.url, load.unfinished)).toEqual([]);
    expect((await checkInvariants(db, true)).violations).toEqual([]);
    expect(await statusOf(`${service.url}/readyz`)).toBe(200);
    expect(running(service, exited)).toBe(true);
    expect(service.errorLines).toEqual([]);
    expect(await service.stop()).toBe(0);
    console.log(
      JSON.stringify({
        test: "postgres-terminate-busy",
        terminated,
        answers: load.answers.length,
        store_unavailable_503: faults.length,
      }),
    );
  });
});

describe("the webhook dispatcher and the retention job while PostgreSQL is down", () => {
  let own: OwnPostgres;

  it("neither rejects nor stops, and both resume when the database returns", {
    timeout: RELIABILITY_TIMEOUT_MS,
  }, async () => {
    own = await startOwnPostgres();
    cleanups.push(own.remove);
    const receiver = await startWebhookReceiver();
    cleanups.push(receiver.close);
    const store = await openStore({
      databaseUrl: own.url,
      keyring: createKeyring({ secret: "own-postgres-secret-not-a-real-one-00" }),
    });
    cleanups.push(() => store.close());
    const warnings: string[] = [];
    const logger = {
      info() {},
      warn(fields: Record<string, unknown>, message: string) {
        warnings.push(`${message} ${String(fields.code)}`);
      },
    };
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    cleanups.push(async () => {
      process.off("unhandledRejection", onUnhandled);
    });

    // A finished verification, so there is an event to deliver and an identity to purge.
    const now = new Date();
    const v = await store.createVerification({
      id: "ver_faults_1",
      apiVersion: "v1",
      boundId: "mid_faults_1",
      policy: resolvePolicy({}, { creatingAccount: false }),
      createdAt: now,
      expiresAt: new Date(now.getTime() + 60_000),
    });
    await own.kill9();

    const dispatcher = createWebhookDispatcher({ store, url: receiver.url, secret: WEBHOOK_SECRET, logger });
    await expect(dispatcher.runOnce()).rejects.toMatchObject({ name: "StoreError", code: "unavailable" });
    dispatcher.start(50);
    const retention = startRetention(store, 0, logger, { intervalMs: 50 });
    await waitFor(
      "failed runs of both loops",
      async () =>
        warnings.filter((w) => w === "webhook dispatch failed; retried on the next tick unavailable")
          .length >= 3 &&
        warnings.filter((w) => w === "purge failed; retried on the next run unavailable").length >= 3,
      30_000,
    );

    await own.start();
    await store.completeVerification({
      verificationId: v.id,
      upstreamId: "imp_faults_1",
      decision: {
        ok: true,
        identity: {
          name: "Fault Tester",
          birthDate: { year: 1990, month: 7, day: 21 },
          provider: "danal",
          source: "v1",
        },
        personKey: undefined,
      },
      now: new Date(now.getTime() - 1_000),
      emitEvent: true,
    });
    await waitFor("the event to be delivered", async () => receiver.ids.size === 1, 30_000);
    await waitFor(
      "the identity to be purged",
      async () => (await store.getVerification(v.id))?.purgedAt !== undefined,
      30_000,
    );
    retention.stop();
    await dispatcher.stop();
    expect(unhandled).toEqual([]);
  });
});
