/**
 * A PostgreSQL that still answers but refuses writes, as a hot standby does after a failover, under
 * the real `certgate serve`: `/readyz` says 503 `not_ready` ("database refuses writes") so a load
 * balancer stops sending work, every write is answered 503 `store_read_only` (never a 500), the
 * process stays up, and when the server accepts writes again readiness and creation return by
 * themselves. The refusal is PostgreSQL's own: `default_transaction_read_only` set with ALTER SYSTEM
 * and a reload, on a server this test owns (own-postgres.ts), never on the shared one.
 */
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { startOwnPostgres } from "./own-postgres.js";
import {
  API_KEY,
  createVerification,
  killAllServices,
  postJson,
  serviceEnv,
  startService,
  startUpstream,
  waitFor,
} from "./service-process.js";

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  killAllServices();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function admin(url: string, statements: readonly string[]): Promise<void> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

async function readiness(serviceUrl: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${serviceUrl}/readyz`);
  return { status: res.status, body: await res.json() };
}

const creation = { account_ref: "acct_read_only_1", policy: { min_age: 19 } };

describe("PostgreSQL refusing writes, certgate serve", () => {
  it("is not ready and answers 503 store_read_only until the server takes writes again", {
    timeout: 120_000,
  }, async () => {
    const own = await startOwnPostgres();
    cleanups.push(own.remove);
    const upstream = await startUpstream();
    cleanups.push(upstream.close);
    const service = await startService(serviceEnv({ databaseUrl: own.url, upstreamUrl: upstream.url }));
    let exited = false;
    void service.exited.then(() => {
      exited = true;
    });

    expect((await readiness(service.url)).status).toBe(200);
    await createVerification(service.url, creation);

    await admin(own.url, ["ALTER SYSTEM SET default_transaction_read_only = on", "SELECT pg_reload_conf()"]);
    // Each backend applies the reload at its next command: the pool's idle connections included.
    await waitFor(
      "/readyz to say not ready",
      async () => (await readiness(service.url)).status === 503,
      30_000,
    );
    expect(await readiness(service.url)).toEqual({
      status: 503,
      body: { error: { code: "not_ready", message: "database refuses writes" } },
    });
    const refused = await postJson(`${service.url}/api/verifications`, creation, {
      authorization: `Bearer ${API_KEY}`,
    });
    expect(refused).toMatchObject({
      kind: "answered",
      status: 503,
      body: { error: { code: "store_read_only" } },
    });
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);

    await admin(own.url, ["ALTER SYSTEM RESET default_transaction_read_only", "SELECT pg_reload_conf()"]);
    await waitFor(
      "/readyz to say ready again",
      async () => (await readiness(service.url)).status === 200,
      30_000,
    );
    await createVerification(service.url, creation);
    expect(exited).toBe(false);
  });
});
