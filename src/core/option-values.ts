/**
 * Numeric options of the library's background jobs, checked when the job is made: NaN, a fraction,
 * a negative or an absurd count would otherwise turn a loop into a busy spin (`start(NaN)` re-armed
 * its timer at once, ≈ 900 store calls a second) or a job that never gets anything done
 * (`batchSize: 0` claimed nothing, forever).
 */
import { ConfigError } from "./errors.js";

/** Node's timers are 32-bit: a longer delay fires at once. */
export const MAX_DELAY_MS = 2_147_483_647;

/**
 * `value`, when it is a whole number from `min` to `max`; `undefined` stays undefined (the default).
 * @throws ConfigError naming `name` otherwise.
 */
export function wholeNumberOption(
  name: string,
  value: unknown,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/**
 * `value`, when it is `true` or `false`; `undefined` stays undefined (the default). A string such
 * as `"false"` (an environment variable passed as is) would otherwise read as on, or `"true"` as
 * off where the code asks `=== true`.
 * @throws ConfigError naming `name` otherwise.
 */
export function booleanOption(name: string, value: unknown): boolean | undefined {
  if (value === undefined || typeof value === "boolean") return value;
  throw new ConfigError(name, "must be true or false");
}

/**
 * `value`, when it is a function; `undefined` stays undefined (the default).
 * @throws ConfigError naming `name` otherwise (not a TypeError on the first call that uses it).
 */
export function functionOption<T extends (...args: never[]) => unknown>(
  name: string,
  value: T | undefined,
): T | undefined {
  if (value === undefined || typeof value === "function") return value;
  throw new ConfigError(name, "must be a function");
}

/**
 * Checks that a factory's argument is an options object (not missing, null, an array or a string).
 * @throws ConfigError naming `name` otherwise.
 */
export function optionsObject(name: string, value: unknown): asserts value is object {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(name, "must be an object of options");
  }
}

/**
 * Checks that `value` is an object with each of `methods` (a store, a client, a logger): one without
 * them was a TypeError on the first call that used it, a 500 per request or a loop failing forever.
 * @throws ConfigError naming `name`, saying what it `must` be, otherwise.
 */
export function methodsOption(name: string, value: unknown, methods: readonly string[], must: string): void {
  const has =
    typeof value === "object" &&
    value !== null &&
    methods.every((method) => typeof (value as Record<string, unknown>)[method] === "function");
  if (!has) throw new ConfigError(name, must);
}

/** {@link methodsOption} for an optional logger: `levels` are the methods it must have. */
export function loggerOption(name: string, value: unknown, levels: readonly string[]): void {
  if (value === undefined) return;
  const listed = levels.length === 1 ? `a ${levels[0]} method` : `${levels.join(", ")} methods`;
  // Not named after the service's logger: this file is in certgate/portone's graph, which must
  // not mention it (test/package/pack.test.ts).
  methodsOption(name, value, levels, `must have ${listed} (console has them)`);
}
