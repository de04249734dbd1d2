/** The OTP rule both APIs' emulations share (V1's OTP routes, V2's confirm, the browser window). */

/** The OTP the emulator accepts for every pending verification. */
export const EMULATOR_OTP_CODE = "123456";
