/**
 * The one place where errors and completion outcomes become HTTP responses (app.ts only routes).
 * Every answer that is not a success has the contract's shape `{ "error": { "code", "message" } }`;
 * anything unknown is a logged 500 whose body says nothing about the cause.
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
  UpstreamError,
  type UpstreamErrorCode,
} from "../core/errors.js";
import type { CompletionOutcome } from "../core/outcome.js";
import { browserView } from "./views.js";

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
  conflict: 409,
  invalid_idempotency_key: 400,
  idempotency_conflict: 409,
  account_not_bound: 409,
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
export const STORE_ERROR_CODES = Object.keys(STORE_MESSAGE).map((code) => `store_${code}`);

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
  const body: ErrorBody = { error: details ? { code, message, details } : { code, message } };
  return c.json(body, status);
}

/** Hono `onError` handler. Messages of CertgateErrors carry no secrets or personal data by design. */
export function createErrorHandler(logger: ErrorLogger) {
  return (err: Error, c: Context) => {
    if (err instanceof RequestError) {
      return errorResponse(c, REQUEST_STATUS[err.code], err.code, err.message, err.details);
    }
    if (err instanceof DuplicateIdError) {
      return errorResponse(c, REQUEST_STATUS.conflict, "conflict", err.message);
    }
    if (err instanceof UpstreamError) {
      logger.warn({ code: err.code, status: err.status, attempts: err.attempts }, "upstream fault");
      return errorResponse(c, UPSTREAM_STATUS[err.code], `upstream_${err.code}`, upstreamMessage(err.code));
    }
    if (err instanceof StoreError) {
      // The driver's code only: its message may name the database host.
      logger.warn({ code: err.code, dialect: err.dialect, driver_code: err.driverCode }, "store fault");
      c.header("retry-after", String(STORE_RETRY_AFTER_SECONDS));
      return errorResponse(c, 503, `store_${err.code}`, STORE_MESSAGE[err.code]);
    }
    if (err instanceof CertgateError) {
      logger.error({ code: err.code }, "unexpected certgate error");
    } else {
      // Log the class and stack frames' shape only; messages of foreign errors may echo input.
      logger.error({ error: err.name }, "unhandled error");
    }
    return errorResponse(c, 500, "internal_error", "internal error");
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
 * A failed attempt (an upstream 404, a record bound to another verification) is 422 with `error.code`
 * `not_found` / `merchant_uid_mismatch` too, but `verification.status` stays `pending` and
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

function failedAttemptMessage(reason: FailedAttemptReason): string {
  const what =
    reason === "not_found" ? "PortOne has no such record" : "the record is not bound to this verification";
  return `${what}; the verification is still pending`;
}
