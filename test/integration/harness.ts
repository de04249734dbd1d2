/**
 * Integration harness: the real start-up ({@link startCertgate} in production mode) over a real
 * socket, the emulator over a real socket as PortOne V1 and V2, and a real database (a temp SQLite
 * file, or a fresh schema on the local PostgreSQL). Every log line of the run is collected so
 * privacy tests can read them; the service and both clients run on the emulator's clock.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Writable } from "node:stream";
import type { Hono } from "hono";
import pg from "pg";
import { z } from "zod";
import { loadConfig } from "../../src/cli/config.js";
import { createLogger } from "../../src/cli/logger.js";
import type { Store } from "../../src/core/store.js";
import { createEmulator, type Emulator, serveEmulator, TEST_MERCHANT } from "../../src/emulator/index.js";
import { createV1Client, createV2Client } from "../../src/portone/index.js";
import { startCertgate } from "../../src/server.js";
import type { RecoveryJob } from "../../src/service/recovery.js";
import { createVerificationService, type VerificationService } from "../../src/service/verifications.js";

export const PG_URL = process.env.CERTGATE_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const API_KEY = "integration_test_api_key_0001";
export const RETURN_ORIGIN = "https://shop.example";
export const TEST_SECRET = "integration-test-secret-not-a-real-one-000000";
/** A fixed instant: 2026-06-15 12:00 KST. */
export const START = Date.parse("2026-06-15T03:00:00Z");

/** The channel key the harness hands the V2 SDK parameters. */
export const V2_CHANNEL_KEY = "channel-key-emulator-danal";
/** CERTGATE_PUBLIC_URL: the SDK parameters' redirect URLs start with it. */
export const PUBLIC_URL = "https://certgate.example";
const UNUSED_WEBHOOK_SECRET = "whsec_aW50ZWdyYXRpb24tdW51c2VkLXNlY3JldA==";

export type DatabaseKind = "sqlite" | "postgres";
export const DATABASES: DatabaseKind[] = ["sqlite", "postgres"];

