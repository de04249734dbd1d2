/**
 * The PortOne V1 ("i'mport") client: certifications and the OTP flow, with a cached, single-flight
 * access token, per-attempt timeouts, bounded retries and every failure an {@link UpstreamError}.
 *
 * Keys, the secret and tokens live only in closures: the client object holds nothing but its
 * methods, so `JSON.stringify(client)` is `{}` and `util.inspect(client)` lists function names.
 */
import * as z from "zod";
import { ConfigError, RequestError, UpstreamError } from "../../core/errors.js";
import { functionOption, optionsObject } from "../../core/option-values.js";
import { checkOptionKeys } from "../../core/unknown-fields.js";
import type { V1Certification } from "../../core/v1/upstream.js";
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
import { v1CertificationSchema, v1EnvelopeSchema, v1OtpRequestedSchema, v1TokenSchema } from "./schemas.js";

/**
 * PortOne V1's production API.
 *
 * @example
 * import { createV1Client, V1_DEFAULT_BASE_URL } from "certgate/portone";
 * const portone = createV1Client({ apiKey, apiSecret, baseUrl: process.env.PORTONE_API_URL ?? V1_DEFAULT_BASE_URL });
 */
export const V1_DEFAULT_BASE_URL = "https://api.iamport.kr";

/**
 * The V1 client's credentials and transport settings.
 *
 * @example
 * import { createV1Client, type V1ClientOptions } from "certgate";
 * const options: V1ClientOptions = {
 *   apiKey: process.env.PORTONE_API_KEY ?? "",
 *   apiSecret: process.env.PORTONE_API_SECRET ?? "",
 *   timeoutMs: 3000,
 * };
 * const portone = createV1Client(options);
 */
export interface V1ClientOptions extends TransportOptions {
  /** REST API key (`imp_key`). Required: there is no fallback to any public test key. */
  apiKey: string;
  /** REST API secret (`imp_secret`). */
  apiSecret: string;
  /**
   * Default {@link V1_DEFAULT_BASE_URL}; point it at an emulator for tests. An absolute http(s) URL
   * without query, fragment or credentials.
   */
  baseUrl?: string;
  /** Local clock, unix ms; token expiry is computed on it (skew-corrected). Default `Date.now`. */
  now?: () => number;
  /** Sub-merchant code: sent as the `Tier` header on every call. */
  tier?: string;
}

const V1_OPTION_KEYS: Record<keyof V1ClientOptions, true> = {
  apiKey: true,
  apiSecret: true,
  baseUrl: true,
  now: true,
  tier: true,
  ...TRANSPORT_OPTION_KEYS,
};

/**
 * Input of `POST /certifications/otp/request` (Danal and KCP only), in PortOne's names.
 *
 * @example
 * import type { OtpRequestInput } from "certgate/portone";
 * const input: OtpRequestInput = {
 *   name: "홍길동",
 *   phone: "01000000000",
 *   birth: "900301",
 *   gender_digit: "1",
 *   carrier: "SKT",
 *   channel_key: "channel-key-…",
 *   merchant_uid: merchantUid,
 * };
 * const { imp_uid } = await portone.requestOtp(input);
 */
export interface OtpRequestInput {
  /** Real name. */
  name: string;
  /** Digits only, e.g. "01000000001". */
  phone: string;
  /** YYMMDD. */
  birth: string;
  /** 7th digit of the resident registration number (century, sex, nationality). */
  gender_digit: string;
  carrier: "SKT" | "KT" | "LGT";
  /** Default false. */
  is_mvno?: boolean;
  /** Service name shown in the SMS. */
  company?: string;
  merchant_uid?: string;
  /** The channel (provider contract) to verify with; required by PortOne's V1 OpenAPI. */
  channel_key: string;
  /** KCP only. */
  verification_method?: "SMS" | "APP";
  /** KCP only: provider-specific parameters as a JSON object in a string, e.g. `'{"key":"value"}'`. */
  bypass?: string;
}

