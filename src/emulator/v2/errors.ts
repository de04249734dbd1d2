/**
 * PortOne V2 error bodies `{ type, message }` and the statuses the emulator answers them with.
 *
 * Types and statuses follow PortOne's V2 OpenAPI (`GetIdentityVerificationError`, …). The statuses of
 * the OTP-flow errors (409 for ALREADY_SENT/ALREADY_VERIFIED, 404 for NOT_SENT) are the OpenAPI's as
 * quoted by integrators; PortOne publishes no example bodies, so every `message` here is the
 * emulator's own: clients branch on `type` and the status, never on a message.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { FaultBodies } from "../faults.js";
import type { V2RouteName } from "./route-names.js";

/** Every error `type` the emulator answers with, and its HTTP status. */
export const V2_ERRORS = {
  INVALID_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  IDENTITY_VERIFICATION_NOT_FOUND: 404,
  IDENTITY_VERIFICATION_NOT_SENT: 404,
  IDENTITY_VERIFICATION_ALREADY_SENT: 409,
  IDENTITY_VERIFICATION_ALREADY_VERIFIED: 409,
} as const satisfies Record<string, ContentfulStatusCode>;

export type V2ErrorType = keyof typeof V2_ERRORS;

/** A V2 error body. */
export interface V2ErrorBody {
  type: string;
  message?: string;
}

/** Default messages per type. */
export const V2_MESSAGES: Record<V2ErrorType, string> = {
  INVALID_REQUEST: "요청이 올바르지 않습니다.",
  UNAUTHORIZED: "인증 정보가 올바르지 않습니다.",
  FORBIDDEN: "요청이 거절되었습니다.",
  IDENTITY_VERIFICATION_NOT_FOUND: "요청된 본인인증 건이 존재하지 않습니다.",
  IDENTITY_VERIFICATION_NOT_SENT: "본인인증 건이 API로 요청된 상태가 아닙니다.",
  IDENTITY_VERIFICATION_ALREADY_SENT: "본인인증 건이 이미 API로 요청된 상태입니다.",
  IDENTITY_VERIFICATION_ALREADY_VERIFIED: "본인인증 건이 이미 인증 완료된 상태입니다.",
};

/** Answers the error `type` with its status; `message` defaults to {@link V2_MESSAGES}. */
export function v2Fail(c: Context, type: V2ErrorType, message: string = V2_MESSAGES[type]): Response {
  const body: V2ErrorBody = { type, message };
  return c.json(body, V2_ERRORS[type]);
}

/**
 * Bodies of V2 faults. V2 has no in-band errors, so an `api_error` fault answers HTTP 200 with an
 * error-shaped body, which a client must refuse as an invalid response; `wrong_types` keeps the shape
 * of the route's real answer with every field mistyped.
 */
export function v2FaultBodies(route: V2RouteName): FaultBodies {
  return {
    status: (status) => ({ type: "UNKNOWN", message: `HTTP ${status} (emulated status fault)` }),
    apiError: () => ({
      type: "PG_PROVIDER",
      message: "처리 중 오류가 발생하였습니다. (emulated api_error fault)",
      pgCode: "EMULATED",
      pgMessage: "emulated api_error fault",
    }),
    wrongTypes: () => WRONG_TYPES[route],
  };
}

const WRONG_RECORD = {
  status: 1,
  id: 2,
  requestedCustomer: "x",
  requestedAt: 3,
  updatedAt: 4,
  statusChangedAt: 5,
  version: 2,
  verifiedCustomer: { name: 6, phoneNumber: 1000000001, birthDate: 19900115, ci: 88, di: 64 },
  verifiedAt: false,
};

const WRONG_TYPES: Record<V2RouteName, unknown> = {
  loginApiSecret: { accessToken: 1234567890, refreshToken: false },
  refreshToken: { accessToken: 1234567890, refreshToken: false },
  getIdentityVerification: WRONG_RECORD,
  sendIdentityVerification: ["sent"],
  confirmIdentityVerification: { identityVerification: WRONG_RECORD },
  resendIdentityVerification: ["sent"],
};
