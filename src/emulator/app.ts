/**
 * Composition root of the emulator: the clock, the V1 and V2 APIs (`v1/index.ts`, `v2/index.ts`),
 * the browser SDK stand-ins with their verification window, and the admin API.
 */
import { Hono } from "hono";
import { RequestError } from "../core/errors.js";
import { checkOptionKeys } from "../core/unknown-fields.js";
import { type AdminControls, createAdminApp } from "./admin.js";
import { createBrowserFlow } from "./browser/window-app.js";
import { createClock, type EmulatorClock } from "./clock.js";
import { type Fault, type FaultsInjected, isDropError } from "./faults.js";
import { requestErrorStatus } from "./input.js";
import { createV1AdminApp } from "./v1/admin.js";
import type { EmulatorMerchant } from "./v1/auth.js";
import { V1_MESSAGES, v1Fail } from "./v1/envelope.js";
import { createV1Emulation } from "./v1/index.js";
import type { CreateCertificationInput, StoredCertification } from "./v1/records.js";
import type { RouteName } from "./v1/route-names.js";
import { createV2AdminApp } from "./v2/admin.js";
import type { V2MerchantCredentials } from "./v2/auth.js";
import { v2NotFound } from "./v2/errors.js";
import { createV2Emulation, isV2Request, isV2RouteName } from "./v2/index.js";
import type { CreateIdentityVerificationInput, StoredIdentityVerification } from "./v2/records.js";
import type { V2RouteName } from "./v2/route-names.js";

/**
 * A merchant account: V1 credentials, and V2 credentials when it also uses PortOne V2.
 *
 * @example
 * import { createEmulator, type EmulatorAccount } from "certgate/emulator";
 * const account: EmulatorAccount = { impKey: "my_key", impSecret: "my_secret", impCode: "imp12345678" };
 * const emulator = createEmulator({ merchants: [account] });
 */
export type EmulatorAccount = EmulatorMerchant & Partial<V2MerchantCredentials>;

/**
 * Every route faults and stats know, V1 and V2.
 *
 * @example
 * import { createEmulator, type EmulatorRouteName } from "certgate/emulator";
 * const emulator = createEmulator();
 * const route: EmulatorRouteName = "getIdentityVerification";
 * emulator.setFault({ route, kind: "status", status: 503, times: 1 });
 */
export type EmulatorRouteName = RouteName | V2RouteName;

/**
 * The merchant tests use by default.
 *
 * @example
 * import { createV1Client } from "certgate";
 * import { createEmulator, TEST_MERCHANT } from "certgate/emulator";
 * const emulator = createEmulator();
 * const portone = createV1Client({
 *   apiKey: TEST_MERCHANT.impKey,
 *   apiSecret: TEST_MERCHANT.impSecret,
 *   fetch: emulator.fetch,
 * });
 */
export const TEST_MERCHANT: EmulatorMerchant & V2MerchantCredentials = Object.freeze({
  impKey: "certgate_test_key",
  impSecret: "certgate_test_secret",
  impCode: "imp00000000",
  v2ApiSecret: "certgate_test_v2_secret",
  storeId: "store-00000000-0000-0000-0000-000000000000",
});

/**
 * A second merchant, to prove records and DIs do not cross accounts.
 *
 * @example
 * import { createEmulator, OTHER_MERCHANT } from "certgate/emulator";
 * const emulator = createEmulator();
 * // A record of another merchant: the first merchant's client must get not_found for it.
 * const { imp_uid } = emulator.createCertification({ persona: "adult", merchantCode: OTHER_MERCHANT.impCode });
 */
export const OTHER_MERCHANT: EmulatorMerchant & V2MerchantCredentials = Object.freeze({
  impKey: "certgate_other_key",
  impSecret: "certgate_other_secret",
  impCode: "imp00000001",
  v2ApiSecret: "certgate_other_v2_secret",
  storeId: "store-00000000-0000-0000-0000-000000000001",
});

/**
 * How {@link createEmulator} behaves: its accounts, the admin API, the clock and the random source of faults.
 *
 * @example
 * import { createEmulator, type EmulatorOptions } from "certgate/emulator";
 * const options: EmulatorOptions = { admin: true, startTime: Date.parse("2026-01-01T00:30:00+09:00") };
 * const emulator = createEmulator(options);
 */
