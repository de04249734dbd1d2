/**
 * The one place where errors and completion outcomes become HTTP responses (app.ts only routes).
 * Every answer that is not a success has the contract's shape `{ "error": { "code", "message" } }`;
 * anything unknown is a logged 500 whose body says nothing about the cause.
 *
 * Longer than 400 lines: it is the one place, so every mapping stays in it rather than split to
 * meet a length.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { FailedAttemptReason } from "../core/attempts.js";
import {
  CertgateError,
  DuplicateIdError,
  RequestError,
  type RequestErrorCode,
  StoreError,
  type StoreErrorCode,
  UnknownKeyError,
  UpstreamError,
  type UpstreamErrorCode,
} from "../core/errors.js";
import type { CompletionOutcome } from "../core/outcome.js";
import { guardedLogger } from "../util/guarded-logger.js";
import { taggedLogger } from "./request-id.js";
import { browserView } from "./views.js";

/**
 * The JSON body of every answer that is not a success: a stable `code`, a message, and `details` for some request errors.
 *
 * @example
 * import type { ErrorBody } from "certgate";
 * const res = await fetch("https://verify.shop.example/api/verifications/ver_missing", {
 *   headers: { authorization: `Bearer ${apiKey}` },
 * });
 * const { error } = (await res.json()) as ErrorBody; // { code: "not_found", message: "…" }
 */
export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

const REQUEST_STATUS: Record<RequestErrorCode, ContentfulStatusCode> = {
  invalid_request: 400,
  unknown_field: 400,
  repeated_parameter: 400,
  invalid_json: 400,
  return_url_not_allowed: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  invalid_idempotency_key: 400,
  idempotency_conflict: 409,
  account_not_bound: 409,
  refresh_unsupported: 409,
};

/**
 * Upstream faults: a timeout is 504, an unreachable or failing PortOne 503, and an answer certgate
 * cannot use (bad credentials, malformed body, an error envelope) 502. Codes are prefixed so a
 * merchant tells "PortOne is down" from "your request was bad".
 */
const UPSTREAM_STATUS: Record<UpstreamErrorCode, ContentfulStatusCode> = {
  timeout: 504,
  unavailable: 503,
  unauthorized: 502,
  forbidden: 502,
  not_found: 502,
  bad_request: 502,
  invalid_response: 502,
  api_error: 502,
};

/**
 * Database faults are all 503 `store_<code>` with `Retry-After`: the request did not happen (a
 * transaction cut off rolls back) and may be sent again as is.
 */
const STORE_MESSAGE: Record<StoreErrorCode, string> = {
  unavailable: "the database is unavailable; retry later",
  busy: "the database is locked by another writer; retry later",
  read_only: "the database refuses writes right now; retry later",
  full: "the database has no space left; retry later",
};

/** Seconds a client is asked to wait before retrying after a store fault. */
export const STORE_RETRY_AFTER_SECONDS = 1;

/**
 * Seconds a client is asked to wait after `upstream_unavailable` (503): the PortOne client has
 * already retried within the request, so an outage is longer than that; the verification stays
 * pending and the same completion may be sent again.
 */
export const UPSTREAM_RETRY_AFTER_SECONDS = 5;

/** The HTTP status of a RequestError's code (what openapi.ts documents each code under). */
export function requestErrorStatus(code: RequestErrorCode): ContentfulStatusCode {
  return REQUEST_STATUS[code];
}

/** The `error.code`s of upstream faults answered with `status`: `upstream_<code>`. */
export function upstreamErrorCodes(status: ContentfulStatusCode): string[] {
  return Object.entries(UPSTREAM_STATUS)
    .filter(([, s]) => s === status)
    .map(([code]) => `upstream_${code}`);
}

/** The `error.code`s of database faults, all answered 503: `store_<code>`. */
export const STORE_ERROR_CODES = [...Object.keys(STORE_MESSAGE), "unknown_key"].map(
  (code) => `store_${code}`,
);

export interface ErrorLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export function errorResponse(
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  details?: Record<string, unknown>,
) {
  return c.json(mapped(status, code, message, details).body, status);
}

