/**
 * certgate's public API: what a user composes. See README "Library use".
 *
 * - The service: {@link createVerificationService} over a {@link Store} ({@link openStore} with a
 *   {@link createKeyring} keyring) and PortOne clients ({@link createV1Client}, {@link createV2Client},
 *   {@link createPortOneClients}).
 * - The HTTP surface: {@link createHttpApp}, mounted anywhere with {@link toNodeHandler}, or the whole
 *   service started from a {@link Config} with {@link startCertgate}.
 * - Webhooks: {@link createWebhookDispatcher}; receivers check deliveries with {@link verifyWebhook}
 *   (also in `certgate/portone`, which a receiver can import alone); the events are the
 *   {@link WebhookEvent} union.
 * - Recovery and expiry: {@link createRecoveryJob} (startCertgate runs one).
 * - Policies ({@link resolvePolicy}; the service also takes the short {@link PolicyInput}), the
 *   verification record and outcome types, and every error class; {@link toErrorResponse} /
 *   {@link errorToResponse} answer an error in your own routes as certgate's app does.
 *
 * The configuration loader reading the environment belongs to the CLI and is not exported here.
 */

export type { Config } from "./config.js";
export type { AgeRule } from "./core/age.js";
export type { FailedAttemptReason } from "./core/attempts.js";
export {
  CertgateError,
  ConfigError,
  DuplicateIdError,
  MigrationError,
  MissingDependencyError,
  type PeerDependency,
  RequestError,
  type RequestErrorCode,
  StartupError,
  StoreError,
  type StoreErrorCode,
  UnknownKeyError,
  UnknownMigrationsError,
  UpstreamError,
  type UpstreamErrorCode,
} from "./core/errors.js";
export type { CompletionOutcome } from "./core/outcome.js";
export {
  type AgeBound,
  DEFAULT_POLICY,
  type Policy,
  type PolicyInput,
  policyFromInput,
  resolvePolicy,
  validatePolicy,
} from "./core/policy.js";
export { REJECTION_REASONS, type RejectionReason, type VerificationStatus } from "./core/reasons.js";
export type { Store } from "./core/store.js";
export type { V1Certification } from "./core/v1/upstream.js";
export type { V2IdentityVerification } from "./core/v2/upstream.js";
export type { ApiVersion, StoredIdentity, VerificationRecord } from "./core/verification.js";
export {
  type AccountUnboundEvent,
  type IdentityPurgedEvent,
  type VerificationCompletedEvent,
  type VerificationExpiredEvent,
  WEBHOOK_EVENT_TYPES,
  type WebhookEvent,
  type WebhookEventType,
} from "./core/webhook-event.js";
export { createHttpApp, type HttpAppOptions } from "./http/app.js";
export { toNodeHandler } from "./http/node-handler.js";
export { type ErrorBody, type ErrorResponse, errorToResponse, toErrorResponse } from "./http/responses.js";
export { currentRequestId, withRequestId } from "./observability/request-context.js";
// Everything in `certgate/portone` (the README promises it): clients, token manager, webhook helpers
// and constants, one list to keep.
export * from "./portone/index.js";
export { type Certgate, type StartOptions, startCertgate } from "./server.js";
export { createRecoveryJob, type RecoveryJob, type RecoveryJobOptions } from "./service/recovery.js";
export {
  type CreateVerificationInput,
  createVerificationService,
  type ServiceCall,
  type VerificationService,
  type VerificationServiceOptions,
} from "./service/verifications.js";
export {
  createWebhookDispatcher,
  verifyWebhookSignature,
  type WebhookDispatcher,
} from "./service/webhooks.js";
export { createKeyring, type Keyring, type KeyringOptions } from "./store/crypto.js";
export { type OpenStoreOptions, openStore } from "./store/index.js";
// The stores by kind, for their own options (busyTimeoutMs; lockTimeoutMs, queryTimeoutMs, max).
export { openPostgresStore, type PostgresStoreOptions } from "./store/postgres/index.js";
export { openSqliteStore, type SqliteStoreOptions } from "./store/sqlite/index.js";

// The `certgate` entry runs on Node: clients created through it call PortOne over node:http's
// keep-alive agent (about a third of fetch's CPU a call). `certgate/portone` alone keeps fetch.
import { nodeExchange } from "./portone/node-transport.js";
import { setDefaultExchange } from "./portone/transport.js";

setDefaultExchange(nodeExchange);
