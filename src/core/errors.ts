/**
 * Every error class certgate throws, in one place.
 *
 * Expected outcomes (a rejected verification, an underage person) are values, never errors.
 * These classes are for faults: talking to PortOne, configuration, and bad requests. Each has a
 * closed `code` union so callers switch on codes, never on messages. Messages name the method,
 * the URL path and the status; they never carry keys, secrets, tokens or personal data.
 */

/** Base class: `code` is a stable snake_case string from a closed set. */
export abstract class CertgateError extends Error {
  abstract readonly code: string;
}

/**
 * A fault talking to PortOne (V1 or V2).
 * - `unauthorized`: 401, still 401 after one token refresh, or the key/secret was refused.
 * - `forbidden`: 403 (V2).
 * - `not_found`: 404. A 404 is never success.
 * - `bad_request`: 400 from PortOne.
 * - `timeout`: no answer within the configured bound.
 * - `unavailable`: network error, dropped connection, or 5xx (after bounded retries).
 * - `invalid_response`: a body that is not JSON or fails the schema.
 * - `api_error`: HTTP 200 with `code != 0`, or another 4xx; `apiCode`/`apiMessage` hold PortOne's.
 */
export type UpstreamErrorCode =
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "bad_request"
  | "timeout"
  | "unavailable"
  | "invalid_response"
  | "api_error";

export interface UpstreamErrorDetails {
  /** HTTP method of the failed call. */
  method: string;
  /** URL of the failed call, without query string (which could carry ids a log need not see). */
  url: string;
  /** HTTP status when one was received. */
  status?: number | undefined;
  /** PortOne's own code: V1 `code` (number), V2 `type` (string). */
  apiCode?: number | string | undefined;
  /** PortOne's own message. PortOne's messages carry no personal data. */
  apiMessage?: string | undefined;
  /** Number of attempts made (retries included). */
  attempts?: number | undefined;
  cause?: unknown;
}

export class UpstreamError extends CertgateError {
  override readonly name = "UpstreamError";
  readonly code: UpstreamErrorCode;
  readonly method: string;
  readonly url: string;
  readonly status: number | undefined;
  readonly apiCode: number | string | undefined;
  readonly apiMessage: string | undefined;
  readonly attempts: number | undefined;

  constructor(code: UpstreamErrorCode, details: UpstreamErrorDetails, summary?: string) {
    const where = `${details.method} ${stripQuery(details.url)}`;
    const status = details.status === undefined ? "" : ` → ${details.status}`;
    const api =
      details.apiCode === undefined
        ? ""
        : ` (PortOne code ${details.apiCode}${details.apiMessage ? `: ${details.apiMessage}` : ""})`;
    super(`PortOne ${code}: ${where}${status}${api}${summary ? ` — ${summary}` : ""}`, {
      cause: details.cause,
    });
    this.code = code;
    this.method = details.method;
    this.url = stripQuery(details.url);
    this.status = details.status;
    this.apiCode = details.apiCode;
    this.apiMessage = details.apiMessage;
    this.attempts = details.attempts;
  }
}

/** Invalid configuration: names the variable, never echoes its value (it may be a secret). */
export class ConfigError extends CertgateError {
  override readonly name = "ConfigError";
  readonly code = "invalid_config" as const;
  readonly variable: string;

  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.variable = variable;
  }
}

/**
 * A request certgate refuses. The HTTP layer maps each code to its status in one place.
 */
export type RequestErrorCode =
  | "invalid_request" // 400: fields missing, wrong types, too long
  | "invalid_json" // 400: body is not JSON
  | "unsupported_media_type" // 415
  | "payload_too_large" // 413
  | "unauthorized" // 401: missing or unknown API key
  | "forbidden" // 403
  | "return_url_not_allowed" // 400: a return_url outside the configured origins (no open redirect)
  | "not_found" // 404
  | "conflict" // 409
  | "invalid_idempotency_key" // 400: an Idempotency-Key that is not 1–255 printable ASCII, or on a route without idempotency
  | "idempotency_conflict"; // 409: an Idempotency-Key reused with another body within its 24 hours

export class RequestError extends CertgateError {
  override readonly name = "RequestError";
  readonly code: RequestErrorCode;
  /** Optional machine-readable detail, e.g. which field failed. Never personal data. */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: RequestErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

function stripQuery(url: string): string {
  const i = url.search(/[?#]/);
  return i === -1 ? url : url.slice(0, i);
}
