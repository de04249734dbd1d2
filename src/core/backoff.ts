/**
 * Exponential backoff, the one formula the retries share: the PortOne client's between attempts
 * (with jitter), the webhook dispatcher's, recovery's checks and its owed upstream deletions.
 */

/**
 * `min(maxMs, baseMs × 2^step)`, step counted from 0 (a negative one counts as 0). The exponent is
 * bounded, so a huge step gives `maxMs` and never NaN (0 × ∞).
 *
 * @example exponentialBackoffMs(3, 1_000, 60_000) // 8_000
 */
export function exponentialBackoffMs(step: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(step, 1023)));
}
