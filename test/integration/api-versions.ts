/**
 * The PortOne API versions an integration suite loops over, as kysely's suites loop over dialects:
 * one adapter per version says how a verification is created, how its upstream record is made at the
 * emulator, and how the browser completes it. Behaviour the two share is written once against
 * {@link ApiAdapter}; behaviour only one has stays in its own `describe`.
 */
import type {
  CreateIdentityVerificationInput,
  Emulator,
  EmulatorRouteName,
  PersonaId,
} from "../../src/emulator/index.js";
import { complete, completeV2, createV2Verification, createVerification, type Harness } from "./harness.js";

export type ApiVersion = "v1" | "v2";
export const API_VERSIONS: readonly ApiVersion[] = ["v1", "v2"];

/** A V1 emulator record's input, without the merchant_uid the adapter binds it to. */
export type V1Record = Omit<NonNullable<Parameters<Emulator["createCertification"]>[0]>, "merchant_uid">;
/** A V2 emulator record's input, without the id the adapter files it under. */
export type V2Record = Omit<CreateIdentityVerificationInput, "identityVerificationId">;
/** Who finished at PortOne: a persona (the same person in both APIs), or each API's own record. */
export type UpstreamInput = PersonaId | { v1: V1Record; v2: V2Record };

/** A verification created through the merchant API. */
export interface Created {
  id: string;
  /** What the browser completes it by: merchant_uid (V1) or identity_verification_id (V2). */
  ref: string;
}

/** A verification with its upstream record. */
export interface Prepared extends Created {
  /** imp_uid (V1) or the identityVerificationId (V2). */
  upstreamId: string;
  /** CI and DI of the record (empty strings where absent). */
  personKeys: string[];
  /** The browser's completion call. */
  complete(): Promise<Response>;
}

export interface ApiAdapter {
  version: ApiVersion;
  /** Prefix of account refs, so that each version's refs stay what its own file used ("" or "v2-"). */
  prefix: string;
  /** What the browser completes by, for titles: "imp_uid" or "identityVerificationId". */
  upstreamIdName: string;
  /** The upstream lookup the completion makes, for faults. */
  lookupRoute: EmulatorRouteName;
  create(h: Harness, body?: Record<string, unknown>): Promise<Created>;
  /** Makes the upstream record of `v` at the emulator. */
  record(h: Harness, v: Created, input: UpstreamInput): Prepared;
  /** Completes `v` with no upstream record behind it (PortOne answers not found). */
  completeWithoutRecord(h: Harness, v: Created): Promise<Response>;
  /** Completes a verification certgate never issued. */
  completeUnissued(h: Harness): Promise<Response>;
}

const v1: ApiAdapter = {
  version: "v1",
  prefix: "",
  upstreamIdName: "imp_uid",
  lookupRoute: "getCertification",
  async create(h, body = {}) {
    const created = await createVerification(h, body);
    return { id: created.id, ref: created.merchant_uid };
  },
  record(h, v, input) {
    const fields = typeof input === "string" ? { persona: input } : input.v1;
    const stored = h.emulator.createCertification({ merchant_uid: v.ref, ...fields });
    return {
      ...v,
      upstreamId: stored.imp_uid,
      personKeys: [stored.unique_key ?? "", stored.unique_in_site ?? ""],
      complete: () => complete(h, stored.imp_uid, v.ref),
    };
  },
  completeWithoutRecord: (h, v) => complete(h, "imp_000000000000", v.ref),
  completeUnissued: (h) => complete(h, "imp_000000000001", "mid_unknown"),
};

const v2: ApiAdapter = {
  version: "v2",
  prefix: "v2-",
  upstreamIdName: "identityVerificationId",
  lookupRoute: "getIdentityVerification",
  async create(h, body = {}) {
    const created = await createV2Verification(h, body);
    return { id: created.id, ref: created.identity_verification_id };
  },
  record(h, v, input) {
    const fields = typeof input === "string" ? { persona: input } : input.v2;
    const stored = h.emulator.createIdentityVerification({ identityVerificationId: v.ref, ...fields });
    const customer = stored.status === "VERIFIED" ? stored.verifiedCustomer : undefined;
    return {
      ...v,
      upstreamId: v.ref,
      personKeys: [customer?.ci ?? "", customer?.di ?? ""],
      complete: () => completeV2(h, v.ref),
    };
  },
  completeWithoutRecord: (h, v) => completeV2(h, v.ref),
  completeUnissued: (h) => completeV2(h, "idv_unknown"),
};

export const API_ADAPTERS: Record<ApiVersion, ApiAdapter> = { v1, v2 };
