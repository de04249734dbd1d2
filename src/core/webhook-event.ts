/**
 * The webhook event catalogue: every state change a receiver is told of, in one list
 * ({@link WEBHOOK_EVENT_TYPES}), each with its payload type and the function that builds it.
 *
 * - `verification.completed` — a verification finished as `verified` or `rejected` (a browser
 *   completion, recovery from PortOne, or the `too_many_attempts` finish of a failed attempt);
 * - `verification.expired`   — a pending verification reached its expiry (the sweeper, or a late
 *   completion that found it expired); status and reason `expired`;
 * - `account.unbound`        — `DELETE /api/accounts/:account_ref` freed the account's person;
 * - `identity.purged`        — retention (PIPA art. 21) destroyed a verification's personal fields.
 *
 * Ids and decisions only, never personal data (the receiver reads the identity through
 * `GET /api/verifications/:id` while it is retained). Each event is fixed when its change is
 * committed: the store writes it to the outbox in the change's own transaction, and
 * service/webhooks.ts delivers it (at least once; receivers deduplicate on `id`).
 */
import type { ExpectedField } from "./expected.js";
import type { Purpose, RejectionReason } from "./reasons.js";
import type { ApiVersion, VerificationRecord } from "./verification.js";

/**
 * The event type of a finished verification ({@link VerificationCompletedEvent}).
 * @example if (event.type === VERIFICATION_COMPLETED) console.log(event.data.status);
 */
export const VERIFICATION_COMPLETED = "verification.completed";
/**
 * The event type of an expiry ({@link VerificationExpiredEvent}).
 * @example if (event.type === VERIFICATION_EXPIRED) console.log(event.data.verification_id);
 */
export const VERIFICATION_EXPIRED = "verification.expired";
/**
 * The event type of a withdrawal ({@link AccountUnboundEvent}).
 * @example if (event.type === ACCOUNT_UNBOUND) console.log(event.data.account_ref);
 */
export const ACCOUNT_UNBOUND = "account.unbound";
/**
 * The event type of a retention purge ({@link IdentityPurgedEvent}).
 * @example if (event.type === IDENTITY_PURGED) console.log(event.data.purged_at);
 */
export const IDENTITY_PURGED = "identity.purged";

/**
 * Every event type certgate delivers: the catalogue. Add deliberately, never rename. Adding one:
 * declare its payload type below, add it to {@link WebhookEvent} and here; the compiler then asks
 * for its schema in portone/webhook.ts.
 * @example if (!WEBHOOK_EVENT_TYPES.includes(type)) console.warn("certgate sent an event this receiver does not handle");
 */
export const WEBHOOK_EVENT_TYPES = [
  VERIFICATION_COMPLETED,
  VERIFICATION_EXPIRED,
  ACCOUNT_UNBOUND,
  IDENTITY_PURGED,
] as const;

/**
 * One of {@link WEBHOOK_EVENT_TYPES}.
 * @example const handled: WebhookEventType[] = ["verification.completed", "verification.expired"];
 */
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Whether `value` is a {@link WebhookEventType}. */
export function isWebhookEventType(value: unknown): value is WebhookEventType {
  return WEBHOOK_EVENT_TYPES.some((type) => type === value);
}

/**
 * What every event carries: a stable id ("evt_…", the `webhook-id` header: deduplicate on it), its
 * type, and when its change happened (ISO 8601 UTC).
 * @example const seen = (event: WebhookEventEnvelope<WebhookEventType, unknown>) => event.id;
 */
export interface WebhookEventEnvelope<T extends WebhookEventType, D> {
  id: string;
  type: T;
  timestamp: string;
  data: D;
}
type EventEnvelope<T extends WebhookEventType, D> = WebhookEventEnvelope<T, D>;

/** The outcome fields both verification events carry. */
interface VerificationOutcomeData {
  verification_id: string;
  api_version: ApiVersion;
  /** What the verification was for: signup, reverify or check. */
  purpose: Purpose;
  /** With reason `identity_mismatch`: which expected fields differed (never a value); else null. */
  mismatched_fields: ExpectedField[] | null;
  account_ref: string | null;
  existing_account_ref: string | null;
}

