/**
 * The one place where errors become HTTP responses. Every answer that is not a success has the
 * contract's shape `{ "error": { "code", "message" } }`; anything unknown is a logged 500 whose
 * body says nothing about the cause.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import {
  CertgateError,
  RequestError,
  type RequestErrorCode,
  UpstreamError,
  type UpstreamErrorCode,
} from "../core/errors.js";

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

const REQUEST_STATUS: Record<RequestErrorCode, ContentfulStatusCode> = {
  invalid_request: 400,
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
    if (err instanceof UpstreamError) {
      logger.warn({ code: err.code, status: err.status, attempts: err.attempts }, "upstream fault");
      return errorResponse(c, UPSTREAM_STATUS[err.code], `upstream_${err.code}`, upstreamMessage(err.code));
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
