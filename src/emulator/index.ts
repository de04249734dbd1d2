/**
 * certgate's offline PortOne V1 emulator: `POST /users/getToken`, `GET`/`DELETE
 * /certifications/{imp_uid}`, the OTP flow, built-in personas, fault injection, an admin API, and a
 * stand-in for the browser SDK (`/v1/iamport.js`, global `IMP`) with its verification window.
 *
 * @example
 * import { createEmulator, serveEmulator, TEST_MERCHANT } from "certgate/emulator";
 * const emulator = createEmulator({ admin: true });
 * const { imp_uid } = emulator.createCertification({ persona: "adult" });
 * const { url, close } = await serveEmulator(emulator);
 */
export type { AdminControls } from "./admin.js";
export type { EmulatorAccount, EmulatorRouteName } from "./app.js";
export { createEmulator, type Emulator, type EmulatorOptions, OTHER_MERCHANT, TEST_MERCHANT } from "./app.js";
export { type CertificationRsp, RSP_ERRORS, WINDOW_MESSAGE_TYPE } from "./browser/messages.js";
export type { EmulatorClock } from "./clock.js";
export { FAULT_KINDS, type FaultKind } from "./faults.js";
export { deriveCi, deriveDi } from "./identity-keys.js";
export { EMULATOR_OTP_CODE } from "./otp.js";
export { PERSONA_IDS, PERSONAS, type Persona, type PersonaId, type PersonInput } from "./personas.js";
export { type ServedEmulator, serveEmulator } from "./serve.js";
export type { EmulatorMerchant } from "./v1/auth.js";
export type { V1Envelope } from "./v1/envelope.js";
export type {
  CertificationFieldOverrides,
  CreateCertificationInput,
  StoredCertification,
} from "./v1/records.js";
export { type Fault, type RouteName, V1_ROUTE_NAMES } from "./v1/route-names.js";
export { V1_TOKEN_EXTENSION_S, V1_TOKEN_EXTENSION_WINDOW_S, V1_TOKEN_LIFETIME_S } from "./v1/state.js";
export type { V2MerchantCredentials } from "./v2/auth.js";
export { V2_ERRORS, V2_ROUTE_ERRORS, type V2ErrorBody, type V2ErrorType } from "./v2/errors.js";
export {
  type CreateIdentityVerificationInput,
  EMULATOR_FAILURE,
  type StoredIdentityVerification,
  V2_OPERATORS,
  V2_STATUSES,
  type V2Operator,
  type V2Status,
  type V2StoredVerifiedCustomer,
} from "./v2/records.js";
export { V2_ROUTE_NAMES, type V2RouteName } from "./v2/route-names.js";
export { V2_ACCESS_TOKEN_LIFETIME_MS, V2_REFRESH_TOKEN_LIFETIME_MS } from "./v2/state.js";
