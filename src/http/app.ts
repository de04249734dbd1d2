/**
 * certgate's HTTP surface (Hono): the merchant-backend API behind API keys, the guide's browser
 * routes, ops routes. This file only routes: requests are parsed in requests.ts (through schemas.ts),
 * and errors and completion outcomes become HTTP in responses.ts only.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { type Context, Hono } from "hono";
import { ConfigError, RequestError, StoreError } from "../core/errors.js";
import { quoteName } from "../core/unknown-fields.js";
import { requestIdFrom, runWithRequestId } from "../observability/request-context.js";
import { guardedLogger } from "../util/guarded-logger.js";
import { checkHttpAppOptions, type HttpAppOptions } from "./app-options.js";
import {
  fingerprintOf,
  headerTimes,
  idempotencyKeyFrom,
  idempotencyScope,
  REPLAYED_HEADER,
} from "./idempotency.js";
import { openApiDocument } from "./openapi.js";
import { callOf, setRequestId } from "./request-id.js";
import { BODY_LIMIT_BYTES, bodyTooLarge, parse, readJson, refuseBody, toCreateInput } from "./requests.js";
import { completionResponse, createErrorHandler, errorResponse, redirectResponse } from "./responses.js";
import {
  accountRefParam,
  completeV1Body,
  completeV1Query,
  completeV2Body,
  completeV2Query,
  createVerificationBody,
  noQuery,
  verificationIdParam,
} from "./schemas.js";
import { createdView, merchantView } from "./views.js";

export type { DemoPage, HttpAppOptions, HttpLogger } from "./app-options.js";
export { BODY_LIMIT_BYTES } from "./requests.js";
export type { SdkParameters, V2SdkOptions } from "./views.js";

/**
 * certgate's routes as a Hono app. Every answer carries `X-Request-Id` (the caller's when it is sane,
 * else a generated one), and every line written to `logger` while serving a request carries it as
 * `request_id`; the app passes it to the service (`ServiceCall`), whose lines carry it too.
 *
 * Serve it three ways: `app.fetch(request: Request): Promise<Response>` is the web-standard handler
 * (Next.js route handlers, Bun, Deno, Cloudflare Workers; set `basePath` when the host passes the
 * full path); {@link toNodeHandler} mounts it in Express, Fastify (through `@fastify/middie`) or
 * `node:http`; a Hono app mounts it with `hono.route("/certgate", app)`.
 *
 * @throws {ConfigError} when `basePath` is not a path like "/certgate".
 * @example
 * import { createHttpApp, createV1Client, createVerificationService } from "certgate";
 * const service = createVerificationService({ store, v1: createV1Client({ apiKey, apiSecret }) });
 * const app = createHttpApp({
 *   service,
 *   apiKeys: (process.env.CERTGATE_API_KEYS ?? "").split(",").filter(Boolean),
 *   returnOrigins: ["https://shop.example"],
 *   sandbox: false,
 *   sdk: { impCode },
 *   logger,
 *   basePath: "/api/certgate",
 * });
 * // app/api/certgate/[...path]/route.ts (Next.js)
 * export const GET = (req: Request) => app.fetch(req);
 * export const POST = (req: Request) => app.fetch(req);
 */
