/**
 * Request correlation: the id of the HTTP request being served, on every log line it causes — the
 * access line, the service's "verification completed", an upstream warning, the error handler's.
 *
 * certgate's own lines carry it by passing it along: the HTTP app writes `request_id` on its access
 * and error lines and passes the id to the service (`ServiceCall`), which writes it on its lines.
 * An `AsyncLocalStorage` carries it through every `await` for a library user's logger only: it can
 * read {@link currentRequestId} or be wrapped with {@link withRequestId}.
 *
 * On Node 20 an entered AsyncLocalStorage costs every promise of the process, not only the
 * request's: async_hooks' promise hooks run on each one's creation and settling (≈ 6 % of the CPU
 * of a completion at 50 concurrent and 20 ms upstream, bench/lib/why.ts). So the app enters it only once something
 * has asked for it — {@link currentRequestId} or {@link withRequestId} called once, as a library
 * user's logger does at its first line or when it is wrapped — and `certgate serve`, whose logger
 * uses neither, never pays for the hooks. A request already being served when the first ask comes
 * has no id in the storage; its certgate lines still carry it.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";

const storage = new AsyncLocalStorage<{ requestId: string }>();
/** Whether anything has read the storage yet: until then requests are served without entering it. */
let storageWanted = false;

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

/**
 * Runs `fn` with `requestId` as the current request's id, for everything `fn` awaits, once the
 * storage is wanted (see the header); until then it just runs `fn`.
 */
export function runWithRequestId<T>(requestId: string, fn: () => T): T {
  return storageWanted ? storage.run({ requestId }, fn) : fn();
}

/** Whether requests are served inside the storage (see the header): for tests. */
export function requestStorageInUse(): boolean {
  return storageWanted;
}

/** `fields` with `request_id` first when there is a request id. */
export function withRequestIdField<F extends Record<string, unknown>>(
  fields: F,
  requestId: string | undefined,
): F | ({ request_id: string } & F) {
  return requestId === undefined ? fields : { request_id: requestId, ...fields };
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
  storageWanted = true;
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
  storageWanted = true;
  const tag = (fields: Record<string, unknown>) => withRequestIdField(fields, currentRequestId());
  return {
    info: (fields, message) => logger.info(tag(fields), message),
    warn: (fields, message) => logger.warn(tag(fields), message),
    error: (fields, message) => logger.error(tag(fields), message),
  };
}
