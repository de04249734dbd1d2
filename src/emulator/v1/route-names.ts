import type { Fault as RouteFault } from "../faults.js";

/** Names of the V1 routes, as faults and stats refer to them. */
export const V1_ROUTE_NAMES = [
  "getToken",
  "getCertification",
  "deleteCertification",
  "otpRequest",
  "otpConfirm",
] as const;

/** A V1 route: `getToken` is `POST /users/getToken`, and so on. */
export type RouteName = (typeof V1_ROUTE_NAMES)[number];

/** A fault armed on one V1 route (or every route with `"*"`). */
export type Fault = RouteFault<RouteName>;
