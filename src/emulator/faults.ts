/**
 * Fault injection, independent of any one API: a registry of armed faults and a Hono middleware
 * that counts each arriving request and applies the first matching fault before the route runs.
 * The API layer supplies the bodies (V1 envelopes, later V2 errors) through a {@link FaultBodies}.
 *
 * A fault with a `probability` hits each matching request with that probability, drawn from the
 * registry's random source; a request it does not hit falls through to the next armed fault for the
 * route, then to the route. So faults compose: `503` at 0.1 then `drop` at 0.02 answer 503 to 10 %
 * of the requests and drop 0.9 × 2 % = 1.8 % of them.
 */
import { IncomingMessage } from "node:http";
import type { MiddlewareHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import * as z from "zod";
import { RequestError } from "../core/errors.js";
import { describeIssues } from "./input.js";
import type { RequestStats } from "./request-stats.js";

/**
 * Every fault kind.
 *
 * @example
 * import { createEmulator, FAULT_KINDS } from "certgate/emulator";
 * const emulator = createEmulator();
 * for (const kind of FAULT_KINDS.filter((k) => k !== "latency" && k !== "error")) {
 *   emulator.setFault({ route: "getCertification", kind, times: 1 });
 * }
 */
export const FAULT_KINDS = [
  "latency",
  "status",
  "malformed",
  "wrong_types",
  "api_error",
  "drop",
  "error",
  "oversized",
] as const;

/**
 * - `latency`: wait `latencyMs` (real time), then answer normally.
 * - `status`: answer `status` (500/502/503/504, default 500) with an error body.
 * - `malformed`: HTTP 200 whose body is not JSON.
 * - `wrong_types`: HTTP 200, success code, a response whose fields have the wrong types.
 * - `api_error`: HTTP 200 with a non-zero API code and a message, no data.
 * - `drop`: close the connection without answering.
 * - `error` (V2 only): answer the documented error `errorType` of the route, with its status and body
 *   (e.g. `MAX_TRANSACTION_COUNT_REACHED`, `CHANNEL_NOT_FOUND`), as PortOne would.
 * - `oversized`: HTTP 200, a JSON body of {@link OVERSIZED_BODY_BYTES} (valid JSON, one field
 *   of that length): what a broken proxy or a fault on the way may send, which a client must not
 *   read whole.
 *
 * @example
 * import { createEmulator, type FaultKind } from "certgate/emulator";
 * const kind: FaultKind = "drop";
 * createEmulator().setFault({ route: "*", kind, probability: 0.02 });
 */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Statuses a `status` fault may answer with. */
export const FAULT_STATUSES = [500, 502, 503, 504] as const;

/** A fault armed on one route (or every route with `"*"`). */
export interface Fault<R extends string = string> {
  route: R | "*";
  kind: FaultKind;
  /** `latency` only: milliseconds to wait. Required for `latency`. */
  latencyMs?: number;
  /** `status` only; default 500. */
  status?: (typeof FAULT_STATUSES)[number];
  /** `error` only, and required there: an error `type` the route documents. */
  errorType?: string;
  /** Apply to the next N matching requests, then disarm. Omitted: until cleared. */
  times?: number;
  /**
   * In (0, 1]: hit each matching request with this probability; a request not hit falls through to
   * the next armed fault, then to the route. Only hits consume `times`. Omitted: every request.
   */
  probability?: number;
}

/** A fault's `probability`: a number in (0, 1]. */
export const faultProbabilitySchema = z.number().gt(0).max(1);

/** Builds a zod schema for {@link Fault} over the given route names. */
export function faultSchema<R extends string>(routes: readonly [R, ...R[]]) {
  return z
    .object({
      route: z.union([z.enum(routes), z.literal("*")]),
      kind: z.enum(FAULT_KINDS),
      latencyMs: z.number().int().min(0).max(600_000).optional(),
      status: z.literal(FAULT_STATUSES).optional(),
      errorType: z.string().min(1).max(100).optional(),
      times: z.number().int().min(1).optional(),
      probability: faultProbabilitySchema.optional(),
    })
    .strict()
    .refine((fault) => fault.kind !== "latency" || fault.latencyMs !== undefined, {
      message: "latencyMs is required for a latency fault",
      path: ["latencyMs"],
    })
    .refine((fault) => (fault.kind === "error") === (fault.errorType !== undefined), {
      message: "errorType is required for an error fault, and only there",
      path: ["errorType"],
    });
}

export interface FaultRegistry<R extends string> {
  /** Arms a fault; throws `RequestError("invalid_request")` when it is malformed. */
  add(fault: Fault<R>): void;
  /** Disarms every fault; returns how many were armed. */
  clear(): number;
  /**
   * The fault that hits this request on `route`, consuming one of its `times`: armed faults are tried
   * in the order they were armed, each with a probability drawing once.
   */
  take(route: R): Fault<R> | undefined;
  list(): Fault<R>[];
  /** How many requests each route had a fault applied to, by kind, since creation or {@link resetCounts}. */
  injected(): FaultsInjected<R>;
  /** Zeroes the {@link injected} counters (disarming with {@link clear} keeps them). */
  resetCounts(): void;
}

/** Requests a fault was applied to, by route then kind; routes and kinds never hit are absent. */
export type FaultsInjected<R extends string> = Partial<Record<R, Partial<Record<FaultKind, number>>>>;

export interface FaultRegistryOptions<R extends string = string> {
  /** Uniform in [0, 1), for probabilistic faults. Default `Math.random`; tests pass a seeded one. */
  random?: () => number;
  /**
   * Whether `route` documents error `type`, for `error` faults (`"*"`: every route must). Omitted: the
   * API has no typed errors and refuses `error` faults.
   */
  documentsError?: (route: R | "*", type: string) => boolean;
}

export function createFaultRegistry<R extends string>(
  routes: readonly [R, ...R[]],
  options: FaultRegistryOptions<R> = {},
): FaultRegistry<R> {
  const schema = faultSchema(routes);
  const random = options.random ?? Math.random;
  let armed: { fault: Fault<R>; remaining: number | undefined }[] = [];
  let injected: FaultsInjected<R> = {};
  const hits = (slot: { fault: Fault<R> }) =>
    slot.fault.probability === undefined || slot.fault.probability >= 1 || random() < slot.fault.probability;
  return {
    add(fault) {
      const parsed = schema.safeParse(fault);
      if (!parsed.success)
        throw new RequestError("invalid_request", `invalid fault: ${describeIssues(parsed.error)}`);
      if (fault.kind === "error" && !options.documentsError?.(fault.route, fault.errorType ?? ""))
        throw new RequestError(
          "invalid_request",
          "invalid fault: errorType: not an error this route documents",
        );
      armed.push({ fault: { ...fault }, remaining: fault.times });
    },
    clear() {
      const count = armed.length;
      armed = [];
      return count;
    },
    take(route) {
      const slot = armed.find((candidate) => {
        const target = candidate.fault.route;
        return (target === route || target === "*") && hits(candidate);
      });
      if (!slot) return undefined;
      if (slot.remaining !== undefined) {
        slot.remaining -= 1;
        if (slot.remaining <= 0) armed = armed.filter((other) => other !== slot);
      }
      const byKind = injected[route] ?? {};
      byKind[slot.fault.kind] = (byKind[slot.fault.kind] ?? 0) + 1;
      injected[route] = byKind;
      return slot.fault;
    },
    list: () =>
      armed.map(({ fault, remaining }) => ({
        ...fault,
        ...(remaining === undefined ? {} : { times: remaining }),
      })),
    injected: () =>
      Object.fromEntries(
        Object.entries<Partial<Record<FaultKind, number>> | undefined>(injected).map(([route, byKind]) => [
          route,
          { ...byKind },
        ]),
      ) as FaultsInjected<R>,
    resetCounts() {
      injected = {};
    },
  };
}

/** Bodies an API layer answers faults with. */
export interface FaultBodies {
  /** JSON body of a `status` fault. */
  status(status: number): unknown;
  /** JSON body of an `api_error` fault (sent with HTTP 200). */
  apiError(): unknown;
  /** JSON body of a `wrong_types` fault (sent with HTTP 200). */
  wrongTypes(): unknown;
  /** Status and body of an `error` fault; `undefined` for a type the route does not document. */
  error?(type: string): { status: ContentfulStatusCode; body: unknown } | undefined;
}

/**
 * Middleware for one route: counts the request, then applies the first armed fault, if any.
 * A `drop` over @hono/node-server destroys the socket; in process (no `c.env.incoming`) it makes
 * `app.fetch` reject with `TypeError("fetch failed")`, as undici does when a server hangs up.
 */
export function faultMiddleware<R extends string>(options: {
  route: R;
  stats: RequestStats<R>;
  faults: FaultRegistry<R>;
  bodies: FaultBodies;
}): MiddlewareHandler {
  const { route, stats, faults, bodies } = options;
  return async (c, next) => {
    stats.count(route);
    const fault = faults.take(route);
    if (!fault) return next();
    switch (fault.kind) {
      case "latency": {
        const signal = c.req.raw.signal;
        await sleep(fault.latencyMs ?? 0, signal);
        // The delay models time before the server starts work: a caller that gave up changes nothing.
        if (signal.aborted) return c.body(null, 503);
        return next();
      }
      case "status": {
        const status = fault.status ?? 500;
        return c.json(bodies.status(status), status);
      }
      case "malformed":
        // Truncated JSON under a JSON content type: the nastier case for a client than HTML.
        return c.body('{"code":0,"message":null,"response":{"imp_uid":', 200, {
          "content-type": "application/json; charset=utf-8",
        });
      case "wrong_types":
        return c.json(bodies.wrongTypes(), 200);
      case "api_error":
        return c.json(bodies.apiError(), 200);
      case "drop":
        return dropConnection(incomingOf(c.env));
      case "oversized":
        return c.body(oversizedBody(), 200, { "content-type": "application/json; charset=utf-8" });
      case "error": {
        // Arming checked the type against the route, so the answer always exists.
        const answer = bodies.error?.(fault.errorType ?? "");
        return answer ? c.json(answer.body, answer.status) : next();
      }
    }
  };
}

/** The size of an `oversized` fault's body: twice the longest body certgate's clients read. */
export const OVERSIZED_BODY_BYTES = 2 * 1_048_576;

/** `{"code":0,…,"response":{"imp_uid":"xxx…"}}`, {@link OVERSIZED_BODY_BYTES} long. */
function oversizedBody(): string {
  const head = '{"code":0,"message":null,"response":{"imp_uid":"';
  const tail = '"}}';
  return `${head}${"x".repeat(OVERSIZED_BODY_BYTES - head.length - tail.length)}${tail}`;
}

// @hono/node-server writes nothing for a response carrying this header (its RESPONSE_ALREADY_SENT).
const ALREADY_SENT_HEADER = "x-hono-already-sent";

/** The Node request under @hono/node-server (its `c.env` is `{ incoming, outgoing }`); else undefined. */
function incomingOf(env: unknown): IncomingMessage | undefined {
  if (typeof env !== "object" || env === null || !("incoming" in env)) return undefined;
  return env.incoming instanceof IncomingMessage ? env.incoming : undefined;
}

function dropConnection(incoming: IncomingMessage | undefined): Response {
  if (incoming) {
    incoming.socket.destroy();
    return new Response(null, { headers: { [ALREADY_SENT_HEADER]: "true" } });
  }
  throw createDropError();
}

const dropErrors = new WeakSet<Error>();

/** The error an in-process caller sees for a dropped connection: undici's shape. */
export function createDropError(): TypeError {
  const error = new TypeError("fetch failed", { cause: new Error("other side closed (emulated drop)") });
  dropErrors.add(error);
  return error;
}

/** Whether `error` is an emulated dropped connection (the app's error handler rethrows these). */
export function isDropError(error: unknown): error is TypeError {
  return error instanceof TypeError && dropErrors.has(error);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
