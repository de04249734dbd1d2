/**
 * PortOne V2 identity verifications → the normalized {@link UpstreamResult}.
 *
 * The record type is the minimum the core consumes from `GET /identity-verifications/{id}`; the
 * portone/ adapter parses the body into it, mapping any status other than READY, VERIFIED or FAILED
 * to the `UNRECOGNIZED` arm, which is never treated as verified.
 */
import { parseBirthday } from "../calendar.js";
import { carrierFrom, type Gender, presentText, type UpstreamResult } from "../identity.js";

/** `verifiedCustomer` of a VERIFIED record. Absent and `null` upstream fields arrive as absent. */
export interface V2VerifiedCustomer {
  /** Always present upstream. */
  name: string;
  /** The merchant's own customer id, if it passed one. */
  id?: string | undefined;
  /** SKT | KT | LGU | SKT_MVNO | KT_MVNO | LGU_MVNO; other strings map to no carrier. */
  operator?: string | undefined;
  phoneNumber?: string | undefined;
  /** "yyyy-MM-dd". */
  birthDate?: string | undefined;
  gender?: "MALE" | "FEMALE" | "OTHER" | undefined;
  isForeigner?: boolean | undefined;
  /** CI, 88 chars. */
  ci?: string | undefined;
  /** DI, 64 chars; absent for some providers. */
  di?: string | undefined;
}

/** The channel the verification ran on; `pgProvider` scopes the DI. */
export interface V2SelectedChannel {
  pgProvider?: string | undefined;
  pgMerchantId?: string | undefined;
}

interface V2IdentityVerificationBase {
  /** The `identityVerificationId` the merchant (certgate) chose. */
  id: string;
  channel?: V2SelectedChannel | undefined;
}

/**
 * A V2 identity verification, tagged by `status`.
 *
 * @example
 * import type { V2IdentityVerification } from "certgate";
 * const record: V2IdentityVerification = await portoneV2.getIdentityVerification("idv_abc");
 * if (record.status === "VERIFIED") console.log(record.verifiedAt);
 */
export type V2IdentityVerification =
  | (V2IdentityVerificationBase & { status: "READY" })
  | (V2IdentityVerificationBase & {
      status: "VERIFIED";
      verifiedCustomer: V2VerifiedCustomer;
      /** ISO-8601 with offset, e.g. "2026-01-01T00:30:00+09:00". */
      verifiedAt: string;
    })
  | (V2IdentityVerificationBase & {
      status: "FAILED";
      failure?: { reason?: string | undefined; pgCode?: string | undefined; pgMessage?: string | undefined };
    })
  /** Any other status PortOne may add: never verified. `rawStatus` keeps the upstream string for logs. */
  | (V2IdentityVerificationBase & { status: "UNRECOGNIZED"; rawStatus: string });

/** Provider name used to scope DIs when the record names no channel. */
const UNKNOWN_V2_PROVIDER = "portone_v2";

/**
 * Maps a parsed V2 identity verification to an {@link UpstreamResult}. Only a VERIFIED record is
 * `certified` and carries identity data; its `boundId` is its own id (V2 has no merchant_uid: the id
 * certgate chose is the binding, so `evaluatePolicy` compares it with the verification's id).
 */
export function fromV2IdentityVerification(record: V2IdentityVerification): UpstreamResult {
  const provider = presentText(record.channel?.pgProvider) ?? UNKNOWN_V2_PROVIDER;
  const base = { source: "v2", upstreamId: record.id, boundId: presentText(record.id) } as const;
  if (record.status !== "VERIFIED") {
    return { ...base, certified: false, identity: { provider, source: "v2" } };
  }
  const customer = record.verifiedCustomer;
  const birthDate = presentText(customer.birthDate);
  return {
    ...base,
    certified: true,
    identity: {
      name: presentText(customer.name),
      birthDate: birthDate === undefined ? undefined : parseBirthday(birthDate),
      gender: genderFrom(customer.gender),
      foreigner: customer.isForeigner,
      phone: presentText(customer.phoneNumber),
      carrier: carrierFrom(customer.operator),
      ci: presentText(customer.ci),
      di: presentText(customer.di),
      provider,
      verifiedAt: parseIsoInstant(record.verifiedAt),
      source: "v2",
    },
  };
}

function genderFrom(gender: V2VerifiedCustomer["gender"]): Gender | undefined {
  switch (gender) {
    case "MALE":
      return "male";
    case "FEMALE":
      return "female";
    case "OTHER":
      return "other";
    default:
      return undefined;
  }
}

// Date.parse accepts implementation-defined formats; only RFC 3339 with an explicit zone is an instant.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function parseIsoInstant(text: string): Date | undefined {
  if (!RFC3339.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? new Date(ms) : undefined;
}
