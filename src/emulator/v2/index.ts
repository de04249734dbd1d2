/**
 * The emulated PortOne V2 API (`api.portone.io`), composed on its own state, faults and stats so the
 * emulator's app can mount it beside V1: token routes, identity verifications and the OTP flow.
 */
import { Hono } from "hono";
import { RequestError } from "../../core/errors.js";
import type { EmulatorClock } from "../clock.js";
import {
  createFaultRegistry,
  type Fault,
  type FaultsInjected,
  faultMiddleware,
  isDropError,
} from "../faults.js";
import { requestErrorStatus } from "../input.js";
import { EMULATOR_OTP_CODE } from "../otp.js";
import { createRequestStats } from "../request-stats.js";
import { createV2Authorizer, registerV2AuthRoutes, type V2Merchant } from "./auth.js";
import { V2_ROUTE_ERRORS, v2ErrorBody, v2FaultBodies } from "./errors.js";
import { registerV2IdentityVerificationRoutes } from "./identity-verifications.js";
import { buildIdentityVerification } from "./records.js";
import { V2_ROUTE_NAMES, type V2RouteName } from "./route-names.js";
import {
  createIdentityVerificationStore,
  createV2TokenStore,
  type IdentityVerificationEntry,
} from "./state.js";

export interface V2EmulationOptions {
  /** Merchants with V2 credentials; the first is the default owner of created records. */
  merchants: readonly V2Merchant[];
  clock: EmulatorClock;
  /** Draws of probabilistic faults; default `Math.random`. */
  random?: () => number;
}

/** The V2 API and its controls. */
export interface V2Emulation {
  /** The V2 routes, to be mounted at the root of the emulator's app. */
  app: Hono;
  /**
   * Creates a record from a {@link CreateIdentityVerificationInput} (validated here, so any input is
   * accepted and checked); returns a copy of its entry. Throws `RequestError("invalid_request")` on
   * bad input.
   */
  createIdentityVerification(input: unknown): IdentityVerificationEntry;
  listIdentityVerifications(): IdentityVerificationEntry[];
  /**
   * Forgets a record (of the first merchant unless `merchantCode` says), so the API answers 404 for
   * it and a new one may take its id, VERIFIED or not: how a test has PortOne answer an id with
   * another verification's record, then with the owner's. False when there was none.
   */
  deleteIdentityVerification(identityVerificationId: string, merchantCode?: string): boolean;
  setFault(fault: Fault<V2RouteName>): void;
  listFaults(): Fault<V2RouteName>[];
  clearFaults(): number;
  /** Invalidates every V2 access and refresh token; returns how many access tokens were still valid. */
  revokeTokens(): number;
  stats(): {
    requests: Record<V2RouteName, number>;
    tokensIssued: number;
    faultsInjected: FaultsInjected<V2RouteName>;
  };
  /** Forgets records, tokens, faults and stats. */
  reset(): void;
}

/** Creates the V2 API over `options.clock`. */
export function createV2Emulation(options: V2EmulationOptions): V2Emulation {
  const { merchants, clock } = options;
  const store = createIdentityVerificationStore();
  const tokens = createV2TokenStore();
  const stats = createRequestStats(V2_ROUTE_NAMES);
  const faults = createFaultRegistry(V2_ROUTE_NAMES, {
    random: options.random ?? Math.random,
    documentsError: (route, type) =>
      (route === "*" ? V2_ROUTE_NAMES : [route]).every((name) =>
        (V2_ROUTE_ERRORS[name] as readonly string[]).includes(type),
      ),
  });
  const guard = (route: V2RouteName) =>
    faultMiddleware({ route, stats, faults, bodies: v2FaultBodies(route) });
  const authDeps = { merchants, tokens, clock };

  const app = new Hono();
  registerV2AuthRoutes(app, authDeps, guard);
  registerV2IdentityVerificationRoutes(app, { store, authorize: createV2Authorizer(authDeps), clock, guard });
  app.onError((error, c) => {
    if (isDropError(error)) throw error;
    // A body over the emulator's bound (413) or one that cannot be read (400).
    const failure: unknown = error; // isDropError narrows `error` past a RequestError's shape
    if (failure instanceof RequestError) {
      return c.json(v2ErrorBody("INVALID_REQUEST", failure.message), requestErrorStatus(failure));
    }
    return c.json({ type: "UNKNOWN", message: "Internal Server Error" }, 500);
  });

  return {
    app,
    createIdentityVerification(input) {
      const built = buildIdentityVerification(input, {
        nowMs: clock.now(),
        merchantCodes: merchants.map((m) => m.impCode),
      });
      const existing = store.get(built.merchantCode, built.record.id);
      // Several attempts may share one id, but once one succeeded the id is spent.
      if (existing?.record.status === "VERIFIED")
        throw new RequestError("invalid_request", "identityVerificationId: already verified");
      const entry: IdentityVerificationEntry = { merchantCode: built.merchantCode, record: built.record };
      if (built.pendingCustomer)
        entry.pending = { code: EMULATOR_OTP_CODE, customer: built.pendingCustomer, sentByApi: false };
      if (built.fields) entry.fields = built.fields;
      store.put(entry);
      return structuredClone(entry);
    },
    listIdentityVerifications: () => store.list().map((entry) => structuredClone(entry)),
    deleteIdentityVerification: (identityVerificationId, merchantCode) =>
      store.delete(merchantCode ?? merchants[0]?.impCode ?? "", identityVerificationId),
    setFault: (fault) => faults.add(fault),
    listFaults: () => faults.list(),
    clearFaults: () => faults.clear(),
    revokeTokens: () => tokens.revokeAll(clock.now()),
    stats: () => ({
      requests: stats.snapshot(),
      tokensIssued: tokens.issuedCount(),
      faultsInjected: faults.injected(),
    }),
    reset() {
      store.clear();
      tokens.clear();
      faults.clear();
      faults.resetCounts();
      stats.reset();
    },
  };
}

/** Whether `route` names a V2 route. */
export function isV2RouteName(route: string): route is V2RouteName {
  return (V2_ROUTE_NAMES as readonly string[]).includes(route);
}

/**
 * First path segments that exist only in PortOne's V2 API (from its published OpenAPI; `payments`,
 * `banks` and `paymentwall` are V1's too).
 */
const V2_ONLY_SEGMENTS: ReadonlySet<string> = new Set([
  "b2b",
  "billing-keys",
  "cash-receipts",
  "checkout-profiles",
  "identity-verifications",
  "kakaopay",
  "login",
  "payment-events-by-cursor",
  "payment-gateways",
  "payment-reconciliations",
  "payment-schedules",
  "payment-sessions",
  "payments-by-cursor",
  "platform",
  "promotions",
  "token",
]);

/** Whether `request` is meant for the V2 API: a V2-only path, or V2's `PortOne` authorization scheme. */
export function isV2Request(request: Request): boolean {
  const segment = new URL(request.url).pathname.split("/")[1] ?? "";
  return V2_ONLY_SEGMENTS.has(segment) || /^portone\s/i.test(request.headers.get("authorization") ?? "");
}
