/**
 * The one HTTP request function PortOne's V1 and V2 clients share: a per-attempt timeout, bounded
 * retries with full-jitter exponential backoff, and every failure mapped to an {@link UpstreamError}.
 * The options callers give, and their checks, are in portone/options.ts.
 *
 * Retry policy (only for requests marked `idempotent`; never after an answer was a 4xx):
 * - network errors and dropped connections: retried;
 * - 502, 503, 504: retried (a gateway or an overloaded server; 500 is a bug upstream, not retried);
 * - a timed-out attempt: retried. An idempotent call (a GET, PortOne's getToken, a DELETE whose end
 *   state is the same however often it runs) cannot change anything by running twice, and a single
 *   slow attempt is usually one stuck connection. The price is the bound: a call fails at the latest
 *   after `attempts × timeoutMs + Σ backoff` (backoff ≤ `retryMaxDelayMs` each), which callers size
 *   with `retries` and `timeoutMs`.
 * Non-idempotent calls (PortOne's OTP request and confirm) get exactly one attempt.
 *
 * Keep-alive: the default transport is node:http(s) through one keep-alive agent per protocol
 * (portone/transport.ts), so lookups after the first reuse warm sockets; a caller's `fetch` (the
 * in-process emulator, a test) is used as given.
 */
import { exponentialBackoffMs } from "../core/backoff.js";
import {
  RequestError,
  UpstreamError,
  type UpstreamErrorCode,
  type UpstreamErrorDetails,
} from "../core/errors.js";
import { defaultExchange, type Exchange, fetchExchange, MAX_RESPONSE_BYTES } from "./transport.js";

/**
 * Metrics hook payloads: route names, statuses, counts and durations only, never tokens or data.
 * @example
 * const onEvent = (event: ClientEvent) => event.type === "retry" && console.warn(event.route, event.code);
 * const portone = createV1Client({ apiKey, apiSecret, onEvent });
 */
export type ClientEvent =
  | {
      type: "request";
      /** A route name such as "getCertification", never a URL with ids in it. */
      route: string;
      /** Absent when no response arrived (network error, timeout). */
      status?: number;
      /** Wall time of this attempt, from a monotonic clock. */
      durationMs: number;
      /** 1 for the first attempt. */
      attempt: number;
    }
  | {
      type: "retry";
      route: string;
      /** The attempt about to be made (2 for the first retry). */
      attempt: number;
      /** Why the previous attempt failed. */
      code: UpstreamErrorCode;
    }
  | { type: "token_refresh"; reason: "cold" | "expiring" | "unauthorized" };

/** How a successful (2xx, JSON) body turns into a value: the API layer's envelope rules. */
export type DecodeResult<T> =
  | { ok: true; value: T }
  | {
      ok: false;
      code: "invalid_response" | "api_error";
      apiCode?: number | string | undefined;
      apiMessage?: string | undefined;
      /** For humans; must not contain body values (they may be personal data). */
      summary?: string;
      cause?: unknown;
    };

/** PortOne's own code and message from an error body, when it has them. */
export interface ApiErrorInfo {
  apiCode?: number | string | undefined;
  apiMessage?: string | undefined;
}

export interface HttpRequest<T> {
  /** Route name for metrics and retry events, e.g. "getCertification". */
  route: string;
  method: "GET" | "POST" | "DELETE";
  /** Path below the base URL, already encoded, e.g. "/certifications/imp_123". */
  path: string;
  headers?: Record<string, string>;
  /** Sent as JSON when present. */
  json?: unknown;
  /** Whether running the call twice is harmless; only then is it retried. */
  idempotent: boolean;
  /** Turns a 2xx JSON body into the result. */
  decode(body: unknown): DecodeResult<T>;
}

