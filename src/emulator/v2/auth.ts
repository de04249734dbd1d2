/**
 * V2 authentication: `POST /login/api-secret`, `POST /token/refresh`, and the check every other V2
 * route runs first (`Authorization: PortOne <API secret>` or `Authorization: Bearer <access token>`).
 */
import type { Context, Hono, MiddlewareHandler } from "hono";
import * as z from "zod";
import type { EmulatorClock } from "../clock.js";
import { readBodyText } from "../input.js";
import { v2Fail } from "./errors.js";
import type { V2TokenStore } from "./state.js";

/**
 * A merchant's V2 credentials: its API secret and its store.
 *
 * @example
 * import { createV2Client } from "certgate";
 * import { createEmulator, type V2MerchantCredentials, TEST_MERCHANT } from "certgate/emulator";
 * const credentials: V2MerchantCredentials = TEST_MERCHANT;
 * const portone = createV2Client({ apiSecret: credentials.v2ApiSecret, storeId: credentials.storeId, fetch: createEmulator().fetch });
 */
export interface V2MerchantCredentials {
  /** The V2 API secret (`Authorization: PortOne <v2ApiSecret>`). */
  v2ApiSecret: string;
  /** "store-" + a UUID. */
  storeId: string;
}

/** A merchant the V2 API knows: its `imp` code (the owner key shared with V1) and V2 credentials. */
export interface V2Merchant extends V2MerchantCredentials {
  impCode: string;
}

/** Who a V2 request acts for. */
export interface V2Principal {
  merchantCode: string;
  storeId: string;
}

export interface V2AuthDeps {
  merchants: readonly V2Merchant[];
  tokens: V2TokenStore;
  clock: EmulatorClock;
}

/** The JSON object of a request body; `{}` when empty; `undefined` when not a JSON object. */
export async function readV2Json(c: Context): Promise<Record<string, unknown> | undefined> {
  const text = await readBodyText(c.req.raw);
  if (text.trim() === "") return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? Object.fromEntries(Object.entries(parsed))
      : undefined;
  } catch {
    return undefined;
  }
}

const loginSchema = z.object({ apiSecret: z.string().min(1) });
const refreshSchema = z.object({ refreshToken: z.string().min(1) });

/** Registers the two token routes behind their guards (stats and faults). */
export function registerV2AuthRoutes(
  app: Hono,
  deps: V2AuthDeps,
  guard: (route: "loginApiSecret" | "refreshToken") => MiddlewareHandler,
) {
  app.post("/login/api-secret", guard("loginApiSecret"), async (c) => {
    const body = loginSchema.safeParse(await readV2Json(c));
    if (!body.success) return v2Fail(c, "INVALID_REQUEST", "apiSecret: 필수 값입니다.");
    const merchant = deps.merchants.find((m) => m.v2ApiSecret === body.data.apiSecret);
    if (!merchant) return v2Fail(c, "UNAUTHORIZED");
    return c.json(deps.tokens.issue(merchant.impCode, deps.clock.now()), 200);
  });

  app.post("/token/refresh", guard("refreshToken"), async (c) => {
    const body = refreshSchema.safeParse(await readV2Json(c));
    if (!body.success) return v2Fail(c, "INVALID_REQUEST", "refreshToken: 필수 값입니다.");
    const pair = deps.tokens.refresh(body.data.refreshToken, deps.clock.now());
    if (!pair) return v2Fail(c, "UNAUTHORIZED");
    return c.json(pair, 200);
  });
}

/** See {@link createV2Authorizer}. */
export type V2Authorizer = (c: Context) => V2Principal | undefined;

/**
 * The merchant a request acts for, or `undefined` (the route answers 401): `PortOne <secret>` with a
 * known V2 API secret, or `Bearer <token>` with a valid access token. The scheme is case-insensitive.
 */
export function createV2Authorizer(deps: V2AuthDeps): V2Authorizer {
  return (c) => {
    const match = /^(\S+)\s+(\S+)$/.exec(c.req.header("authorization")?.trim() ?? "");
    if (!match?.[1] || !match[2]) return undefined;
    const scheme = match[1].toLowerCase();
    const credential = match[2];
    const merchant =
      scheme === "portone"
        ? deps.merchants.find((m) => m.v2ApiSecret === credential)
        : scheme === "bearer"
          ? deps.merchants.find((m) => m.impCode === deps.tokens.validateAccess(credential, deps.clock.now()))
          : undefined;
    return merchant ? { merchantCode: merchant.impCode, storeId: merchant.storeId } : undefined;
  };
}
