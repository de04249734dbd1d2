/**
 * The emulated PortOne V1 API (`api.iamport.kr`), composed on its own state, faults and stats so the
 * emulator's app can mount it beside V2: the token route, certifications and the OTP flow.
 */
import { Hono } from "hono";
import { type EmulatorClock, nowSeconds } from "../clock.js";
import { createFaultRegistry, type Fault, type FaultsInjected, faultMiddleware } from "../faults.js";
import { EMULATOR_OTP_CODE } from "../otp.js";
import { createRequestStats } from "../request-stats.js";
import { createV1Authorizer, type EmulatorMerchant, registerTokenRoutes } from "./auth.js";
import { registerCertificationRoutes } from "./certifications.js";
import { v1FaultBodies } from "./envelope.js";
import { registerOtpRoutes } from "./otp.js";
import { buildCertification, type CreateCertificationInput, type StoredCertification } from "./records.js";
import { type RouteName, V1_ROUTE_NAMES } from "./route-names.js";
import { type CertificationEntry, createCertificationStore, createV1TokenStore } from "./state.js";

export interface V1EmulationOptions {
  /** Merchants with V1 credentials; the first is the default owner of created records. */
  merchants: readonly EmulatorMerchant[];
  clock: EmulatorClock;
  /** Draws of probabilistic faults; default `Math.random`. */
  random?: () => number;
}

/** The V1 API and its controls. */
export interface V1Emulation {
  /**
   * The V1 routes, to be mounted at the root of the emulator's app. They set no error handler: the
   * app's answers in V1's envelope (and rethrows emulated drops).
   */
  app: Hono;
  /** Creates a record; returns a copy of it. Throws `RequestError("invalid_request")` on bad input. */
  createCertification(input?: CreateCertificationInput): StoredCertification;
  /** Creates several records, all or none; returns copies of them in order. Throws as one does. */
  createCertifications(inputs: readonly CreateCertificationInput[]): StoredCertification[];
  /** Copies of every entry. */
  listCertifications(): CertificationEntry[];
  setFault(fault: Fault<RouteName>): void;
  listFaults(): Fault<RouteName>[];
  clearFaults(): number;
  /** Invalidates every V1 access token; returns how many were still valid. */
  revokeTokens(): number;
  stats(): {
    requests: Record<RouteName, number>;
    tokensIssued: number;
    faultsInjected: FaultsInjected<RouteName>;
  };
  /** Forgets records, tokens, faults and stats. */
  reset(): void;
}

/** Creates the V1 API over `options.clock`. */
export function createV1Emulation(options: V1EmulationOptions): V1Emulation {
  const { merchants, clock } = options;
  const certifications = createCertificationStore();
  const tokens = createV1TokenStore();
  const stats = createRequestStats(V1_ROUTE_NAMES);
  const faults = createFaultRegistry(V1_ROUTE_NAMES, { random: options.random ?? Math.random });

  /**
   * Builds every record before storing any, so a batch with one bad input stores nothing; an
   * imp_uid is taken when stored already or by an earlier record of the same batch.
   */
  const createCertifications = (inputs: readonly CreateCertificationInput[]): StoredCertification[] => {
    const batch = new Set<string>();
    const isImpUidTaken = (impUid: string) => certifications.has(impUid) || batch.has(impUid);
    const entries = inputs.map((input): CertificationEntry => {
      const built = buildCertification(input, {
        nowMs: clock.now(),
        merchantCodes: merchants.map((m) => m.impCode),
        newImpUid: () => {
          for (;;) {
            const impUid = certifications.newImpUid();
            if (!batch.has(impUid)) return impUid;
          }
        },
        isImpUidTaken,
      });
      batch.add(built.record.imp_uid);
      const entry: CertificationEntry = { merchantCode: built.merchantCode, record: built.record };
      if (built.record.certified !== true) entry.pendingOtp = { code: EMULATOR_OTP_CODE, onConfirm: {} };
      return entry;
    });
    for (const entry of entries) certifications.add(entry);
    return entries.map((entry) => ({ ...entry.record }));
  };
  const createCertification = (input: CreateCertificationInput = {}): StoredCertification => {
    const [created] = createCertifications([input]);
    if (created === undefined) throw new Error("emulator: a record was not created");
    return created;
  };

  const app = new Hono();
  const faultBodies = {
    getToken: v1FaultBodies("getToken"),
    getCertification: v1FaultBodies("certification"),
    deleteCertification: v1FaultBodies("certification"),
    otpRequest: v1FaultBodies("otpRequest"),
    otpConfirm: v1FaultBodies("certification"),
  } satisfies Record<RouteName, unknown>;
  const guard = (route: RouteName) => faultMiddleware({ route, stats, faults, bodies: faultBodies[route] });
  const authorize = createV1Authorizer({ tokens, clock });

  registerTokenRoutes(app, { merchants, tokens, clock }, guard("getToken"));
  registerCertificationRoutes(app, { certifications, guard, authorize });
  registerOtpRoutes(app, { certifications, guard, authorize, clock });

  return {
    app,
    createCertification,
    createCertifications,
    listCertifications: () =>
      certifications.list().map((entry) => ({ ...entry, record: { ...entry.record } })),
    setFault: (fault) => faults.add(fault),
    listFaults: () => faults.list(),
    clearFaults: () => faults.clear(),
    revokeTokens: () => tokens.revokeAll(nowSeconds(clock)),
    stats: () => ({
      requests: stats.snapshot(),
      tokensIssued: tokens.issuedCount(),
      faultsInjected: faults.injected(),
    }),
    reset() {
      certifications.clear();
      tokens.clear();
      faults.clear();
      faults.resetCounts();
      stats.reset();
    },
  };
}
