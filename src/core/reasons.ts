/**
 * The closed vocabularies of a verification's outcome. These strings are part of certgate's external
 * contract (API answers, webhooks, the database): add to them deliberately, never rename.
 */

/**
 * Why a verification was rejected.
 * - `not_certified`: the upstream record is not certified (V1 `certified !== true`, V2 not `VERIFIED`).
 * - `merchant_uid_mismatch`: the record is not bound to the id this verification issued.
 * - `already_used`: the `imp_uid` / identity verification was already consumed by another completion.
 * - `expired`: the verification itself expired before completion.
 * - `stale_certification`: the record's verification time is missing, too old or too far in the future.
 * - `underage` / `overage`: outside the policy's age range (also when no birth date is available).
 * - `duplicate_account`: the person is already bound to another account.
 * - `no_person_key`: neither CI nor DI, and the policy requires a person key.
 * - `not_found`: the upstream has no such record. Since attempts are counted, a completion no longer
 *   ends with it (a 404 counts a failed attempt); it remains for outcomes stored before, and for
 *   stores used directly.
 * - `too_many_attempts`: more failed attempts (an upstream 404, a record bound to another
 *   verification) than the verification allows (`max_attempts`, default 5; see core/attempts.ts).
 * - `person_mismatch`: purpose `reverify`, and the verifying person is not the person bound to the
 *   account (or has no person key, or the account is no longer bound). Nothing about that person is
 *   kept or told.
 * - `identity_mismatch`: a field of the expected identity given at creation differs from the
 *   verified one (or the provider did not return it); `mismatched_fields` says which.
 */
export const REJECTION_REASONS = [
  "not_certified",
  "merchant_uid_mismatch",
  "already_used",
  "expired",
  "stale_certification",
  "underage",
  "overage",
  "duplicate_account",
  "no_person_key",
  "not_found",
  "too_many_attempts",
  "person_mismatch",
  "identity_mismatch",
] as const;

/** One of {@link REJECTION_REASONS}. */
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/** Whether `value` is a {@link RejectionReason} (for reading stored rows). */
export function isRejectionReason(value: unknown): value is RejectionReason {
  return REJECTION_REASONS.some((reason) => reason === value);
}

/** `pending` → `verified` | `rejected` (with a {@link RejectionReason}) | `expired`. */
export const VERIFICATION_STATUSES = ["pending", "verified", "rejected", "expired"] as const;

/** One of {@link VERIFICATION_STATUSES}. */
export type VerificationStatus = (typeof VERIFICATION_STATUSES)[number];

/** Whether `value` is a {@link VerificationStatus}. */
export function isVerificationStatus(value: unknown): value is VerificationStatus {
  return VERIFICATION_STATUSES.some((status) => status === value);
}

/**
 * What a verification is for (core/purpose.ts): `signup` binds the person to an account, `reverify`
 * requires the account's own person, `check` binds nothing.
 */
export const PURPOSES = ["signup", "reverify", "check"] as const;

/** One of {@link PURPOSES}. */
export type Purpose = (typeof PURPOSES)[number];

/** Whether `value` is a {@link Purpose} (for reading stored rows). */
export function isPurpose(value: unknown): value is Purpose {
  return PURPOSES.some((purpose) => purpose === value);
}