/**
 * A verification finished as verified or rejected.
 * @example const unlock = (e: VerificationCompletedEvent) => e.data.status === "verified" && e.data.account_ref;
 */
export type VerificationCompletedEvent = EventEnvelope<
  typeof VERIFICATION_COMPLETED,
  VerificationOutcomeData & {
    status: "verified" | "rejected";
    /** The rejection reason (core/reasons.ts); null when verified. */
    reason: RejectionReason | null;
  }
>;

/**
 * A pending verification reached its expiry.
 * @example const expiredId = (e: VerificationExpiredEvent) => e.data.verification_id;
 */
export type VerificationExpiredEvent = EventEnvelope<
  typeof VERIFICATION_EXPIRED,
  VerificationOutcomeData & { status: "expired"; reason: "expired" }
>;

/**
 * An account was unbound from its person (withdrawal): the person may bind another account.
 * @example const freed = (e: AccountUnboundEvent) => e.data.account_ref;
 */
export type AccountUnboundEvent = EventEnvelope<
  typeof ACCOUNT_UNBOUND,
  {
    account_ref: string;
    /** The verification that had bound the account. */
    verification_id: string;
  }
>;

/**
 * A verification's personal fields (name, phone, birth date) were destroyed by retention: a
 * receiver that copied them destroys its copy too.
 * @example const purged = (e: IdentityPurgedEvent) => [e.data.verification_id, e.data.purged_at];
 */
export type IdentityPurgedEvent = EventEnvelope<
  typeof IDENTITY_PURGED,
  { verification_id: string; purged_at: string }
>;

/**
 * Every event a receiver can get: a union discriminated by `type`. Switch on `event.type` to
 * narrow `data`.
 *
 * @example
 * function handle(event: WebhookEvent) {
 *   switch (event.type) {
 *     case "verification.completed":
 *       return event.data.status === "verified" ? event.data.account_ref : undefined;
 *     case "identity.purged":
 *       return event.data.verification_id;
 *   }
 * }
 */
export type WebhookEvent =
  | VerificationCompletedEvent
  | VerificationExpiredEvent
  | AccountUnboundEvent
  | IdentityPurgedEvent;

/**
 * The event for finished verification `v` under the stable event id `id` ("evt_…"):
 * `verification.expired` when it expired, else `verification.completed`. `now` stands in for a
 * missing `completedAt`.
 */
export function completedEvent(
  v: VerificationRecord,
  id: string,
  now: Date,
): VerificationCompletedEvent | VerificationExpiredEvent {
  const common = {
    id,
    timestamp: (v.completedAt ?? now).toISOString(),
  };
  const data = {
    verification_id: v.id,
    api_version: v.apiVersion,
    purpose: v.purpose,
    /** With reason `identity_mismatch`: which expected fields differed, never a value. */
    mismatched_fields: v.mismatchedFields ?? null,
    account_ref: v.accountRef ?? null,
    existing_account_ref: v.existingAccountRef ?? null,
  };
  if (v.status === "expired") {
    return {
      ...common,
      type: VERIFICATION_EXPIRED,
      data: { ...data, status: "expired", reason: "expired" },
    };
  }
  if (v.status === "pending") throw new TypeError("webhook event: the verification has not finished");
  return {
    ...common,
    type: VERIFICATION_COMPLETED,
    data: { ...data, status: v.status, reason: v.reason ?? null },
  };
}

/** The `account.unbound` event of `accountRef`, bound by `verificationId` until `at`. */
export function accountUnboundEvent(
  input: { accountRef: string; verificationId: string },
  id: string,
  at: Date,
): AccountUnboundEvent {
  return {
    id,
    type: ACCOUNT_UNBOUND,
    timestamp: at.toISOString(),
    data: { account_ref: input.accountRef, verification_id: input.verificationId },
  };
}

/** The `identity.purged` event of verification `verificationId`, purged at `at`. */
export function identityPurgedEvent(verificationId: string, id: string, at: Date): IdentityPurgedEvent {
  return {
    id,
    type: IDENTITY_PURGED,
    timestamp: at.toISOString(),
    data: { verification_id: verificationId, purged_at: at.toISOString() },
  };
}