/**
 * PortOne V1 (i'mport): certification lookups and OTP, with a cached, shared access token.
 *
 * @example
 * import { createV1Client, type V1Client } from "certgate";
 * const portone: V1Client = createV1Client({ apiKey, apiSecret }); // one per process: it caches the token
 * const record = await portone.getCertification(impUid);
 * if (record.certified !== true) throw new Error("not certified");
 */
export interface V1Client {
  /**
   * `GET /certifications/{imp_uid}`. Throws `UpstreamError`: `not_found` for an unknown id or another
   * merchant's, `invalid_response`, `api_error`, `timeout`, `unavailable`, `unauthorized`.
   * Throws `RequestError("invalid_request")` for an impossible imp_uid, without calling PortOne.
   */
  getCertification(impUid: string): Promise<V1Certification>;
  /**
   * `DELETE /certifications/{imp_uid}`: removes the record from PortOne and returns it. Retried like
   * a lookup; a `not_found` with `attempts > 1` may mean an earlier attempt already deleted it.
   */
  deleteCertification(impUid: string): Promise<V1Certification>;
  /** `POST /certifications/otp/request`: sends the SMS. One attempt (not idempotent). */
  requestOtp(input: OtpRequestInput): Promise<{ imp_uid: string }>;
  /** `POST /certifications/otp/confirm/{imp_uid}`: the certified record. One attempt. */
  confirmOtp(impUid: string, otp: string): Promise<V1Certification>;
}

const otpRequestSchema = z.object({
  name: z.string().min(1).max(100),
  phone: z.string().regex(/^\d{9,11}$/),
  birth: z.string().regex(/^\d{6}$/),
  gender_digit: z.string().regex(/^\d$/),
  carrier: z.enum(["SKT", "KT", "LGT"]),
  is_mvno: z.boolean().optional(),
  company: z.string().optional(),
  merchant_uid: z.string().min(1).optional(),
  channel_key: z.string().min(1),
  verification_method: z.enum(["SMS", "APP"]).optional(),
  bypass: z.string().optional(),
});

/**
 * Creates a V1 client. Throws `ConfigError` naming the option when the key or secret is missing, or
 * an option is of the wrong type or out of range (see {@link V1ClientOptions}).
 *
 * @example
 * const portone = createV1Client({ apiKey: env.PORTONE_API_KEY, apiSecret: env.PORTONE_API_SECRET });
 * const record = await portone.getCertification(impUid); // never trust the browser's copy
 * if (record.certified !== true) throw new Error("not certified");
 */
