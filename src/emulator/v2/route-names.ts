/**
 * Names of the V2 routes, as faults and stats refer to them.
 *
 * @example
 * import { createEmulator, V2_ROUTE_NAMES } from "certgate/emulator";
 * const { v2 } = createEmulator().stats();
 * for (const route of V2_ROUTE_NAMES) console.log(route, v2.requests[route]);
 */
export const V2_ROUTE_NAMES = [
  "loginApiSecret",
  "refreshToken",
  "getIdentityVerification",
  "getIdentityVerifications",
  "sendIdentityVerification",
  "confirmIdentityVerification",
  "resendIdentityVerification",
] as const;

/**
 * A V2 route: `loginApiSecret` is `POST /login/api-secret`, `refreshToken` is `POST /token/refresh`,
 * `getIdentityVerifications` is the list `GET /identity-verifications`, the others are
 * `GET /identity-verifications/{id}` and `POST /identity-verifications/{id}/send|confirm|resend`.
 *
 * @example
 * import { createEmulator, type V2RouteName } from "certgate/emulator";
 * const route: V2RouteName = "refreshToken";
 * createEmulator().setFault({ route, kind: "status", status: 503, times: 1 });
 */
export type V2RouteName = (typeof V2_ROUTE_NAMES)[number];
