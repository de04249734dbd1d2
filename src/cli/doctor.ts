/**
 * `certgate doctor`: checks what `serve` will need — the configuration, the database, PortOne
 * reachability and credentials, and this machine's clock against PortOne's — and prints for each
 * `ok` or `fail` with what to fix. Never prints a secret: credentials are sent, never shown, and
 * the password of DATABASE_URL is masked.
 */
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { CertgateError, StartupError } from "../core/errors.js";
import { createEmulator, TEST_MERCHANT } from "../emulator/index.js";
import { existingSandboxSecret, SANDBOX_SECRET_FILE } from "../sandbox-secret.js";
import { maskDatabaseUrl, openStoreOrExplain, unknownMigrationsOf } from "../startup-errors.js";
import { createKeyring } from "../store/crypto.js";
import { isPostgresUrl } from "../store/index.js";
import type { Env } from "./command-table.js";
import { type Config, loadConfig, loadLogLevel } from "./config.js";
import { isMissingSqliteFile } from "./existing-database.js";

/** Beyond this distance from PortOne's clock, freshness and future-tolerance judgements drift. */
export const MAX_CLOCK_SKEW_SECONDS = 30;
const UPSTREAM_TIMEOUT_MS = 5_000;

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Runs every check, prints them, and returns the exit status: 0 when all pass, 1 otherwise. */
export async function runDoctor(env: Env, out: (line: string) => void): Promise<number> {
  const checks: Check[] = [];
  const report = (check: Check) => {
    checks.push(check);
    out(`${check.ok ? "ok  " : "fail"}  ${check.name.padEnd(13)} ${check.detail}`);
    if (check.fix) out(`      ${"".padEnd(13)} fix: ${check.fix}`);
  };

  let config: Config;
  try {
    loadLogLevel(env);
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof CertgateError)) throw error;
    report({
      name: "configuration",
      ok: false,
      detail: error.message,
      fix: "correct that variable (every variable is listed, commented, in .env.example)",
    });
    out("      database, PortOne and clock not checked: the configuration comes first");
    return 1;
  }
  report({ name: "configuration", ok: true, detail: describeConfig(config) });
  report(await checkDatabase(config));
  for (const check of await checkPortOne(config)) report(check);
  return checks.every((c) => c.ok) ? 0 : 1;
}

function describeConfig(config: Config): string {
  const apis = [
    config.mode === "sandbox" || config.portone.apiKey !== undefined ? "V1" : undefined,
    config.mode === "sandbox" || config.portone.v2ApiSecret !== undefined ? "V2" : undefined,
  ].filter(Boolean);
  return `${config.mode} mode, PortOne ${apis.join(" + ")}, listening on ${config.host}:${config.port}`;
}

async function checkDatabase(config: Config): Promise<Check> {
  const where = `${isPostgresUrl(config.databaseUrl) ? "postgres" : "sqlite"} ${maskDatabaseUrl(config.databaseUrl)}`;
  // A check creates nothing (existing-database.ts): a missing SQLite file is one serve would create,
  // shown as such so that a mistyped path stands out, or a failure when its directory cannot be made.
  if (isMissingSqliteFile(config.databaseUrl)) return checkSqliteCreatable(config.databaseUrl, where);
  try {
    // Opening migrates, as `serve` would at startup: ok means the schema is at the latest migration.
    // With the secrets serve would use (in sandbox mode without CERTGATE_SECRET, the one it
    // generated into the data directory, if it has), their keys are checked against the data as
    // serve checks them; with none yet, nothing is decrypted or hashed.
    const sandboxFile = join(config.dataDir, SANDBOX_SECRET_FILE);
    const sandboxSecret = config.secret === undefined ? existingSandboxSecret(config.dataDir) : undefined;
    const secret = config.secret ?? sandboxSecret;
    const store = await openStoreOrExplain(
      config.databaseUrl,
      createKeyring({
        secret: secret ?? "doctor-decrypts-and-hashes-nothing-0000",
        previousSecrets: secret === undefined ? [] : config.previousSecrets,
      }),
      undefined,
      {
        checkKeys: secret !== undefined,
        sandboxSecretFile: sandboxSecret === undefined ? undefined : sandboxFile,
      },
    );
    try {
      await store.ping();
    } finally {
      await store.close();
    }
    return { name: "database", ok: true, detail: `${where}: open, migrations up to date` };
  } catch (error) {
    const detail = error instanceof StartupError ? error.message : `${where}: cannot open`;
    const unknown = unknownMigrationsOf(error);
    const fix =
      unknown === undefined
        ? databaseFix(detail)
        : unknown.newer
          ? "upgrade certgate to the version that migrated this database (or a later one), or restore the database from a backup made before it was migrated; this certgate must not run on it"
          : "point DATABASE_URL at a database (or PostgreSQL schema) of certgate's own; never restore or drop this one for certgate, its migrations belong to another application";
    return { name: "database", ok: false, detail, fix };
  }
}

