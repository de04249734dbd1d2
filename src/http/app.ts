/**
 * certgate's HTTP surface (Hono): the merchant-backend API behind API keys, the guide's browser
 * routes, ops routes. Request bodies and queries are parsed through schemas.ts; errors become HTTP
 * in errors.ts only.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { z } from "zod";
import type { FailedAttemptReason } from "../core/attempts.js";
import { RequestError } from "../core/errors.js";
import { type Policy, resolvePolicy, validatePolicy } from "../core/policy.js";
import { quoteName, unknownFieldError } from "../core/unknown-fields.js";
import type { ApiVersion, VerificationRecord } from "../core/verification.js";
import { requestIdFrom, runWithRequestId, withRequestId } from "../observability/request-context.js";
import type { CompletionOutcome, VerificationService } from "../service/verifications.js";
import { createErrorHandler, type ErrorLogger, errorResponse } from "./errors.js";
import { fingerprintOf, idempotencyKeyFrom, idempotencyScope, REPLAYED_HEADER } from "./idempotency.js";
import { openApiDocument } from "./openapi.js";
import {
  accountRefParam,
  type CreateVerificationBody,
  completeV1Body,
  completeV1Query,
  completeV2Body,
  completeV2Query,
  createVerificationBody,
  noQuery,
  POLICY_FIELD_NAMES,
  verificationIdParam,
} from "./schemas.js";
import { browserView, merchantView } from "./views.js";

export const BODY_LIMIT_BYTES = 16 * 1024;

export interface HttpLogger extends ErrorLogger {
  info(fields: Record<string, unknown>, message: string): void;
}

/** What {@link createHttpApp} serves with: the service, the merchant's keys and origins, the SDK parameters. */
export interface HttpAppOptions {
  service: VerificationService;
  /** Bearer keys for the merchant-backend routes. */
  apiKeys: readonly string[];
  /** Origins a `return_url` may point to (e.g. "https://shop.example"). No other redirect is made. */
  returnOrigins: readonly string[];
  /** Sandbox mode adds a public `POST /sandbox/verifications` for the demo page. */
  sandbox: boolean;
  /** Parameters for the browser SDK returned on creation: V1 at the top level, V2 under `v2`. */
  sdk: {
    impCode: string;
    channelKey?: string | undefined;
    redirectUrl?: string | undefined;
    /** `PortOne.requestIdentityVerification` parameters; present when V2 is configured. */
    v2?: V2SdkOptions | undefined;
  };
  logger: HttpLogger;
  /** Prometheus exposition for `GET /metrics`. */
  metrics?: { contentType: string; render(): Promise<string> } | undefined;
  /** Readiness probe: throws when the database is unreachable. */
  ready?: () => Promise<void>;
  /** The demo page, served at `/` (sandbox mode, or production with CERTGATE_DEMO=true). */
  demo?: DemoPage | undefined;
}

/** What the browser needs for `PortOne.requestIdentityVerification` besides the id. */
export interface V2SdkOptions {
  storeId: string;
  /** Required by PortOne's V2 SDK; omitted here when not configured. */
  channelKey?: string | undefined;
  /** Where the REDIRECTION window type lands: certgate's `GET /identity-verifications/redirect`. */
  redirectUrl?: string | undefined;
}

/** The demo page of web/: its HTML, and the files it loads from `/demo/<name>`. */
export interface DemoPage {
  html: string;
  assets: ReadonlyMap<string, { type: string; body: string }>;
}

/**
 * certgate's routes as a Hono app. Every answer carries `X-Request-Id` (the caller's when it is sane,
 * else a generated one), and every line written to `logger` while serving a request carries it as
 * `request_id`; give the service a logger wrapped with `withRequestId` (or certgate's own pino
 * logger) for its lines to carry it too.
 */
