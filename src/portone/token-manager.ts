/**
 * PortOne access token cache, shared by both clients: one token per client, refreshed ahead of
 * expiry, single-flight. V1 feeds it `POST /users/getToken` answers; V2 (`auth: "token"`) feeds it
 * its login/refresh pairs, dated on the local clock (see `v2/client.ts`).
 *
 * PortOne V1 answers `getToken` with its own `now` and `expired_at` (unix seconds on ITS clock), hands
 * every caller of one key the same token while it is valid, extends it by 5 minutes when asked in
 * its last minute, and issues a new one after expiry. So the cache:
 * - measures the skew `serverNow − localNow` on receipt and keeps the expiry on the LOCAL clock, so a
 *   server 10 minutes ahead or behind changes nothing;
 * - refreshes `marginSeconds` (default 60) before that local expiry: with the default the refresh
 *   lands at the start of PortOne's last-minute window, where it extends the same token;
 * - shares one in-flight refresh among every concurrent caller (cold start, expiry, 401s);
 * - keeps the token in this closure only: it never appears in `toString`, JSON or `util.inspect`.
 */
import { ConfigError } from "../core/errors.js";
import { functionOption, optionsObject, wholeNumberOption } from "../core/option-values.js";
import { checkOptionKeys } from "../core/unknown-fields.js";
import type { ClientEvent } from "./http.js";

/**
 * Largest refresh margin, in seconds (10 minutes). PortOne's tokens live 30 minutes: a margin near
 * or past a token's life would fetch a new one every {@link MIN_REFRESH_INTERVAL_MS} for ever.
 */
export const MAX_TOKEN_MARGIN_SECONDS = 600;

/**
 * A token as issued, in V1's `getToken` names (the V2 client builds one): times are unix SECONDS on
 * the issuer's clock.
 *
 * @example
 * import type { IssuedToken } from "certgate/portone";
 * const issued: IssuedToken = { access_token: "token", now: 1_767_225_600, expired_at: 1_767_227_400 };
 */
export interface IssuedToken {
  access_token: string;
  /** The issuer's "now". */
  now: number;
  /** The issuer's expiry. */
  expired_at: number;
}

/**
 * What {@link createTokenManager} needs: how to obtain a token, a clock, and how early to renew.
 *
 * @example
 * import { createTokenManager, type TokenManagerOptions } from "certgate/portone";
 * const options: TokenManagerOptions = {
 *   fetchToken: async () => ({ access_token: "token", now: Date.now() / 1000, expired_at: Date.now() / 1000 + 1800 }),
 *   now: Date.now,
 *   marginSeconds: 60,
 * };
 * const tokens = createTokenManager(options);
 */
export interface TokenManagerOptions {
  /** Obtains a new token (V1: `POST /users/getToken`); throws `UpstreamError` on failure. */
  fetchToken(): Promise<IssuedToken>;
  /** Local clock, unix ms. */
  now(): number;
  /** Refresh this long before the (skew-corrected) expiry, seconds: a whole number from 0 to 600. Default 60. */
  marginSeconds?: number;
  onEvent?: (event: ClientEvent) => void;
}

/**
 * A cached access token shared by concurrent callers, renewed ahead of expiry (built by {@link createTokenManager}).
 *
 * @example
 * import { createTokenManager } from "certgate/portone";
 * const tokens = createTokenManager({ fetchToken, now: Date.now });
 * const token = await tokens.getToken();
 * const res = await fetch("https://api.iamport.kr/certifications/imp_123456789012", { headers: { Authorization: token } });
 * if (res.status === 401) tokens.invalidate(token); // the next getToken() fetches a new one, once
 */
export interface TokenManager {
  /** A valid access token, fetching one first when the cache is cold, expiring or invalidated. */
  getToken(): Promise<string>;
  /**
   * Declares `token` refused (PortOne answered 401). Forgets it only if it is still the cached one,
   * so N callers holding the same stale token cause one refresh, and a caller holding a token that
   * was already replaced causes none.
   */
  invalidate(token: string): void;
}