/**
 * A SQLite file that does not exist yet: serve creates it and its missing directories, which needs
 * the nearest existing ancestor of the path to be a directory this process may write to.
 */
function checkSqliteCreatable(filename: string, where: string): Check {
  let ancestor = dirname(resolve(filename));
  while (!existsSync(ancestor) && dirname(ancestor) !== ancestor) ancestor = dirname(ancestor);
  let writable = false;
  try {
    accessSync(ancestor, constants.W_OK);
    writable = statSync(ancestor).isDirectory();
  } catch {
    // Not writable or not there: reported below.
  }
  return writable
    ? { name: "database", ok: true, detail: `${where}: does not exist yet; serve will create it` }
    : {
        name: "database",
        ok: false,
        detail: `${where}: does not exist, and cannot be created (${ancestor} is not a writable directory)`,
        fix: "correct the path in DATABASE_URL, or make its directory writable",
      };
}

function databaseFix(detail: string): string {
  if (detail.startsWith("CERTGATE_SECRET:"))
    return "give the old secret back as CERTGATE_SECRET, or list it in CERTGATE_PREVIOUS_SECRETS (then certgate keys rotate)";
  if (/cannot connect|ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH/.test(detail))
    return "start the database, or correct the host and port in DATABASE_URL";
  if (/does not exist/.test(detail))
    return "create the database (createdb …), or correct its name in DATABASE_URL";
  if (/login refused|password/.test(detail)) return "correct the user and password in DATABASE_URL";
  if (/migration/.test(detail))
    return "let the role of DATABASE_URL create tables in its schema, or run certgate migrate as the owner";
  return "correct DATABASE_URL (a SQLite file path whose directory is writable, or postgres://user:password@host:5432/db)";
}

/**
 * V1: `POST /users/getToken` with the configured credentials (the embedded emulator's test
 * merchant in sandbox mode), whose answer carries PortOne's `now` for the clock check. V2, when
 * configured: `POST /login/api-secret`.
 */
