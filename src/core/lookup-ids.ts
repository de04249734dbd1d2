/**
 * The ids a caller hands certgate to look something up by: bounded, and free of control characters.
 * No id certgate issues or PortOne sends has one, and PostgreSQL refuses NUL in text, so an
 * unchecked one became a driver error (a 500) instead of a 400. HTTP (http/schemas.ts) and the
 * library (service/verifications.ts) check them by these same rules.
 */
import { RequestError } from "./errors.js";

/** The longest id accepted, by what it is: V2's is PortOne's own limit on merchant-chosen ids. */
export const LOOKUP_ID_MAX = {
  impUid: 64,
  merchantUid: 128,
  identityVerificationId: 200,
  verificationId: 64,
} as const;

/** One or more characters, none of them a control character. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
export const WITHOUT_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f]+$/;

/**
 * `value` as an id of `field`, at most `max` characters.
 * @throws {RequestError} `invalid_request` naming `field` (never quoting the value).
 */
export function checkLookupId(field: string, value: unknown, max: number): string {
  if (typeof value !== "string" || value.length > max || !WITHOUT_CONTROL_CHARACTERS.test(value)) {
    throw new RequestError(
      "invalid_request",
      `${field} must be a string of 1 to ${max} characters, none a control character`,
      { field },
    );
  }
  return value;
}
