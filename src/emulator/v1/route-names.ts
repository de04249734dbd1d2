import type { Fault as RouteFault } from "../faults.js";

/**
 * Names of the V1 routes, as faults and stats refer to them.
 *
 * @example
 * import { createEmulator, V1_ROUTE_NAMES } from "certgate/emulator";
 * const { requests } = createEmulator().stats();
 * for (const route of V1_ROUTE_NAMES) console.log(route, requests[route]);
 */
export const V1_ROUTE_NAMES = [
  "getToken",
  "getCertification",
  "deleteCertification",
  "otpRequest",
  "otpConfirm",
] as const;

/**
 * A V1 route: `getToken` is `POST /users/getToken`, and so on.
 *
 * @example
 * import { createEmulator, type RouteName } from "certgate/emulator";
 * const route: RouteName = "getToken";
 * createEmulator().setFault({ route, kind: "status", status: 500, times: 2 });
 */
export type RouteName = (typeof V1_ROUTE_NAMES)[number];

/**
 * A fault armed on one V1 route (or every route with `"*"`).
 *
 * @example
 * import { createEmulator, type Fault } from "certgate/emulator";
 * const fault: Fault = { route: "getCertification", kind: "malformed", times: 1 };
 * createEmulator().setFault(fault);
 */
export type Fault = RouteFault<RouteName>;
