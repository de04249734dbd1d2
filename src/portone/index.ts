/**
 * certgate's PortOne adapters. V1 ("i'mport"): {@link createV1Client}.
 *
 * @example
 * import { createV1Client } from "certgate";
 * const portone = createV1Client({ apiKey, apiSecret });
 * const record = await portone.getCertification(impUid);
 */
export type { ClientEvent } from "./http.js";
export {
  createV1Client,
  type OtpRequestInput,
  V1_DEFAULT_BASE_URL,
  type V1Client,
  type V1ClientOptions,
} from "./v1/client.js";
export { v1CertificationSchema, v1EnvelopeSchema, v1TokenSchema } from "./v1/schemas.js";
export { createTokenManager, type TokenManager, type TokenManagerOptions } from "./v1/token-manager.js";
