/**
 * V1 authentication (twin of `v2/auth.ts`): `POST /users/getToken` and the bearer check every other
 * V1 route runs first.
 */
import type { Context, Hono, MiddlewareHandler } from "hono";
import * as z from "zod";
import { type EmulatorClock, nowSeconds } from "../clock.js";
import { readV1Params } from "./body.js";
import { V1_MESSAGES, v1Fail, v1Ok } from "./envelope.js";
import type { V1TokenStore } from "./state.js";

/**
 * A merchant account the emulator knows: REST API key and secret, and its `imp` code.
 *
 * @example
 * import { createEmulator, type EmulatorMerchant } from "certgate/emulator";
 * const merchant: EmulatorMerchant = { impKey: "k", impSecret: "s", impCode: "imp12345678" };
 * const emulator = createEmulator({ merchants: [merchant] });
 */
export interface EmulatorMerchant {
  impKey: string;
  impSecret: string;
  /** "imp" + 8 digits, the code `IMP.init` takes. */
  impCode: string;
}

export interface V1TokenDeps {
  merchants: readonly EmulatorMerchant[];
  tokens: V1TokenStore;
  clock: EmulatorClock;
}

const credentialsSchema = z.object({ imp_key: z.string().min(1), imp_secret: z.string().min(1) });

/** Registers `POST /users/getToken` behind `guard` (stats and faults). */
export function registerTokenRoutes(app: Hono, deps: V1TokenDeps, guard: MiddlewareHandler) {
  app.post("/users/getToken", guard, async (c) => {
    const params = await readV1Params(c);
    const credentials = credentialsSchema.safeParse(params ?? {});
    if (!credentials.success) return v1Fail(c, 400, V1_MESSAGES.missingCredentials);
    const { imp_key, imp_secret } = credentials.data;
    const merchant = deps.merchants.find((m) => m.impKey === imp_key && m.impSecret === imp_secret);
    if (!merchant) return v1Fail(c, 401, V1_MESSAGES.unauthorized);
    const now = nowSeconds(deps.clock);
    const token = deps.tokens.issue(merchant.impCode, now);
    return v1Ok(c, { access_token: token.accessToken, now, expired_at: token.expiresAt });
  });
}

/**
 * The `imp` code of the merchant whose valid token the request carries, or `undefined` (the route
 * then answers 401). Accepts `Authorization: Bearer <t>`, the bare `Authorization: <t>` of older
 * docs, and the legacy `X-ImpTokenHeader: <t>`. A `Tier` header is accepted and ignored.
 */
export function createV1Authorizer(deps: Omit<V1TokenDeps, "merchants">): V1Authorizer {
  return (c) => {
    const authorization = c.req.header("authorization")?.trim();
    const raw = authorization
      ? authorization.replace(/^Bearer\s+/i, "")
      : c.req.header("x-imptokenheader")?.trim();
    return raw ? deps.tokens.validate(raw, nowSeconds(deps.clock))?.merchantCode : undefined;
  };
}

/** See {@link createV1Authorizer}. */
export type V1Authorizer = (c: Context) => string | undefined;

/** The 401 every V1 route answers to a missing, unknown, expired or revoked token. */
export function v1Unauthorized(c: Context): Response {
  return v1Fail(c, 401, V1_MESSAGES.unauthorized);
}
