/**
 * The V2 emulator's mutable state: identity verifications (keyed by owner and the merchant-chosen id)
 * and V2 access/refresh tokens. Nothing here knows about HTTP.
 */
import { randomBytes } from "node:crypto";
import type { StoredIdentityVerification, V2StoredVerifiedCustomer } from "./records.js";

/** A record and what only the emulator knows about it. */
export interface IdentityVerificationEntry {
  /** `imp` code of the owner; another merchant's request for the id finds nothing. */
  merchantCode: string;
  record: StoredIdentityVerification;
  /** Present while a READY record awaits its OTP; the customer it becomes on confirmation. */
  pending?: {
    code: string;
    customer: V2StoredVerifiedCustomer;
    sentByApi: boolean;
    /** How it was sent; an APP verification is confirmed without an OTP. */
    method?: "SMS" | "APP";
  };
  /** Overrides of the served JSON (see `CreateIdentityVerificationInput.fields`). */
  fields?: Record<string, unknown>;
}

export interface IdentityVerificationStore {
  get(merchantCode: string, id: string): IdentityVerificationEntry | undefined;
  /** Adds or replaces the entry of `entry.merchantCode` and `entry.record.id`. */
  put(entry: IdentityVerificationEntry): void;
  list(): IdentityVerificationEntry[];
  /** Removes the entry; false when there was none. */
  delete(merchantCode: string, id: string): boolean;
  clear(): void;
}

export function createIdentityVerificationStore(): IdentityVerificationStore {
  // Ids are chosen by merchants, so two merchants may pick the same one: the owner is part of the key.
  const entries = new Map<string, IdentityVerificationEntry>();
  const keyOf = (merchantCode: string, id: string) => `${merchantCode}\u0000${id}`;
  return {
    get: (merchantCode, id) => entries.get(keyOf(merchantCode, id)),
    put(entry) {
      entries.set(keyOf(entry.merchantCode, entry.record.id), entry);
    },
    list: () => [...entries.values()],
    delete: (merchantCode, id) => entries.delete(keyOf(merchantCode, id)),
    clear: () => entries.clear(),
  };
}

/**
 * V2 token lifetimes. The access token's 30 minutes are PortOne's; the refresh token's are the emulator's.
 *
 * @example
 * import { createEmulator, V2_ACCESS_TOKEN_LIFETIME_MS } from "certgate/emulator";
 * const emulator = createEmulator();
 * emulator.clock.advance(V2_ACCESS_TOKEN_LIFETIME_MS); // the client must refresh its access token
 */
export const V2_ACCESS_TOKEN_LIFETIME_MS = 30 * 60 * 1000;
/**
 * How long the emulator's V2 refresh token lives: 24 hours (PortOne does not publish its own).
 *
 * @example
 * import { createEmulator, V2_REFRESH_TOKEN_LIFETIME_MS } from "certgate/emulator";
 * const emulator = createEmulator();
 * emulator.clock.advance(V2_REFRESH_TOKEN_LIFETIME_MS); // the client must log in with its API secret again
 */
export const V2_REFRESH_TOKEN_LIFETIME_MS = 24 * 60 * 60 * 1000;

/** A pair from `POST /login/api-secret` or `POST /token/refresh`. */
export interface V2TokenPair {
  accessToken: string;
  refreshToken: string;
}

export interface V2TokenStore {
  /**
   * A new pair for `merchantCode`, valid from `nowMs`. Every earlier refresh token of the merchant
   * stops working, as PortOne's spec says of each login and refresh; access tokens live on.
   */
  issue(merchantCode: string, nowMs: number): V2TokenPair;
  /** The owner of a valid access token, or `undefined`. */
  validateAccess(accessToken: string, nowMs: number): string | undefined;
  /**
   * Exchanges a valid refresh token for a new pair; it and every other earlier refresh token of the
   * merchant stop working (a client must keep the newest one). `undefined` when unknown or expired.
   */
  refresh(refreshToken: string, nowMs: number): V2TokenPair | undefined;
  /** Forgets every token; returns how many access tokens were still valid. */
  revokeAll(nowMs: number): number;
  issuedCount(): number;
  clear(): void;
}

export function createV2TokenStore(): V2TokenStore {
  const access = new Map<string, { merchantCode: string; expiresAt: number }>();
  const refreshing = new Map<string, { merchantCode: string; expiresAt: number }>();
  let issued = 0;
  const issue = (merchantCode: string, nowMs: number): V2TokenPair => {
    const pair = {
      accessToken: `emulator-v2-access.${randomBytes(24).toString("hex")}`,
      refreshToken: `emulator-v2-refresh.${randomBytes(24).toString("hex")}`,
    };
    access.set(pair.accessToken, { merchantCode, expiresAt: nowMs + V2_ACCESS_TOKEN_LIFETIME_MS });
    for (const [token, owner] of refreshing)
      if (owner.merchantCode === merchantCode) refreshing.delete(token);
    refreshing.set(pair.refreshToken, { merchantCode, expiresAt: nowMs + V2_REFRESH_TOKEN_LIFETIME_MS });
    issued += 1;
    return pair;
  };
  return {
    issue,
    validateAccess(accessToken, nowMs) {
      const token = access.get(accessToken);
      return token && nowMs < token.expiresAt ? token.merchantCode : undefined;
    },
    refresh(refreshToken, nowMs) {
      const token = refreshing.get(refreshToken);
      if (!token || nowMs >= token.expiresAt) return undefined;
      refreshing.delete(refreshToken);
      return issue(token.merchantCode, nowMs);
    },
    revokeAll(nowMs) {
      const stillValid = [...access.values()].filter((token) => nowMs < token.expiresAt).length;
      access.clear();
      refreshing.clear();
      return stillValid;
    },
    issuedCount: () => issued,
    clear() {
      access.clear();
      refreshing.clear();
      issued = 0;
    },
  };
}
