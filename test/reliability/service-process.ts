/**
 * The real `certgate serve` as a child process, for the reliability suite: production mode against a
 * PortOne emulator and a webhook receiver served by the test process, on a temp SQLite file or a fresh
 * PostgreSQL schema. Also the database-wide invariant checks those tests assert after a crash or a race,
 * written as SQL read straight from the database (better-sqlite3 / pg), not through certgate.
 *
 * The child gets a minimal environment (PATH and certgate's variables, never the developer's) and runs
 * in an empty temp directory, so no `.env` of the checkout is loaded.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { z } from "zod";
import { createEmulator, type Emulator, serveEmulator, TEST_MERCHANT } from "../../src/emulator/index.js";
import { verifyWebhookSignature } from "../../src/service/webhooks.js";
import { createMigrations } from "../../src/store/migrations.js";
import { POSTGRES_DIALECT } from "../../src/store/postgres/dialect.js";
import { type DatabaseKind, PG_URL } from "../integration/harness.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = join(REPO, "src/cli/main.ts");
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

export const API_KEY = "reliability_test_api_key_0001";
/** Obviously fake; only ever used against the emulator and throwaway databases. */
export const SERVICE_SECRET = "reliability-test-secret-not-a-real-one-0000";
export const WEBHOOK_SECRET = "reliability-webhook-secret-not-real-0000";

/** Every migration certgate has, in the order they apply: each must be applied exactly once. */
export const MIGRATION_NAMES = Object.keys(createMigrations(POSTGRES_DIALECT)).sort();

// --- the child process ---

export interface ServiceProcess {
  /** Base URL from the "certgate is serving" line. */
  url: string;
  pid: number;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Log lines at level error (50) or above: an unhandled error inside the service. */
  errorLines: string[];
  /** The last 16 KB of stderr, for failure messages. */
  stderr(): string;
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM (graceful shutdown) and the exit code. */
  stop(): Promise<number | null>;
}

const running = new Set<ChildProcess>();
const workDirs: string[] = [];

/** Kills every child still running (SIGKILL) and removes their working directories: for afterAll. */
export function killAllServices(): void {
  for (const child of running) child.kill("SIGKILL");
  running.clear();
  for (const dir of workDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface ServiceEnvOptions {
  databaseUrl: string;
  upstreamUrl: string;
  webhookUrl?: string | undefined;
}

/** The whole environment of a production-mode child: PATH plus certgate's variables. */
export function serviceEnv(options: ServiceEnvOptions): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    PORT: "0",
    HOST: "127.0.0.1",
    CERTGATE_MODE: "production",
    CERTGATE_SECRET: SERVICE_SECRET,
    CERTGATE_API_KEYS: API_KEY,
    PORTONE_API_KEY: TEST_MERCHANT.impKey,
    PORTONE_API_SECRET: TEST_MERCHANT.impSecret,
    PORTONE_IMP_CODE: TEST_MERCHANT.impCode,
    PORTONE_API_URL: options.upstreamUrl,
    DATABASE_URL: options.databaseUrl,
    ...(options.webhookUrl === undefined
      ? {}
      : { CERTGATE_WEBHOOK_URL: options.webhookUrl, CERTGATE_WEBHOOK_SECRET: WEBHOOK_SECRET }),
  };
}

const servingLine = z.object({ msg: z.literal("certgate is serving"), url: z.string() });
const levelOf = z.object({ level: z.number() });
const TAIL = 16_384;

/**
 * Spawns `node --import tsx src/cli/main.ts serve` with exactly `env` and resolves once it logs that
 * it is serving. Rejects (with the tail of stderr) if it exits first or does not serve in time.
 */
