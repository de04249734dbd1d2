/** The OTP rule both APIs' emulations share (V1's OTP routes, V2's confirm, the browser window). */

/**
 * The OTP the emulator accepts for every pending verification.
 *
 * @example
 * import { EMULATOR_OTP_CODE } from "certgate/emulator";
 * const record = await portone.confirmOtp(impUid, EMULATOR_OTP_CODE);
 */
export const EMULATOR_OTP_CODE = "123456";
