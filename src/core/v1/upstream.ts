/**
 * PortOne V1 certifications → the normalized {@link UpstreamResult}.
 *
 * The record type is the shape certgate's core consumes from `GET /certifications/{imp_uid}`. The
 * portone/ adapter parses upstream bodies into exactly this type (its schema is checked against it);
 * the core never sees raw JSON. Absent and `null` upstream fields both arrive here as absent
 * (`undefined`).
 */
import { birthDateFromLegacyBirth, parseBirthday } from "../calendar.js";
import { carrierFrom, presentText, type UpstreamResult } from "../identity.js";

/** Carriers as V1 REST reports them (the browser SDK spells KT as "KTF"; the REST API does not). */
export type V1Carrier = "SKT" | "KT" | "LGT" | "SKT_MVNO" | "KT_MVNO" | "LGT_MVNO";

/**
 * `GET /certifications/{imp_uid}` → `response`. Only imp_uid, pg_provider and foreigner are guaranteed.
 *
 * @example
 * import type { V1Certification } from "certgate";
 * const record: V1Certification = await portone.getCertification(impUid);
 * if (record.certified === true && record.merchant_uid === merchantUid) {
 *   // PortOne says this person was verified for this verification
 * }
 */
export interface V1Certification {
  /** `imp_` + 12 digits. */
  imp_uid: string;
  /** The id the merchant passed to `IMP.certification`. */
  merchant_uid?: string | undefined;
  pg_tid?: string | undefined;
  /** danal, inicis_unified, inicis, kcp_v2, … */
  pg_provider: string;
  /** Verified real name. */
  name?: string | undefined;
  /** Often absent for some providers. */
  gender?: "male" | "female" | undefined;
  /** "YYYY-MM-DD": the field to use for age. */
  birthday?: string | undefined;
  /** Legacy: unix SECONDS at 00:00 KST of the birthday. Used only when `birthday` is absent. */
  birth?: number | undefined;
  /** False unless the contract includes foreigner detection. */
  foreigner: boolean;
  /** Absent when not contracted. */
  foreigner_v2?: boolean | undefined;
  /** Digits only; absent without carrier pre-approval. */
  phone?: string | undefined;
  /** Any string PortOne sends; the known values are {@link V1Carrier}. */
  carrier?: string | undefined;
  /** A record can exist with false (OTP not confirmed): always check. */
  certified?: boolean | undefined;
  /** Unix seconds. */
  certified_at?: number | undefined;
  /** CI, 88 chars: same person, same value on every site. */
  unique_key?: string | undefined;
  /** DI, 64 chars: per site and provider merchant id. Absent for KG Inicis. */
  unique_in_site?: string | undefined;
  /** URL of the page that ran the verification (a data: URL in WebViews). */
  origin?: string | undefined;
}

/**
 * Maps a parsed V1 `GET /certifications/{imp_uid}` response to an {@link UpstreamResult}.
 * Pure: it decides nothing (no `certified`, binding or age check); see `evaluatePolicy`.
 *
 * @example
 * const result = fromV1Certification(record);
 * result.identity.birthDate // { year: 1990, month: 1, day: 1 } from birthday "1990-01-01"
 */
export function fromV1Certification(record: V1Certification): UpstreamResult {
  const birthday = presentText(record.birthday);
  const birthDate =
    birthday === undefined
      ? record.birth === undefined
        ? undefined
        : birthDateFromLegacyBirth(record.birth)
      : parseBirthday(birthday);
  return {
    source: "v1",
    upstreamId: record.imp_uid,
    boundId: presentText(record.merchant_uid),
    certified: record.certified === true,
    identity: {
      name: presentText(record.name),
      birthDate,
      gender: record.gender,
      // foreigner_v2 is the contracted, reliable flag; plain `foreigner` is false unless contracted.
      foreigner: record.foreigner_v2 ?? record.foreigner,
      phone: presentText(record.phone),
      carrier: carrierFrom(record.carrier),
      ci: presentText(record.unique_key),
      di: presentText(record.unique_in_site),
      provider: record.pg_provider,
      verifiedAt: record.certified_at === undefined ? undefined : dateFromUnixSeconds(record.certified_at),
      source: "v1",
    },
  };
}

function dateFromUnixSeconds(seconds: number): Date | undefined {
  const date = new Date(seconds * 1000);
  return Number.isFinite(date.getTime()) ? date : undefined;
}
