/**
 * Failed attempts. The bound id (V1 `merchant_uid`, V2 `identityVerificationId`) is public: it travels
 * in the browser and in redirect URLs. So an attempt that is not this verification's own result must
 * not finish it, or anyone holding the id could burn the owner's verification for good. Such an
 * attempt — an upstream 404 (a bogus or unknown id) or a record bound to another verification
 * (`merchant_uid_mismatch`) — counts a failed attempt and leaves the verification pending. So does a
 * record of this verification that is not certified (`not_certified`: V1 `certified` false, V2
 * FAILED): PortOne lets the person try again under the same id (V2: "several attempts per id may
 * run but only one succeeds"; a cancel leaves the id FAILED until the next attempt), so it is the
 * person's attempt that failed, not the verification. Recovery and refresh, which no person
 * started, leave such a verification pending without counting an attempt.
 *
 * `maxAttempts` failed attempts are allowed; the next one (with the default 5: the sixth) rejects the
 * verification as `too_many_attempts`. `failedAttempts` counts every failed attempt, the rejecting
 * one included, so a verification rejected that way holds `failedAttempts === maxAttempts + 1`.
 */

/** The reasons an attempt fails without finishing its verification. */
export const FAILED_ATTEMPT_REASONS = ["not_found", "merchant_uid_mismatch", "not_certified"] as const;

/**
 * One of {@link FAILED_ATTEMPT_REASONS}.
 *
 * @example
 * import type { FailedAttemptReason } from "certgate";
 * if (outcome.kind === "attempt_failed") {
 *   const reason: FailedAttemptReason = outcome.reason; // "not_found" | "merchant_uid_mismatch" | "not_certified"
 * }
 */
export type FailedAttemptReason = (typeof FAILED_ATTEMPT_REASONS)[number];

/** Failed attempts a verification allows unless its creator says otherwise. */
export const DEFAULT_MAX_ATTEMPTS = 5;

/** Bounds of a verification's `maxAttempts`: at least one, and few enough to stop guessing. */
export const MIN_MAX_ATTEMPTS = 1;
export const MAX_MAX_ATTEMPTS = 20;

/** Whether `value` is an allowed `maxAttempts`: an integer from 1 to 20. */
export function isValidMaxAttempts(value: unknown): value is number {
  return (
    typeof value === "number" &&
    Number.isInteger(value) &&
    value >= MIN_MAX_ATTEMPTS &&
    value <= MAX_MAX_ATTEMPTS
  );
}

/** Failed attempts still allowed before the next one rejects: never negative. */
export function attemptsRemaining(v: { failedAttempts: number; maxAttempts: number }): number {
  return Math.max(0, v.maxAttempts - v.failedAttempts);
}

/** Whether the next failed attempt rejects as `too_many_attempts`: `maxAttempts` were already counted. */
export function attemptLimitSpent(v: { failedAttempts: number; maxAttempts: number }): boolean {
  return v.failedAttempts >= v.maxAttempts;
}
