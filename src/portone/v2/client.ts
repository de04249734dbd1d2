/**
 * The PortOne V2 client: identity verifications and the API-driven OTP flow, on the same request layer
 * as V1 (per-attempt timeouts, bounded retries, every failure an {@link UpstreamError}).
 *
 * Authentication, chosen by `auth`:
 * - `"secret"` (default): `Authorization: PortOne <API secret>` on every call. Nothing to expire; a
 *   401 is final (`unauthorized`).
 * - `"token"`: `POST /login/api-secret` once, then `Authorization: Bearer <access token>`. The token
 *   is cached single-flight and renewed ahead of its 30 minutes through `POST /token/refresh` (falling
 *   back to a fresh login when the refresh token is refused); a 401 renews it and retries once.
 *
 * The secret and tokens live only in closures: `JSON.stringify(client)` is `{}`.
 */
import * as z from "zod";
import { ConfigError, RequestError, UpstreamError } from "../../core/errors.js";
import { functionOption, optionsObject } from "../../core/option-values.js";
import { checkOptionKeys } from "../../core/unknown-fields.js";
import type { V2IdentityVerification } from "../../core/v2/upstream.js";
import {
  createHttpClient,
  type DecodeResult,
  type HttpRequest,
  pathSegment,
  rethrowTokenFailure,
} from "../http.js";
import {
  baseUrlOption,
  requiredText,
  TRANSPORT_OPTION_KEYS,
  type TransportOptions,
  transportConfig,
} from "../options.js";
import { createTokenManager } from "../token-manager.js";
import {
  type V2TokenPair,
  v2ConfirmResponseSchema,
  v2EmptyResponseSchema,
  v2ErrorSchema,
  v2IdentityVerificationSchema,
  v2TokenPairSchema,
} from "./schemas.js";

/**
 * PortOne V2's production API.
 *
 * @example
 * import { createV2Client, V2_DEFAULT_BASE_URL } from "certgate/portone";
 * const portone = createV2Client({ apiSecret, storeId, baseUrl: process.env.PORTONE_V2_API_URL ?? V2_DEFAULT_BASE_URL });
 */
export const V2_DEFAULT_BASE_URL = "https://api.portone.io";

/** PortOne's V2 access token lifetime; the token answer carries no expiry, so the client assumes it. */
const ACCESS_TOKEN_LIFETIME_S = 30 * 60;

/**
 * The V2 client's API secret, store id and transport settings.
 *
 * @example
 * import { createV2Client, type V2ClientOptions } from "certgate";
 * const options: V2ClientOptions = {
 *   apiSecret: process.env.PORTONE_V2_API_SECRET ?? "",
 *   storeId: "store-00000000-0000-0000-0000-000000000000",
 * };
 * const portone = createV2Client(options);
 */
export interface V2ClientOptions extends TransportOptions {
  /** V2 API secret. Required: there is no fallback to any test secret. */
  apiSecret: string;
  /** Store to act on (`storeId` of every call); default the secret's own store. */
  storeId?: string;
  /**
   * Default {@link V2_DEFAULT_BASE_URL}; point it at an emulator for tests. An absolute http(s) URL
   * without query, fragment or credentials.
   */
  baseUrl?: string;
  /** Local clock, unix ms, for token renewal. Default `Date.now`. */
  now?: () => number;
  /** `"secret"` (default) or `"token"`; see the module comment. */
  auth?: "secret" | "token";
}

/**
 * Input of `POST /identity-verifications/{id}/send`, in PortOne's names.
 *
 * @example
 * import type { V2SendInput } from "certgate/portone";
 * const input: V2SendInput = {
 *   channelKey: "channel-key-…",
 *   customer: { name: "홍길동", phoneNumber: "01000000000", identityNumber: "9003011", ipAddress: "203.0.113.7" },
 *   operator: "SKT",
 *   method: "SMS",
 * };
 * await portoneV2.sendIdentityVerification("idv_abc", input);
 */
export interface V2SendInput {
  channelKey: string;
  customer: {
    /** The merchant's own customer id. */
    id?: string;
    name: string;
    /** Digits only, e.g. "01000000001". */
    phoneNumber: string;
    /** YYMMDD + the 7th resident-number digit; required by PortOne for SMS. */
    identityNumber?: string;
    /** The person's IP address (PortOne rate-limits on it). */
    ipAddress: string;
  };
  customData?: string;
  operator: "SKT" | "KT" | "LGU" | "SKT_MVNO" | "KT_MVNO" | "LGU_MVNO";
  method: "SMS" | "APP";
}

/**
 * A PortOne V2 client. Every method rejects with {@link UpstreamError} or, before any call, {@link RequestError}.
 *
 * @example
 * import { createV2Client, type V2Client } from "certgate";
 * const portone: V2Client = createV2Client({ apiSecret, storeId });
 * const record = await portone.getIdentityVerification("idv_abc");
 * // Compare it with what you hold, never log it: the name is personal data.
 * const name = record.status === "VERIFIED" ? record.verifiedCustomer.name : undefined;
 */
