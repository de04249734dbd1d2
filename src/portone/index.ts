/**
 * certgate's PortOne adapters. V1 ("i'mport"): {@link createV1Client}; V2: {@link createV2Client};
 * both with shared settings: {@link createPortOneClients}.
 *
 * @example
 * import { createV1Client } from "certgate";
 * const portone = createV1Client({ apiKey, apiSecret });
 * const record = await portone.getCertification(impUid);
 */

export {
  createPortOneClients,
  type PortOneClients,
  type PortOneClientsOptions,
  type PortOneSharedOptions,
} from "./clients.js";
export type { ClientEvent, TransportOptions } from "./http.js";
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
export { v1CertificationSchema, v1EnvelopeSchema, v1TokenSchema } from "./v1/schemas.js";
export {
  createV2Client,
  V2_DEFAULT_BASE_URL,
  type V2Client,
  type V2ClientOptions,
  type V2SendInput,
} from "./v2/client.js";
export { v2ErrorSchema, v2IdentityVerificationSchema, v2TokenPairSchema } from "./v2/schemas.js";
