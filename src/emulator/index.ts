/**
 * certgate's offline PortOne V1 emulator: `POST /users/getToken`, `GET`/`DELETE
 * /certifications/{imp_uid}`, the OTP flow, built-in personas, fault injection and an admin API.
 *
 * @example
 * import { createEmulator, serveEmulator, TEST_MERCHANT } from "certgate/emulator";
 * const emulator = createEmulator({ admin: true });
 * const { imp_uid } = emulator.createCertification({ persona: "adult" });
 * const { url, close } = await serveEmulator(emulator);
 */
export type { AdminControls } from "./admin.js";
export { createEmulator, type Emulator, type EmulatorOptions, OTHER_MERCHANT, TEST_MERCHANT } from "./app.js";
export { FAULT_KINDS, type FaultKind } from "./faults.js";
export { deriveCi, deriveDi } from "./identity-keys.js";
export { PERSONA_IDS, PERSONAS, type Persona, type PersonaId } from "./personas.js";
export { type ServedEmulator, serveEmulator } from "./serve.js";
export type { EmulatorClock } from "./state.js";
export { V1_TOKEN_EXTENSION_S, V1_TOKEN_EXTENSION_WINDOW_S, V1_TOKEN_LIFETIME_S } from "./state.js";
export type { V1Envelope } from "./v1/envelope.js";
export {
  type CertificationFieldOverrides,
  type CreateCertificationInput,
  EMULATOR_OTP_CODE,
  type PersonInput,
  type StoredCertification,
} from "./v1/records.js";
export { type Fault, type RouteName, V1_ROUTE_NAMES } from "./v1/route-names.js";
export type { EmulatorMerchant } from "./v1/tokens.js";