/**
 * An error as certgate answers it over HTTP: the status, the headers (`Retry-After` on a store
 * fault) and the stable body `{ error: { code, message, details? } }`. Built by {@link toErrorResponse}.
 *
 * @example
 * const { status, headers, body }: ErrorResponse = toErrorResponse(err);
 */
export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: ErrorBody;
}

/** {@link ErrorResponse} with a status Hono's `c.json` takes. */
interface MappedError extends ErrorResponse {
  status: ContentfulStatusCode;
}

/**
 * How certgate answers `err` over HTTP, for a library user's own routes (Express, Fastify, Hono,
 * a `(req: Request) => Response` handler): the same mapping as certgate's own app, so a
 * {@link RequestError} from `service.create` is a 4xx JSON with its stable `code` instead of the
 * framework's 500 page. A {@link RequestError} is its 4xx, an {@link UpstreamError} a 502/503/504
 * `upstream_<code>`, a {@link StoreError} a 503 `store_<code>` with `Retry-After`. A framework's
 * own client error (an error with a 4xx `status` or `statusCode`, such as Express's `express.json()`
 * parse failure or Fastify's) is a 400 `invalid_json` / `invalid_request`, 413 `payload_too_large`
 * or 415 `unsupported_media_type`. Anything else is a 500 `internal_error` whose body says
 * nothing about the cause.
 *
 * @param options.logger gets upstream and store faults (`warn`) and unexpected errors (`error`),
 *   by code and class only, never a message.
 * @example
 * import type express from "express";
 * import { toErrorResponse } from "certgate";
 * // Express 5: the last middleware; async route errors arrive here.
 * app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
 *   const { status, headers, body } = toErrorResponse(err, { logger });
 *   res.status(status).set(headers).json(body);
 * });
 */
export function toErrorResponse(err: unknown, options: { logger?: ErrorLogger } = {}): ErrorResponse {
  return mapError(
    err,
    options.logger === undefined ? SILENT : guardedLogger(options.logger, ["warn", "error"]),
  );
}

/**
 * {@link toErrorResponse} as a web-standard `Response`, for fetch-style handlers (Next.js route
 * handlers, Hono, Bun, Deno, edge workers).
 *
 * @example
 * import { errorToResponse } from "certgate";
 * export async function POST(req: Request): Promise<Response> {
 *   try {
 *     const { imp_uid, merchant_uid } = await req.json();
 *     const outcome = await service.completeV1({ impUid: imp_uid, merchantUid: merchant_uid });
 *     return Response.json({ status: outcome.verification.status });
 *   } catch (err) {
 *     return errorToResponse(err, { logger });
 *   }
 * }
 */
export function errorToResponse(err: unknown, options: { logger?: ErrorLogger } = {}): Response {
  const { status, headers, body } = toErrorResponse(err, options);
  return Response.json(body, { status, headers });
}

const SILENT: ErrorLogger = { warn() {}, error() {} };

function mapped(
  status: ContentfulStatusCode,
  code: string,
  message: string,
  details?: Record<string, unknown>,
  headers: Record<string, string> = {},
): MappedError {
  return { status, headers, body: { error: details ? { code, message, details } : { code, message } } };
}

