/**
 * Property-based fuzzing of every upstream body the PortOne clients parse (issue 7). A real HTTP
 * server (node:http on 127.0.0.1:0) answers each request with a fast-check-chosen status, content
 * type and body — the valid body, mutations of it (fields removed, nulled, retyped, giant, deeply
 * nested, extra), truncated JSON, arbitrary JSON, empty, binary, HTML — and now and then stalls,
 * drops the connection mid-body or resets it.
 *
 * 1. The clients: V1 getToken → GET / DELETE /certifications/{imp_uid}; V2 GET
 *    /identity-verifications/{id} with the API secret, and with login + refresh tokens. Each call
 *    resolves with exactly what its schema makes of the body served, or rejects with certgate's
 *    UpstreamError (no other error type, no personal data in its message), within its budget.
 * 2. The service behind the HTTP routes: a completion whose upstream answers a fuzzed body is
 *    answered < 500 or exactly 502/503/504 with the stable `upstream_*` codes (never 500, never a
 *    stack), and the verification is verified only from a valid certified body, finished only on a
 *    definite answer about its own record, and otherwise stays pending (a 404 or a record bound
 *    elsewhere: a counted failed attempt) — and completes once PortOne answers properly.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import type { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { FAILED_ATTEMPT_REASONS } from "../../src/core/attempts.js";
import { UpstreamError } from "../../src/core/errors.js";
import { presentText } from "../../src/core/identity.js";
import { resolvePolicy } from "../../src/core/policy.js";
import type { Store } from "../../src/core/store.js";
import { createEmulator, PERSONA_IDS, type PersonaId, TEST_MERCHANT } from "../../src/emulator/index.js";
import { createHttpApp } from "../../src/http/app.js";
import { createV1Client, createV2Client, type V1Client, type V2Client } from "../../src/portone/index.js";
import { v1CertificationSchema, v1EnvelopeSchema, v1TokenSchema } from "../../src/portone/v1/schemas.js";
import { v2IdentityVerificationSchema } from "../../src/portone/v2/schemas.js";
import { createVerificationService, type VerificationService } from "../../src/service/verifications.js";
import { createKeyring } from "../../src/store/crypto.js";
import { openStore } from "../../src/store/index.js";
import { type DatabaseKind, START, TEST_SECRET } from "../integration/harness.js";
import {
  anyJson,
  applyMutations,
  errorCollectingLogger,
  fieldPaths,
  fuzzParameters,
  jsonText,
  type Mutation,
  mutations,
  type RawBody,
  UPSTREAM_CODES,
  withinBound,
} from "./fuzz-arbitraries.js";
import { RELIABILITY_TIMEOUT_MS, scaled } from "./scale.js";
import { createTestDatabase } from "./service-process.js";

/** Cases per client call, and per service flow on SQLite / PostgreSQL. */
const CLIENT_RUNS = scaled(120, 2_000);
const SERVICE_RUNS: Record<DatabaseKind, number> = {
  sqlite: scaled(120, 2_000),
  postgres: scaled(60, 1_000),
};

/** The fuzzed clients' transport: short attempts, one retry, a 1 ms backoff base. */
const TIMEOUT_MS = 150;
const RETRIES = 1;
/**
 * The longest a call may take: a token fetch and the call, both again after a 401, each up to
 * (1 + RETRIES) attempts of TIMEOUT_MS — plus slack for a loaded machine. Beyond it, it hangs.
 */
const CALL_BUDGET_MS = 4 * (1 + RETRIES) * TIMEOUT_MS + 3_000;

// --- the fuzzing server --------------------------------------------------------------------------

type UpstreamRoute = "v1.token" | "v1.get" | "v1.delete" | "v2.login" | "v2.refresh" | "v2.get";

/** How an answer travels: whole, never (stalled headers), half (stalled body), cut off, or reset. */
type Wire = "normal" | "stall-headers" | "stall-body" | "drop-mid-body" | "reset";

interface Answer {
  status: number;
  contentType: string | undefined;
  body: RawBody;
  wire: Wire;
}

interface FuzzServer {
  url: string;
  /** Answers per route for the next requests; the last one repeats. Clears `served` and `strays`. */
  load(plan: Partial<Record<UpstreamRoute, Answer[]>>): void;
  /** What each route answered since the last `load`, in order. */
  served: Map<UpstreamRoute, Answer[]>;
  /** Requests no plan answers (a path no client should call) since the last `load`. */
  strays: string[];
  close(): Promise<void>;
}

function routeOf(method: string, path: string): UpstreamRoute | undefined {
  if (method === "POST" && path === "/users/getToken") return "v1.token";
  if (method === "GET" && /^\/certifications\/[^/]+$/.test(path)) return "v1.get";
  if (method === "DELETE" && /^\/certifications\/[^/]+$/.test(path)) return "v1.delete";
  if (method === "POST" && path === "/login/api-secret") return "v2.login";
  if (method === "POST" && path === "/token/refresh") return "v2.refresh";
  if (method === "GET" && /^\/identity-verifications\/[^/]+$/.test(path)) return "v2.get";
  return undefined;
}

