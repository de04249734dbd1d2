/**
 * The webhook events certgate sends: what a receiver is told. Ids and decisions only, never personal
 * data (the receiver reads the identity through `GET /api/verifications/:id` while it is retained).
 * An event is fixed when its cause is committed: the store writes it to the outbox in the same
 * transaction, and service/webhooks.ts delivers it. Receivers parse them with `verifyWebhook`
 * (`certgate/portone`).
 *
 * Adding an event: declare its type below, add it to {@link WebhookEvent} and
 * {@link WEBHOOK_EVENT_TYPES}; the compiler then asks for its schema in portone/webhook.ts.
 */
import type { RejectionReason, VerificationStatus } from "./reasons.js";
import type { ApiVersion, VerificationRecord } from "./verification.js";

/** The envelope every event shares; `type` tells which event it is. */
export interface WebhookEventEnvelope<Type extends string, Data> {
  /** Stable event id ("evt_…"), the same on every delivery: the `webhook-id` header. Deduplicate on it. */
  id: string;
  type: Type;
  /** When it happened, ISO 8601 UTC ("2026-01-01T00:00:00.000Z"). */
  timestamp: string;
  data: Data;
}

/** The event type of {@link VerificationCompletedEvent}. */
export const VERIFICATION_COMPLETED = "verification.completed";

/** What {@link VerificationCompletedEvent} says of the verification. */
export interface VerificationCompletedData {
  verification_id: string;
  api_version: ApiVersion;
  /** `verified`, `rejected` or `expired`. */
  status: VerificationStatus;
  /** Why it was rejected; null unless `status` is `rejected`. */
  reason: RejectionReason | null;
  account_ref: string | null;
  /** The account this person is already bound to, if any (the "existing user" branch). */
  existing_account_ref: string | null;
}

/** A verification finished (verified, rejected or expired). */
export type VerificationCompletedEvent = WebhookEventEnvelope<
  typeof VERIFICATION_COMPLETED,
  VerificationCompletedData
>;

/**
 * Every event certgate sends, discriminated by `type`. Switch on `event.type` to narrow `data`.
 * New events are added to this union (and to {@link WEBHOOK_EVENT_TYPES}).
 *
 * @example
 * function handle(event: WebhookEvent) {
 *   switch (event.type) {
 *     case "verification.completed":
 *       return event.data.status === "verified" ? unlock(event.data.account_ref) : undefined;
 *   }
 * }
 */
export type WebhookEvent = VerificationCompletedEvent;

/** The `type` of every {@link WebhookEvent}. */
export type WebhookEventType = WebhookEvent["type"];

/**
 * Every {@link WebhookEventType}, for receivers that list what they handle.
 * @example if (!WEBHOOK_EVENT_TYPES.includes(type)) console.warn("certgate sent an event this receiver does not handle");
 */
export const WEBHOOK_EVENT_TYPES = [VERIFICATION_COMPLETED] as const satisfies readonly WebhookEventType[];

/**
 * The event for finished verification `v`, under the stable event id `id` ("evt_…"); `now` stands in
 * for a missing `completedAt`.
 * @example const event = completedEvent(verification, "evt_0123", new Date());
 */
export function completedEvent(v: VerificationRecord, id: string, now: Date): VerificationCompletedEvent {
  return {
    id,
    type: VERIFICATION_COMPLETED,
    timestamp: (v.completedAt ?? now).toISOString(),
    data: {
      verification_id: v.id,
      api_version: v.apiVersion,
      status: v.status,
      reason: v.reason ?? null,
      account_ref: v.accountRef ?? null,
      existing_account_ref: v.existingAccountRef ?? null,
    },
  };
}