export interface EmulatorOptions {
  /** Accounts the emulator accepts. Default `[TEST_MERCHANT, OTHER_MERCHANT]`. */
  merchants?: EmulatorAccount[];
  /** Mount the admin API under `/__admin/`. Default false: those paths answer 404. */
  admin?: boolean;
  /** Initial clock, unix ms. Default `Date.now()`. */
  startTime?: number;
  /**
   * Let the clock move with the wall clock (for a long-running emulator). Default false: the clock
   * stands still until `clock.advance`/`clock.set` (or `POST /__admin/clock`), so tests are exact.
   */
  realTime?: boolean;
  /**
   * Uniform in [0, 1): the draws of faults armed with a `probability`. Default `Math.random`; pass a
   * seeded generator for a reproducible sequence of hits.
   */
  random?: () => number;
}

/**
 * An emulated PortOne: V1 (`api.iamport.kr`) and V2 (`api.portone.io`) routes on one origin.
 *
 * @example
 * import { createEmulator, type Emulator } from "certgate/emulator";
 * const emulator: Emulator = createEmulator({ admin: true });
 * const { imp_uid } = emulator.createCertification({ persona: "minor", merchant_uid: "mid_123" });
 * emulator.setFault({ route: "getCertification", kind: "latency", latencyMs: 6000, times: 1 });
 */
export interface Emulator {
  /** The Hono app (`app.fetch`, `app.request`); pass it to @hono/node-server or use {@link serveEmulator}. */
  app: Hono;
  /**
   * In-process fetch: no socket. Relative URLs resolve against `http://emulator.local`; any host is
   * ignored. Rejects with `init.signal`'s reason when aborted (also during a latency fault) and with
   * `TypeError("fetch failed")` on a `drop` fault, like undici.
   */
  fetch: typeof fetch;
  /** The emulator's clock, unix ms. Token times, `certified_at` and persona ages derive from it. */
  clock: EmulatorClock;
  /**
   * Creates a record as `POST /__admin/certifications` does; returns a copy of it.
   * Throws `RequestError("invalid_request")` on bad input.
   */
  createCertification(input?: CreateCertificationInput): StoredCertification;
  /**
   * Creates a V2 identity verification as `POST /__admin/identity-verifications` does; returns a copy
   * of the stored record (`input.fields` overrides apply to what the API serves, not to this copy).
   * Throws `RequestError("invalid_request")` on bad input or an id already VERIFIED.
   */
  createIdentityVerification(input: CreateIdentityVerificationInput): StoredIdentityVerification;
  /**
   * Forgets a V2 record of the first merchant, as `DELETE /__admin/identity-verifications/:id` does:
   * the API answers 404 for it again and a new record may take its id. False when there was none.
   */
  deleteIdentityVerification(identityVerificationId: string): boolean;
  /**
   * Arms a fault on a V1 or V2 route; throws `RequestError("invalid_request")` when malformed.
   * A `"*"` fault is armed on both APIs (with `times`, N requests on each).
   */
  setFault(fault: Fault<EmulatorRouteName>): void;
  clearFaults(): void;
  /** Invalidates every issued token (V1 and V2): the next call with one answers 401. */
  revokeTokens(): void;
  /**
   * V1 counters at the top level (as ever); V2's under `v2`. `faultsInjected`: how many requests of
   * each route a fault was applied to, by kind (clearing faults keeps these counts; `reset` zeroes them).
   */
  stats(): {
    requests: Record<RouteName, number>;
    tokensIssued: number;
    faultsInjected: FaultsInjected<RouteName>;
    v2: {
      requests: Record<V2RouteName, number>;
      tokensIssued: number;
      faultsInjected: FaultsInjected<V2RouteName>;
    };
  };
  /** Forgets records, tokens, faults, stats and open verification windows; keeps the clock. */
  reset(): void;
}

/**
 * Creates an emulator.
 *
 * @example
 * const emulator = createEmulator({ startTime: Date.UTC(2025, 5, 1) });
 * const { imp_uid } = emulator.createCertification({ persona: "minor" });
 * const res = await emulator.fetch("http://emulator.local/users/getToken", {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ imp_key: TEST_MERCHANT.impKey, imp_secret: TEST_MERCHANT.impSecret }),
 * });
 */
const EMULATOR_OPTION_KEYS: Record<keyof EmulatorOptions, true> = {
  merchants: true,
  admin: true,
  startTime: true,
  realTime: true,
  random: true,
};