export function createV1Client(options: V1ClientOptions): V1Client {
  optionsObject("createV1Client options", options);
  checkOptionKeys("createV1Client options", options, V1_OPTION_KEYS);
  requiredText("apiKey", options.apiKey, "PortOne V1 REST API key");
  requiredText("apiSecret", options.apiSecret, "PortOne V1 REST API secret");
  // typeof first: RegExp.test would read a number or an object as its string.
  if (options.tier !== undefined && !(typeof options.tier === "string" && /^[\w-]{1,64}$/.test(options.tier)))
    throw new ConfigError("tier", "must be 1–64 letters, digits, '_' or '-'");
  const baseUrl = baseUrlOption(options.baseUrl, V1_DEFAULT_BASE_URL);
  const transport = transportConfig(options);
  const { apiKey, apiSecret } = options;
  const now = functionOption("now", options.now) ?? Date.now;

  const request = createHttpClient({
    baseUrl,
    ...transport,
    ...(options.tier === undefined ? {} : { headers: { Tier: options.tier } }),
    describeError: describeV1Error,
  });

  const tokens = createTokenManager({
    // getToken returns the same token to every caller while it is valid: safe to retry.
    fetchToken: () =>
      request({
        route: "getToken",
        method: "POST",
        path: "/users/getToken",
        json: { imp_key: apiKey, imp_secret: apiSecret },
        idempotent: true,
        decode: decodeEnvelope(v1TokenSchema),
      }).catch(rethrowTokenFailure),
    now,
    ...(options.tokenMarginSeconds === undefined ? {} : { marginSeconds: options.tokenMarginSeconds }),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });

  /** Sends with the cached token; on a 401 refreshes once and retries once (a 401 ran nothing). */
  async function authorized<T>(req: Omit<HttpRequest<T>, "headers">): Promise<T> {
    const token = await tokens.getToken();
    try {
      return await request({ ...req, headers: { authorization: `Bearer ${token}` } });
    } catch (error) {
      if (!(error instanceof UpstreamError) || error.code !== "unauthorized") throw error;
      tokens.invalidate(token);
      const fresh = await tokens.getToken();
      return request({ ...req, headers: { authorization: `Bearer ${fresh}` } });
    }
  }

  return {
    // async: an impossible imp_uid rejects the promise instead of throwing synchronously.
    getCertification: async (impUid) =>
      authorized({
        route: "getCertification",
        method: "GET",
        path: `/certifications/${pathSegment(impUid, "imp_uid")}`,
        idempotent: true,
        decode: decodeEnvelope(v1CertificationSchema),
      }),
    deleteCertification: async (impUid) =>
      authorized({
        route: "deleteCertification",
        method: "DELETE",
        path: `/certifications/${pathSegment(impUid, "imp_uid")}`,
        idempotent: true,
        decode: decodeEnvelope(v1CertificationSchema),
      }),
    async requestOtp(input) {
      const parsed = otpRequestSchema.safeParse(input);
      if (!parsed.success) {
        // Field names only: the values are personal data.
        const fields = [...new Set(parsed.error.issues.map((issue) => String(issue.path[0] ?? "input")))];
        throw new RequestError("invalid_request", `OTP request: invalid ${fields.join(", ")}`, { fields });
      }
      return authorized({
        route: "otpRequest",
        method: "POST",
        path: "/certifications/otp/request",
        json: parsed.data,
        idempotent: false,
        decode: decodeEnvelope(v1OtpRequestedSchema),
      });
    },
    async confirmOtp(impUid, otp) {
      if (typeof otp !== "string" || !/^\d{1,12}$/.test(otp))
        throw new RequestError("invalid_request", "otp: must be 1–12 digits", { fields: ["otp"] });
      return authorized({
        route: "otpConfirm",
        method: "POST",
        path: `/certifications/otp/confirm/${pathSegment(impUid, "imp_uid")}`,
        json: { otp },
        idempotent: false,
        decode: decodeEnvelope(v1CertificationSchema),
      });
    },
  };
}

/**
 * V1 success rules: the envelope parses, `code` is 0 (PortOne also fails with HTTP 200 and a non-zero
 * code), and `response` parses with `schema`.
 */
function decodeEnvelope<T>(schema: z.ZodType<T>): (body: unknown) => DecodeResult<T> {
  return (body) => {
    const envelope = v1EnvelopeSchema.safeParse(body);
    if (!envelope.success)
      return { ok: false, code: "invalid_response", summary: "not a V1 envelope", cause: envelope.error };
    const { code, message } = envelope.data;
    if (code !== 0) return { ok: false, code: "api_error", apiCode: code, apiMessage: message ?? undefined };
    const response = schema.safeParse(envelope.data.response);
    if (!response.success)
      return {
        ok: false,
        code: "invalid_response",
        summary: `response fails the schema at ${issuePaths(response.error)}`,
        cause: response.error,
      };
    return { ok: true, value: response.data };
  };
}

/** PortOne's code and message from a V1 error body, when it is an envelope. */
function describeV1Error(body: unknown) {
  const envelope = v1EnvelopeSchema.safeParse(body);
  return envelope.success
    ? { apiCode: envelope.data.code, apiMessage: envelope.data.message ?? undefined }
    : {};
}

/** Field paths only: zod 4 issues carry no input values unless asked to, but paths are all we need. */
function issuePaths(error: z.ZodError): string {
  const paths = [...new Set(error.issues.map((issue) => issue.path.join(".") || "(root)"))];
  return paths.slice(0, 8).join(", ");
}