export function createHttpApp(options: HttpAppOptions): Hono {
  const { service } = options;
  const logger = withRequestId(options.logger);
  const app = new Hono();
  const keyDigests = options.apiKeys.map(digest);

  app.onError(createErrorHandler(logger));
  app.notFound((c) => errorResponse(c, 404, "not_found", "no such route"));

  app.use(async (c, next) => {
    const requestId = requestIdFrom(c.req.header("x-request-id"));
    await runWithRequestId(requestId, next);
    c.header("X-Request-Id", requestId);
  });
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    logger.info(
      {
        method: c.req.method,
        route: c.req.routePath,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      },
      "request",
    );
  });
  // One value per query key, on every route: given two, which one counts would be the parser's
  // choice (first wins today), not the caller's. Read with Hono's own parser, as the routes are.
  app.use(async (c, next) => {
    for (const [key, values] of Object.entries(c.req.queries())) {
      if (values.length > 1) {
        throw new RequestError("repeated_parameter", `query parameter ${quoteName(key)} is repeated`, {
          parameter: key,
        });
      }
    }
    await next();
  });
  app.use(
    bodyLimit({
      maxSize: BODY_LIMIT_BYTES,
      onError: (c) => errorResponse(c, 413, "payload_too_large", `body over ${BODY_LIMIT_BYTES} bytes`),
    }),
  );

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  const openApi = JSON.stringify(openApiDocument());
  app.get("/openapi.json", (c) => c.body(openApi, 200, { "content-type": "application/json" }));
  app.get("/metrics", async (c) => {
    if (!options.metrics) throw new RequestError("not_found", "metrics are not enabled");
    return c.body(await options.metrics.render(), 200, { "content-type": options.metrics.contentType });
  });
  app.get("/readyz", async (c) => {
    try {
      await options.ready?.();
      return c.json({ status: "ready" });
    } catch {
      return errorResponse(c, 503, "not_ready", "database unreachable");
    }
  });

  // --- merchant backend (API key) ---
  const requireApiKey = async (c: Context, next: () => Promise<void>) => {
    const key = bearerKey(c);
    if (key === undefined || !keyAllowed(keyDigests, key)) {
      throw new RequestError("unauthorized", "a valid API key is required (Authorization: Bearer <key>)");
    }
    await next();
  };

  /** The public demo/sandbox creation: no API key to scope an Idempotency-Key to, so none is taken. */
  const create = async (c: Context) => {
    parse(noQuery, c.req.query(), "query");
    if (c.req.header("idempotency-key") !== undefined) {
      throw new RequestError(
        "invalid_idempotency_key",
        "Idempotency-Key is honoured on POST /api/verifications only",
      );
    }
    const body = await readJson(c, createVerificationBody);
    const verification = await service.create(
      toCreateInput(body, options.returnOrigins, service.apiVersions),
    );
    return c.json(createdView(verification, options.sdk), 201);
  };

  app.post("/api/verifications", requireApiKey, async (c) => {
    parse(noQuery, c.req.query(), "query");
    const key = idempotencyKeyFrom(c.req.header("idempotency-key"));
    const body = await readJson(c, createVerificationBody);
    const input = toCreateInput(body, options.returnOrigins, service.apiVersions);
    if (key === undefined) return c.json(createdView(await service.create(input), options.sdk), 201);
    const { verification, replayed } = await service.createIdempotent(input, {
      scope: idempotencyScope(bearerKey(c) ?? ""),
      key,
      fingerprint: fingerprintOf(body),
    });
    if (replayed) c.header(REPLAYED_HEADER, "true");
    return c.json(createdView(verification, options.sdk), 201);
  });
  app.get("/api/verifications/:id", requireApiKey, async (c) => {
    parse(noQuery, c.req.query(), "query");
    const id = parse(verificationIdParam, c.req.param("id"), "id");
    const verification = await service.get(id);
    if (!verification) throw new RequestError("not_found", "verification not found");
    return c.json({ verification: merchantView(verification) });
  });
  app.delete("/api/accounts/:account_ref", requireApiKey, async (c) => {
    parse(noQuery, c.req.query(), "query");
    const ref = parse(accountRefParam, c.req.param("account_ref"), "account_ref");
    if (!(await service.unbindAccount(ref))) throw new RequestError("not_found", "account not found");
    return c.json({ account_ref: ref, unbound: true });
  });

  if (options.demo) {
    const demo = options.demo;
    app.get("/", (c) => c.html(demo.html));
    app.get("/demo/:file", (c) => {
      const asset = demo.assets.get(c.req.param("file"));
      if (!asset) throw new RequestError("not_found", "no such file");
      return c.body(asset.body, 200, { "content-type": asset.type });
    });
    // Outside sandbox mode the opt-in demo page needs a public creation route of its own.
    if (!options.sandbox) app.post("/demo/verifications", create);
  }
  if (options.sandbox) {
    // The demo page has no backend of its own: in sandbox mode only, it may create verifications.
    app.post("/sandbox/verifications", create);
  }

  // --- browser (no API key: the issued merchant_uid is the binding) ---
  app.post("/certifications", async (c) => {
    const body = await readJson(c, completeV1Body);
    const outcome = await service.completeV1({ impUid: body.imp_uid, merchantUid: body.merchant_uid });
    return completionResponse(c, outcome);
  });
  app.get("/certifications/redirect", async (c) => {
    const query = parse(completeV1Query, c.req.query(), "query");
    const outcome = await service.completeV1({ impUid: query.imp_uid, merchantUid: query.merchant_uid });
    return redirectResponse(c, outcome);
  });

  // --- browser, PortOne V2 (the identityVerificationId certgate issued is the binding) ---
  app.post("/identity-verifications", async (c) => {
    const body = await readJson(c, completeV2Body);
    const outcome = await service.completeV2({ identityVerificationId: body.identityVerificationId });
    return completionResponse(c, outcome);
  });
  app.get("/identity-verifications/redirect", async (c) => {
    const query = parse(completeV2Query, c.req.query(), "query");
    const outcome = await service.completeV2({ identityVerificationId: query.identityVerificationId });
    return redirectResponse(c, outcome);
  });

  return app;
}

