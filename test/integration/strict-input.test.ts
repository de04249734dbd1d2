/**
 * Strict input (issue 11, part 1), through HTTP over real sockets on SQLite and PostgreSQL:
 * - every merchant-API body and query refuses an unknown field with 400 `unknown_field`, naming
 *   it as the caller wrote it, and stores nothing (a misspelt `minAge` used to switch the age check
 *   off);
 * - the browser routes ignore unknown parameters (PortOne adds some without notice) and never read
 *   them;
 * - a repeated query key is a 400 `repeated_parameter` on every route of the app;
 * - a body is read as I-JSON: not UTF-8, a name given twice, a lone surrogate are 400 `invalid_json`,
 *   and the routes that take no body refuse one;
 * - messages use the caller's spelling: snake_case over HTTP, camelCase from TypeScript.
 *
 * "Nothing stored" is checked in the database itself: the row count of every certgate table, read
 * over a connection of the test's own (SQL), is the same before and after.
 */
import { request as httpRequest } from "node:http";
import { type ServerType, serve } from "@hono/node-server";
import Database from "better-sqlite3";
import fc from "fast-check";
import type { Hono } from "hono";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError, RequestError } from "../../src/core/errors.js";
import { resolvePolicy } from "../../src/core/policy.js";
import { TEST_MERCHANT } from "../../src/emulator/index.js";
import { createHttpApp, type DemoPage } from "../../src/http/app.js";
import { createVerificationBody, policyInput } from "../../src/http/schemas.js";
import { createMetrics } from "../../src/observability/metrics.js";
import { createV1Client } from "../../src/portone/index.js";
import { createVerificationService, type VerificationService } from "../../src/service/verifications.js";
import { fuzzParameters, weirdString } from "../reliability/fuzz-arbitraries.js";
import { RELIABILITY_TIMEOUT_MS, scaled } from "../reliability/scale.js";
import {
  API_KEY,
  auth,
  complete,
  createV2Verification,
  createVerification,
  DATABASES,
  type Harness,
  libraryService,
  PG_URL,
  RETURN_ORIGIN,
  startHarness,
} from "./harness.js";

/** Cases per property: a few seconds under `npm test`, many more under CERTGATE_SOAK=1. */
const RUNS = scaled(60, 1_000);

const errorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string().max(300),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
const unknownFieldDetails = z.object({ field: z.string(), fields: z.array(z.string()).min(1) });
const repeatedDetails = z.object({ parameter: z.string() });

const DEMO: DemoPage = {
  html: "<!doctype html><title>certgate demo</title>",
  assets: new Map([["demo.js", { type: "text/javascript; charset=utf-8", body: "// demo" }]]),
};

// --- what the database holds -----------------------------------------------------------------------