export interface Harness {
  kind: DatabaseKind;
  url: string;
  emulator: Emulator;
  store: Store;
  /** The Hono app the server serves, for requests through its web-standard `fetch`. */
  app: Hono;
  /** The sweeper and V2 recovery; its loop is off unless `recoveryIntervalMs` was given. */
  recovery: RecoveryJob;
  /** DATABASE_URL of this harness (for the real command, test/cli/run-certgate.ts). */
  databaseUrl: string;
  logs: string[];
  /** PostgreSQL schema or SQLite file backing this harness. */
  sqliteFile: string | undefined;
  pgSchema: string | undefined;
  api(
    path: string,
    init?: { method?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Response>;
  close(): Promise<void>;
}

export async function startHarness(
  kind: DatabaseKind,
  opts: {
    timeoutMs?: number;
    emitEvents?: boolean;
    deleteUpstream?: boolean;
    /** Run the sweeper and recovery loop every so many ms (real time). Default off: tests call it. */
    recoveryIntervalMs?: number;
    /** Another harness's database (PostgreSQL schema or SQLite file) to share: a second instance. */
    databaseUrl?: string;
  } = {},
): Promise<Harness> {
  const emulator = createEmulator({ admin: true, startTime: START });
  const upstream = await serveEmulator(emulator, { port: 0 });
  const logs: string[] = [];
  const logger = createLogger(
    new Writable({
      write(chunk, _enc, done) {
        logs.push(String(chunk));
        done();
      },
    }),
  );

  // SQLite in a temp directory, which is also the data directory; PostgreSQL in a fresh schema.
  const dir = mkdtempSync(join(tmpdir(), "certgate-it-"));
  let databaseUrl: string;
  let sqliteFile: string | undefined;
  let pgSchema: string | undefined;
  if (opts.databaseUrl !== undefined) {
    databaseUrl = opts.databaseUrl;
  } else if (kind === "sqlite") {
    sqliteFile = join(dir, "certgate.sqlite");
    databaseUrl = sqliteFile;
  } else {
    pgSchema = `cg_it_${Math.random().toString(36).slice(2, 10)}`;
    const admin = new pg.Client(PG_URL);
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${pgSchema}`);
    await admin.end();
    databaseUrl = `${PG_URL}?options=${encodeURIComponent(`-c search_path=${pgSchema}`)}`;
  }
  // The real start-up in production mode, both APIs pointed at the emulator's socket: one persona is
  // one person in V1 and V2.
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    DATABASE_URL: databaseUrl,
    CERTGATE_DATA_DIR: dir,
    CERTGATE_SECRET: TEST_SECRET,
    CERTGATE_API_KEYS: API_KEY,
    CERTGATE_RETURN_ORIGINS: RETURN_ORIGIN,
    CERTGATE_PUBLIC_URL: PUBLIC_URL,
    CERTGATE_DELETE_UPSTREAM: String(opts.deleteUpstream ?? false),
    PORTONE_API_KEY: TEST_MERCHANT.impKey,
    PORTONE_API_SECRET: TEST_MERCHANT.impSecret,
    PORTONE_IMP_CODE: TEST_MERCHANT.impCode,
    PORTONE_API_URL: upstream.url,
    PORTONE_V2_API_SECRET: TEST_MERCHANT.v2ApiSecret,
    PORTONE_STORE_ID: TEST_MERCHANT.storeId,
    PORTONE_V2_API_URL: upstream.url,
    PORTONE_CHANNEL_KEY: V2_CHANNEL_KEY,
    // Events are written with each outcome; the tests drive the dispatcher (deliverWebhooks: false),
    // so this receiver is never called.
    ...(opts.emitEvents
      ? { CERTGATE_WEBHOOK_URL: "http://127.0.0.1:9/hooks", CERTGATE_WEBHOOK_SECRET: UNUSED_WEBHOOK_SECRET }
      : {}),
  });
  /** What the harness made besides the service: removed on close, or when the start fails. */
  const removeOwn = async () => {
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
    if (pgSchema) {
      const admin = new pg.Client(PG_URL);
      await admin.connect();
      await admin.query(`DROP SCHEMA ${pgSchema} CASCADE`);
      await admin.end();
    }
  };
  // A start that fails (a test of a broken build, a refused config) left its schema in the shared
  // database: 27 of them after one day's runs.
  const certgate = await startCertgate(config, {
    logger,
    now: () => new Date(emulator.clock.now()),
    upstream: {
      now: () => emulator.clock.now(),
      timeoutMs: opts.timeoutMs ?? 1_000,
      retries: 1,
      retryBaseDelayMs: 5,
    },
    deliverWebhooks: false,
    recoveryIntervalMs: opts.recoveryIntervalMs ?? 0,
  }).catch(async (error: unknown) => {
    await removeOwn().catch(() => {});
    throw error;
  });
  const { store, url, recovery, app } = certgate;

  return {
    kind,
    url,
    emulator,
    store,
    app,
    recovery,
    databaseUrl,
    logs,
    sqliteFile,
    pgSchema,
    api(path, init = {}) {
      const headers: Record<string, string> = { ...(init.headers ?? {}) };
      let body: string | undefined;
      if (init.body !== undefined) {
        // A string body is sent as is, headers and all (bad-input tests); anything else as JSON.
        if (typeof init.body === "string") body = init.body;
        else {
          body = JSON.stringify(init.body);
          headers["content-type"] ??= "application/json";
        }
      }
      return fetch(`${url}${path}`, { method: init.method ?? "GET", headers, body, redirect: "manual" });
    },
    async close() {
      // The store closes last; a test may have closed it already to read the file.
      await certgate.close().catch(() => {});
      await removeOwn();
    },
  };
}

export const auth = { authorization: `Bearer ${API_KEY}` };

export interface Created {
  id: string;
  merchant_uid: string;
}

/** Creates a verification through the merchant API. */
export async function createVerification(h: Harness, body: Record<string, unknown> = {}): Promise<Created> {
  const res = await h.api("/api/verifications", { method: "POST", headers: auth, body });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as Created;
}

export function complete(h: Harness, impUid: string, merchantUid: string) {
  return h.api("/certifications", { method: "POST", body: { imp_uid: impUid, merchant_uid: merchantUid } });
}

export interface CreatedV2 {
  id: string;
  identity_verification_id: string;
}

const createdV2Body = z.object({
  id: z.string(),
  merchant_uid: z.null(),
  identity_verification_id: z.string(),
});

/** Creates a V2 verification through the merchant API (`api_version: "v2"`). */
export async function createV2Verification(
  h: Harness,
  body: Record<string, unknown> = {},
): Promise<CreatedV2> {
  const res = await h.api("/api/verifications", {
    method: "POST",
    headers: auth,
    body: { ...body, api_version: "v2" },
  });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${await res.text()}`);
  return createdV2Body.parse(await res.json());
}

/** The V2 browser route: `POST /identity-verifications` `{ identityVerificationId }`. */
export function completeV2(h: Harness, identityVerificationId: string) {
  return h.api("/identity-verifications", { method: "POST", body: { identityVerificationId } });
}

/**
 * Everything the harness's database holds, as text, for privacy tests: the SQLite files' bytes
 * (read as latin1, after closing the store so the WAL is checkpointed) or every row of every table
 * of the PostgreSQL schema as JSON.
 */
export async function storedText(h: Harness): Promise<string> {
  if (h.sqliteFile !== undefined) {
    await h.store.close().catch(() => {});
    const dir = dirname(h.sqliteFile);
    return readdirSync(dir)
      .map((f) => readFileSync(join(dir, f)).toString("latin1"))
      .join("\n");
  }
  const client = new pg.Client(PG_URL);
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>(
      "select table_name from information_schema.tables where table_schema = $1",
      [h.pgSchema],
    );
    if (tables.rows.length < 4) throw new Error("the schema has fewer tables than certgate creates");
    let dump = "";
    for (const { table_name } of tables.rows) {
      const rows = await client.query(`select * from ${h.pgSchema}."${table_name}"`);
      dump += JSON.stringify(rows.rows);
    }
    return dump;
  } finally {
    await client.end();
  }
}

/** A value is absent from stored text in UTF-8 and in its latin1 reading of the UTF-8 bytes. */
export function expectAbsent(text: string, values: readonly string[]): void {
  for (const value of values) {
    if (text.includes(value) || text.includes(Buffer.from(value, "utf8").toString("latin1"))) {
      throw new Error("a personal value is stored in clear");
    }
  }
}

/**
 * A library-built service over `store` (the harness's by default), both APIs through the emulator
 * in process, on its clock: for tests that wire the library themselves beside the harness's server.
 */
export function libraryService(h: Harness, store: Store = h.store): VerificationService {
  const transport = {
    baseUrl: "http://emulator.local",
    fetch: h.emulator.fetch,
    now: () => h.emulator.clock.now(),
    timeoutMs: 1_000,
    retries: 1,
    retryBaseDelayMs: 5,
  };
  return createVerificationService({
    store,
    v1: createV1Client({ apiKey: TEST_MERCHANT.impKey, apiSecret: TEST_MERCHANT.impSecret, ...transport }),
    v2: createV2Client({
      apiSecret: TEST_MERCHANT.v2ApiSecret,
      storeId: TEST_MERCHANT.storeId,
      ...transport,
    }),
    now: () => new Date(h.emulator.clock.now()),
  });
}
