/**
 * certgate's public API. See README "Library use".
 */

export { type Config, loadConfig } from "./cli/config.js";
export { type AgeRule, internationalAge, yearAge } from "./core/age.js";
export {
  DEFAULT_MAX_ATTEMPTS,
  FAILED_ATTEMPT_REASONS,
  type FailedAttemptReason,
  MAX_MAX_ATTEMPTS,
  MIN_MAX_ATTEMPTS,
} from "./core/attempts.js";
export { type CalendarDate, parseBirthday, seoulDate } from "./core/calendar.js";
export * from "./core/errors.js";
export {
  fromV1Certification,
  maskName,
  type PersonKey,
  personKeyOf,
  type UpstreamResult,
  type VerifiedIdentity,
} from "./core/identity.js";
export {
  DEFAULT_POLICY,
  evaluatePolicy,
  type Policy,
  type PolicyDecision,
  type PolicyField,
  resolvePolicy,
  validatePolicy,
} from "./core/policy.js";
export { REJECTION_REASONS, type RejectionReason, type VerificationStatus } from "./core/reasons.js";
export type { Store } from "./core/store.js";
export type { V1Carrier, V1Certification } from "./core/upstream-records.js";
export type { VerificationRecord } from "./core/verification.js";
export { createHttpApp, type HttpAppOptions } from "./http/app.js";
export { toNodeHandler } from "./http/node-handler.js";
export { createMetrics } from "./observability/metrics.js";
export { currentRequestId, withRequestId } from "./observability/request-context.js";
export * from "./portone/index.js";
export { startCertgate } from "./server.js";
export {
  type CompletionOutcome,
  type CreateVerificationInput,
  createVerificationService,
  IDEMPOTENCY_KEY_TTL_MS,
  type VerificationService,
  type VerificationServiceOptions,
} from "./service/verifications.js";
export { createWebhookDispatcher, signWebhook, verifyWebhookSignature } from "./service/webhooks.js";
export { createKeyring } from "./store/crypto.js";
export { openStore } from "./store/index.js";