/** 303 to the verification's return_url with its id, status and reason; JSON when it has none. */
function redirectResponse(c: Context, outcome: CompletionOutcome) {
  const returnUrl = outcome.verification.returnUrl;
  if (!returnUrl) return completionResponse(c, outcome);
  const target = new URL(returnUrl);
  target.searchParams.set("verification_id", outcome.verification.id);
  target.searchParams.set("status", outcome.verification.status);
  const reason =
    outcome.kind === "replayed"
      ? "already_used"
      : outcome.kind === "attempt_failed"
        ? outcome.reason
        : outcome.verification.reason;
  if (reason) target.searchParams.set("reason", reason);
  return c.redirect(target.toString(), 303);
}

/**
 * 200 verified; 422 rejected or expired; 409 `already_used` for a replay of a finished verification;
 * 202 with status `pending` when the V2 record is not finished yet (READY, or a status certgate does
 * not know): nothing was written and the same call may be retried.
 *
 * A failed attempt (an upstream 404, a record bound to another verification) is 422 with `error.code`
 * `not_found` / `merchant_uid_mismatch` too, but `verification.status` stays `pending` and
 * `verification.attempts_remaining` says how many more failed attempts it allows: the owner's own
 * result still completes it. The attempt after the last allowed one is the final 422
 * `too_many_attempts` (status `rejected`).
 */
function completionResponse(c: Context, outcome: CompletionOutcome) {
  const v = outcome.verification;
  if (outcome.kind === "pending") return c.json({ verification: browserView(v) }, 202);
  if (outcome.kind === "attempt_failed") {
    return c.json(
      {
        error: { code: outcome.reason, message: failedAttemptMessage(outcome.reason) },
        verification: browserView(v),
      },
      422,
    );
  }
  if (outcome.kind === "replayed") {
    return c.json(
      {
        error: { code: "already_used", message: "this verification has already been completed" },
        verification: browserView(v),
      },
      409,
    );
  }
  if (v.status === "verified") return c.json({ verification: browserView(v) }, 200);
  const reason = v.reason ?? "expired";
  return c.json(
    { error: { code: reason, message: `verification ${v.status}: ${reason}` }, verification: browserView(v) },
    422,
  );
}

function failedAttemptMessage(reason: FailedAttemptReason): string {
  const what =
    reason === "not_found" ? "PortOne has no such record" : "the record is not bound to this verification";
  return `${what}; the verification is still pending`;
}

/**
 * The 201 answer: the ids issued and the browser SDK's parameters for the verification's API version.
 * Its status is the creation's, `pending`, also when an Idempotency-Key replays it after the
 * verification finished: a replay repeats the first answer; `GET /api/verifications/:id` tells now.
 */
