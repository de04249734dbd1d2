/**
 * The V1 emulator's mutable state: certification records and V1 access tokens. Nothing here knows
 * about HTTP; routes read and change it through these small objects. The clock and the request
 * counters, which V2 uses too, are in `../clock.ts` and `../request-stats.ts`.
 */
import { randomBytes, randomInt } from "node:crypto";
import type { StoredCertification } from "./records.js";

// ---------------------------------------------------------------------------------------------
// Certification records

/** A record and what only the emulator knows about it. */
export interface CertificationEntry {
  /** `imp` code of the merchant that owns the record; other merchants get 404. */
  merchantCode: string;
  record: StoredCertification;
  /** Present while an OTP awaits confirmation. */
  pendingOtp?: {
    code: string;
    /** Fields the record gains on confirmation (e.g. CI/DI of an OTP-requested record). */
    onConfirm: Partial<StoredCertification>;
  };
}

export interface CertificationStore {
  /** A fresh `imp_` + 12 digits id, unused by any record this store has held. */
  newImpUid(): string;
  has(impUid: string): boolean;
  add(entry: CertificationEntry): void;
  get(impUid: string): CertificationEntry | undefined;
  delete(impUid: string): boolean;
  list(): CertificationEntry[];
  clear(): void;
}

export function createCertificationStore(): CertificationStore {
  const entries = new Map<string, CertificationEntry>();
  // Ids are never reused, even after delete or reset, so a stale id can never hit a new record.
  const everIssued = new Set<string>();
  return {
    newImpUid() {
      for (;;) {
        const digits =
          String(randomInt(0, 1_000_000)).padStart(6, "0") + String(randomInt(0, 1_000_000)).padStart(6, "0");
        const impUid = `imp_${digits}`;
        if (!everIssued.has(impUid)) return impUid;
      }
    },
    has: (impUid) => entries.has(impUid),
    add(entry) {
      everIssued.add(entry.record.imp_uid);
      entries.set(entry.record.imp_uid, entry);
    },
    get: (impUid) => entries.get(impUid),
    delete: (impUid) => entries.delete(impUid),
    list: () => [...entries.values()],
    clear: () => entries.clear(),
  };
}

// ---------------------------------------------------------------------------------------------
// V1 access tokens

/**
 * PortOne V1 token rules, in seconds.
 *
 * @example
 * import { createEmulator, V1_TOKEN_LIFETIME_S } from "certgate/emulator";
 * const emulator = createEmulator();
 * emulator.clock.advance(V1_TOKEN_LIFETIME_S * 1000); // every V1 token issued so far has expired
 */
export const V1_TOKEN_LIFETIME_S = 30 * 60;
/**
 * Asking for a token when `now >= expired_at - V1_TOKEN_EXTENSION_WINDOW_S` extends it.
 *
 * @example
 * import { createEmulator, V1_TOKEN_EXTENSION_WINDOW_S, V1_TOKEN_LIFETIME_S } from "certgate/emulator";
 * const emulator = createEmulator();
 * emulator.clock.advance((V1_TOKEN_LIFETIME_S - V1_TOKEN_EXTENSION_WINDOW_S) * 1000); // getToken now extends
 */
export const V1_TOKEN_EXTENSION_WINDOW_S = 60;
/**
 * How far such a request pushes `expired_at`.
 *
 * @example
 * import { V1_TOKEN_EXTENSION_S } from "certgate/emulator";
 * const extendedBy = V1_TOKEN_EXTENSION_S; // 300 seconds
 */
export const V1_TOKEN_EXTENSION_S = 5 * 60;

export interface V1AccessToken {
  /** 40 lowercase hex characters. */
  accessToken: string;
  merchantCode: string;
  /** Unix seconds; the token is valid while `now < expiresAt`. */
  expiresAt: number;
}

export interface V1TokenStore {
  /**
   * `POST /users/getToken` semantics for `merchantCode` at `nowS`: the merchant's valid token is
   * returned unchanged, or extended by 5 minutes in its last minute; otherwise a new one is issued.
   */
  issue(merchantCode: string, nowS: number): V1AccessToken;
  /** The token if it exists and is still valid at `nowS`. */
  validate(accessToken: string, nowS: number): V1AccessToken | undefined;
  /** Forgets every token; returns how many were still valid. */
  revokeAll(nowS: number): number;
  /** Number of distinct tokens issued since the last reset. */
  issuedCount(): number;
  clear(): void;
}

export function createV1TokenStore(): V1TokenStore {
  const byValue = new Map<string, V1AccessToken>();
  const currentByMerchant = new Map<string, V1AccessToken>();
  let issued = 0;
  const isValid = (token: V1AccessToken, nowS: number) => nowS < token.expiresAt;
  return {
    issue(merchantCode, nowS) {
      const current = currentByMerchant.get(merchantCode);
      if (current && isValid(current, nowS)) {
        if (nowS >= current.expiresAt - V1_TOKEN_EXTENSION_WINDOW_S)
          current.expiresAt += V1_TOKEN_EXTENSION_S;
        return { ...current };
      }
      const token: V1AccessToken = {
        accessToken: randomBytes(20).toString("hex"),
        merchantCode,
        expiresAt: nowS + V1_TOKEN_LIFETIME_S,
      };
      byValue.set(token.accessToken, token);
      currentByMerchant.set(merchantCode, token);
      issued += 1;
      return { ...token };
    },
    validate(accessToken, nowS) {
      const token = byValue.get(accessToken);
      return token && isValid(token, nowS) ? { ...token } : undefined;
    },
    revokeAll(nowS) {
      const stillValid = [...byValue.values()].filter((token) => isValid(token, nowS)).length;
      byValue.clear();
      currentByMerchant.clear();
      return stillValid;
    },
    issuedCount: () => issued,
    clear() {
      byValue.clear();
      currentByMerchant.clear();
      issued = 0;
    },
  };
}