async function startFuzzServer(): Promise<FuzzServer> {
  let plan: Partial<Record<UpstreamRoute, Answer[]>> = {};
  const served = new Map<UpstreamRoute, Answer[]>();
  const strays: string[] = [];

  const answer = (req: IncomingMessage, res: ServerResponse) => {
    const route = routeOf(req.method ?? "", new URL(req.url ?? "/", "http://x").pathname);
    if (route === undefined) {
      strays.push(`${req.method} ${req.url}`);
      res.writeHead(418).end();
      return;
    }
    const queue = plan[route] ?? [];
    const list = served.get(route) ?? [];
    served.set(route, list);
    const next = queue[Math.min(list.length, queue.length - 1)];
    if (next === undefined) {
      strays.push(`${route}: no answer planned`);
      res.writeHead(418).end();
      return;
    }
    list.push(next);
    const body = typeof next.body === "string" ? Buffer.from(next.body, "utf8") : Buffer.from(next.body);
    const headers: Record<string, string | number> =
      next.contentType === undefined ? {} : { "content-type": next.contentType };
    switch (next.wire) {
      case "normal":
        res.writeHead(next.status, headers).end(body);
        return;
      case "stall-headers":
        return; // never answers: the client's timeout must end the attempt
      case "stall-body":
        res.writeHead(next.status, { ...headers, "content-length": body.length + 16 });
        res.write(body.subarray(0, body.length >> 1));
        return;
      case "drop-mid-body":
        res.writeHead(next.status, { ...headers, "content-length": body.length + 16 });
        res.write(body.subarray(0, body.length >> 1), () => req.socket.destroy());
        return;
      case "reset":
        req.socket.destroy();
        return;
    }
  };

  const server: Server = createServer((req, res) => {
    req.on("error", () => {});
    res.on("error", () => {});
    // Read the request fully first, as a real server would.
    req.resume();
    req.on("end", () => answer(req, res));
  });
  server.on("clientError", (_error, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    load(next) {
      plan = next;
      served.clear();
      strays.length = 0;
    },
    served,
    strays,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// --- what the server answers ---------------------------------------------------------------------

/** A factory of valid bodies: an emulator that is never served, only asked to build records. */
const factory = createEmulator({ startTime: START });
/** Makes ids and tokens unique within a run (the factory refuses a second VERIFIED record of one id). */
let serial = 0;
const nowSeconds = Math.floor(START / 1000);

function v1Envelope<T>(response: T) {
  return { code: 0, message: null, response };
}
function validV1Token() {
  return v1Envelope({
    access_token: `tok_${++serial}`,
    now: nowSeconds,
    expired_at: nowSeconds + 1_800,
  });
}
function validV1Certification(merchantUid: string, persona: PersonaId) {
  return v1Envelope(factory.createCertification({ merchant_uid: merchantUid, persona }));
}
function validV2Pair() {
  const id = ++serial;
  return { accessToken: `at_${id}`, refreshToken: `rt_${id}` };
}
function validV2Record(id: string, persona: PersonaId, status: "VERIFIED" | "READY" | "FAILED") {
  return factory.createIdentityVerification({
    identityVerificationId: id,
    persona,
    status: persona === "uncertified" && status === "VERIFIED" ? "READY" : status,
  });
}

/** Field paths of each body, from a sample, for the mutations. */
const PATHS = {
  v1Token: fieldPaths(validV1Token()),
  v1Certification: fieldPaths(validV1Certification("mid_sample", "adult")),
  v2Pair: fieldPaths(validV2Pair()),
  v2Record: fieldPaths(validV2Record("idv_sample_paths", "adult", "VERIFIED")),
};

/** How the body of an answer is made from the route's valid body. */
type BodySpec =
  | { kind: "valid" }
  | { kind: "mutated"; mutations: Mutation[] }
  | { kind: "truncated"; mutations: Mutation[]; cut: number }
  | { kind: "json"; value: unknown }
  | { kind: "text"; text: string }
  | { kind: "binary"; bytes: Uint8Array<ArrayBuffer> }
  | { kind: "empty" };

interface AnswerSpec {
  status: number;
  contentType: string | undefined;
  body: BodySpec;
  wire: Wire;
}

const statusArb = fc.oneof(
  { weight: 12, arbitrary: fc.constant(200) },
  {
    weight: 5,
    arbitrary: fc.constantFrom(
      201,
      202,
      203,
      204,
      206,
      299,
      301,
      302,
      304,
      307,
      400,
      401,
      403,
      404,
      405,
      409,
      410,
      422,
      429,
      451,
      500,
      501,
      502,
      503,
      504,
      599,
      999,
    ),
  },
);
const contentTypeArb = fc.constantFrom(
  "application/json",
  "application/json; charset=utf-8",
  "application/problem+json",
  "text/html; charset=utf-8",
  "text/plain",
  "application/octet-stream",
  undefined,
);
/** Broken connections now and then; stalls rarely, as each costs the client a whole timeout. */
const wireArb = fc.oneof(
  { weight: 120, arbitrary: fc.constant<Wire>("normal") },
  { weight: 2, arbitrary: fc.constantFrom<Wire>("drop-mid-body", "reset") },
  { weight: 1, arbitrary: fc.constantFrom<Wire>("stall-headers", "stall-body") },
);

function bodySpecArb(paths: readonly string[]): fc.Arbitrary<BodySpec> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.constant<BodySpec>({ kind: "valid" }) },
    { weight: 10, arbitrary: mutations(paths).map((m): BodySpec => ({ kind: "mutated", mutations: m })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(mutations(paths), fc.nat())
        .map(([m, cut]): BodySpec => ({ kind: "truncated", mutations: m, cut })),
    },
    { weight: 1, arbitrary: anyJson.map((value): BodySpec => ({ kind: "json", value })) },
    {
      weight: 1,
      arbitrary: fc
        .oneof(
          fc.string(),
          fc.constantFrom("<html><body>502 Bad Gateway</body></html>", "OK", "null", "{}", "[]", "\ufeff{}"),
        )
        .map((text): BodySpec => ({ kind: "text", text })),
    },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ maxLength: 256 }).map((bytes): BodySpec => ({ kind: "binary", bytes })),
    },
    { weight: 1, arbitrary: fc.constant<BodySpec>({ kind: "empty" }) },
  );
}