function createdView(v: VerificationRecord, sdk: HttpAppOptions["sdk"]) {
  const common = {
    id: v.id,
    api_version: v.apiVersion,
    status: "pending" as const,
    expires_at: v.expiresAt.toISOString(),
  };
  if (v.apiVersion === "v2") {
    return {
      ...common,
      merchant_uid: null,
      identity_verification_id: v.boundId,
      sdk: {
        identity_verification: {
          ...(sdk.v2 ? { storeId: sdk.v2.storeId } : {}),
          identityVerificationId: v.boundId,
          ...(sdk.v2?.channelKey ? { channelKey: sdk.v2.channelKey } : {}),
          ...(sdk.v2?.redirectUrl ? { redirectUrl: sdk.v2.redirectUrl } : {}),
          // PortOne's V2 SDK: a popup on PC; on mobile a redirect to redirectUrl.
          windowType: { pc: "POPUP", mobile: "REDIRECTION" },
        },
      },
    };
  }
  const minAge = v.policy.minAge;
  return {
    ...common,
    merchant_uid: v.boundId,
    identity_verification_id: null,
    sdk: {
      imp_code: sdk.impCode,
      certification: {
        merchant_uid: v.boundId,
        ...(sdk.channelKey ? { channelKey: sdk.channelKey } : {}),
        ...(sdk.redirectUrl ? { m_redirect_url: sdk.redirectUrl } : {}),
        // PortOne's min_age is international age and a UX hint only; certgate enforces the policy.
        ...(minAge?.rule === "international" ? { min_age: minAge.age } : {}),
      },
    },
  };
}

function toCreateInput(
  body: CreateVerificationBody,
  returnOrigins: readonly string[],
  apiVersions: readonly ApiVersion[],
) {
  if (body.api_version !== undefined && !apiVersions.includes(body.api_version)) {
    throw new RequestError("invalid_request", `PortOne ${body.api_version.toUpperCase()} is not configured`, {
      field: "api_version",
    });
  }
  const p = body.policy ?? {};
  const rule = p.age_rule ?? "international";
  const policy: Policy = resolvePolicy(
    {
      minAge: p.min_age === undefined ? undefined : { age: p.min_age, rule },
      maxAge: p.max_age === undefined ? undefined : { age: p.max_age, rule },
      freshnessSeconds: p.freshness_seconds,
      futureToleranceSeconds: p.future_tolerance_seconds,
      judgeAgeAt: p.judge_age_at,
      requirePersonKey: p.require_person_key,
    },
    { creatingAccount: body.account_ref !== undefined },
  );
  const problems = validatePolicy(policy, { name: (field) => POLICY_FIELD_NAMES[field] });
  if (problems.length > 0) {
    throw new RequestError("invalid_request", `invalid policy: ${problems.join("; ")}`, { problems });
  }
  return {
    apiVersion: body.api_version,
    policy,
    accountRef: body.account_ref,
    returnUrl: body.return_url === undefined ? undefined : checkReturnUrl(body.return_url, returnOrigins),
    ttlSeconds: body.expires_in_seconds,
    maxAttempts: body.max_attempts,
  };
}

/** No open redirect: a return_url must be absolute http(s) on one of the configured origins. */
function checkReturnUrl(raw: string, allowed: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RequestError("invalid_request", "return_url must be an absolute URL", { field: "return_url" });
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || !allowed.includes(url.origin)) {
    throw new RequestError("return_url_not_allowed", "return_url is not on an allowed origin", {
      field: "return_url",
    });
  }
  return url.toString();
}

async function readJson<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/(.+\+)?json\s*(;|$)/i.test(type)) {
    throw new RequestError("unsupported_media_type", "send the body as application/json");
  }
  const text = await c.req.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RequestError("invalid_json", "the body is not valid JSON");
  }
  return parse(schema, value, "body");
}

/**
 * Parses through a schema; a failure names the fields and problems, never the values sent. Unknown
 * fields (a strict schema's `unrecognized_keys`) are reported first, whatever else is wrong, as
 * `unknown_field` with each field's full path as sent ("policy.minAge").
 */
function parse<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const unknown = result.error.issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => [...issue.path, key].map(String).join("."))
      : [],
  );
  if (unknown.length > 0) throw unknownFieldError(unknown);
  const issues = result.error.issues.map((i) => ({ path: i.path.join("."), problem: i.code }));
  const fields = issues.map((i) => i.path || where).join(", ");
  throw new RequestError("invalid_request", `invalid ${where}: ${fields}`, { issues });
}

/** The key of `Authorization: Bearer <key>`, if the header has that shape. */
function bearerKey(c: Context): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
}

function digest(key: string): Buffer {
  return createHash("sha256").update(key).digest();
}

/** Constant time per configured key: digests have equal length, so timingSafeEqual never throws. */
function keyAllowed(allowed: readonly Buffer[], presented: string): boolean {
  const d = digest(presented);
  let ok = false;
  for (const a of allowed) ok = timingSafeEqual(a, d) || ok;
  return ok;
}