interface CachedToken {
  token: string;
  /** Local unix ms after which PortOne no longer accepts the token. */
  expiresAt: number;
  /** Local unix ms from which callers wait for a refresh. */
  refreshAt: number;
}

/** A refresh never follows the previous one sooner than this, whatever the margin. */
const MIN_REFRESH_INTERVAL_MS = 10_000;
/** A token this close to its expiry is not handed out even when a refresh failed. */
const LAST_USE_SAFETY_MS = 5_000;

const TOKEN_MANAGER_OPTION_KEYS: Record<keyof TokenManagerOptions, true> = {
  fetchToken: true,
  now: true,
  marginSeconds: true,
  onEvent: true,
};

/**
 * Creates the cache.
 *
 * @throws ConfigError naming the option: `fetchToken` or `now` missing or not a function, a
 *   `marginSeconds` out of range, an `onEvent` that is not a function, an unknown key.
 * @example
 * const tokens = createTokenManager({ fetchToken, now: Date.now });
 * const token = await tokens.getToken(); // shared by concurrent callers
 */
export function createTokenManager(options: TokenManagerOptions): TokenManager {
  optionsObject("createTokenManager options", options);
  checkOptionKeys("createTokenManager options", options, TOKEN_MANAGER_OPTION_KEYS);
  // Required, so checked here: missing, they would fail only at the first getToken().
  if (typeof options.fetchToken !== "function")
    throw new ConfigError("fetchToken", "is required: a function");
  if (typeof options.now !== "function") throw new ConfigError("now", "is required: a function");
  functionOption("onEvent", options.onEvent);
  const marginSeconds = wholeNumberOption(
    "marginSeconds",
    options.marginSeconds,
    0,
    MAX_TOKEN_MARGIN_SECONDS,
  );
  const marginMs = (marginSeconds ?? 60) * 1000;
  let cached: CachedToken | undefined;
  let refreshing: Promise<string> | undefined;
  let invalidated = false;

  const refresh = (reason: "cold" | "expiring" | "unauthorized"): Promise<string> => {
    if (refreshing) return refreshing;
    try {
      options.onEvent?.({ type: "token_refresh", reason });
    } catch {
      // A broken metrics hook must not break authentication.
    }
    const previous = cached;
    refreshing = options
      .fetchToken()
      .then(
        (fresh) => {
          const receivedAt = options.now();
          // skew = serverNow − localNow: PortOne's expiry in local time is expired_at − skew.
          const skewMs = fresh.now * 1000 - receivedAt;
          const expiresAt = fresh.expired_at * 1000 - skewMs;
          // If PortOne answered the same expiry (asked just before its last-minute window), do not ask
          // again on every call until the window opens: wait a little, still short of the expiry.
          const earliest = Math.min(receivedAt + MIN_REFRESH_INTERVAL_MS, expiresAt - LAST_USE_SAFETY_MS);
          cached = {
            token: fresh.access_token,
            expiresAt,
            refreshAt: Math.max(expiresAt - marginMs, earliest),
          };
          invalidated = false;
          return fresh.access_token;
        },
        (error: unknown) => {
          // PortOne unreachable but the old token still valid for a while: keep using it; the next
          // call past `refreshAt` tries again. A 401 token is never reused.
          if (previous && !invalidated && options.now() < previous.expiresAt - LAST_USE_SAFETY_MS)
            return previous.token;
          throw error;
        },
      )
      .finally(() => {
        refreshing = undefined;
      });
    return refreshing;
  };

  return {
    getToken() {
      if (refreshing) return refreshing;
      if (!cached) return refresh(invalidated ? "unauthorized" : "cold");
      if (options.now() >= cached.refreshAt) return refresh("expiring");
      return Promise.resolve(cached.token);
    },
    invalidate(token) {
      if (cached?.token !== token) return;
      cached = undefined;
      invalidated = true;
    },
  };
}
