/**
 * How big the reliability suite runs. `npm test` runs the short version; `npm run test:soak` sets
 * CERTGATE_SOAK=1 and runs the long one (more verifications, longer load, ≥ 2,000 fuzz cases a route).
 */
export const SOAK = process.env.CERTGATE_SOAK === "1";

/** `short` under `npm test`, `long` under `npm run test:soak`. */
export function scaled(short: number, long: number): number {
  return SOAK ? long : short;
}

/** Per-test timeout: generous in the soak run, which is meant to take minutes. */
export const RELIABILITY_TIMEOUT_MS = SOAK ? 900_000 : 120_000;