/** Any answer a route may give, built around its valid body. */
function fuzzedAnswer(paths: readonly string[]): fc.Arbitrary<AnswerSpec> {
  return fc.record({
    status: statusArb,
    contentType: contentTypeArb,
    body: bodySpecArb(paths),
    wire: wireArb,
  });
}
/** Mostly the valid answer (so the call behind a token is reached), sometimes anything. */
function mostlyValidAnswer(paths: readonly string[]): fc.Arbitrary<AnswerSpec> {
  const valid: AnswerSpec = {
    status: 200,
    contentType: "application/json",
    body: { kind: "valid" },
    wire: "normal",
  };
  return fc.oneof(
    { weight: 5, arbitrary: fc.constant(valid) },
    { weight: 2, arbitrary: fuzzedAnswer(paths) },
  );
}
/**
 * A whole 200 JSON answer with 1–4 mutations of the valid body, or any answer: near-valid bodies get
 * past the envelope and the schema's easy checks, so the service's deeper code (policy, store) runs.
 */
function nearValidAnswer(paths: readonly string[]): fc.Arbitrary<AnswerSpec> {
  const mutated = mutations(paths, 1).map(
    (m): AnswerSpec => ({
      status: 200,
      contentType: "application/json",
      body: { kind: "mutated", mutations: m },
      wire: "normal",
    }),
  );
  return fc.oneof(mutated, fuzzedAnswer(paths));
}
/** The answers of one route for one case: each request takes the next, the last repeats. */
function answers(answer: fc.Arbitrary<AnswerSpec>): fc.Arbitrary<AnswerSpec[]> {
  return fc.array(answer, { minLength: 1, maxLength: 3 });
}

function render(spec: AnswerSpec, valid: unknown): Answer {
  const text = jsonText;
  let body: RawBody;
  switch (spec.body.kind) {
    case "valid":
      body = text(valid);
      break;
    case "mutated":
      body = text(applyMutations(valid, spec.body.mutations));
      break;
    case "truncated": {
      const full = text(applyMutations(valid, spec.body.mutations));
      body = full.slice(0, full.length === 0 ? 0 : spec.body.cut % full.length);
      break;
    }
    case "json":
      body = text(spec.body.value);
      break;
    case "text":
      body = spec.body.text;
      break;
    case "binary":
      body = spec.body.bytes;
      break;
    case "empty":
      body = "";
      break;
  }
  return { status: spec.status, contentType: spec.contentType, body, wire: spec.wire };
}

const VALID_ANSWER: AnswerSpec = {
  status: 200,
  contentType: "application/json",
  body: { kind: "valid" },
  wire: "normal",
};

// --- what a call may do with an answer -----------------------------------------------------------

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** How `call` settled, or a failure when it takes longer than its budget (a hang). */
async function settle<T>(call: () => Promise<T>, what: string): Promise<Settled<T>> {
  const settled = call().then(
    (value): Settled<T> => ({ ok: true, value }),
    (error: unknown): Settled<T> => ({ ok: false, error }),
  );
  return withinBound(settled, CALL_BUDGET_MS, what);
}

/**
 * The body the last answer of `route` carried, parsed as the client reads it (UTF-8, BOM dropped);
 * `undefined` unless it was a whole 2xx answer with a JSON body (204 and 304 carry none).
 */
function lastJson(server: FuzzServer, route: UpstreamRoute): unknown {
  const last = server.served.get(route)?.at(-1);
  if (last === undefined || last.wire !== "normal" || last.status < 200 || last.status >= 300)
    return undefined;
  if (last.status === 204) return undefined;
  const bytes = typeof last.body === "string" ? Buffer.from(last.body, "utf8") : last.body;
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}

/** What the client must have resolved with: the schema's reading of the last body served. */
function expectedV1Record(server: FuzzServer, route: "v1.get" | "v1.delete") {
  const envelope = v1EnvelopeSchema.safeParse(lastJson(server, route));
  if (!envelope.success || envelope.data.code !== 0) return undefined;
  const record = v1CertificationSchema.safeParse(envelope.data.response);
  return record.success ? record.data : undefined;
}
function expectedV2Record(server: FuzzServer) {
  const record = v2IdentityVerificationSchema.safeParse(lastJson(server, "v2.get"));
  return record.success ? record.data : undefined;
}

/** Personal values of a valid body: none may appear in an error message. */
function personalValues(valid: unknown): string[] {
  const values: string[] = [];
  const visit = (value: unknown, key: string) => {
    if (typeof value === "string" && value.length >= 4 && /name|phone|birth|unique|^ci$|^di$/i.test(key))
      values.push(value);
    if (typeof value === "object" && value !== null) for (const [k, v] of Object.entries(value)) visit(v, k);
  };
  visit(valid, "");
  return values;
}

