/**
 * The V1 envelope `{ code, message, response }` and the messages the emulator answers with.
 * `code` 0 is success; every failure here uses -1, as PortOne does for its HTTP errors.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { FaultBodies } from "../faults.js";

/**
 * A V1 response body.
 *
 * @example
 * import type { V1Envelope } from "certgate/emulator";
 * const res = await fetch(`${emulatorUrl}/users/getToken`, {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ imp_key: "certgate_test_key", imp_secret: "certgate_test_secret" }),
 * });
 * const envelope = (await res.json()) as V1Envelope<{ access_token: string }>;
 */
export interface V1Envelope<T> {
  code: number;
  message: string | null;
  response: T | null;
}

/**
 * Messages. `notFound` and `missingCredentials` are PortOne's own; PortOne publishes no body for
 * its 401s, so `unauthorized` is the conservative plain reason phrase: clients must branch on the
 * HTTP status and `code`, never on a message.
 */
export const V1_MESSAGES = {
  notFound: "인증결과가 존재하지 않습니다.",
  missingCredentials: "imp_key, imp_secret 파라메터가 누락되었습니다.",
  unauthorized: "Unauthorized",
  invalidBody: "요청 본문을 해석할 수 없습니다.",
  missingOtp: "otp 파라메터가 누락되었습니다.",
  alreadyConfirmed: "이미 인증이 완료되었거나 OTP 요청 이력이 없는 건입니다.",
  wrongOtp: "OTP 인증번호가 일치하지 않습니다.",
  routeNotFound: "Not Found",
  internal: "Internal Server Error",
  apiErrorFault: "처리 중 오류가 발생하였습니다. (emulated api_error fault)",
} as const;

export function v1Ok<T>(c: Context, response: T): Response {
  const body: V1Envelope<T> = { code: 0, message: null, response };
  return c.json(body, 200);
}

export function v1Fail(c: Context, status: ContentfulStatusCode, message: string, code = -1): Response {
  const body: V1Envelope<null> = { code, message, response: null };
  return c.json(body, status);
}

/** Bodies of V1 faults; `wrong_types` keeps the shape of the route's real response. */
export function v1FaultBodies(route: "getToken" | "certification" | "otpRequest"): FaultBodies {
  return {
    status: (status) => ({
      code: -1,
      message: status === 500 ? V1_MESSAGES.internal : `HTTP ${status}`,
      response: null,
    }),
    apiError: () => ({ code: 1, message: V1_MESSAGES.apiErrorFault, response: null }),
    wrongTypes: () => ({ code: 0, message: null, response: WRONG_TYPES[route] }),
  };
}

const WRONG_TYPES = {
  getToken: { access_token: 1234567890, now: "now", expired_at: "later" },
  certification: {
    imp_uid: 123,
    merchant_uid: 456,
    pg_provider: 0,
    name: false,
    gender: 1,
    birthday: 19900115,
    birth: "1990-01-15",
    foreigner: "no",
    foreigner_v2: "no",
    phone: 1000000001,
    carrier: 1,
    certified: "yes",
    certified_at: "x",
    unique_key: 88,
    unique_in_site: 64,
    origin: {},
  },
  otpRequest: { imp_uid: 123 },
} as const;