/** The mapping itself; messages of CertgateErrors carry no secrets or personal data by design. */
function mapError(err: unknown, logger: ErrorLogger): MappedError {
  if (err instanceof RequestError) {
    return mapped(REQUEST_STATUS[err.code], err.code, err.message, err.details);
  }
  if (err instanceof DuplicateIdError) {
    return mapped(REQUEST_STATUS.conflict, "conflict", err.message);
  }
  if (err instanceof UpstreamError) {
    logger.warn({ code: err.code, status: err.status, attempts: err.attempts }, "upstream fault");
    const status = UPSTREAM_STATUS[err.code];
    // Retry-After is a 503's header (RFC 9110 §10.2.3); a 502 or 504 says nothing of when.
    const headers: Record<string, string> =
      status === 503 ? { "retry-after": String(UPSTREAM_RETRY_AFTER_SECONDS) } : {};
    return mapped(status, `upstream_${err.code}`, upstreamMessage(err.code), undefined, headers);
  }
  if (err instanceof StoreError) {
    // The driver's code only: its message may name the database host.
    logger.warn({ code: err.code, dialect: err.dialect, driver_code: err.driverCode }, "store fault");
    return mapped(503, `store_${err.code}`, STORE_MESSAGE[err.code], undefined, {
      "retry-after": String(STORE_RETRY_AFTER_SECONDS),
    });
  }
  if (err instanceof UnknownKeyError) {
    // This instance's secrets, not the request: another instance (or this one restarted with both
    // secrets) can answer it. The key's id is a hash prefix.
    logger.error({ code: err.code, key_id: err.keyId }, err.message);
    return mapped(
      503,
      "store_unknown_key",
      "this instance cannot read the stored record; retry later",
      undefined,
      {
        "retry-after": String(STORE_RETRY_AFTER_SECONDS),
      },
    );
  }
  if (err instanceof CertgateError) {
    logger.error({ code: err.code }, "unexpected certgate error");
    return mapped(500, "internal_error", "internal error");
  }
  const client = foreignClientError(err);
  if (client) return client;
  // Log the class only; messages of foreign errors may echo input.
  logger.error({ error: err instanceof Error ? err.name : typeof err }, "unhandled error");
  return mapped(500, "internal_error", "internal error");
}

/** Express's (body-parser's `type`) and Fastify's (`code`) names for a body that is not JSON. */
const JSON_PARSE_FAILURES = new Set([
  "entity.parse.failed",
  "FST_ERR_CTP_INVALID_JSON_BODY",
  "FST_ERR_CTP_EMPTY_JSON_BODY",
]);

/**
 * A framework's refusal of the request, answered with a stable code and a message of certgate's
 * (theirs may echo the body): an `http-errors` error marked `expose` (Express's body parsers), a
 * Fastify `FST_` error, or a JSON `SyntaxError`, each with a 4xx `status` / `statusCode`. Another
 * error with a 4xx status (an HTTP client's, say, from the merchant's own outbound call) is a fault
 * of the server, not of this request: a 500.
 */
function foreignClientError(err: unknown): MappedError | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const { status, statusCode, expose, type, code } = err as Record<string, unknown>;
  const fastify = typeof code === "string" && code.startsWith("FST_");
  if (!(expose === true || fastify || err instanceof SyntaxError)) return undefined;
  const httpStatus = typeof status === "number" ? status : statusCode;
  if (typeof httpStatus !== "number" || !Number.isInteger(httpStatus)) return undefined;
  if (httpStatus < 400 || httpStatus > 499) return undefined;
  if (httpStatus === 413) return mapped(413, "payload_too_large", "the body is too large");
  if (httpStatus === 415) return mapped(415, "unsupported_media_type", "send the body as application/json");
  const notJson =
    err instanceof SyntaxError ||
    JSON_PARSE_FAILURES.has(String(type)) ||
    JSON_PARSE_FAILURES.has(String(code));
  if (notJson) return mapped(400, "invalid_json", "the body is not valid JSON");
  return mapped(400, "invalid_request", "the request could not be read");
}

/**
 * The raw HTTP answer to a request Node's parser refused before any route saw it — a malformed
 * request line or header, headers over Node's limit (16 KB), a request too slow to arrive — for
 * `server.on("clientError")`: certgate's JSON error with a stable code, where Node wrote a bare
 * status line. `code` is the parser's error code (`HPE_HEADER_OVERFLOW`, …). The connection closes.
 */
export function clientErrorAnswer(code: string | undefined): string {
  const { status, reason, body } = clientErrorBody(code);
  // ASCII only, so its length is its byte count.
  return `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`;
}

/**
 * {@link clientErrorAnswer}'s status and JSON body. Besides the parser's codes, `MISSING_HOST` (an
 * HTTP/1.1 request without Host) and `CONNECT` (a method certgate never serves: 405) from
 * http/node-handler.ts.
 */
