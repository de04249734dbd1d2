/**
 * The `verification.completed` webhook event: what a receiver is told of a finished verification.
 * Ids and decisions only, never personal data (the receiver reads the identity through
 * `GET /api/verifications/:id` while it is retained). It is fixed when the outcome is committed: the
 * store writes it to the outbox in the outcome's transaction, and service/webhooks.ts delivers it.
 */
import type { VerificationRecord } from "./verification.js";

/** The event type of {@link completedEvent}. */
export const VERIFICATION_COMPLETED = "verification.completed";

/**
 * The event for finished verification `v`, under the stable event id `id` ("evt_…"); `now` stands in
 * for a missing `completedAt`.
 */
export function completedEvent(v: VerificationRecord, id: string, now: Date) {
  return {
    id,
    type: VERIFICATION_COMPLETED as typeof VERIFICATION_COMPLETED,
    timestamp: (v.completedAt ?? now).toISOString(),
    data: {
      verification_id: v.id,
      api_version: v.apiVersion,
      status: v.status,
      reason: v.reason ?? null,
      purpose: v.purpose,
      /** With reason `identity_mismatch`: which expected fields differed, never a value. */
      mismatched_fields: v.mismatchedFields ?? null,
      account_ref: v.accountRef ?? null,
      existing_account_ref: v.existingAccountRef ?? null,
    },
  };
}
