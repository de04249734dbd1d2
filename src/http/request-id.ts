/**
 * The id of the request being served (X-Request-Id), kept on Hono's context by the app's first
 * middleware, for the lines the app writes and the service calls it makes: passed along, not read
 * from an AsyncLocalStorage (observability/request-context.ts says why).
 */
import type { Context } from "hono";
import { withRequestIdField } from "../observability/request-context.js";
import type { ServiceCall } from "../service/verifications.js";

const KEY = "certgate.requestId";

export function setRequestId(c: Context, requestId: string): void {
  c.set(KEY, requestId);
}

/** The id the first middleware set; undefined only before it ran. */
function requestIdOf(c: Context): string | undefined {
  const id: unknown = c.get(KEY);
  return typeof id === "string" ? id : undefined;
}

/** What a service call made while serving `c` carries: its request id. */
export function callOf(c: Context): ServiceCall {
  return { requestId: requestIdOf(c) };
}

/** A log method as the app's loggers have it. */
type LineWriter = (fields: Record<string, unknown>, message: string) => void;

/** `logger` writing the request id of `c` first on each line. */
export function taggedLogger(
  logger: { warn: LineWriter; error: LineWriter },
  c: Context,
): { warn: LineWriter; error: LineWriter } {
  const requestId = requestIdOf(c);
  return {
    warn: (fields, message) => logger.warn(withRequestIdField(fields, requestId), message),
    error: (fields, message) => logger.error(withRequestIdField(fields, requestId), message),
  };
}
