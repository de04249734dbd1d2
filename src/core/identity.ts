/**
 * The normalized identity model: one shape for PortOne V1 certifications and V2 identity
 * verifications, so the policy and the store never look at upstream field names. Each API's record
type and its mapping to {@link UpstreamResult} live in `v1/upstream.ts` and `v2/upstream.ts`.
 *
 * Normalization rules (DOMAIN.md): empty or whitespace-only text is missing, never a value (an empty
 * CI used as a key would make every keyless person one person); the birth date is a calendar date
 * taken from the "YYYY-MM-DD" field, and only when that is absent from V1's legacy `birth` read in
 * Asia/Seoul; unknown enum strings (carrier) become `undefined` rather than being passed through.
 */
import type { CalendarDate } from "./calendar.js";

/** V1 gives male/female (often absent); V2 adds OTHER. */
export type Gender = "male" | "female" | "other";

/** Mobile carriers in V2's spelling; V1's "LGT", "LGT_MVNO" map to "LGU", "LGU_MVNO". */
export type Carrier = "SKT" | "KT" | "LGU" | "SKT_MVNO" | "KT_MVNO" | "LGU_MVNO";

/**
 * What a provider verified about a person. Every field but `provider` and `source` may be missing:
 * providers differ (KG Inicis gives no DI), contracts differ (phone needs carrier pre-approval), and
 * a record that is not certified may carry nothing. Name, phone, birth date, CI and DI are personal
 * data: never log them (see DOMAIN.md for how the store keeps them).
 */
export interface VerifiedIdentity {
  /** Verified real name, trimmed. */
  name?: string | undefined;
  /** From "YYYY-MM-DD" (V1 `birthday`, V2 `birthDate`), else V1's legacy `birth` in Asia/Seoul. */
  birthDate?: CalendarDate | undefined;
  gender?: Gender | undefined;
  /** V1 `foreigner_v2 ?? foreigner`; V2 `isForeigner`. */
  foreigner?: boolean | undefined;
  /** Digits as the provider sent them, trimmed. */
  phone?: string | undefined;
  carrier?: Carrier | undefined;
  /** CI (V1 `unique_key`, 88 chars): the same for one person on every site and provider. */
  ci?: string | undefined;
  /** DI (V1 `unique_in_site`, 64 chars): per site AND provider merchant id; absent for KG Inicis. */
  di?: string | undefined;
  /** The identity provider that verified the person (V1 `pg_provider`, e.g. "danal"); scopes the DI. */
  provider: string;
  /** When the provider verified the person (V1 `certified_at`, V2 `verifiedAt`). */
  verifiedAt?: Date | undefined;
  source: "v1" | "v2";
}

/** An upstream record reduced to what certgate decides on. */
export interface UpstreamResult {
  source: "v1" | "v2";
  /** V1 `imp_uid`; V2 `identityVerificationId`. Consumed once. */
  upstreamId: string;
  /**
   * The id that binds the record to a verification certgate issued: V1 `merchant_uid` (absent when
   * PortOne sent none); V2 the `identityVerificationId` itself, which certgate chose.
   */
  boundId?: string | undefined;
  /** V1 `certified === true`; V2 `status === "VERIFIED"`. Anything else is not certified. */
  certified: boolean;
  identity: VerifiedIdentity;
}

/**
 * The key for "one account per person": CI when present, else DI scoped by its provider (a DI is
 * only unique within one site and provider, so the same value from two providers is two people).
 */
export type PersonKey = { kind: "ci"; value: string } | { kind: "di"; provider: string; value: string };

/**
 * A CI is 88 characters and a DI 64 (PortOne's schemas; base64 of 64 and 48 bytes). A value of
 * another length, or with a space or control character in it, is no key: a placeholder such as "0"
 * or "null" would make every person who carries it one person (a stranger's duplicate_account, their
 * existing_account_ref shown), so it counts as missing, as an empty string does.
 */
const CI_FORMAT = /^[\x21-\x7e]{88}$/;
const DI_FORMAT = /^[\x21-\x7e]{64}$/;

/**
 * The person key of `identity`: CI preferred, DI (scoped by `identity.provider`) only as fallback,
 * `undefined` when neither is present in its format (such a person cannot be deduplicated).
 */
export function personKeyOf(identity: VerifiedIdentity): PersonKey | undefined {
  const ci = keyText(identity.ci, CI_FORMAT);
  if (ci !== undefined) return { kind: "ci", value: ci };
  const di = keyText(identity.di, DI_FORMAT);
  // V1 names providers in lower case ("danal"), V2 in upper case ("DANAL"): one provider, one scope.
  if (di !== undefined) return { kind: "di", provider: identity.provider.toLowerCase(), value: di };
  return undefined;
}

/**
 * A name masked for the browser view: first and last character kept, the rest "*".
 * "김테스트" → "김**트", "김테" → "김*", "김" → "*". Counts code points, so Hangul syllables and
 * astral characters are one character each.
 */
export function maskName(name: string): string {
  const chars = Array.from(name.trim());
  if (chars.length <= 1) return "*".repeat(chars.length);
  if (chars.length === 2) return `${chars[0]}*`;
  return `${chars[0]}${"*".repeat(chars.length - 2)}${chars[chars.length - 1]}`;
}

/**
 * A carrier string as PortOne sends it (V1 or V2 spelling, any case) → {@link Carrier}, or
 * `undefined` when unknown. V1 still spells LG U+ by its old name "LGT".
 */
export function carrierFrom(value: string | undefined): Carrier | undefined {
  switch (value?.trim().toUpperCase()) {
    case "SKT":
      return "SKT";
    case "KT":
      return "KT";
    case "LGU":
    case "LGT":
      return "LGU";
    case "SKT_MVNO":
      return "SKT_MVNO";
    case "KT_MVNO":
      return "KT_MVNO";
    case "LGU_MVNO":
    case "LGT_MVNO":
      return "LGU_MVNO";
    default:
      return undefined;
  }
}

/** Trimmed text, or `undefined` when absent, empty or whitespace only. */
export function presentText(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** `value` trimmed when it has `format`, else undefined: a malformed key is a missing one. */
function keyText(value: string | undefined, format: RegExp): string | undefined {
  const trimmed = presentText(value);
  return trimmed !== undefined && format.test(trimmed) ? trimmed : undefined;
}
