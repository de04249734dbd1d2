/**
 * When certgate asks PortOne about a pending V2 verification whose browser has not come back
 * (recovery; PortOne sends no identity-verification webhook, so asking is the only way): a first
 * look after {@link RecoverySchedule.firstCheckAfterMs}, giving the browser its chance, then
 * exponential backoff, and one last look shortly before the verification expires. V1 has no lookup
 * by `merchant_uid`, so only V2 verifications are recovered.
 */

import { exponentialBackoffMs } from "./backoff.js";

/** The timing of recovery checks, in milliseconds. */
export interface RecoverySchedule {
  /** Age of a verification at its first check. Default 15 s. */
  firstCheckAfterMs: number;
  /** Delay after the first check; it doubles after each one. Default 15 s. */
  baseDelayMs: number;
  /** Longest delay between two checks. Default 2 minutes. */
  maxDelayMs: number;
  /** The last check happens this long before the expiry (when the backoff would pass it). Default 5 s. */
  finalMarginMs: number;
}

export const DEFAULT_RECOVERY_SCHEDULE: RecoverySchedule = Object.freeze({
  firstCheckAfterMs: 15_000,
  baseDelayMs: 15_000,
  maxDelayMs: 120_000,
  finalMarginMs: 5_000,
});

/**
 * When to check again after check number `checks` (1 for the first) made at `now`: the backoff
 * `min(maxDelayMs, baseDelayMs × 2^(checks − 1))`, but never past the last look before `expiresAt`.
 * When that last look is already behind, `expiresAt` itself: recovery then claims it no more (a
 * claim needs an unexpired verification) and the sweeper finishes it as `expired`.
 *
 * @example nextRecoveryCheckAt({ checks: 1, now, expiresAt }) // now + 15 s
 */
export function nextRecoveryCheckAt(input: {
  checks: number;
  now: Date;
  expiresAt: Date;
  schedule?: RecoverySchedule;
}): Date {
  const { baseDelayMs, maxDelayMs, finalMarginMs } = input.schedule ?? DEFAULT_RECOVERY_SCHEDULE;
  const now = input.now.getTime();
  const next = now + exponentialBackoffMs(Math.min(30, input.checks - 1), baseDelayMs, maxDelayMs);
  const last = input.expiresAt.getTime() - finalMarginMs;
  if (next <= last) return new Date(next);
  return new Date(last > now ? last : input.expiresAt.getTime());
}

/** First delay between two attempts to delete PortOne's copy of a record; it doubles after each. */
export const UPSTREAM_DELETION_BASE_DELAY_MS = 60_000;
/** Longest delay between two attempts to delete PortOne's copy: an owed deletion is never dropped. */
export const UPSTREAM_DELETION_MAX_DELAY_MS = 6 * 60 * 60_000;

/**
 * When to try again to delete PortOne's copy of a record after attempt number `attempts` (1 for the
 * first recovery made) failed at `now`: `min(6 h, 1 min × 2^(attempts − 1))`. PortOne down for a
 * day costs a few attempts an hour; credentials fixed after a week are used within six hours.
 *
 * @example nextUpstreamDeletionAt({ attempts: 3, now }) // now + 4 minutes
 */
export function nextUpstreamDeletionAt(input: { attempts: number; now: Date }): Date {
  const delay = exponentialBackoffMs(
    input.attempts - 1,
    UPSTREAM_DELETION_BASE_DELAY_MS,
    UPSTREAM_DELETION_MAX_DELAY_MS,
  );
  return new Date(input.now.getTime() + delay);
}