export interface HttpClientOptions {
  /** e.g. "https://api.iamport.kr"; a trailing slash is ignored. */
  baseUrl: string;
  /** Default: node:http(s) through a shared keep-alive agent (portone/transport.ts). */
  fetch?: typeof fetch | undefined;
  /** Per attempt, covering the response headers AND the body. */
  timeoutMs: number;
  /** Extra attempts for idempotent calls. */
  retries: number;
  retryBaseDelayMs: number;
  /** Cap of one backoff delay. Default 2000. */
  retryMaxDelayMs?: number;
  /** In [0, 1). Default Math.random. */
  random?: () => number;
  /** Default: a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** A monotonic clock in ms for durations. Default `performance.now`. */
  monotonicNow?: () => number;
  /** Headers sent with every request (e.g. PortOne's `Tier`). */
  headers?: Record<string, string>;
  /** Reads PortOne's code and message from a non-2xx body (already JSON-parsed). */
  describeError?: (body: unknown) => ApiErrorInfo;
  onEvent?: (event: ClientEvent) => void;
}

/** Sends one logical request (with its retries). Throws {@link UpstreamError} on every failure. */
export type HttpClient = <T>(request: HttpRequest<T>) => Promise<T>;

const RETRYABLE_STATUSES = new Set([502, 503, 504]);
const MAX_API_MESSAGE_LENGTH = 300;

/**
 * Creates the request function.
 *
 * @example
 * const request = createHttpClient({ baseUrl, fetch, timeoutMs: 5000, retries: 2, retryBaseDelayMs: 100 });
 * const record = await request({ route: "x", method: "GET", path: "/x", idempotent: true, decode });
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? defaultSleep;
  const monotonicNow = options.monotonicNow ?? (() => performance.now());
  const maxDelay = options.retryMaxDelayMs ?? 2000;
  const exchanger =
    options.fetch === undefined ? defaultExchange(baseUrl) : fetchExchange(baseUrl, options.fetch);
  const emit = (event: ClientEvent) => {
    try {
      options.onEvent?.(event);
    } catch {
      // A broken metrics hook must not break the call it observes.
    }
  };

  return async function request<T>(req: HttpRequest<T>): Promise<T> {
    const url = `${baseUrl}${req.path}`;
    const maxAttempts = req.idempotent ? 1 + Math.max(0, Math.floor(options.retries)) : 1;
    for (let attempt = 1; ; attempt++) {
      const outcome = await attemptOnce(req, url, attempt);
      if (outcome.ok) return outcome.value;
      const { error, retryable } = outcome;
      if (!retryable || attempt >= maxAttempts) throw error;
      emit({ type: "retry", route: req.route, attempt: attempt + 1, code: error.code });
      // Full jitter (AWS architecture blog): uniform in [0, min(cap, base·2^(n-1))).
      const ceiling = exponentialBackoffMs(attempt - 1, options.retryBaseDelayMs, maxDelay);
      await sleep(Math.floor(random() * ceiling));
    }
  };

  async function attemptOnce<T>(
    req: HttpRequest<T>,
    url: string,
    attempt: number,
  ): Promise<AttemptOutcome<T>> {
    const fail = (code: UpstreamErrorCode, extra: ErrorExtras, summary?: string) =>
      new UpstreamError(code, { method: req.method, url, attempts: attempt, ...extra }, summary);
    const started = monotonicNow();
    const exchanged = await exchange(req);
    emit({
      type: "request",
      route: req.route,
      status: exchanged.status,
      durationMs: monotonicNow() - started,
      attempt,
    });

    if (exchanged.kind === "timeout")
      return {
        ok: false,
        retryable: req.idempotent,
        error: fail(
          "timeout",
          { status: exchanged.status },
          `no complete answer within ${options.timeoutMs} ms`,
        ),
      };
    if (exchanged.kind === "network")
      // Refused, reset or dropped (node:http's error, or fetch's "fetch failed"); its cause names no header or body.
      return {
        ok: false,
        retryable: req.idempotent,
        error: fail("unavailable", { status: exchanged.status, cause: exchanged.cause }, "network error"),
      };

    if (exchanged.kind === "too_large")
      return {
        ok: false,
        retryable: false,
        error: fail(
          "invalid_response",
          { status: exchanged.status },
          `body over ${MAX_RESPONSE_BYTES} bytes: not PortOne's answer`,
        ),
      };

    const { status, text } = exchanged;
    const body = parseJson(text);
    if (status < 200 || status >= 300) {
      const api = body === NOT_JSON ? {} : (options.describeError?.(body) ?? {});
      // A 404 is PortOne's "no such record" only in PortOne's own error body. A proxy's or a
      // gateway's 404 page says nothing about the record; taken for one, it counted the person's
      // failed attempts until they were rejected (too_many_attempts) for a fault on the way.
      if (status === 404 && api.apiCode === undefined) {
        return {
          ok: false,
          retryable: false,
          error: fail("invalid_response", { status }, "a 404 without PortOne's error body"),
        };
      }
      return {
        ok: false,
        retryable: req.idempotent && RETRYABLE_STATUSES.has(status),
        error: fail(codeForStatus(status), {
          status,
          apiCode: api.apiCode,
          apiMessage: clip(api.apiMessage),
        }),
      };
    }
    if (body === NOT_JSON)
      return { ok: false, retryable: false, error: fail("invalid_response", { status }, "body is not JSON") };
    const decoded = req.decode(body);
    if (decoded.ok) return decoded;
    const { code, apiCode, apiMessage, summary, cause } = decoded;
    // Not retried: a definite answer (PortOne's own error code, or a body this client cannot read).
    return {
      ok: false,
      retryable: false,
      error: fail(code, { status, apiCode, apiMessage: clip(apiMessage), cause }, summary),
    };
  }

  /** One exchange: the caller's `fetch` when given, else node:http(s) with a keep-alive agent. */
  function exchange(req: HttpRequest<unknown>): Promise<Exchange> {
    const headers: Record<string, string> = {
      accept: "application/json",
      ...options.headers,
      ...req.headers,
    };
    let body: string | undefined;
    if (req.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(req.json);
    }
    return exchanger({ method: req.method, path: req.path, headers, body }, options.timeoutMs);
  }
}