export function createHttpApp(options: HttpAppOptions): Hono {
  checkHttpAppOptions(options);
  const { service } = options;
  const logger = guardedLogger(options.logger, ["info", "warn", "error"]);
  const app = withBasePath(new Hono(), options.basePath);
  const keyDigests = options.apiKeys.map(digest);

  app.onError(createErrorHandler(logger));
  app.notFound((c) => {
    // A path served under other methods is a wrong method, not a wrong address (RFC 9110 §15.5.6).
    const allowed = methodsServing(app, c.req.path);
    if (allowed.length === 0) return errorResponse(c, 404, "not_found", "no such route");
    c.header("Allow", allowed.join(", "));
    return errorResponse(c, 405, "method_not_allowed", `${quoteName(c.req.method)} is not served here`, {
      allowed,
    });
  });

  // The request id, then the access line once the answer exists: one middleware, as each costs the
  // request a promise and a frame that live as long as it does.
  app.use(async (c, next) => {
    const started = performance.now();
    const requestId = requestIdFrom(c.req.header("x-request-id"));
    setRequestId(c, requestId);
    // Set before the answer exists, so `c.json` & co. build it with the header: setting a header
    // afterwards makes Hono copy the answer into a stream-bodied Response (≈ 15 % of a completion's
    // CPU on @hono/node-server's slow path). An answer a handler built itself gets it afterwards.
    c.header("X-Request-Id", requestId);
    // Hono's compose answers a thrown error with onError's response before this resumes.
    await runWithRequestId(requestId, next);
    if (c.res.headers.get("x-request-id") !== requestId) c.header("X-Request-Id", requestId);
    logger.info(
      {
        request_id: requestId,
        method: c.req.method,
        route: c.req.routePath,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      },
      "request",
    );
  });
  app.use(async (c, next) => {
    // A path whose percent-encoding is not UTF-8 (`%ff`) or not encoding at all (`%zz`): Hono
    // keeps such a segment as written, so DELETE /api/accounts/%ff unbound the account named "%ff",
    // the one %25ff names. Refused instead, as no path certgate serves can be written so.
    const url = c.req.url;
    if (url.includes("%")) {
      const query = url.indexOf("?");
      try {
        decodeURIComponent(query === -1 ? url : url.slice(0, query));
      } catch {
        throw new RequestError("invalid_request", "the path is not valid percent-encoded UTF-8");
      }
    }
    // One value per query key, on every route: given two, which one counts would be the parser's
    // choice (first wins today), not the caller's. Read with Hono's own parser, as the routes are.
    for (const [key, values] of Object.entries(c.req.queries())) {
      if (values.length > 1) {
        throw new RequestError("repeated_parameter", `query parameter ${quoteName(key)} is repeated`, {
          parameter: key,
        });
      }
    }
    // A body that announces more than the limit is refused before any route runs; one that does not
    // (chunked) is refused by readBodyText as soon as it crosses the limit. Hono's bodyLimit did
    // both, at the price of building every request's web `Request` and stream (issue 13).
    const length = c.req.header("content-length");
    if (length !== undefined && c.req.header("transfer-encoding") === undefined) {
      if (Number.parseInt(length, 10) > BODY_LIMIT_BYTES) throw bodyTooLarge();
    }
    await next();
  });

  // The operations routes take no query either (a probe's `?verbose=1` would be dropped unread).
  // The completion routes ignore theirs on purpose (openapi-parts.ts IGNORED: PortOne adds some),
  // and so do the demo page and its files (a page: the redirect back to it carries the outcome).
  app.get("/healthz", (c) => {
    parse(noQuery, c.req.query(), "query");
    return c.json({ status: "ok" });
  });
  const openApi = JSON.stringify(
    openApiDocument({
      sandbox: options.sandbox,
      demoCreation: options.demo !== undefined && !options.sandbox,
      demoPage: options.demo !== undefined,
    }),
  );
  app.get("/openapi.json", (c) => {
    parse(noQuery, c.req.query(), "query");
    return c.body(openApi, 200, { "content-type": "application/json" });
  });
  app.get("/metrics", async (c) => {
    parse(noQuery, c.req.query(), "query");
    if (!options.metrics) throw new RequestError("not_found", "metrics are not enabled");
    return c.body(await options.metrics.render(), 200, { "content-type": options.metrics.contentType });
  });
  app.get("/readyz", async (c) => {
    parse(noQuery, c.req.query(), "query");
    try {
      await options.ready?.();
      return c.json({ status: "ready" });
    } catch (error) {
      const refusesWrites = error instanceof StoreError && error.code === "read_only";
      return errorResponse(
        c,
        503,
        "not_ready",
        refusesWrites ? "database refuses writes" : "database unreachable",
      );
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
    const key = idempotencyKeyFrom(c.req.header("idempotency-key"), headerTimes(c.env, "idempotency-key"));
    const body = await readJson(c, createVerificationBody);
    const input = toCreateInput(body, options.returnOrigins, service.apiVersions);
    if (key === undefined) return c.json(createdView(await service.create(input), options.sdk), 201);
    const apiKey = bearerKey(c) ?? "";
    const { verification, replayed } = await service.createIdempotent(
      input,
      { scope: idempotencyScope(apiKey), key, fingerprint: fingerprintOf(body, apiKey) },
      callOf(c),
    );
    if (replayed) c.header(REPLAYED_HEADER, "true");
    return c.json(createdView(verification, options.sdk), 201);
  });
  app.get("/api/verifications/:id", requireApiKey, async (c) => {
    parse(noQuery, c.req.query(), "query");
    const id = parse(verificationIdParam, c.req.param("id"), "id");
    await refuseBody(c);
    const verification = await service.get(id);
    if (!verification) throw new RequestError("not_found", "verification not found");
    return c.json({ verification: merchantView(verification) });
  });
  // Recovery on demand (V2): certgate asks PortOne itself; the answer is the view, pending included.
  app.post("/api/verifications/:id/refresh", requireApiKey, async (c) => {
    parse(noQuery, c.req.query(), "query");
    const id = parse(verificationIdParam, c.req.param("id"), "id");
    await refuseBody(c);
    return c.json({ verification: merchantView(await service.refresh(id, callOf(c))) });
  });
  app.delete("/api/accounts/:account_ref", requireApiKey, async (c) => {
    parse(noQuery, c.req.query(), "query");
    const ref = parse(accountRefParam, c.req.param("account_ref"), "account_ref");
    await refuseBody(c);
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
    const outcome = await service.completeV1(
      { impUid: body.imp_uid, merchantUid: body.merchant_uid },
      callOf(c),
    );
    return completionResponse(c, outcome);
  });
  app.get("/certifications/redirect", async (c) => {
    const query = parse(completeV1Query, c.req.query(), "query");
    const outcome = await service.completeV1(
      { impUid: query.imp_uid, merchantUid: query.merchant_uid },
      callOf(c),
    );
    return redirectResponse(c, outcome);
  });

  // --- browser, PortOne V2 (the identityVerificationId certgate issued is the binding) ---
  app.post("/identity-verifications", async (c) => {
    const body = await readJson(c, completeV2Body);
    const outcome = await service.completeV2(
      { identityVerificationId: body.identityVerificationId },
      callOf(c),
    );
    return completionResponse(c, outcome);
  });
  app.get("/identity-verifications/redirect", async (c) => {
    const query = parse(completeV2Query, c.req.query(), "query");
    const outcome = await service.completeV2(
      { identityVerificationId: query.identityVerificationId },
      callOf(c),
    );
    return redirectResponse(c, outcome);
  });

  return app;
}

/** `app` serving under `basePath` (see {@link HttpAppOptions.basePath}); unchanged without one. */
function withBasePath(app: Hono, basePath: string | undefined): Hono {
  if (basePath === undefined || basePath === "" || basePath === "/") return app;
  // typeof first: the test would read ["/x"] as its string and every route would be a 404.
  if (typeof basePath !== "string" || !/^(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+$/.test(basePath)) {
    throw new ConfigError("basePath", 'must be a path such as "/certgate", without a trailing slash');
  }
  return app.basePath(basePath);
}

/** Methods a request may be routed under; HEAD is answered as GET (Hono's own rule). */
const ROUTED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

/** The methods with a route (not only middleware) for `path`, for a 405's `Allow`. */
function methodsServing(app: Hono, path: string): string[] {
  return ROUTED_METHODS.filter((method) =>
    app.router
      .match(method === "HEAD" ? "GET" : method, path)[0]
      .some(([[, route]]) => (route as { method: string }).method !== "ALL"),
  );
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
