/** Names of the V2 routes, as faults and stats refer to them. */
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
 */
export type V2RouteName = (typeof V2_ROUTE_NAMES)[number];