export function clientErrorBody(code: string | undefined): { status: number; reason: string; body: string } {
  const [status, reason, errorCode, message] =
    code === "HPE_HEADER_OVERFLOW"
      ? [431, "Request Header Fields Too Large", "invalid_request", "the request's headers are too large"]
      : code === "ERR_HTTP_REQUEST_TIMEOUT" || code === "ERR_HTTP_HEADERS_TIMEOUT"
        ? [408, "Request Timeout", "invalid_request", "the request did not arrive in time"]
        : code === "MISSING_HOST"
          ? [400, "Bad Request", "invalid_request", "an HTTP/1.1 request needs a Host header"]
          : code === "CONNECT"
            ? [405, "Method Not Allowed", "method_not_allowed", '"CONNECT" is not served here']
            : [400, "Bad Request", "invalid_request", "the request is not valid HTTP"];
  return { status, reason, body: JSON.stringify({ error: { code: errorCode, message } }) };
}

/** Hono `onError` handler: {@link toErrorResponse}'s mapping, answered through `c`. */
export function createErrorHandler(logger: ErrorLogger) {
  return (err: Error, c: Context) => {
    const { status, headers, body } = mapError(err, taggedLogger(logger, c));
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
    return c.json(body, status);
  };
}

function upstreamMessage(code: UpstreamErrorCode): string {
  switch (code) {
    case "timeout":
      return "PortOne did not answer in time; the verification is still pending, retry later";
    case "unavailable":
      return "PortOne is unavailable; the verification is still pending, retry later";
    default:
      return "PortOne's answer could not be used; the verification is still pending";
  }
}

/** 303 to the verification's return_url with its id, status and reason; JSON when it has none. */
export function redirectResponse(c: Context, outcome: CompletionOutcome) {
  const returnUrl = outcome.verification.returnUrl;
  if (!returnUrl) return completionResponse(c, outcome);
  const target = new URL(returnUrl);
  // The outcome's parameters are certgate's alone: a return_url that carried `reason=…` of its own
  // sent a verified person's page a reason, since only the parameters an outcome has are set.
  for (const name of ["reason", "existing_account_ref"]) target.searchParams.delete(name);
  target.searchParams.set("verification_id", outcome.verification.id);
  target.searchParams.set("status", outcome.verification.status);
  const reason =
    outcome.kind === "replayed"
      ? "already_used"
      : outcome.kind === "attempt_failed"
        ? outcome.reason
        : outcome.verification.reason;
  if (reason) target.searchParams.set("reason", reason);
  // As the browser view: the account this person already holds (a duplicate_account outcome).
  const existing = outcome.verification.existingAccountRef;
  if (existing) target.searchParams.set("existing_account_ref", existing);
  return c.redirect(target.toString(), 303);
}

/**
 * 200 verified; 422 rejected or expired; 409 `already_used` for a replay of a finished verification;
 * 202 with status `pending` when the V2 record is not finished yet (READY, or a status certgate does
 * not know): nothing was written and the same call may be retried.
 *
 * A failed attempt (an upstream 404, a record bound to another verification, a record not certified)
 * is 422 with `error.code` `not_found` / `merchant_uid_mismatch` / `not_certified` too, but
 * `verification.status` stays `pending` and
 * `verification.attempts_remaining` says how many more failed attempts it allows: the owner's own
 * result still completes it. The attempt after the last allowed one is the final 422
 * `too_many_attempts` (status `rejected`).
 */
export function completionResponse(c: Context, outcome: CompletionOutcome) {
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

/** What failed, per reason: a record keyed by every reason, so a new one cannot fall into another's words. */
const FAILED_ATTEMPT_WHAT: Record<FailedAttemptReason, string> = {
  not_found: "PortOne has no such record",
  merchant_uid_mismatch: "the record is not bound to this verification",
  not_certified: "the person did not finish the verification at PortOne",
};

function failedAttemptMessage(reason: FailedAttemptReason): string {
  return `${FAILED_ATTEMPT_WHAT[reason]}; the verification is still pending`;
}