export function createEmulator(options: EmulatorOptions = {}): Emulator {
  checkOptionKeys("createEmulator options", options, EMULATOR_OPTION_KEYS);
  const merchants = [...(options.merchants ?? [TEST_MERCHANT, OTHER_MERCHANT])];
  if (merchants.length === 0)
    throw new RequestError("invalid_request", "merchants: at least one is required");
  const clock = createClock(options.startTime ?? Date.now(), { realTime: options.realTime ?? false });
  const random = options.random ?? Math.random;
  const v1 = createV1Emulation({ merchants, clock, random });
  const v2 = createV2Emulation({
    random,
    merchants: merchants.flatMap(({ impCode, v2ApiSecret, storeId }) =>
      v2ApiSecret && storeId ? [{ impCode, v2ApiSecret, storeId }] : [],
    ),
    clock,
  });

  const createCertification = v1.createCertification;

  const browser = createBrowserFlow({
    merchants,
    clock,
    createCertification,
    createIdentityVerification: (input) => v2.createIdentityVerification(input).record,
  });

  const controls: AdminControls = {
    createCertification,
    createCertifications: (inputs) => v1.createCertifications(inputs),
    listCertifications: () => v1.listCertifications(),
    reset() {
      v1.reset();
      v2.reset();
      browser.reset();
    },
    clock,
    revokeTokens: () => v1.revokeTokens() + v2.revokeTokens(),
    setFault(fault) {
      const { route } = fault;
      // V1 has no typed errors: an `error` fault is V2's alone, even on "*".
      if (fault.kind === "error" && route === "*") return v2.setFault({ ...fault, route });
      if (route === "*" || !isV2RouteName(route)) v1.setFault({ ...fault, route });
      if (route === "*" || isV2RouteName(route)) v2.setFault({ ...fault, route });
    },
    // A "*" fault lives in both registries; V1's copy stands for it in listings and counts.
    listFaults: () => [...v1.listFaults(), ...v2.listFaults().filter((fault) => fault.route !== "*")],
    clearFaults: () => {
      const v2Only = v2.listFaults().filter((fault) => fault.route !== "*").length;
      v2.clearFaults();
      return v1.clearFaults() + v2Only;
    },
    stats: () => {
      const { requests, tokensIssued } = v1.stats();
      return { requests, tokensIssued };
    },
  };

  const app = new Hono();
  app.route("/", v1.app);
  app.route("/", browser.app);
  app.route("/", v2.app);
  if (options.admin) app.route("/__admin", createAdminApp(controls));
  if (options.admin) app.route("/__admin", createV1AdminApp(controls));
  if (options.admin) app.route("/__admin", createV2AdminApp(v2));

  // An unknown route of V2's answers in V2's envelope, anything else in V1's.
  app.notFound((c) => (isV2Request(c.req.raw) ? v2NotFound(c) : v1Fail(c, 404, V1_MESSAGES.routeNotFound)));
  app.onError((error, c) => {
    // A dropped connection has no response: the in-process caller sees the rejection.
    if (isDropError(error)) throw error;
    // A body over the emulator's bound (413), or a form that cannot be parsed (400).
    // (`isDropError` narrows `error` to never here: a RequestError is shaped as a TypeError is.)
    const failure: unknown = error;
    if (failure instanceof RequestError) return v1Fail(c, requestErrorStatus(failure), failure.message);
    return v1Fail(c, 500, V1_MESSAGES.internal);
  });

  return {
    app,
    fetch: createInProcessFetch(app),
    clock,
    createCertification,
    setFault: controls.setFault,
    createIdentityVerification: (input) => v2.createIdentityVerification(input).record,
    deleteIdentityVerification: (identityVerificationId) =>
      v2.deleteIdentityVerification(identityVerificationId),
    clearFaults: () => {
      controls.clearFaults();
    },
    revokeTokens: () => {
      controls.revokeTokens();
    },
    stats: () => ({ ...v1.stats(), v2: v2.stats() }),
    reset: controls.reset,
  };
}

const IN_PROCESS_ORIGIN = "http://emulator.local";

function createInProcessFetch(app: Hono): typeof fetch {
  return (input, init) => {
    const url = typeof input === "string" && input.startsWith("/") ? `${IN_PROCESS_ORIGIN}${input}` : input;
    let request: Request;
    try {
      request = new Request(url, init);
    } catch (error) {
      return Promise.reject(error);
    }
    const signal = request.signal;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<Response>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      Promise.resolve()
        .then(() => app.fetch(request))
        .then(resolve, reject)
        .finally(() => signal.removeEventListener("abort", onAbort));
    });
  };
}