/** A call that rejected: only with an UpstreamError of a known code, saying nothing personal. */
function expectUpstreamError(error: unknown, valid: unknown): void {
  if (!(error instanceof UpstreamError))
    throw new Error(`rejected with ${error instanceof Error ? error.name : typeof error}`);
  expect(UPSTREAM_CODES).toContain(error.code);
  for (const value of personalValues(valid))
    expect(error.message.includes(value), "personal data in the message").toBe(false);
}

// --- 1. the clients ------------------------------------------------------------------------------

describe("fuzzed upstream bodies: the clients", () => {
  let server: FuzzServer;
  let clock = START;
  beforeAll(async () => {
    server = await startFuzzServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  /** A client per case: a cold token cache, so the token answers are fuzzed too. */
  const v1Client = (): V1Client =>
    createV1Client({
      apiKey: TEST_MERCHANT.impKey,
      apiSecret: TEST_MERCHANT.impSecret,
      baseUrl: server.url,
      now: () => clock,
      timeoutMs: TIMEOUT_MS,
      retries: RETRIES,
      retryBaseDelayMs: 1,
    });
  const v2Client = (auth: "secret" | "token"): V2Client =>
    createV2Client({
      apiSecret: TEST_MERCHANT.v2ApiSecret,
      storeId: TEST_MERCHANT.storeId,
      baseUrl: server.url,
      now: () => clock,
      auth,
      timeoutMs: TIMEOUT_MS,
      retries: RETRIES,
      retryBaseDelayMs: 1,
    });

  for (const operation of ["getCertification", "deleteCertification"] as const) {
    const route = operation === "getCertification" ? "v1.get" : "v1.delete";
    it(
      `V1 getToken + ${operation}: the schema's value or an UpstreamError, within ${CALL_BUDGET_MS} ms`,
      async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom(...PERSONA_IDS),
            answers(mostlyValidAnswer(PATHS.v1Token)),
            answers(fuzzedAnswer(PATHS.v1Certification)),
            async (persona, tokenAnswers, callAnswers) => {
              const token = validV1Token();
              const record = validV1Certification(`mid_${persona}`, persona);
              server.load({
                "v1.token": tokenAnswers.map((a) => render(a, token)),
                [route]: callAnswers.map((a) => render(a, record)),
              });
              const impUid = record.response.imp_uid;
              const outcome = await settle(() => v1Client()[operation](impUid), `V1 ${operation}`);
              if (outcome.ok) {
                // Resolved: only from a whole 2xx envelope with code 0 whose record parses, and as parsed.
                expect(outcome.value).toEqual(expectedV1Record(server, route));
              } else {
                expectUpstreamError(outcome.error, record);
              }
              expect(server.strays).toEqual([]);
            },
          ),
          fuzzParameters(CLIENT_RUNS),
        );
      },
      RELIABILITY_TIMEOUT_MS,
    );
  }

  it(
    "V1 getToken alone: a token the schema accepts, or an UpstreamError",
    async () => {
      await fc.assert(
        fc.asyncProperty(answers(fuzzedAnswer(PATHS.v1Token)), async (tokenAnswers) => {
          const token = validV1Token();
          server.load({
            "v1.token": tokenAnswers.map((a) => render(a, token)),
            "v1.get": [render(VALID_ANSWER, validV1Certification("mid_token", "adult"))],
          });
          const outcome = await settle(() => v1Client().getCertification("imp_000000000001"), "V1 getToken");
          if (outcome.ok) {
            // The call went through, so some token answer was a valid envelope with a valid token.
            const tokens = (server.served.get("v1.token") ?? []).filter((a) => {
              if (a.wire !== "normal" || a.status < 200 || a.status >= 300 || typeof a.body !== "string")
                return false;
              try {
                const envelope = v1EnvelopeSchema.parse(JSON.parse(a.body));
                return envelope.code === 0 && v1TokenSchema.safeParse(envelope.response).success;
              } catch {
                return false;
              }
            });
            expect(tokens.length).toBeGreaterThan(0);
          } else {
            expectUpstreamError(outcome.error, {});
          }
        }),
        fuzzParameters(CLIENT_RUNS),
      );
    },
    RELIABILITY_TIMEOUT_MS,
  );

  for (const auth of ["secret", "token"] as const) {
    it(
      `V2 getIdentityVerification (${auth === "secret" ? "API secret" : "login + refresh"}): the schema's value or an UpstreamError`,
      async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom(...PERSONA_IDS),
            fc.constantFrom("VERIFIED", "READY", "FAILED"),
            answers(mostlyValidAnswer(PATHS.v2Pair)),
            answers(mostlyValidAnswer(PATHS.v2Pair)),
            answers(fuzzedAnswer(PATHS.v2Record)),
            async (persona, status, loginAnswers, refreshAnswers, getAnswers) => {
              const id = `idv_fuzz_${++serial}`;
              const record = validV2Record(id, persona, status);
              server.load({
                "v2.login": loginAnswers.map((a) => render(a, validV2Pair())),
                "v2.refresh": refreshAnswers.map((a) => render(a, validV2Pair())),
                "v2.get": getAnswers.map((a) => render(a, record)),
              });
              const client = v2Client(auth);
              // Token mode: a second lookup 29.5 minutes later renews the token through /token/refresh.
              for (const advance of auth === "token" ? [0, 29.5 * 60_000] : [0]) {
                clock += advance;
                const outcome = await settle(
                  () => client.getIdentityVerification(id),
                  "V2 getIdentityVerification",
                );
                if (outcome.ok) expect(outcome.value).toEqual(expectedV2Record(server));
                else expectUpstreamError(outcome.error, record);
              }
              expect(server.strays).toEqual([]);
            },
          ),
          fuzzParameters(CLIENT_RUNS),
        );
      },
      RELIABILITY_TIMEOUT_MS,
    );
  }
});