/** Row counts of every certgate table (migration bookkeeping excluded), read with plain SQL. */
interface TableCounts {
  read(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

async function openTableCounts(h: Harness): Promise<TableCounts> {
  if (h.sqliteFile !== undefined) {
    const db = new Database(h.sqliteFile, { readonly: true, fileMustExist: true });
    return {
      async read() {
        const tables = db
          .prepare(
            "select name from sqlite_master where type = 'table' and name not like 'kysely_%' and name not like 'sqlite_%'",
          )
          .pluck()
          .all() as string[];
        const counts: Record<string, number> = {};
        for (const table of tables) {
          counts[table] = db.prepare(`select count(*) from "${table}"`).pluck().get() as number;
        }
        return counts;
      },
      async close() {
        db.close();
      },
    };
  }
  const client = new pg.Client(PG_URL);
  await client.connect();
  const schema = h.pgSchema ?? "";
  return {
    async read() {
      const tables = await client.query<{ table_name: string }>(
        "select table_name from information_schema.tables where table_schema = $1 and table_name not like 'kysely_%'",
        [schema],
      );
      const counts: Record<string, number> = {};
      for (const { table_name } of tables.rows) {
        const rows = await client.query<{ n: string }>(
          `select count(*) as n from "${schema}"."${table_name}"`,
        );
        counts[table_name] = Number(rows.rows[0]?.n);
      }
      return counts;
    },
    close: () => client.end(),
  };
}

// --- the apps under test -------------------------------------------------------------------------

/** An app served on a real socket, beside the harness's own. */
interface Served {
  app: Hono;
  url: string;
  close(): Promise<void>;
}

async function serveApp(app: Hono): Promise<Served> {
  const server: ServerType = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The routes the harness's app lacks: a service on the harness's store and emulator, served twice —
 * in sandbox mode (POST /sandbox/verifications and the demo page) and in production with the demo
 * page (POST /demo/verifications) — both with /metrics.
 */
async function serveExtraApps(h: Harness): Promise<{
  service: VerificationService;
  sandbox: Served;
  production: Served;
}> {
  const service = libraryService(h);
  const silent = { info() {}, warn() {}, error() {} };
  const common = {
    service,
    apiKeys: [API_KEY],
    returnOrigins: [RETURN_ORIGIN],
    sdk: { impCode: TEST_MERCHANT.impCode, v2: { storeId: TEST_MERCHANT.storeId } },
    logger: silent,
    metrics: createMetrics({ defaultMetrics: false }),
    ready: () => h.store.ping(),
    demo: DEMO,
  };
  return {
    service,
    sandbox: await serveApp(createHttpApp({ ...common, sandbox: true })),
    production: await serveApp(createHttpApp({ ...common, sandbox: false })),
  };
}

async function send(
  base: string,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === "string" ? init.body : JSON.stringify(init.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? "GET",
    headers,
    body,
    redirect: "manual",
  });
  return { status: res.status, text: await res.text() };
}

/** A request with any bytes as its body, on any method (fetch refuses a GET with one). */
function sendBytes(
  base: string,
  path: string,
  init: { method: string; body: string | Uint8Array; headers?: Record<string, string> },
): Promise<{ status: number; text: string }> {
  const body = typeof init.body === "string" ? Buffer.from(init.body) : init.body;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${base}${path}`,
      {
        method: init.method,
        headers: { "content-type": "application/json", ...init.headers, "content-length": body.byteLength },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

function errorOf(text: string) {
  return errorBody.parse(JSON.parse(text)).error;
}

/** The answer is 400 `unknown_field` naming exactly `fields` (in any order), in details and message. */
function expectUnknownFields(answer: { status: number; text: string }, fields: readonly string[]): void {
  expect(answer.status, answer.text).toBe(400);
  const error = errorOf(answer.text);
  expect(error.code).toBe("unknown_field");
  const details = unknownFieldDetails.parse(error.details);
  expect([...details.fields].sort()).toEqual([...fields].sort());
  expect(details.field).toBe(details.fields[0]);
}

/** An object with `key` set as an own property, even "__proto__" (which `=` would not create). */
function withOwn(target: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
  return target;
}

// --- arbitraries ---------------------------------------------------------------------------------

const CREATE_KEYS = Object.keys(createVerificationBody.shape);
const POLICY_KEYS = Object.keys(policyInput.shape);

/** A valid value of each create field (policy aside). */
const createFields = {
  api_version: fc.constantFrom("v1", "v2"),
  account_ref: fc.stringMatching(/^[\x21-\x7e]{1,40}$/),
  return_url: fc.constantFrom(`${RETURN_ORIGIN}/done`, `${RETURN_ORIGIN}/a?b=c`),
  expires_in_seconds: fc.integer({ min: 60, max: 86_400 }),
};
const policyFields = {
  min_age: fc.integer({ min: 0, max: 19 }),
  max_age: fc.integer({ min: 19, max: 150 }),
  age_rule: fc.constantFrom("year", "international"),
  freshness_seconds: fc.integer({ min: 0, max: 86_400 }),
  future_tolerance_seconds: fc.integer({ min: 0, max: 3_600 }),
  judge_age_at: fc.constantFrom("verification", "now"),
  require_person_key: fc.boolean(),
};
/** A field's value: mostly valid, sometimes of any type (unknown fields are reported first anyway). */
function sometimesWrong(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: fc.jsonValue() });
}
function record(fields: Record<string, fc.Arbitrary<unknown>>) {
  const model = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, sometimesWrong(v)]));
  return fc.record(model, { requiredKeys: [] });
}

/**
 * A key none of `known` is: near misses of the real ones (camelCase, typos, case, spaces), the
 * reproductions' keys, prototype names, and any string at all.
 */
function unknownKey(known: readonly string[]): fc.Arbitrary<string> {
  const nearMiss = fc.constantFrom(...known).chain((k) =>
    fc.constantFrom(
      k.replace(/_(\w)/g, (_, c: string) => c.toUpperCase()), // min_age → minAge
      k.replaceAll("_", ""),
      k.toUpperCase(),
      `${k} `,
      ` ${k}`,
      k.slice(0, -1),
      `${k}s`,
      k.replace(/[aeiou]/, ""),
    ),
  );
  return fc
    .oneof(
      { weight: 3, arbitrary: nearMiss },
      {
        weight: 1,
        arbitrary: fc.constantFrom("minAge", "polcy", "min_age", "__proto__", "constructor", "toString", ""),
      },
      // Bounded, so that a body of several stays under the 16 KB limit (else a 413, rightly), and
      // Unicode: a lone surrogate makes the body invalid I-JSON, a 400 invalid_json (tested below).
      {
        weight: 2,
        arbitrary: weirdString
          .filter((k) => k.length <= 200)
          .map((k) =>
            k.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "x"),
          ),
      },
    )
    .filter((k) => !known.includes(k));
}

/** 1–3 distinct unknown keys with any values. */
function unknownEntries(known: readonly string[]): fc.Arbitrary<[string, unknown][]> {
  return fc.uniqueArray(fc.tuple(unknownKey(known), fc.jsonValue()), {
    minLength: 1,
    maxLength: 3,
    selector: ([k]) => k,
  });
}

/** A create body with unknown keys at the top level, in `policy`, or both, and their paths. */
const createBodyWithUnknowns = fc
  .tuple(
    record(createFields),
    record(policyFields),
    fc.constantFrom("top", "policy", "both"),
    unknownEntries(CREATE_KEYS),
    unknownEntries(POLICY_KEYS),
  )
  .map(([top, policy, where, topExtra, policyExtra]) => {
    const fields: string[] = [];
    const body: Record<string, unknown> = { ...top, policy: { ...policy } };
    if (where !== "policy") {
      for (const [key, value] of topExtra) {
        withOwn(body, key, value);
        fields.push(key);
      }
    }
    if (where !== "top") {
      for (const [key, value] of policyExtra) {
        withOwn(body.policy as Record<string, unknown>, key, value);
        fields.push(`policy.${key}`);
      }
    }
    return { body, fields };
  });

/** A query key as it arrives: non-empty after decoding (Hono skips empty names) and URL-encodable. */
const queryKey = fc
  .oneof(
    { weight: 2, arbitrary: fc.constantFrom("x", "force", "dry_run", "expand", "imp_uid", "__proto__") },
    { weight: 2, arbitrary: weirdString },
  )
  .map((k) => k.replace(/[\ud800-\udfff]/g, "x"))
  .filter((k) => k.length > 0 && k.length < 200);
const queryValue = fc.string({ maxLength: 12 });

function queryString(pairs: readonly (readonly [string, string])[]): string {
  return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
}

/** Distinct keys with values: a query that repeats nothing. */
const distinctQuery = fc.uniqueArray(fc.tuple(queryKey, queryValue), {
  maxLength: 3,
  selector: ([k]) => k,
});

/**
 * `base` with one key given 2–3 times (a key of `base` or another), in shuffled order. Returns the
 * query string and the repeated key.
 */
function repeatedQuery(base: readonly (readonly [string, string])[]) {
  return fc
    .tuple(
      fc.oneof(...(base.length > 0 ? [fc.constantFrom(...base.map(([k]) => k))] : []), queryKey),
      fc.array(queryValue, { minLength: 2, maxLength: 3 }),
      distinctQuery,
    )
    .chain(([key, values, others]) => {
      const pairs: (readonly [string, string])[] = [
        ...base.filter(([k]) => k !== key),
        ...others.filter(([k]) => k !== key && !base.some(([b]) => b === k)),
        ...values.map((v) => [key, v] as const),
      ];
      return fc.shuffledSubarray(pairs, { minLength: pairs.length }).map((shuffled) => ({
        query: queryString(shuffled),
        key,
      }));
    });
}

// --- the tests -----------------------------------------------------------------------------------

describe.each(DATABASES)("strict input on %s", (kind) => {
  let h: Harness;
  let tables: TableCounts;
  let extra: Awaited<ReturnType<typeof serveExtraApps>>;
  /** A V1 verification, pending, whose upstream record would verify an adult. */
  let pendingV1: { id: string; mid: string; imp: string };
  /** A V2 verification, pending, whose upstream record is VERIFIED. */
  let pendingV2: { id: string; idv: string };
  const BOUND_ACCOUNT = "strict-bound-1";

  beforeAll(async () => {
    h = await startHarness(kind);
    tables = await openTableCounts(h);
    extra = await serveExtraApps(h);
    // An account bound to a person, which a DELETE that slipped through would unbind.
    const bound = await createVerification(h, { account_ref: BOUND_ACCOUNT });
    const record = h.emulator.createCertification({ merchant_uid: bound.merchant_uid, persona: "adult" });
    expect((await complete(h, record.imp_uid, bound.merchant_uid)).status).toBe(200);
    const v1 = await createVerification(h, { return_url: `${RETURN_ORIGIN}/done` });
    const v1Record = h.emulator.createCertification({ merchant_uid: v1.merchant_uid, persona: "adult" });
    pendingV1 = { id: v1.id, mid: v1.merchant_uid, imp: v1Record.imp_uid };
    const v2 = await createV2Verification(h, { return_url: `${RETURN_ORIGIN}/done` });
    h.emulator.createIdentityVerification({
      identityVerificationId: v2.identity_verification_id,
      persona: "adult",
    });
    pendingV2 = { id: v2.id, idv: v2.identity_verification_id };
  });
  afterAll(async () => {
    await extra?.sandbox.close();
    await extra?.production.close();
    await tables?.close();
    await h?.close();
  });

  /** Runs `request` and checks that no table of the database gained or lost a row. */
  async function storesNothing<T>(request: () => Promise<T>): Promise<T> {
    const before = await tables.read();
    const result = await request();
    expect(await tables.read()).toEqual(before);
    return result;
  }

  /** POST a create body to one of the three create routes (the merchant API with its key). */
  function createOn(route: "api" | "sandbox" | "demo", body: unknown, query = "") {
    if (route === "api") {
      return send(h.url, `/api/verifications${query}`, { method: "POST", headers: auth, body });
    }
    const base = route === "sandbox" ? extra.sandbox.url : extra.production.url;
    return send(base, `/${route}/verifications${query}`, { method: "POST", body });
  }

  it("the row counts see writes (so an unchanged count means nothing was stored)", async () => {
    const before = await tables.read();
    expect(before.verifications).toBeGreaterThanOrEqual(3);
    await createVerification(h, { account_ref: "strict-probe-1" });
    expect((await tables.read()).verifications).toBe((before.verifications ?? 0) + 1);
  });

  describe("the reproductions fail closed and store nothing", () => {
    it.each([
      ["a camelCase policy key", { account_ref: "u9", policy: { minAge: 19 } }, "policy.minAge"],
      ["a misspelt policy", { account_ref: "u9", polcy: { min_age: 19 } }, "polcy"],
      ["a policy key at the top level", { account_ref: "u9", min_age: 19 }, "min_age"],
    ])("%s → 400 unknown_field naming it, on every create route", async (_, body, field) => {
      for (const route of ["api", "sandbox", "demo"] as const) {
        const answer = await storesNothing(() => createOn(route, body));
        expectUnknownFields(answer, [field]);
        expect(errorOf(answer.text).message).toContain(`"${field}"`);
      }
    });

    it("the minAge body no longer lets a minor through: nothing was issued to complete", async () => {
      const before = await tables.read();
      const answer = await createOn("api", { account_ref: "u9", policy: { minAge: 19 } });
      expect(answer.status).toBe(400);
      expect(answer.text).not.toContain("merchant_uid");
      expect((await tables.read()).verifications).toBe(before.verifications);
    });

    it("reports the unknown field first when the body has other problems too", async () => {
      const answer = await storesNothing(() =>
        createOn("api", { account_ref: 5, policy: { min_age: "19", minAge: 19 }, return_url: "/x" }),
      );
      expectUnknownFields(answer, ["policy.minAge"]);
    });

    it("names every unknown field, each with its full path", async () => {
      const answer = await storesNothing(() =>
        createOn("api", { min_age: 19, polcy: {}, policy: { minAge: 19, ageRule: "year" } }),
      );
      expectUnknownFields(answer, ["min_age", "polcy", "policy.minAge", "policy.ageRule"]);
    });

    it("refuses any query parameter on the merchant routes", async () => {
      const create = await storesNothing(() => createOn("api", { account_ref: "u10" }, "?dry_run=1"));
      expectUnknownFields(create, ["dry_run"]);
      for (const route of ["sandbox", "demo"] as const) {
        expectUnknownFields(await storesNothing(() => createOn(route, {}, "?min_age=19")), ["min_age"]);
      }
      const get = await send(h.url, `/api/verifications/${pendingV1.id}?expand=identity`, { headers: auth });
      expectUnknownFields(get, ["expand"]);
      const unbind = await storesNothing(() =>
        send(h.url, `/api/accounts/${BOUND_ACCOUNT}?force=true`, { method: "DELETE", headers: auth }),
      );
      expectUnknownFields(unbind, ["force"]);
    });

    it.each([
      [
        "imp_uid",
        (v: { imp: string; mid: string }) => `imp_uid=imp_bogus&imp_uid=${v.imp}&merchant_uid=${v.mid}`,
      ],
      [
        "merchant_uid",
        (v: { imp: string; mid: string }) => `imp_uid=${v.imp}&merchant_uid=${v.mid}&merchant_uid=${v.mid}`,
      ],
    ])("a repeated %s on the V1 redirect → 400, the verification stays pending", async (parameter, query) => {
      const answer = await storesNothing(() => send(h.url, `/certifications/redirect?${query(pendingV1)}`));
      expect(answer.status, answer.text).toBe(400);
      const error = errorOf(answer.text);
      expect(error.code).toBe("repeated_parameter");
      expect(repeatedDetails.parse(error.details).parameter).toBe(parameter);
      expect((await h.store.getVerification(pendingV1.id))?.status).toBe("pending");
    });

    it("a repeated identityVerificationId on the V2 redirect → 400, the verification stays pending", async () => {
      const idv = pendingV2.idv;
      const answer = await storesNothing(() =>
        send(
          h.url,
          `/identity-verifications/redirect?identityVerificationId=${idv}&identityVerificationId=${idv}`,
        ),
      );
      expect(answer.status, answer.text).toBe(400);
      const error = errorOf(answer.text);
      expect(error.code).toBe("repeated_parameter");
      expect(repeatedDetails.parse(error.details).parameter).toBe("identityVerificationId");
      expect((await h.store.getVerification(pendingV2.id))?.status).toBe("pending");
    });
  });

  describe("a body is read as I-JSON", () => {
    function expectInvalidJson(answer: { status: number; text: string }, field?: string): void {
      expect(answer.status, answer.text).toBe(400);
      const error = errorOf(answer.text);
      expect(error.code).toBe("invalid_json");
      if (field !== undefined) expect(error.details).toEqual({ field });
    }

    it.each([
      // The reproduction: JSON.parse keeps the last min_age, and a minor used to verify.
      ['{"account_ref":"u11","policy":{"min_age":19,"min_age":0}}', "policy.min_age"],
      ['{"account_ref":"u11","policy":{"min_age":19},"policy":{}}', "policy"],
      ['{"account_ref":"u11","\\u0061ccount_ref":"u12"}', "account_ref"],
    ])("%s → 400 invalid_json naming %s, on every create route, nothing stored", async (text, field) => {
      for (const route of ["api", "sandbox", "demo"] as const) {
        const base = route === "api" ? h.url : route === "sandbox" ? extra.sandbox.url : extra.production.url;
        const answer = await storesNothing(() =>
          sendBytes(base, `/${route === "api" ? "api" : route}/verifications`, {
            method: "POST",
            body: text,
            headers: route === "api" ? auth : {},
          }),
        );
        expectInvalidJson(answer, field);
      }
    });

    it("a completion that names its record twice → 400, the verification stays pending", async () => {
      const v1 = sendBytes(h.url, "/certifications", {
        method: "POST",
        body: `{"imp_uid":"imp_bogus","imp_uid":"${pendingV1.imp}","merchant_uid":"${pendingV1.mid}"}`,
      });
      expectInvalidJson(await storesNothing(() => v1), "imp_uid");
      const v2 = sendBytes(h.url, "/identity-verifications", {
        method: "POST",
        body: `{"identityVerificationId":"${pendingV2.idv}","identityVerificationId":"${pendingV2.idv}"}`,
      });
      expectInvalidJson(await storesNothing(() => v2), "identityVerificationId");
      expect((await h.store.getVerification(pendingV1.id))?.status).toBe("pending");
      expect((await h.store.getVerification(pendingV2.id))?.status).toBe("pending");
    });

    it("a body whose bytes are not UTF-8 → 400 invalid_json, nothing stored (never read as U+FFFD)", async () => {
      const name = Buffer.concat([
        Buffer.from('{"account_ref":"u13","expected":{"name":"'),
        Buffer.from("홍길동"),
        Buffer.from([0xff]),
        Buffer.from('"}}'),
      ]);
      expectInvalidJson(
        await storesNothing(() =>
          sendBytes(h.url, "/api/verifications", { method: "POST", body: name, headers: auth }),
        ),
      );
      // Cut inside a character: the first two bytes of 홍's three.
      const cut = Buffer.concat([
        Buffer.from('{"account_ref":"'),
        Buffer.from("홍").subarray(0, 2),
        Buffer.from('"}'),
      ]);
      expectInvalidJson(
        await storesNothing(() =>
          sendBytes(h.url, "/api/verifications", { method: "POST", body: cut, headers: auth }),
        ),
      );
      // A BOM is still dropped, and the same body without the stray byte is taken.
      const fine = Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from('{"expected":{"name":"홍길동"}}'),
      ]);
      const taken = await sendBytes(h.url, "/api/verifications", {
        method: "POST",
        body: fine,
        headers: auth,
      });
      expect(taken.status, taken.text).toBe(201);
    });

    it("a lone surrogate escape → 400 invalid_json, nothing stored", async () => {
      for (const text of ['{"expected":{"name":"\\ud800"}}', '{"account_ref":"a\\udc00"}']) {
        expectInvalidJson(
          await storesNothing(() =>
            sendBytes(h.url, "/api/verifications", { method: "POST", body: text, headers: auth }),
          ),
        );
      }
    });

    it("the routes that take no body refuse one, and the account stays bound", async () => {
      const routes = [
        { method: "DELETE", path: `/api/accounts/${BOUND_ACCOUNT}` },
        { method: "GET", path: `/api/verifications/${pendingV1.id}` },
        { method: "POST", path: `/api/verifications/${pendingV1.id}/refresh` },
      ];
      for (const { method, path } of routes) {
        const unknown = await storesNothing(() =>
          sendBytes(h.url, path, { method, body: '{"dry_run":true}', headers: auth }),
        );
        expectUnknownFields(unknown, ["dry_run"]);
        const text = await storesNothing(() =>
          sendBytes(h.url, path, {
            method,
            body: "garbage",
            headers: { ...auth, "content-type": "text/plain" },
          }),
        );
        expect(text.status, text.text).toBe(415);
        expect(errorOf(text.text).code).toBe("unsupported_media_type");
        const twice = await storesNothing(() =>
          sendBytes(h.url, path, { method, body: '{"a":1,"a":1}', headers: auth }),
        );
        expectInvalidJson(twice, "a");
      }
      expect(await h.store.isAccountBound(BOUND_ACCOUNT)).toBe(true);
    });

    it("an empty body or {} is taken by the routes that take no body", async () => {
      const account = `strict-unbind-${kind}`;
      const v = await createVerification(h, { account_ref: account });
      // Another person than the bound account's (one person, one account).
      const record = h.emulator.createCertification({ merchant_uid: v.merchant_uid, persona: "foreigner" });
      expect((await complete(h, record.imp_uid, v.merchant_uid)).status).toBe(200);
      const read = await sendBytes(h.url, `/api/verifications/${v.id}`, {
        method: "GET",
        body: "{}",
        headers: auth,
      });
      expect(read.status, read.text).toBe(200);
      const unbound = await sendBytes(h.url, `/api/accounts/${account}`, {
        method: "DELETE",
        body: "{}",
        headers: auth,
      });
      expect(unbound.status, unbound.text).toBe(200);
      expect(JSON.parse(unbound.text)).toEqual({ account_ref: account, unbound: true });
      expect(await h.store.isAccountBound(account)).toBe(false);
    });
  });

  describe("the browser routes ignore unknown parameters", () => {
    it("the V1 redirect completes with PortOne's extra parameters", async () => {
      const v = await createVerification(h, { return_url: `${RETURN_ORIGIN}/done` });
      const { imp_uid } = h.emulator.createCertification({ merchant_uid: v.merchant_uid, persona: "adult" });
      const res = await h.api(
        `/certifications/redirect?imp_uid=${imp_uid}&merchant_uid=${v.merchant_uid}&success=false&error_msg=x&new_param=1`,
      );
      expect(res.status).toBe(303);
      expect((await h.store.getVerification(v.id))?.status).toBe("verified");
    });

    it("the V1 popup route completes with an extra body field", async () => {
      const v = await createVerification(h);
      const { imp_uid } = h.emulator.createCertification({ merchant_uid: v.merchant_uid, persona: "adult" });
      const res = await h.api("/certifications", {
        method: "POST",
        body: { imp_uid, merchant_uid: v.merchant_uid, success: true, pg_provider: "danal" },
      });
      expect(res.status).toBe(200);
    });

    it("the V2 redirect completes with PortOne's code and message", async () => {
      const v = await createV2Verification(h, { return_url: `${RETURN_ORIGIN}/done` });
      h.emulator.createIdentityVerification({
        identityVerificationId: v.identity_verification_id,
        persona: "adult",
      });
      const res = await h.api(
        `/identity-verifications/redirect?identityVerificationId=${v.identity_verification_id}&code=x&message=y`,
      );
      expect(res.status).toBe(303);
      expect((await h.store.getVerification(v.id))?.status).toBe("verified");
    });
  });

  describe("one spelling per surface", () => {
    it("HTTP policy problems name the snake_case fields the caller sent", async () => {
      const answer = await storesNothing(() => createOn("api", { policy: { min_age: 30, max_age: 20 } }));
      expect(answer.status).toBe(400);
      const error = errorOf(answer.text);
      expect(error.code).toBe("invalid_request");
      expect(error.message).toContain("policy.min_age must not exceed policy.max_age");
      expect(answer.text).not.toMatch(/minAge|maxAge/);
    });

    it("service.create refuses unknown input keys by their camelCase names, storing nothing", async () => {
      const policy = resolvePolicy({}, { creatingAccount: false });
      for (const [input, field] of [
        [{ policy, accountref: "lib-1" }, "accountref"],
        [{ policy: { ...policy, minage: 19 } }, "policy.minage"],
        [{ policy: { ...policy, minAge: { age: 19, rule: "year", rul: "x" } } }, "policy.minAge.rul"],
      ] as const) {
        const error = await storesNothing(() =>
          // biome-ignore lint/suspicious/noExplicitAny: a JavaScript caller's object, unchecked on purpose
          extra.service.create(input as any).then(
            () => undefined,
            (e: unknown) => e,
          ),
        );
        expect(error).toBeInstanceOf(RequestError);
        expect(error).toMatchObject({ code: "unknown_field", details: { field, fields: [field] } });
      }
    });
  });

  it.each([[-1], [0], [59], [86_401], [1e12], [90.5], [Number.NaN]])(
    "service.create with ttlSeconds %s → invalid_request naming it, nothing stored",
    async (ttlSeconds) => {
      const policy = resolvePolicy({}, { creatingAccount: false });
      const error = await storesNothing(() =>
        extra.service.create({ policy, ttlSeconds }).then(
          () => undefined,
          (e: unknown) => e,
        ),
      );
      expect(error).toBeInstanceOf(RequestError);
      expect(error).toMatchObject({ code: "invalid_request", details: { field: "ttlSeconds" } });
    },
  );

  it.each([30, 86_401, 1.5])(
    "a service built with defaultTtlSeconds %s is a ConfigError naming it, not a 400 on each creation",
    (defaultTtlSeconds) => {
      const build = () =>
        createVerificationService({
          store: h.store,
          v1: createV1Client({ apiKey: TEST_MERCHANT.impKey, apiSecret: TEST_MERCHANT.impSecret }),
          defaultTtlSeconds,
        });
      expect(build).toThrow(ConfigError);
      expect(build).toThrow(/^defaultTtlSeconds: /);
    },
  );

  it("service.create takes ttlSeconds at its bounds, 60 and 86,400", async () => {
    const policy = resolvePolicy({}, { creatingAccount: false });
    for (const ttlSeconds of [60, 86_400]) {
      const created = await extra.service.create({ policy, ttlSeconds });
      expect(created.expiresAt.getTime() - created.createdAt.getTime()).toBe(ttlSeconds * 1000);
    }
  });

  describe("the library's completions refuse what they do not know", () => {
    it.each([
      ["the HTTP spelling", { imp_uid: "IMP", merchant_uid: "MID" }, "unknown_field", "imp_uid"],
      [
        "an extra option",
        { impUid: "IMP", merchantUid: "MID", skipAgeCheck: true },
        "unknown_field",
        "skipAgeCheck",
      ],
      ["no merchantUid", { impUid: "IMP" }, "invalid_request", "merchantUid"],
      ["an empty impUid", { impUid: "", merchantUid: "MID" }, "invalid_request", "impUid"],
      ["a number", { impUid: 42, merchantUid: "MID" }, "invalid_request", "impUid"],
      // PostgreSQL refuses NUL in text: unchecked, the lookup was a driver error (a 500 over HTTP).
      ["a NUL in merchantUid", { impUid: "IMP", merchantUid: "MID\u0000" }, "invalid_request", "merchantUid"],
      [
        "an impUid over 64 characters",
        { impUid: "i".repeat(65), merchantUid: "MID" },
        "invalid_request",
        "impUid",
      ],
      ["no object", "IMP", "invalid_request", "input"],
    ])("completeV1 with %s → %s naming it; the verification stays pending", async (_, raw, code, field) => {
      const input = JSON.parse(
        JSON.stringify(raw).replaceAll("IMP", pendingV1.imp).replaceAll("MID", pendingV1.mid),
      ) as unknown;
      const error = await storesNothing(() =>
        // biome-ignore lint/suspicious/noExplicitAny: a JavaScript caller's input, unchecked on purpose
        extra.service.completeV1(input as any).then(
          () => undefined,
          (e: unknown) => e,
        ),
      );
      expect(error).toBeInstanceOf(RequestError);
      expect(error).toMatchObject({ code, details: { field } });
      expect((await h.store.getVerification(pendingV1.id))?.status).toBe("pending");
    });

    it("completeV2 with the id misspelt, or an extra key → unknown_field; stays pending", async () => {
      for (const [input, field] of [
        [{ identityVerificationID: pendingV2.idv }, "identityVerificationID"],
        [{ identityVerificationId: pendingV2.idv, force: true }, "force"],
      ] as const) {
        const error = await storesNothing(() =>
          // biome-ignore lint/suspicious/noExplicitAny: a JavaScript caller's input, unchecked on purpose
          extra.service.completeV2(input as any).then(
            () => undefined,
            (e: unknown) => e,
          ),
        );
        expect(error).toMatchObject({ code: "unknown_field", details: { field } });
      }
      expect((await h.store.getVerification(pendingV2.id))?.status).toBe("pending");
    });

    it("completeV2, get, findByBoundId and refresh with a NUL in the id → invalid_request naming it, not a driver error", async () => {
      const refused = (promise: Promise<unknown>) =>
        promise.then(
          () => undefined,
          (e: unknown) => e,
        );
      for (const [error, field] of [
        [
          await refused(extra.service.completeV2({ identityVerificationId: "idv_\u0000" })),
          "identityVerificationId",
        ],
        [await refused(extra.service.get("vrf_\u0000")), "id"],
        [await refused(extra.service.findByBoundId("mid_\u0000")), "boundId"],
        [await refused(extra.service.refresh("vrf_\u0000")), "id"],
      ] as const) {
        expect(error).toBeInstanceOf(RequestError);
        expect(error).toMatchObject({ code: "invalid_request", details: { field } });
      }
      expect((await h.store.getVerification(pendingV2.id))?.status).toBe("pending");
    });
  });

  // The soak run (CERTGATE_SOAK=1) takes minutes; the per-test bound grows with it.
  describe("properties", { timeout: RELIABILITY_TIMEOUT_MS }, () => {
    it("an unknown key at any depth of a create body → 400 unknown_field naming it, nothing stored", async () => {
      await fc.assert(
        fc.asyncProperty(
          createBodyWithUnknowns,
          fc.constantFrom("api", "sandbox", "demo"),
          async ({ body, fields }, route) => {
            const answer = await storesNothing(() => createOn(route as "api" | "sandbox" | "demo", body));
            expectUnknownFields(answer, fields);
          },
        ),
        fuzzParameters(RUNS),
      );
    });

    it("any query parameter on a merchant route → 400 unknown_field naming it, nothing stored", async () => {
      const route = fc.constantFrom(
        { method: "POST", path: "/api/verifications", base: "api" as const },
        { method: "POST", path: "/sandbox/verifications", base: "sandbox" as const },
        { method: "POST", path: "/demo/verifications", base: "production" as const },
        { method: "GET", path: "/api/verifications/{id}", base: "api" as const },
        { method: "DELETE", path: `/api/accounts/${BOUND_ACCOUNT}`, base: "api" as const },
      );
      const nonEmpty = fc.uniqueArray(fc.tuple(queryKey, queryValue), {
        minLength: 1,
        maxLength: 3,
        selector: ([k]) => k,
      });
      await fc.assert(
        fc.asyncProperty(route, nonEmpty, async (r, pairs) => {
          const base = r.base === "api" ? h.url : extra[r.base].url;
          const path = r.path.replace("{id}", pendingV1.id);
          const answer = await storesNothing(() =>
            send(base, `${path}?${queryString(pairs)}`, {
              method: r.method,
              headers: r.base === "api" ? auth : {},
              ...(r.method === "POST" ? { body: { account_ref: "strict-query-1" } } : {}),
            }),
          );
          expectUnknownFields(
            answer,
            pairs.map(([k]) => k),
          );
        }),
        fuzzParameters(RUNS),
      );
    });

    it("a repeated query key on any route of the app → 400 repeated_parameter, nothing stored", async () => {
      // Every route with the request that would otherwise do its work (complete, create, unbind).
      const routes = [
        { app: "production", method: "POST", path: "/api/verifications", body: {} },
        { app: "sandbox", method: "POST", path: "/sandbox/verifications", body: {} },
        { app: "production", method: "POST", path: "/demo/verifications", body: {} },
        { app: "production", method: "GET", path: "/api/verifications/:id" },
        { app: "production", method: "POST", path: "/api/verifications/:id/refresh" },
        { app: "production", method: "DELETE", path: "/api/accounts/:account_ref" },
        { app: "production", method: "POST", path: "/certifications", body: "v1" },
        { app: "production", method: "GET", path: "/certifications/redirect", query: "v1" },
        { app: "production", method: "POST", path: "/identity-verifications", body: "v2" },
        { app: "production", method: "GET", path: "/identity-verifications/redirect", query: "v2" },
        { app: "sandbox", method: "GET", path: "/" },
        { app: "sandbox", method: "GET", path: "/demo/:file" },
        { app: "production", method: "GET", path: "/healthz" },
        { app: "production", method: "GET", path: "/readyz" },
        { app: "production", method: "GET", path: "/metrics" },
        { app: "production", method: "GET", path: "/openapi.json" },
        { app: "production", method: "GET", path: "/no/such/route" },
      ] as const;
      // The table covers every route both apps register (middleware aside).
      for (const app of ["sandbox", "production"] as const) {
        for (const { method, path } of extra[app].app.routes.filter((r) => r.method !== "ALL")) {
          expect(
            routes.some((r) => r.method === method && r.path === path),
            `${method} ${path}`,
          ).toBe(true);
        }
      }
      const concrete: Record<string, string> = {
        ":id": pendingV1.id,
        ":account_ref": BOUND_ACCOUNT,
        ":file": "demo.js",
      };
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...routes).chain((route) => {
            const base: [string, string][] =
              "query" in route
                ? route.query === "v1"
                  ? [
                      ["imp_uid", pendingV1.imp],
                      ["merchant_uid", pendingV1.mid],
                    ]
                  : [["identityVerificationId", pendingV2.idv]]
                : [];
            return repeatedQuery(base).map((q) => ({ route, ...q }));
          }),
          async ({ route, query, key }) => {
            const path = route.path.replace(/:\w+/g, (p) => concrete[p] ?? p);
            const body = !("body" in route)
              ? undefined
              : route.body === "v1"
                ? { imp_uid: pendingV1.imp, merchant_uid: pendingV1.mid }
                : route.body === "v2"
                  ? { identityVerificationId: pendingV2.idv }
                  : { account_ref: "strict-repeat-1" };
            const answer = await storesNothing(() =>
              send(extra[route.app].url, `${path}?${query}`, {
                method: route.method,
                headers: route.path.startsWith("/api/") ? auth : {},
                ...(body === undefined ? {} : { body }),
              }),
            );
            expect(answer.status, answer.text).toBe(400);
            const error = errorOf(answer.text);
            expect(error.code).toBe("repeated_parameter");
            expect(repeatedDetails.parse(error.details).parameter).toBe(key);
          },
        ),
        fuzzParameters(RUNS * 2),
      );
      expect((await h.store.getVerification(pendingV1.id))?.status).toBe("pending");
      expect((await h.store.getVerification(pendingV2.id))?.status).toBe("pending");
    });
  });
});