type ErrorExtras = Omit<UpstreamErrorDetails, "method" | "url" | "attempts">;

type AttemptOutcome<T> = { ok: true; value: T } | { ok: false; error: UpstreamError; retryable: boolean };

/** The error code for a non-2xx status. */
export function codeForStatus(status: number): UpstreamErrorCode {
  if (status === 400) return "bad_request";
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status >= 400 && status < 500) return "api_error";
  if (status >= 500) return "unavailable";
  // 1xx/3xx: redirects are not followed, and PortOne sends none.
  return "invalid_response";
}

const NOT_JSON = Symbol("not JSON");

/** JSON.parse without its SyntaxError, whose message quotes the body (possibly personal data). */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
}

function clip(message: string | undefined): string | undefined {
  return message !== undefined && message.length > MAX_API_MESSAGE_LENGTH
    ? `${message.slice(0, MAX_API_MESSAGE_LENGTH)}…`
    : message;
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Rethrows a failure of a token call (V1 getToken, V2 login/refresh) as the call that needed the
 * token reports it. A 404 there says the token endpoint is missing (a wrong base URL, a proxy),
 * nothing about the record asked for: it becomes `api_error`, so that `not_found` keeps meaning
 * "no such record" — which finishes a verification for good.
 */
export function rethrowTokenFailure(error: unknown): never {
  if (!(error instanceof UpstreamError) || error.code !== "not_found") throw error;
  throw new UpstreamError(
    "api_error",
    {
      method: error.method,
      url: error.url,
      status: error.status,
      apiCode: error.apiCode,
      apiMessage: error.apiMessage,
      attempts: error.attempts,
      cause: error,
    },
    "the token endpoint answered 404",
  );
}

/**
 * An upstream id as one encoded path segment. Loose on purpose (PortOne documents `imp_` + 12 digits
 * for V1 and lets merchants choose V2 ids): non-empty, bounded, no '/', no control characters, no
 * lone surrogate (which encodeURIComponent cannot encode), and not "." or ".." (URL resolution would
 * turn those into another path).
 * @throws RequestError `invalid_request` naming `field`, never the value.
 */
export function pathSegment(id: string, field: string): string {
  const invalid = () =>
    new RequestError("invalid_request", `${field}: must be a non-empty id without '/'`, {
      fields: [field],
    });
  if (
    typeof id !== "string" ||
    id.length === 0 ||
    id.length > 200 ||
    id.includes("/") ||
    id === "." ||
    id === ".." ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
    /[\u0000-\u001f\u007f]/.test(id)
  )
    throw invalid();
  try {
    return encodeURIComponent(id);
  } catch {
    // A URIError: the id has a lone surrogate, which is not text at all (and no id has one).
    throw invalid();
  }
}