// --- 2. the service ------------------------------------------------------------------------------

const errorBody = z.object({
  error: z.strictObject({ code: z.string().regex(/^[a-z_]+$/), message: z.string().min(1) }),
  verification: z.object({ id: z.string(), status: z.string() }).optional(),
});
const INTERNALS =
  /\n\s+at |\bat .+:\d+:\d+|node_modules|\/work\/|file:\/\/|(Type|Range|Syntax|Reference|Sqlite|Zod)Error|DatabaseError|SQLITE_|violates|Cannot read prop|undefined is not/;
const UPSTREAM_STATUS: Record<string, number> = {
  upstream_timeout: 504,
  upstream_unavailable: 503,
  upstream_unauthorized: 502,
  upstream_forbidden: 502,
  upstream_not_found: 502,
  upstream_bad_request: 502,
  upstream_invalid_response: 502,
  upstream_api_error: 502,
};

interface ServiceWorld {
  store: Store;
  app: Hono;
  service: VerificationService;
  /** Swaps the clients behind the service (per case: fuzzed ones, then patient ones for the retry). */
  use(clients: { v1: V1Client; v2: V2Client }): void;
  errors: string[];
  close(): Promise<void>;
}

async function startServiceWorld(kind: DatabaseKind): Promise<ServiceWorld> {
  const { logger, errors } = errorCollectingLogger();
  const database = await createTestDatabase(kind);
  const databaseUrl = database.url;
  const store = await openStore({ databaseUrl, keyring: createKeyring({ secret: TEST_SECRET }) });
  let clients: { v1: V1Client; v2: V2Client } | undefined;
  const current = () => {
    if (!clients) throw new Error("no clients in use");
    return clients;
  };
  const service = createVerificationService({
    store,
    v1: {
      getCertification: (impUid) => current().v1.getCertification(impUid),
      deleteCertification: (impUid) => current().v1.deleteCertification(impUid),
    },
    v2: { getIdentityVerification: (id) => current().v2.getIdentityVerification(id) },
    now: () => new Date(START),
    logger,
    // The DELETE after a completion is fuzzed too; its failure must never change the outcome.
    deleteUpstreamAfterCompletion: true,
  });
  const app = createHttpApp({
    service,
    apiKeys: ["fuzz_upstream_api_key_0001"],
    returnOrigins: [],
    sandbox: false,
    sdk: { impCode: TEST_MERCHANT.impCode },
    logger,
  });
  return {
    store,
    app,
    service,
    use(next) {
      clients = next;
    },
    errors,
    async close() {
      await store.close();
      await database.drop();
    },
  };
}

function clientsFor(url: string, timeoutMs: number, v2Auth: "secret" | "token") {
  const transport = { baseUrl: url, now: () => START, timeoutMs, retries: RETRIES, retryBaseDelayMs: 1 };
  return {
    v1: createV1Client({ apiKey: TEST_MERCHANT.impKey, apiSecret: TEST_MERCHANT.impSecret, ...transport }),
    v2: createV2Client({
      apiSecret: TEST_MERCHANT.v2ApiSecret,
      storeId: TEST_MERCHANT.storeId,
      auth: v2Auth,
      ...transport,
    }),
  };
}