export function startService(env: Record<string, string>, timeoutMs = 60_000): Promise<ServiceProcess> {
  const cwd = mkdtempSync(join(tmpdir(), "certgate-proc-"));
  workDirs.push(cwd);
  const child = spawn(process.execPath, ["--import", TSX_LOADER, MAIN, "serve"], {
    cwd,
    env: { ...env, CERTGATE_DATA_DIR: join(cwd, "data") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + String(chunk)).slice(-TAIL);
  });
  const errorLines: string[] = [];
  let url: string | undefined;
  let partial = "";
  let onServing: ((url: string) => void) | undefined;
  // Drain stdout for the child's whole life (a full pipe would block it); keep only what matters.
  child.stdout?.on("data", (chunk: Buffer) => {
    const lines = (partial + String(chunk)).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.startsWith("{")) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        continue;
      }
      const level = levelOf.safeParse(parsed);
      if (level.success && level.data.level >= 50) errorLines.push(line.slice(0, 500));
      const serving = servingLine.safeParse(parsed);
      if (serving.success && url === undefined) {
        url = serving.data.url;
        onServing?.(url);
      }
    }
  });

  const service: Omit<ServiceProcess, "url" | "pid"> = {
    exited,
    errorLines,
    stderr: () => stderr,
    kill: (signal) => {
      child.kill(signal);
    },
    async stop() {
      child.kill("SIGTERM");
      return (await exited).code;
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`certgate did not serve within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`certgate could not be spawned: ${error.message}`));
    });
    onServing = (served) => {
      clearTimeout(timer);
      resolve({ ...service, url: served, pid: child.pid ?? -1 });
    };
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      if (url === undefined)
        reject(new Error(`certgate exited early (${code ?? signal}); stderr: ${stderr}`));
    });
  });
}

// --- the test process's side: upstream, webhook receiver, database ---

/** The emulator over a real socket; its clock follows the wall clock (the service uses real time). */
export async function startUpstream(): Promise<{ emulator: Emulator; url: string; close(): Promise<void> }> {
  const emulator = createEmulator({ admin: true, realTime: true });
  const served = await serveEmulator(emulator, { port: 0 });
  return { emulator, url: served.url, close: served.close };
}

export interface WebhookReceiver {
  url: string;
  /** Every distinct `webhook-id` received with a valid signature. */
  ids: Set<string>;
  /** Deliveries in all, duplicates included (delivery is at least once). */
  deliveries(): number;
  /** Deliveries whose signature did not verify. */
  badSignatures(): number;
  close(): Promise<void>;
}

/** A receiver on 127.0.0.1 that checks each delivery's signature and answers 204. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const ids = new Set<string>();
  let deliveries = 0;
  let bad = 0;
  const server: Server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      deliveries += 1;
      if (verifyWebhookSignature({ body, headers: req.headers, secret: WEBHOOK_SECRET })) {
        ids.add(String(req.headers["webhook-id"]));
      } else {
        bad += 1;
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/hooks`,
    ids,
    deliveries: () => deliveries,
    badSignatures: () => bad,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface TestDatabase {
  kind: DatabaseKind;
  /** DATABASE_URL for the children. */
  url: string;
  sqliteFile: string | undefined;
  schema: string | undefined;
  /** Runs read-only SQL (no parameters: the same text runs on both dialects). */
  query<T>(text: string): Promise<T[]>;
  /** SQLite: `PRAGMA integrity_check` through better-sqlite3 ("ok" when sound). */
  integrityCheck(): string[];
  drop(): Promise<void>;
}

/**
 * A fresh database: a temp SQLite file, or a new PostgreSQL schema reached through
 * `?options=-c search_path=…`.
 */
export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "certgate-rel-"));
    const file = join(dir, "certgate.sqlite");
    const open = () => new BetterSqlite3(file, { readonly: true, fileMustExist: true });
    return {
      kind,
      url: file,
      sqliteFile: file,
      schema: undefined,
      async query<T>(text: string) {
        const db = open();
        try {
          return db.prepare(text).all() as T[];
        } finally {
          db.close();
        }
      },
      integrityCheck() {
        const db = open();
        try {
          const rows = db.pragma("integrity_check") as { integrity_check: string }[];
          return rows.map((row) => row.integrity_check);
        } finally {
          db.close();
        }
      },
      async drop() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `cg_rel_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client(PG_URL);
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const options = encodeURIComponent(`-c search_path=${schema}`);
  const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
  await client.connect();
  return {
    kind,
    url: `${PG_URL}?options=${options}`,
    sqliteFile: undefined,
    schema,
    async query<T>(text: string) {
      return (await client.query(text)).rows as T[];
    },
    integrityCheck() {
      throw new Error("integrity_check is SQLite's");
    },
    async drop() {
      await client.end();
      const dropper = new pg.Client(PG_URL);
      await dropper.connect();
      await dropper.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await dropper.end();
    },
  };
}

// --- invariants ---

export interface VerificationRow {
  id: string;
  status: string;
  reason: string | null;
  account_ref: string | null;
  existing_account_ref: string | null;
  person_id: string | null;
  upstream_id: string | null;
}

export interface InvariantReport {
  statuses: Record<string, number>;
  /** Each broken guarantee, with the ids involved; empty when every invariant holds. */
  violations: string[];
}

const count = (column: string) => `cast(count(${column}) as integer)`;

/**
 * The guarantees that must hold in the database at any moment, crash or race:
 * - the migrations are applied exactly once each;
 * - no person holds two accounts, no account belongs to two persons, and every account row is the
 *   account of a verified verification of that person (and the other way round);
 * - no upstream id is consumed twice, no verification consumes two, every consumed id belongs to a
 *   finished verification that records it, and every recorded upstream id was consumed by its row;
 * - a duplicate_account rejection names an existing account of the same person;
 * - completed_at is set exactly when the verification is finished;
 * - every finished verification has exactly one `verification.completed` audit event (and, with
 *   `webhooks`, exactly one `verification.completed` or `.expired` outbox event), each telling its
 *   final status; a pending one has none;
 * - failed attempts: each is one `verification.attempt_failed` audit event; none is counted past
 *   `max_attempts` except the one that rejected as `too_many_attempts` (core/attempts.ts).
 */
/** The outbox events that tell a verification's outcome (account.unbound and identity.purged do not). */
const OUTCOME_EVENTS = "'verification.completed', 'verification.expired'";

export async function checkInvariants(db: TestDatabase, webhooks: boolean): Promise<InvariantReport> {
  const violations: string[] = [];
  const expectNone = async (what: string, text: string) => {
    const rows = await db.query<Record<string, unknown>>(text);
    if (rows.length > 0) {
      violations.push(
        `${what}: ${rows
          .slice(0, 5)
          .map((r) => JSON.stringify(r))
          .join(" ")}`,
      );
    }
  };

  const migrations = await db.query<{ name: string }>("select name from kysely_migration order by name");
  const names = migrations.map((m) => m.name).join(",");
  if (names !== MIGRATION_NAMES.join(",")) violations.push(`migrations applied: ${names}`);

  await expectNone(
    "person with two accounts",
    `select person_id, ${count("*")} as n from accounts group by person_id having count(*) > 1`,
  );
  await expectNone(
    "account row that is not a verified verification's",
    `select a.account_ref from accounts a left join verifications v on v.id = a.verification_id
     where v.id is null or v.status <> 'verified' or v.account_ref <> a.account_ref
       or v.person_id is null or v.person_id <> a.person_id`,
  );
  await expectNone(
    "verified verification without its account row",
    `select v.id from verifications v left join accounts a on a.verification_id = v.id
     where v.status = 'verified' and v.account_ref is not null and v.person_id is not null
       and (a.account_ref is null or a.account_ref <> v.account_ref)`,
  );
  await expectNone(
    "upstream id recorded by two verifications",
    `select upstream_id, ${count("*")} as n from verifications where upstream_id is not null
     group by upstream_id having count(*) > 1`,
  );
  await expectNone(
    "verification that consumed two upstream ids",
    `select verification_id, ${count("*")} as n from consumed_ids group by verification_id having count(*) > 1`,
  );
  await expectNone(
    "consumed id not held by a finished verification",
    `select c.upstream_id, v.status from consumed_ids c left join verifications v on v.id = c.verification_id
     where v.id is null or v.status = 'pending' or v.upstream_id is null or v.upstream_id <> c.upstream_id`,
  );
  await expectNone(
    "upstream id recorded but not consumed by its verification",
    `select v.id from verifications v left join consumed_ids c on c.upstream_id = v.upstream_id
     where v.upstream_id is not null and (c.verification_id is null or c.verification_id <> v.id)`,
  );
  await expectNone(
    "duplicate_account naming no account of the same person",
    `select v.id from verifications v left join accounts a on a.account_ref = v.existing_account_ref
     where v.reason = 'duplicate_account' and (a.account_ref is null or a.person_id <> v.person_id)`,
  );
  await expectNone(
    "completed_at set on a pending verification or missing on a finished one",
    `select id, status from verifications
     where (status = 'pending' and completed_at is not null) or (status <> 'pending' and completed_at is null)`,
  );
  await expectNone(
    "finished verification without exactly one completion audit event",
    `select v.id, ${count("a.id")} as n from verifications v
     left join audit_events a on a.verification_id = v.id and a.type = 'verification.completed'
     where v.status <> 'pending' group by v.id having count(a.id) <> 1`,
  );
  await expectNone(
    "audit event other than a failed attempt of a pending verification",
    `select a.id from audit_events a join verifications v on v.id = a.verification_id
     where v.status = 'pending' and a.type <> 'verification.attempt_failed'`,
  );
  await expectNone(
    "failed attempts that are not one audit event each",
    `select v.id, v.failed_attempts, ${count("a.id")} as n from verifications v
     left join audit_events a on a.verification_id = v.id and a.type = 'verification.attempt_failed'
     group by v.id, v.failed_attempts having count(a.id) <> v.failed_attempts`,
  );
  await expectNone(
    "failed attempts past the limit, or too_many_attempts without exactly one past it",
    `select id, status, reason, failed_attempts, max_attempts from verifications
     where (reason = 'too_many_attempts' and failed_attempts <> max_attempts + 1)
        or ((reason is null or reason <> 'too_many_attempts') and failed_attempts > max_attempts)`,
  );
  await expectNone(
    "outbox event of a pending verification",
    `select o.id from webhook_outbox o join verifications v on v.id = o.verification_id where v.status = 'pending'`,
  );
  if (webhooks) {
    await expectNone(
      "finished verification without exactly one outbox event",
      `select v.id, ${count("o.id")} as n from verifications v left join webhook_outbox o on o.verification_id = v.id
       and o.type in (${OUTCOME_EVENTS}) where v.status <> 'pending' group by v.id having count(o.id) <> 1`,
    );
  }

  // What each event says must be the outcome that was committed with it.
  const audits = await db.query<{ verification_id: string; data_json: string; status: string }>(
    `select a.verification_id, a.data_json, v.status from audit_events a
     join verifications v on v.id = a.verification_id where a.type = 'verification.completed'`,
  );
  for (const a of audits) {
    const data = z.object({ status: z.string() }).parse(JSON.parse(a.data_json));
    if (data.status !== a.status) violations.push(`audit event of ${a.verification_id} says ${data.status}`);
  }
  const events = await db.query<{ verification_id: string; payload_json: string; status: string }>(
    `select o.verification_id, o.payload_json, v.status from webhook_outbox o
     join verifications v on v.id = o.verification_id where o.type in (${OUTCOME_EVENTS})`,
  );
  const payload = z.object({ data: z.object({ verification_id: z.string(), status: z.string() }) });
  for (const e of events) {
    const { data } = payload.parse(JSON.parse(e.payload_json));
    if (data.status !== e.status || data.verification_id !== e.verification_id) {
      violations.push(`outbox event of ${e.verification_id} says ${data.status}`);
    }
  }

  const statuses: Record<string, number> = {};
  for (const row of await db.query<{ status: string; n: number }>(
    `select status, ${count("*")} as n from verifications group by status`,
  )) {
    statuses[row.status] = Number(row.n);
  }
  return { statuses, violations };
}

/** Every verification row, by id. */
export async function readVerifications(db: TestDatabase): Promise<Map<string, VerificationRow>> {
  const rows = await db.query<VerificationRow>(
    "select id, status, reason, account_ref, existing_account_ref, person_id, upstream_id from verifications",
  );
  return new Map(rows.map((r) => [r.id, r]));
}

/** Outbox events not yet delivered. */
export async function undeliveredEvents(db: TestDatabase): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `select ${count("*")} as n from webhook_outbox where delivered_at is null`,
  );
  return Number(row?.n ?? 0);
}

/** Every outbox event id. */
export async function outboxIds(db: TestDatabase): Promise<string[]> {
  return (await db.query<{ id: string }>("select id from webhook_outbox")).map((r) => r.id);
}

// --- HTTP ---

export type Answer = { kind: "answered"; status: number; body: unknown } | { kind: "network"; cause: string };

/** POSTs JSON; a request the socket never answered resolves as `network` (never rejects). */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    return { kind: "answered", status: res.status, body: parsed };
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const code =
      typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : undefined;
    return { kind: "network", cause: code ?? (cause instanceof Error ? cause.message : "unknown") };
  }
}

const created = z.object({ id: z.string(), merchant_uid: z.string() });

/** `POST /api/verifications` on `serviceUrl`; throws unless 201. */
export async function createVerification(
  serviceUrl: string,
  body: Record<string, unknown>,
): Promise<{ id: string; merchant_uid: string }> {
  const answer = await postJson(`${serviceUrl}/api/verifications`, body, {
    authorization: `Bearer ${API_KEY}`,
  });
  if (answer.kind !== "answered" || answer.status !== 201) {
    throw new Error(`create failed: ${JSON.stringify(answer)}`);
  }
  return created.parse(answer.body);
}

const merchantView = z.object({
  verification: z.object({
    status: z.string(),
    identity: z.object({ provider: z.string() }).nullable(),
  }),
});

/** `GET /api/verifications/:id` on `serviceUrl`: the merchant's view; throws unless 200. */
export async function getVerification(serviceUrl: string, id: string) {
  const res = await fetch(`${serviceUrl}/api/verifications/${id}`, {
    headers: { authorization: `Bearer ${API_KEY}` },
  });
  if (res.status !== 200) throw new Error(`read of ${id} answered ${res.status}`);
  return merchantView.parse(await res.json()).verification;
}

/** What a completion answer says: the error code (or "verified") and the verification in the body. */
export const completionBody = z.object({
  error: z.object({ code: z.string() }).optional(),
  verification: z.object({
    id: z.string(),
    status: z.string(),
    reason: z.string().optional(),
    existing_account_ref: z.string().optional(),
  }),
});

/** Runs `task` over `items`, at most `limit` at a time, in order. */
export async function inBatches<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += limit) {
    out.push(...(await Promise.all(items.slice(i, i + limit).map((item, j) => task(item, i + j)))));
  }
  return out;
}

/** Polls `probe` until it returns true, or throws after `timeoutMs` with `what`. */
export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
