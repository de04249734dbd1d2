/**
 * `certgate/portone`: the PortOne clients and certgate's webhook helpers, on their own. No database
 * driver, no native module, no HTTP framework: it needs only `fetch` and Web Crypto, so it runs on
 * Node 20+, Bun, Deno and edge workers, from ESM and CommonJS alike.
 *
 * - V1 ("i'mport"): {@link createV1Client}; V2: {@link createV2Client}; both with shared settings:
 *   {@link createPortOneClients}. Faults throw {@link UpstreamError} (a closed `code`).
 * - Webhooks from certgate: {@link verifyWebhook} returns the typed {@link WebhookEvent} or throws
 *   {@link WebhookVerificationError}; {@link signWebhook} signs test deliveries.
 *
 * @example
 * import { createV1Client, UpstreamError } from "certgate/portone";
 * const portone = createV1Client({ apiKey: process.env.PORTONE_API_KEY, apiSecret: process.env.PORTONE_API_SECRET });
 * try {
 *   const record = await portone.getCertification(impUid);
 *   // Judge the age from it, never log it: the birthday is personal data.
 *   const birthday = record.certified ? record.birthday : undefined;
 * } catch (error) {
 *   if (error instanceof UpstreamError && error.code === "not_found") console.log("no such imp_uid");
 *   else throw error;
 * }
 *
 * @example
 * // CommonJS (NestJS and others):
 * const { createV2Client, verifyWebhook } = require("certgate/portone");
 */

export {
  CertgateError,
  ConfigError,
  UpstreamError,
  type UpstreamErrorCode,
  type UpstreamErrorDetails,
  WebhookVerificationError,
  type WebhookVerificationFailureReason,
} from "../core/errors.js";
export type { RejectionReason, VerificationStatus } from "../core/reasons.js";
export type { V1Carrier, V1Certification } from "../core/v1/upstream.js";
export type { V2IdentityVerification, V2SelectedChannel, V2VerifiedCustomer } from "../core/v2/upstream.js";
export type { ApiVersion } from "../core/verification.js";
export {
  ACCOUNT_UNBOUND,
  type AccountUnboundEvent,
  IDENTITY_PURGED,
  type IdentityPurgedEvent,
  VERIFICATION_COMPLETED,
  VERIFICATION_EXPIRED,
  type VerificationCompletedEvent,
  type VerificationExpiredEvent,
  WEBHOOK_EVENT_TYPES,
  type WebhookEvent,
  type WebhookEventEnvelope,
  type WebhookEventType,
} from "../core/webhook-event.js";
export {
  createPortOneClients,
  type PortOneClients,
  type PortOneClientsOptions,
  type PortOneSharedOptions,
} from "./clients.js";
export type { ClientEvent } from "./http.js";
export type { TransportOptions } from "./options.js";
export {
  createTokenManager,
  type IssuedToken,
  type TokenManager,
  type TokenManagerOptions,
} from "./token-manager.js";
export {
  createV1Client,
  type OtpRequestInput,
  V1_DEFAULT_BASE_URL,
  type V1Client,
  type V1ClientOptions,
} from "./v1/client.js";
export {
  createV2Client,
  V2_DEFAULT_BASE_URL,
  type V2Client,
  type V2ClientOptions,
  type V2SendInput,
} from "./v2/client.js";
export {
  type SignWebhookInput,
  signWebhook,
  type VerifyWebhookInput,
  verifyWebhook,
  WEBHOOK_TOLERANCE_SECONDS,
  type WebhookHeaders,
  type WebhookHeadersInput,
} from "./webhook.js";