async function checkPortOne(config: Config): Promise<Check[]> {
  const sandbox = config.mode === "sandbox";
  const emulator = sandbox ? createEmulator({ admin: false, realTime: true }) : undefined;
  const fetchLike: FetchLike = emulator ? emulator.fetch : fetch;
  const base = (url: string) => (emulator ? "http://emulator.sandbox" : url);
  const checks: Check[] = [];

  if (sandbox || (config.portone.apiKey !== undefined && config.portone.apiSecret !== undefined)) {
    const url = base(config.portone.apiUrl);
    const answer = await post(fetchLike, `${url}/users/getToken`, {
      imp_key: sandbox ? TEST_MERCHANT.impKey : config.portone.apiKey,
      imp_secret: sandbox ? TEST_MERCHANT.impSecret : config.portone.apiSecret,
    });
    const where = sandbox ? "the embedded emulator (sandbox mode)" : config.portone.apiUrl;
    const token = answer.ok ? (answer.body as { code?: unknown; response?: { now?: unknown } }) : undefined;
    if (!answer.ok) {
      checks.push({
        name: "portone v1",
        ok: false,
        detail: `cannot reach ${where} (${answer.cause})`,
        fix: "check PORTONE_API_URL and that this machine may reach it (egress to api.iamport.kr:443)",
      });
    } else if (answer.status !== 200 || token?.code !== 0 || typeof token.response?.now !== "number") {
      checks.push({
        name: "portone v1",
        ok: false,
        detail: `${where} refused getToken (HTTP ${answer.status}, code ${String(token?.code)})`,
        fix: "check PORTONE_API_KEY and PORTONE_API_SECRET (the REST API key and secret of the PortOne console)",
      });
    } else {
      checks.push({
        name: "portone v1",
        ok: true,
        detail: `getToken at ${where} answered in ${answer.ms} ms`,
      });
      checks.push(checkClock(token.response.now, answer.localNowMs));
    }
  }

  if (sandbox || config.portone.v2ApiSecret !== undefined) {
    const where = sandbox ? "the embedded emulator (sandbox mode)" : config.portone.v2ApiUrl;
    const answer = await post(fetchLike, `${base(config.portone.v2ApiUrl)}/login/api-secret`, {
      apiSecret: sandbox ? TEST_MERCHANT.v2ApiSecret : config.portone.v2ApiSecret,
    });
    checks.push(
      !answer.ok
        ? {
            name: "portone v2",
            ok: false,
            detail: `cannot reach ${where} (${answer.cause})`,
            fix: "check PORTONE_V2_API_URL and that this machine may reach it (egress to api.portone.io:443)",
          }
        : answer.status !== 200
          ? {
              name: "portone v2",
              ok: false,
              detail: `${where} refused the API secret (HTTP ${answer.status})`,
              fix: "check PORTONE_V2_API_SECRET (the V2 API secret of the PortOne console)",
            }
          : { name: "portone v2", ok: true, detail: `login at ${where} answered in ${answer.ms} ms` },
    );
  }
  return checks;
}

function checkClock(portoneNowSeconds: number, localNowMs: number): Check {
  const skew = localNowMs / 1000 - portoneNowSeconds;
  // PortOne's `now` is whole seconds: up to 1 s of the difference is its rounding.
  const shown = `${Math.abs(skew).toFixed(1)} s ${skew >= 0 ? "ahead of" : "behind"} PortOne's clock`;
  return Math.abs(skew) <= MAX_CLOCK_SKEW_SECONDS + 1
    ? { name: "clock", ok: true, detail: shown }
    : {
        name: "clock",
        ok: false,
        detail: `${shown} (more than ${MAX_CLOCK_SKEW_SECONDS} s)`,
        fix: "synchronise this machine's clock (NTP: timedatectl set-ntp true); freshness and expiry are judged on it",
      };
}

type Answer =
  | { ok: true; status: number; body: unknown; ms: number; localNowMs: number }
  | { ok: false; cause: string };

/** One POST, bounded; the body is read as JSON when it is JSON. Nothing of it is printed but codes. */
async function post(fetchLike: FetchLike, url: string, json: unknown): Promise<Answer> {
  const started = Date.now();
  try {
    const response = await fetchLike(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(json),
      signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
    });
    const body: unknown = await response.json().catch(() => undefined);
    const ended = Date.now();
    return {
      ok: true,
      status: response.status,
      body,
      ms: ended - started,
      localNowMs: (started + ended) / 2,
    };
  } catch (error) {
    return { ok: false, cause: networkCause(error) };
  }
}

function networkCause(error: unknown): string {
  if (error instanceof Error && error.name === "TimeoutError")
    return `no answer in ${UPSTREAM_TIMEOUT_MS} ms`;
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === "string" ? cause.code : "network error";
}