export interface V2Client {
  /**
   * `GET /identity-verifications/{id}`: the verification, tagged by status. A status this client does
   * not know comes back as `UNRECOGNIZED`, never as verified. A 404 rejects with `not_found`; another
   * store's id with `forbidden` (with `storeId`) or `not_found`.
   */
  getIdentityVerification(identityVerificationId: string): Promise<V2IdentityVerification>;
  /** `POST …/send`: asks the provider to send the code. One attempt (not idempotent). */
  sendIdentityVerification(identityVerificationId: string, input: V2SendInput): Promise<void>;
  /** `POST …/confirm` with the code the person received: the verified record. One attempt. */
  confirmIdentityVerification(identityVerificationId: string, otp: string): Promise<V2IdentityVerification>;
  /** `POST …/resend`: sends the code again. One attempt. */
  resendIdentityVerification(identityVerificationId: string): Promise<void>;
}

const sendInputSchema = z.object({
  channelKey: z.string().min(1).max(200),
  customer: z.object({
    id: z.string().min(1).max(200).optional(),
    name: z.string().min(1).max(100),
    phoneNumber: z.string().regex(/^\d{9,11}$/),
    identityNumber: z
      .string()
      .regex(/^\d{7}$/)
      .optional(),
    ipAddress: z.string().min(1).max(100),
  }),
  customData: z.string().optional(),
  operator: z.enum(["SKT", "KT", "LGU", "SKT_MVNO", "KT_MVNO", "LGU_MVNO"]),
  method: z.enum(["SMS", "APP"]),
});

const PRINTABLE_TOKEN = /^[\x21-\x7e]+$/;

const V2_OPTION_KEYS: Record<keyof V2ClientOptions, true> = {
  apiSecret: true,
  storeId: true,
  baseUrl: true,
  now: true,
  auth: true,
  ...TRANSPORT_OPTION_KEYS,
};

/**
 * Creates a V2 client. Throws `ConfigError` naming the option when the secret is missing or
 * malformed, or an option is of the wrong type or out of range (see {@link V2ClientOptions}).
 *
 * @example
 * const portone = createV2Client({ apiSecret: env.PORTONE_V2_API_SECRET, storeId: env.PORTONE_STORE_ID });
 * const record = await portone.getIdentityVerification(identityVerificationId);
 * if (record.status === "VERIFIED") console.log(record.verifiedAt); // READY, FAILED, UNRECOGNIZED are not
 */