async function complete(world: ServiceWorld, path: string, body: unknown) {
  const res = await withinBound(
    Promise.resolve(
      world.app.request(path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    ),
    CALL_BUDGET_MS,
    `POST ${path}`,
  );
  return { status: res.status, text: await res.text() };
}

/** An answer of the completion route: < 500 or an upstream 502/503/504 of the right code; no internals. */
function expectCompletionAnswer(answer: { status: number; text: string }): string | undefined {
  expect(answer.status, answer.text).not.toBe(500);
  expect(answer.text).not.toMatch(INTERNALS);
  if (answer.status < 400) return undefined;
  const parsed = errorBody.safeParse(JSON.parse(answer.text));
  expect(parsed.success, answer.text).toBe(true);
  const code = parsed.data?.error.code ?? "";
  if (answer.status >= 500) expect(UPSTREAM_STATUS[code], `${answer.status} ${code}`).toBe(answer.status);
  return code;
}

/**
 * `text` as a UTF-8 store gives it back: identical, except that a lone surrogate (valid in JSON, not
 * text) comes back as U+FFFD. The outcome is unaffected; PortOne sends none.
 */
function asStored(text: string | undefined): string | undefined {
  return text === undefined ? undefined : Buffer.from(text, "utf8").toString("utf8");
}

/** A 422 that leaves the verification pending: not its own result (core/attempts.ts). */
const isFailedAttemptCode = (code: string | undefined) =>
  (FAILED_ATTEMPT_REASONS as readonly string[]).includes(code ?? "");

/** The verification's stored state: readable, and its completion events (0 while pending, else 1). */
async function storedState(world: ServiceWorld, id: string) {
  const verification = await world.service.get(id);
  if (verification === undefined) throw new Error("verification vanished");
  const completions = (await world.store.listAuditEvents(id)).filter(
    (e) => e.type === "verification.completed",
  );
  expect(completions.length).toBe(verification.status === "pending" ? 0 : 1);
  return verification;
}

describe.each<DatabaseKind>(["sqlite", "postgres"])(
  "fuzzed upstream bodies through the service on %s",
  (kind) => {
    let world: ServiceWorld;
    let server: FuzzServer;
    beforeAll(async () => {
      server = await startFuzzServer();
      world = await startServiceWorld(kind);
    });
    afterAll(async () => {
      await server?.close();
      await world?.close();
    });

    it(
      "V1 completion: < 500 or 502/503/504; verified only from a valid body, else finished on a definite answer or pending and retriable",
      async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom(...PERSONA_IDS),
            fc.boolean(),
            answers(mostlyValidAnswer(PATHS.v1Token)),
            answers(nearValidAnswer(PATHS.v1Certification)),
            answers(fuzzedAnswer(PATHS.v1Certification)),
            async (persona, adultsOnly, tokenAnswers, getAnswers, deleteAnswers) => {
              world.errors.length = 0; // per case, so a failure shrinks to the case that logged it
              const v = await world.service.create({
                apiVersion: "v1",
                policy: resolvePolicy(adultsOnly ? { minAge: { age: 19, rule: "year" } } : {}, {
                  creatingAccount: false,
                }),
              });
              const record = validV1Certification(v.boundId, persona);
              const token = validV1Token();
              server.load({
                "v1.token": tokenAnswers.map((a) => render(a, token)),
                "v1.get": getAnswers.map((a) => render(a, record)),
                "v1.delete": deleteAnswers.map((a) => render(a, record)),
              });
              world.use(clientsFor(server.url, TIMEOUT_MS, "secret"));
              const body = { imp_uid: record.response.imp_uid, merchant_uid: v.boundId };
              const answer = await complete(world, "/certifications", body);
              const code = expectCompletionAnswer(answer);
              const stored = await storedState(world, v.id);
              const parsed = expectedV1Record(server, "v1.get");
              /**
               * PortOne answers properly now: the same completion finishes the verification, unless
               * the record itself is not certified, which is the person's failed attempt again.
               */
              const retryWithProperAnswer = async () => {
                server.load({
                  "v1.token": [render(VALID_ANSWER, token)],
                  "v1.get": [render(VALID_ANSWER, record)],
                  "v1.delete": [render(VALID_ANSWER, record)],
                });
                world.use(clientsFor(server.url, 2_000, "secret"));
                const retried = await complete(world, "/certifications", body);
                expect([200, 422], retried.text).toContain(retried.status);
                const after = await storedState(world, v.id);
                if (record.response.certified) expect(after.status).not.toBe("pending");
                else expect([retried.status, after.status]).toEqual([422, "pending"]);
              };

              if (answer.status === 200) {
                // Verified: only from a whole, valid, certified record, and stored as PortOne sent it.
                expect(stored.status).toBe("verified");
                expect(parsed?.certified).toBe(true);
                expect(stored.identity?.name).toBe(asStored(presentText(parsed?.name)));
                expect(stored.identity?.provider).toBe(asStored(parsed?.pg_provider));
              } else if (answer.status === 422 && isFailedAttemptCode(code)) {
                // Not this verification's own result (PortOne's 404, a record bound elsewhere), or
                // a record not certified (the person's attempt failed): a failed attempt, still
                // pending, and PortOne's proper answer completes it (unless it is not certified).
                expect(stored).toMatchObject({ status: "pending", failedAttempts: 1 });
                if (code === "not_found") expect(server.served.get("v1.get")?.at(-1)?.status).toBe(404);
                else expect(parsed).toBeDefined();
                await retryWithProperAnswer();
              } else if (answer.status === 422) {
                expect(stored.status === "rejected" || stored.status === "expired").toBe(true);
                expect(stored.reason).toBe(code);
                // A definite answer on a record that parsed and is this verification's.
                expect(parsed).toBeDefined();
              } else {
                // PortOne's fault: nothing written, and the same completion works once PortOne answers properly.
                expect([502, 503, 504], answer.text).toContain(answer.status);
                expect(stored.status).toBe("pending");
                await retryWithProperAnswer();
              }
              expect(world.errors).toEqual([]);
            },
          ),
          fuzzParameters(SERVICE_RUNS[kind]),
        );
      },
      RELIABILITY_TIMEOUT_MS,
    );

    it(
      "V2 completion: < 500 or 502/503/504; verified only from a valid VERIFIED body, READY and unknown statuses stay pending",
      async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom(...PERSONA_IDS),
            fc.constantFrom("VERIFIED", "VERIFIED", "READY", "FAILED"),
            fc.constantFrom("secret", "token"),
            answers(mostlyValidAnswer(PATHS.v2Pair)),
            answers(nearValidAnswer(PATHS.v2Record)),
            async (persona, status, auth, loginAnswers, getAnswers) => {
              world.errors.length = 0;
              const v = await world.service.create({
                apiVersion: "v2",
                policy: resolvePolicy({}, { creatingAccount: false }),
              });
              const record = validV2Record(v.boundId, persona, status);
              server.load({
                "v2.login": loginAnswers.map((a) => render(a, validV2Pair())),
                "v2.get": getAnswers.map((a) => render(a, record)),
              });
              world.use(clientsFor(server.url, TIMEOUT_MS, auth));
              const body = { identityVerificationId: v.boundId };
              const answer = await complete(world, "/identity-verifications", body);
              const code = expectCompletionAnswer(answer);
              const stored = await storedState(world, v.id);
              const parsed = expectedV2Record(server);

              if (answer.status === 200) {
                expect(stored.status).toBe("verified");
                expect(parsed?.status).toBe("VERIFIED");
                if (parsed?.status === "VERIFIED")
                  expect(stored.identity?.name).toBe(asStored(presentText(parsed.verifiedCustomer.name)));
              } else if (answer.status === 202) {
                // Not finished upstream (READY, or a status certgate does not know): nothing written.
                expect(stored.status).toBe("pending");
                expect(["READY", "UNRECOGNIZED"]).toContain(parsed?.status);
              } else if (answer.status === 422 && isFailedAttemptCode(code)) {
                // A failed attempt (404, or a record under another id): still pending; then completes.
                expect(stored).toMatchObject({ status: "pending", failedAttempts: 1 });
                if (code === "not_found") expect(server.served.get("v2.get")?.at(-1)?.status).toBe(404);
                else expect(parsed).toBeDefined();
                server.load({
                  "v2.login": [render(VALID_ANSWER, validV2Pair())],
                  "v2.get": [render(VALID_ANSWER, record)],
                });
                world.use(clientsFor(server.url, 2_000, auth));
                const retried = await complete(world, "/identity-verifications", body);
                expect([200, 202, 422], retried.text).toContain(retried.status);
              } else if (answer.status === 422) {
                expect(stored.status === "rejected" || stored.status === "expired").toBe(true);
                expect(stored.reason).toBe(code);
                expect(parsed).toBeDefined();
              } else {
                expect([502, 503, 504], answer.text).toContain(answer.status);
                expect(stored.status).toBe("pending");
                server.load({
                  "v2.login": [render(VALID_ANSWER, validV2Pair())],
                  "v2.get": [render(VALID_ANSWER, record)],
                });
                world.use(clientsFor(server.url, 2_000, auth));
                const retried = await complete(world, "/identity-verifications", body);
                expect([200, 202, 422], retried.text).toContain(retried.status);
              }
              expect(world.errors).toEqual([]);
            },
          ),
          fuzzParameters(SERVICE_RUNS[kind]),
        );
      },
      RELIABILITY_TIMEOUT_MS,
    );
  },
);

