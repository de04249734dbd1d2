/**
 * Request correlation: the id of the HTTP request being served, carried through every `await` by
 * an `AsyncLocalStorage`, so a log line written anywhere while serving it — the service's
 * "verification completed", an upstream warning, the error handler — can carry `request_id`
 * without any layer passing the id along.
 *
 * The HTTP app sets it (`createHttpApp`'s first middleware); the process logger reads it through
 * a pino `mixin` (cli/logger.ts); a library user's own logger can read it with
 * {@link currentRequestId} or be wrapped with {@link withRequestId}.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";

const storage = new AsyncLocalStorage<{ requestId: string }>();

/**
 * An incoming `X-Request-Id` certgate keeps: 1–128 characters of letters, digits and `._:-`.
 * Anything else (too long, spaces, control or non-ASCII characters) could forge or break log
 * lines, so it is dropped and never echoed.
 */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's `X-Request-Id` when it is sane ({@link REQUEST_ID_PATTERN}), else a fresh UUID. */
export function requestIdFrom(incoming: string | undefined): string {
  return incoming !== undefined && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
}

/** Runs `fn` with `requestId` as the current request's id, for everything `fn` awaits. */
export function runWithRequestId<T>(requestId: string, fn: () => T): T {
  return storage.run({ requestId }, fn);
}

/**
 * The id of the request being served, or undefined outside one (startup, background jobs).
 *
 * @example
 * import pino from "pino";
 * import { currentRequestId } from "certgate";
 * const logger = pino({ mixin: () => ({ request_id: currentRequestId() }) });
 */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

/** A logger certgate writes to: fields (ids and decisions only) and a message. */
export interface FieldLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/**
 * `logger` with `request_id` added to every line written while a request is served (lines
 * outside a request are passed through unchanged).
 *
 * @example
 * const log = withRequestId(myLogger); // then give `log` to createVerificationService and createHttpApp
 */
export function withRequestId<L extends FieldLogger>(logger: L): FieldLogger {
  const tag = (fields: Record<string, unknown>) => {
    const requestId = currentRequestId();
    return requestId === undefined ? fields : { request_id: requestId, ...fields };
  };
  return {
    info: (fields, message) => logger.info(tag(fields), message),
    warn: (fields, message) => logger.warn(tag(fields), message),
    error: (fields, message) => logger.error(tag(fields), message),
  };
}
