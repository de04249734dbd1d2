/** The bounds a store's timeout options are checked against when it opens. */

/** Longest timeout a store accepts, ms: Node's timers and PostgreSQL's settings are 32-bit. */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/** Whether `value` is a whole number of milliseconds from `min` to {@link MAX_TIMEOUT_MS}. */
export function isTimeoutMs(value: unknown, min: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= MAX_TIMEOUT_MS;
}