// --- regressions ---------------------------------------------------------------------------------

describe.each<DatabaseKind>(["sqlite", "postgres"])(
  "regressions found by the upstream fuzzer on %s",
  (kind) => {
    let world: ServiceWorld;
    let server: FuzzServer;
    beforeAll(async () => {
      server = await startFuzzServer();
      world = await startServiceWorld(kind);
    });
    afterAll(async () => {
      await server?.close();
      await world?.close();
    });

    const json = (status: number, body: unknown): Answer => ({
      status,
      contentType: "application/json",
      body: JSON.stringify(body),
      wire: "normal",
    });

    /** Completes `valid`'s verification while PortOne answers `served` (default: `valid` itself). */
    async function v1Case(
      valid: ReturnType<typeof validV1Certification>,
      served: unknown = valid,
      token: Answer = json(200, validV1Token()),
    ) {
      server.load({ "v1.token": [token], "v1.get": [json(200, served)], "v1.delete": [json(200, served)] });
      world.use(clientsFor(server.url, 2_000, "secret"));
      return complete(world, "/certifications", {
        imp_uid: valid.response.imp_uid,
        merchant_uid: valid.response.merchant_uid,
      });
    }
    async function newV1() {
      return world.service.create({
        apiVersion: "v1",
        policy: resolvePolicy({}, { creatingAccount: false }),
      });
    }

    // A 404 from PortOne's token endpoint (a wrong base URL, a proxy) said nothing about the record, yet
    // the service took it for "no such record" and rejected the verification for good as `not_found`
    // (a 404 of the record itself is now a failed attempt, never a final rejection either).
    it("V1: a 404 from getToken is an upstream fault; the verification stays pending and completes later", async () => {
      const v = await newV1();
      const record = validV1Certification(v.boundId, "adult");
      const answer = await v1Case(
        record,
        record,
        json(404, { code: -1, message: "Not Found", response: null }),
      );
      expect(answer.status, answer.text).toBe(502);
      expect(JSON.parse(answer.text).error.code).toBe("upstream_api_error");
      expect((await storedState(world, v.id)).status).toBe("pending");
      const retried = await v1Case(record);
      expect(retried.status, retried.text).toBe(200);
    });

    // A 404 was "no such record" whatever its body, so a proxy's or gateway's 404 page counted the
    // person's failed attempts (the sixth rejecting them as too_many_attempts). Only PortOne's own
    // error body says the record is not there; any other 404 is an upstream fault.
    const html404: Answer = {
      status: 404,
      contentType: "text/html",
      body: "<html><body><h1>404 Not Found</h1>nginx</body></html>",
      wire: "normal",
    };
    it("V1: a 404 page that is not PortOne's is an upstream fault, no failed attempt; the completion lands later", async () => {
      const v = await newV1();
      const record = validV1Certification(v.boundId, "adult");
      server.load({ "v1.token": [json(200, validV1Token())], "v1.get": [html404] });
      world.use(clientsFor(server.url, 2_000, "secret"));
      const body = { imp_uid: record.response.imp_uid, merchant_uid: v.boundId };
      const answer = await complete(world, "/certifications", body);
      expect(answer.status, answer.text).toBe(502);
      expect(JSON.parse(answer.text).error.code).toBe("upstream_invalid_response");
      expect(await storedState(world, v.id)).toMatchObject({ status: "pending", failedAttempts: 0 });
      expect((await v1Case(record)).status).toBe(200);
    });

    it("V2: a 404 page that is not PortOne's is an upstream fault, no failed attempt", async () => {
      const v = await world.service.create({
        apiVersion: "v2",
        policy: resolvePolicy({}, { creatingAccount: false }),
      });
      server.load({ "v2.get": [html404] });
      world.use(clientsFor(server.url, 2_000, "secret"));
      const answer = await complete(world, "/identity-verifications", { identityVerificationId: v.boundId });
      expect(answer.status, answer.text).toBe(502);
      expect(JSON.parse(answer.text).error.code).toBe("upstream_invalid_response");
      expect(await storedState(world, v.id)).toMatchObject({ status: "pending", failedAttempts: 0 });
      // PortOne's own 404 is still a failed attempt.
      server.load({ "v2.get": [json(404, { type: "IDENTITY_VERIFICATION_NOT_FOUND", message: "x" })] });
      const own = await complete(world, "/identity-verifications", { identityVerificationId: v.boundId });
      expect(own.status, own.text).toBe(422);
      expect(await storedState(world, v.id)).toMatchObject({ status: "pending", failedAttempts: 1 });
    });

    it.each([
      ["POST /login/api-secret answers 404", { "v2.login": [json(404, { type: "NOT_FOUND" })] }],
      [
        // A 401 on the lookup makes the client renew its token through /token/refresh.
        "POST /token/refresh answers 404",
        { "v2.login": [json(200, validV2Pair())], "v2.refresh": [json(404, { type: "NOT_FOUND" })] },
      ],
    ])("V2 token mode: %s — an upstream fault; the verification stays pending", async (_name, tokens) => {
      const v = await world.service.create({
        apiVersion: "v2",
        policy: resolvePolicy({}, { creatingAccount: false }),
      });
      const record = validV2Record(v.boundId, "adult", "VERIFIED");
      server.load({ ...tokens, "v2.get": [json(401, { type: "UNAUTHORIZED" }), json(200, record)] });
      world.use(clientsFor(server.url, 2_000, "token"));
      const answer = await complete(world, "/identity-verifications", { identityVerificationId: v.boundId });
      expect(answer.status, answer.text).toBe(502);
      expect(JSON.parse(answer.text).error.code).toBe("upstream_api_error");
      expect((await storedState(world, v.id)).status).toBe("pending");
    });

    // PostgreSQL refuses NUL in text, and a btree index entry over ~2.7 kB: a record carrying either in
    // a value stored in clear (imp_uid, the provider) made the completion transaction fail with a 500.
    // A lone surrogate there was stored as replacement characters: another value than PortOne's.
    it.each([
      ["a NUL in imp_uid", { imp_uid: "imp_0000\u00000000" }],
      // Random text: PostgreSQL compresses a repetitive value below its index limit.
      ["a 3,000-character imp_uid", { imp_uid: `imp_${randomBytes(1_500).toString("hex")}` }],
      ["a NUL in pg_provider", { pg_provider: "danal\u0000" }],
      ["a lone surrogate in pg_provider", { pg_provider: "danal\udfff" }],
      ["a lone surrogate in imp_uid", { imp_uid: "imp_\ud800" }],
      [
        "a 3,000-character pg_provider, keyed by DI",
        { pg_provider: randomBytes(1_500).toString("hex"), unique_key: null },
      ],
    ])("V1: a record with %s is an invalid response (502, pending), never a 500", async (_name, fields) => {
      const v = await newV1();
      const valid = validV1Certification(v.boundId, "adult");
      const record = { ...valid, response: { ...valid.response, ...fields } };
      const answer = await v1Case(valid, record);
      expect(answer.status, answer.text).toBe(502);
      expect(JSON.parse(answer.text).error.code).toBe("upstream_invalid_response");
      expect((await storedState(world, v.id)).status).toBe("pending");
      expect(world.errors).toEqual([]);
    });

    it.each([
      ["a NUL in channel.pgProvider", { pgProvider: "DANAL\u0000" }],
      ["a lone surrogate in channel.pgProvider", { pgProvider: "DANAL\ud800" }],
      ["a 3,000-character channel.pgProvider", { pgProvider: randomBytes(1_500).toString("hex") }],
    ])(
      "V2: a VERIFIED record with %s is an invalid response (502, pending), never a 500",
      async (_name, channel) => {
        const v = await world.service.create({
          apiVersion: "v2",
          policy: resolvePolicy({}, { creatingAccount: false }),
        });
        const valid = validV2Record(v.boundId, "adult", "VERIFIED");
        const record = {
          ...valid,
          channel: { ...valid.channel, ...channel },
          verifiedCustomer: { name: "김테스트", di: "d".repeat(64) },
        };
        server.load({ "v2.get": [json(200, record)] });
        world.use(clientsFor(server.url, 2_000, "secret"));
        const answer = await complete(world, "/identity-verifications", {
          identityVerificationId: v.boundId,
        });
        expect(answer.status, answer.text).toBe(502);
        expect(JSON.parse(answer.text).error.code).toBe("upstream_invalid_response");
        expect((await storedState(world, v.id)).status).toBe("pending");
        expect(world.errors).toEqual([]);
      },
    );
  },
);