export function createV2Client(options: V2ClientOptions): V2Client {
  optionsObject("createV2Client options", options);
  checkOptionKeys("createV2Client options", options, V2_OPTION_KEYS);
  requiredText("apiSecret", options.apiSecret, "PortOne V2 API secret");
  // The secret goes into a header: a space or line break would split or corrupt it.
  if (!PRINTABLE_TOKEN.test(options.apiSecret))
    throw new ConfigError("apiSecret", "must be printable ASCII without spaces");
  // typeof first: RegExp.test would read a number as its string, and null has no length.
  if (
    options.storeId !== undefined &&
    !(
      typeof options.storeId === "string" &&
      options.storeId.length <= 200 &&
      PRINTABLE_TOKEN.test(options.storeId)
    )
  )
    throw new ConfigError("storeId", "must be 1–200 printable ASCII characters");
  if (options.auth !== undefined && options.auth !== "secret" && options.auth !== "token")
    throw new ConfigError("auth", 'must be "secret" or "token"');
  const baseUrl = baseUrlOption(options.baseUrl, V2_DEFAULT_BASE_URL);
  const transport = transportConfig(options);
  const { apiSecret, storeId } = options;
  const now = functionOption("now", options.now) ?? Date.now;

  const request = createHttpClient({
    baseUrl,
    ...transport,
    describeError: describeV2Error,
  });

  const send = options.auth === "token" ? createTokenAuth() : secretAuth;

  function secretAuth<T>(req: Omit<HttpRequest<T>, "headers">): Promise<T> {
    return request({ ...req, headers: { authorization: `PortOne ${apiSecret}` } });
  }

  function createTokenAuth() {
    let refreshToken: string | undefined;
    // Login hands out a fresh pair each time and changes nothing else: safe to retry.
    const login = () =>
      request({
        route: "loginApiSecret",
        method: "POST",
        path: "/login/api-secret",
        json: { apiSecret },
        idempotent: true,
        decode: decodeWith(v2TokenPairSchema),
      });
    const obtainPair = async (): Promise<V2TokenPair> => {
      const held = refreshToken;
      if (held === undefined) return login();
      try {
        // Retrying is safe too: if a lost answer rotated the refresh token, the retry's 401 ends in a login.
        return await request({
          route: "refreshToken",
          method: "POST",
          path: "/token/refresh",
          json: { refreshToken: held },
          idempotent: true,
          decode: decodeWith(v2TokenPairSchema),
        });
      } catch (error) {
        if (!(error instanceof UpstreamError) || !["unauthorized", "bad_request"].includes(error.code))
          throw error;
        refreshToken = undefined;
        return login();
      }
    };
    const tokens = createTokenManager({
      async fetchToken() {
        const pair = await obtainPair().catch(rethrowTokenFailure);
        refreshToken = pair.refreshToken;
        // Measured on the local clock from receipt, so no skew applies.
        const nowS = Math.floor(now() / 1000);
        return { access_token: pair.accessToken, now: nowS, expired_at: nowS + ACCESS_TOKEN_LIFETIME_S };
      },
      now,
      ...(options.tokenMarginSeconds === undefined ? {} : { marginSeconds: options.tokenMarginSeconds }),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    });
    /** Sends with the cached token; on a 401 renews once and retries once (a 401 ran nothing). */
    return async function authorized<T>(req: Omit<HttpRequest<T>, "headers">): Promise<T> {
      const token = await tokens.getToken();
      try {
        return await request({ ...req, headers: { authorization: `Bearer ${token}` } });
      } catch (error) {
        if (!(error instanceof UpstreamError) || error.code !== "unauthorized") throw error;
        tokens.invalidate(token);
        const fresh = await tokens.getToken();
        return request({ ...req, headers: { authorization: `Bearer ${fresh}` } });
      }
    };
  }

  const storeQuery = storeId === undefined ? "" : `?storeId=${encodeURIComponent(storeId)}`;
  const storeBody = storeId === undefined ? {} : { storeId };
  const pathOf = (id: string, action = "") =>
    `/identity-verifications/${pathSegment(id, "identityVerificationId")}${action}`;

  return {
    // async: a malformed id rejects the promise instead of throwing synchronously.
    getIdentityVerification: async (identityVerificationId) =>
      send({
        route: "getIdentityVerification",
        method: "GET",
        path: `${pathOf(identityVerificationId)}${storeQuery}`,
        idempotent: true,
        decode: decodeWith(v2IdentityVerificationSchema),
      }),
    async sendIdentityVerification(identityVerificationId, input) {
      const parsed = sendInputSchema.safeParse(input);
      if (!parsed.success) {
        // Field names only: the values are personal data.
        const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join(".") || "input"))];
        throw new RequestError("invalid_request", `send: invalid ${fields.join(", ")}`, { fields });
      }
      await send({
        route: "sendIdentityVerification",
        method: "POST",
        path: pathOf(identityVerificationId, "/send"),
        json: { ...storeBody, ...parsed.data },
        idempotent: false,
        decode: decodeWith(v2EmptyResponseSchema),
      });
    },
    async confirmIdentityVerification(identityVerificationId, otp) {
      if (typeof otp !== "string" || !/^\d{1,12}$/.test(otp))
        throw new RequestError("invalid_request", "otp: must be 1–12 digits", { fields: ["otp"] });
      const confirmed = await send({
        route: "confirmIdentityVerification",
        method: "POST",
        path: pathOf(identityVerificationId, "/confirm"),
        json: { ...storeBody, otp },
        idempotent: false,
        decode: decodeWith(v2ConfirmResponseSchema),
      });
      return confirmed.identityVerification;
    },
    async resendIdentityVerification(identityVerificationId) {
      await send({
        route: "resendIdentityVerification",
        method: "POST",
        path: `${pathOf(identityVerificationId, "/resend")}${storeQuery}`,
        idempotent: false,
        decode: decodeWith(v2EmptyResponseSchema),
      });
    },
  };
}

/** V2 success rule: the 2xx body parses with `schema` (V2 has no in-band error codes). */
function decodeWith<T>(schema: z.ZodType<T>): (body: unknown) => DecodeResult<T> {
  return (body) => {
    const parsed = schema.safeParse(body);
    if (parsed.success) return { ok: true, value: parsed.data };
    return {
      ok: false,
      code: "invalid_response",
      summary: `response fails the schema at ${issuePaths(parsed.error)}`,
      cause: parsed.error,
    };
  };
}

/** PortOne's `type` and `message` from a V2 error body, when it is one. */
function describeV2Error(body: unknown) {
  const error = v2ErrorSchema.safeParse(body);
  return error.success ? { apiCode: error.data.type, apiMessage: error.data.message ?? undefined } : {};
}

/** Field paths only: zod 4 issues carry no input values unless asked to, but paths are all we need. */
function issuePaths(error: z.ZodError): string {
  const paths = [...new Set(error.issues.map((issue) => issue.path.join(".") || "(root)"))];
  return paths.slice(0, 8).join(", ");
}
