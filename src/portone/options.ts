/**
 * The options the PortOne clients share, and their checks: each wrong value is a `ConfigError`
 * naming the option when the client is made, never accepted to misbehave on the first call. A
 * timeout past Node's 32-bit timer limit fired at once (every call a `timeout`); `retries: 1e9`
 * retried a 503 for ever; a `fetch` that is not a function made every call look like a PortOne
 * outage (`unavailable`); `"not a url"` as `baseUrl` was a bare TypeError.
 */
import { ConfigError } from "../core/errors.js";
import { isHttpUrl } from "../core/http-url.js";
import { functionOption, MAX_DELAY_MS, wholeNumberOption } from "../core/option-values.js";
import type { ClientEvent } from "./http.js";
import { MAX_TOKEN_MARGIN_SECONDS } from "./token-manager.js";

/**
 * Most extra attempts of one idempotent call. With the default 5 s timeout and 2 s backoff cap, a
 * call then fails within about a minute and a quarter; more retries only hold the person longer
 * in front of an outage.
 */
export const MAX_RETRIES = 10;

/**
 * The transport options the V1 and V2 clients share, as callers give them (all optional). Each is
 * checked when the client is made (`ConfigError` naming it).
 * @example
 * const transport: TransportOptions = { timeoutMs: 3000, retries: 1 };
 * const portone = createV1Client({ apiKey, apiSecret, ...transport });
 */
export interface TransportOptions {
  /**
   * Default: node:http(s) through a keep-alive agent shared by the process (portone/transport.ts),
   * which costs far less CPU per call than global fetch.
   */
  fetch?: typeof fetch | undefined;
  /** Bound of one attempt (headers and body), ms: a whole number from 1 to 2^31−1 (Node's timer limit). Default 5000. */
  timeoutMs?: number | undefined;
  /** Extra attempts for idempotent calls (token calls, lookups, delete): 0 to 10. Default 2. */
  retries?: number | undefined;
  /** First backoff ceiling, doubled per retry (full jitter), ms: 0 to 2^31−1. Default 100. */
  retryBaseDelayMs?: number | undefined;
  /**
   * Renew the access token this long before its (assumed) expiry, seconds: 0 to 600. PortOne's
   * tokens live 30 minutes; a margin near that would ask for a new one every few seconds. Default 60.
   */
  tokenMarginSeconds?: number | undefined;
  /** In [0, 1), for backoff jitter. Default `Math.random`. */
  random?: (() => number) | undefined;
  /** Backoff sleep. Default a timer. */
  sleep?: ((ms: number) => Promise<void>) | undefined;
  /** Metrics hook: routes, statuses, attempts and durations only. */
  onEvent?: ((event: ClientEvent) => void) | undefined;
}

/** Every key of {@link TransportOptions}: the clients refuse any other (core/unknown-fields.ts). */
export const TRANSPORT_OPTION_KEYS: Record<keyof TransportOptions, true> = {
  fetch: true,
  timeoutMs: true,
  retries: true,
  retryBaseDelayMs: true,
  tokenMarginSeconds: true,
  random: true,
  sleep: true,
  onEvent: true,
};

/**
 * Checks the shared transport options and fills their defaults: a 5 s timeout per attempt, 2 extra
 * attempts for idempotent calls, 100 ms base backoff.
 * @throws ConfigError naming the option (no silent fallback).
 */
export function transportConfig(options: TransportOptions) {
  const random = functionOption("random", options.random);
  const sleep = functionOption("sleep", options.sleep);
  const onEvent = functionOption("onEvent", options.onEvent);
  wholeNumberOption("tokenMarginSeconds", options.tokenMarginSeconds, 0, MAX_TOKEN_MARGIN_SECONDS);
  return {
    fetch: functionOption("fetch", options.fetch),
    timeoutMs: wholeNumberOption("timeoutMs", options.timeoutMs, 1, MAX_DELAY_MS) ?? 5000,
    retries: wholeNumberOption("retries", options.retries, 0, MAX_RETRIES) ?? 2,
    // One backoff delay is also capped by the client's `retryMaxDelayMs`; this bound keeps a delay a timer can hold.
    retryBaseDelayMs: wholeNumberOption("retryBaseDelayMs", options.retryBaseDelayMs, 0, MAX_DELAY_MS) ?? 100,
    ...(random ? { random } : {}),
    ...(sleep ? { sleep } : {}),
    ...(onEvent ? { onEvent } : {}),
  };
}

/**
 * `value` as the base URL of a client (default `fallback`), without its trailing slashes: an
 * absolute http(s) URL with no query, fragment or user info, which a path appended to it would
 * land after (or which `fetch` refuses outright).
 * @throws ConfigError naming `baseUrl` otherwise (never the bare TypeError of `new URL`).
 */
export function baseUrlOption(value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  const problem = baseUrlProblem(value);
  if (problem !== undefined) throw new ConfigError("baseUrl", problem);
  return (value as string).replace(/\/+$/, "");
}

/**
 * Why `value` cannot be a client's base URL, or undefined when it can be one: also the rule of
 * `PORTONE_API_URL` and `PORTONE_V2_API_URL`, so the variable is named, not the client's option.
 */
export function baseUrlProblem(value: unknown): string | undefined {
  const problem = "must be an absolute http(s) URL without query, fragment or credentials";
  if (typeof value !== "string" || !isHttpUrl(value)) return problem;
  // Even an empty "?" or "#" counts: the path is appended as text, and would land after it.
  const { username, password } = new URL(value);
  if (value.includes("?") || value.includes("#") || username !== "" || password !== "") return problem;
  return undefined;
}

/**
 * Checks that a required text option (a key, a secret) is a non-empty string.
 * @throws ConfigError naming `name`, saying `what` it is, never echoing the value.
 */
export function requiredText(name: string, value: unknown, what: string): asserts value is string {
  if (typeof value !== "string" || value.length === 0)
    throw new ConfigError(name, `is required: a non-empty string (${what})`);
}
