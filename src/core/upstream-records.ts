/**
 * The shapes of PortOne's records as certgate's core consumes them. The portone/ adapter parses
 * upstream bodies into exactly these types (its schemas are checked against them); the core never
 * sees raw JSON. Absent and `null` upstream fields both arrive here as absent (`undefined`).
 */

/** Carriers as V1 REST reports them (the browser SDK spells KT as "KTF"; the REST API does not). */
export type V1Carrier = "SKT" | "KT" | "LGT" | "SKT_MVNO" | "KT_MVNO" | "LGT_MVNO";

/** `GET /certifications/{imp_uid}` → `response`. Only imp_uid, pg_provider and foreigner are guaranteed. */
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
