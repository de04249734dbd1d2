/** What each audience sees of a verification. The browser never receives CI, DI, phone or birthday. */
import { attemptsRemaining } from "../core/attempts.js";
import { maskName } from "../core/identity.js";
import type { VerificationRecord } from "../core/verification.js";

/** The merchant backend's view (behind an API key): the outcome and, while retained, the identity. */
export function merchantView(v: VerificationRecord) {
  return {
    id: v.id,
    api_version: v.apiVersion,
    merchant_uid: v.apiVersion === "v1" ? v.boundId : null,
    identity_verification_id: v.apiVersion === "v2" ? v.boundId : null,
    status: v.status,
    reason: v.reason ?? null,
    account_ref: v.accountRef ?? null,
    existing_account_ref: v.existingAccountRef ?? null,
    created_at: v.createdAt.toISOString(),
    expires_at: v.expiresAt.toISOString(),
    completed_at: v.completedAt?.toISOString() ?? null,
    /** Failed attempts counted (the rejecting one included) and allowed while pending. */
    failed_attempts: v.failedAttempts,
    max_attempts: v.maxAttempts,
    identity: v.identity
      ? {
          name: v.identity.name ?? null,
          birth_date: v.identity.birthDate ?? null,
          gender: v.identity.gender ?? null,
          foreigner: v.identity.foreigner ?? null,
          phone: v.identity.phone ?? null,
          carrier: v.identity.carrier ?? null,
          provider: v.identity.provider,
          verified_at: v.identity.verifiedAt?.toISOString() ?? null,
        }
      : null,
    identity_purged_at: v.purgedAt?.toISOString() ?? null,
  };
}

/**
 * The browser's view: status and decision, the name masked, nothing else personal. While pending it
 * says how many failed attempts are left, and nothing about a record presented that was not this
 * verification's.
 */
export function browserView(v: VerificationRecord) {
  return {
    id: v.id,
    status: v.status,
    ...(v.status === "pending" ? { attempts_remaining: attemptsRemaining(v) } : {}),
    ...(v.reason ? { reason: v.reason } : {}),
    ...(v.existingAccountRef ? { existing_account_ref: v.existingAccountRef } : {}),
    ...(v.identity?.name ? { name_masked: maskName(v.identity.name) } : {}),
  };
}
