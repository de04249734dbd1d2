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

/**
 * Every error `type` the emulator answers with, and its HTTP status.
 *
 * @example
 * import { V2_ERRORS } from "certgate/emulator";
 * V2_ERRORS.IDENTITY_VERIFICATION_NOT_FOUND; // 404
 */
export const V2_ERRORS = {
  INVALID_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  MAX_TRANSACTION_COUNT_REACHED: 400,
  CHANNEL_NOT_FOUND: 404,
  IDENTITY_VERIFICATION_NOT_FOUND: 404,
  IDENTITY_VERIFICATION_NOT_SENT: 404,
  IDENTITY_VERIFICATION_ALREADY_SENT: 409,
  IDENTITY_VERIFICATION_ALREADY_VERIFIED: 409,
  PG_PROVIDER: 502,
} as const satisfies Record<string, ContentfulStatusCode>;

/**
 * An error `type` the V2 emulator answers with (a key of {@link V2_ERRORS}).
 *
 * @example
 * import { createEmulator, type V2ErrorType } from "certgate/emulator";
 * const errorType: V2ErrorType = "MAX_TRANSACTION_COUNT_REACHED";
 * createEmulator().setFault({ route: "sendIdentityVerification", kind: "error", errorType, times: 1 });
 */
export type V2ErrorType = keyof typeof V2_ERRORS;

/**
 * A V2 error body.
 *
 * @example
 * import type { V2ErrorBody } from "certgate/emulator";
 * const body = (await res.json()) as V2ErrorBody;
 * if (body.type === "PG_PROVIDER") console.warn(body.pgCode);
 */
export interface V2ErrorBody {
  type: string;
  message?: string;
  /** PG_PROVIDER only. */
  pgCode?: string;
  pgMessage?: string;
}

/** Default messages per type. */
export const V2_MESSAGES: Record<V2ErrorType, string> = {
  INVALID_REQUEST: "요청이 올바르지 않습니다.",
  UNAUTHORIZED: "인증 정보가 올바르지 않습니다.",
  FORBIDDEN: "요청이 거절되었습니다.",
  MAX_TRANSACTION_COUNT_REACHED: "본인인증 시도 횟수가 최대에 도달했습니다.",
  CHANNEL_NOT_FOUND: "요청된 채널이 존재하지 않습니다.",
  IDENTITY_VERIFICATION_NOT_FOUND: "요청된 본인인증 건이 존재하지 않습니다.",
  IDENTITY_VERIFICATION_NOT_SENT: "본인인증 건이 API로 요청된 상태가 아닙니다.",
  IDENTITY_VERIFICATION_ALREADY_SENT: "본인인증 건이 이미 API로 요청된 상태입니다.",
  IDENTITY_VERIFICATION_ALREADY_VERIFIED: "본인인증 건이 이미 인증 완료된 상태입니다.",
  PG_PROVIDER: "본인인증사에서 오류가 발생했습니다.",
};

/**
 * The error types each route documents (PortOne's `…Error` unions), in the order the spec lists them.
 * An `error` fault may answer only one of its route's types.
 *
 * @example
 * import { V2_ROUTE_ERRORS } from "certgate/emulator";
 * V2_ROUTE_ERRORS.confirmIdentityVerification.includes("IDENTITY_VERIFICATION_NOT_SENT"); // true
 */
export const V2_ROUTE_ERRORS: Record<V2RouteName, readonly V2ErrorType[]> = {
  loginApiSecret: ["INVALID_REQUEST", "UNAUTHORIZED"],
  refreshToken: ["INVALID_REQUEST", "UNAUTHORIZED"],
  getIdentityVerification: [
    "INVALID_REQUEST",
    "UNAUTHORIZED",
    "FORBIDDEN",
    "IDENTITY_VERIFICATION_NOT_FOUND",
  ],
  getIdentityVerifications: ["INVALID_REQUEST", "UNAUTHORIZED", "FORBIDDEN"],
  sendIdentityVerification: [
    "INVALID_REQUEST",
    "UNAUTHORIZED",
    "FORBIDDEN",
    "MAX_TRANSACTION_COUNT_REACHED",
    "CHANNEL_NOT_FOUND",
    "IDENTITY_VERIFICATION_NOT_FOUND",
    "IDENTITY_VERIFICATION_ALREADY_SENT",
    "IDENTITY_VERIFICATION_ALREADY_VERIFIED",
    "PG_PROVIDER",
  ],
  confirmIdentityVerification: [
    "INVALID_REQUEST",
    "UNAUTHORIZED",
    "FORBIDDEN",
    "IDENTITY_VERIFICATION_NOT_FOUND",
    "IDENTITY_VERIFICATION_NOT_SENT",
    "IDENTITY_VERIFICATION_ALREADY_VERIFIED",
    "PG_PROVIDER",
  ],
  resendIdentityVerification: [
    "INVALID_REQUEST",
    "UNAUTHORIZED",
    "FORBIDDEN",
    "IDENTITY_VERIFICATION_NOT_FOUND",
    "IDENTITY_VERIFICATION_NOT_SENT",
    "IDENTITY_VERIFICATION_ALREADY_VERIFIED",
    "PG_PROVIDER",
  ],
};

/** The body of error `type`: PG_PROVIDER carries the provider's code and message, as the spec requires. */
export function v2ErrorBody(type: V2ErrorType, message: string = V2_MESSAGES[type]): V2ErrorBody {
  return type === "PG_PROVIDER" ? { type, message, ...EMULATED_PG_ERROR } : { type, message };
}

/** What the emulated provider says when it fails (PG_PROVIDER): data-free, recognisably emulated. */
export const EMULATED_PG_ERROR = {
  pgCode: "EMULATED_PG_ERROR",
  pgMessage: "emulated provider error",
} as const;

/** Answers the error `type` with its status; `message` defaults to {@link V2_MESSAGES}. */
export function v2Fail(c: Context, type: V2ErrorType, message: string = V2_MESSAGES[type]): Response {
  return c.json(v2ErrorBody(type, message), V2_ERRORS[type]);
}

/**
 * Bodies of V2 faults. V2 has no in-band errors, so an `api_error` fault answers HTTP 200 with an
 * error-shaped body, which a client must refuse as an invalid response; `wrong_types` keeps the shape
 * of the route's real answer with every field mistyped.
 */
export function v2FaultBodies(route: V2RouteName): FaultBodies {
  const documents502 = V2_ROUTE_ERRORS[route].includes("PG_PROVIDER");
  return {
    // Where the spec documents a 502 it is PG_PROVIDER; other statuses model an outage in front of PortOne.
    status: (status) =>
      status === 502 && documents502
        ? v2ErrorBody("PG_PROVIDER", `${V2_MESSAGES.PG_PROVIDER} (emulated status fault)`)
        : { type: "UNKNOWN", message: `HTTP ${status} (emulated status fault)` },
    error: (type) => {
      const known = V2_ROUTE_ERRORS[route].find((candidate) => candidate === type);
      return known ? { status: V2_ERRORS[known], body: v2ErrorBody(known) } : undefined;
    },
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
  getIdentityVerifications: { items: [WRONG_RECORD], page: { number: "0", size: "10", totalCount: "1" } },
  sendIdentityVerification: ["sent"],
  confirmIdentityVerification: { identityVerification: WRONG_RECORD },
  resendIdentityVerification: ["sent"],
};

/**
 * A route the V2 API does not have. PortOne documents no body for it; the emulator answers in V2's
 * `{ type, message }` so a V2 client never meets V1's envelope.
 */
export function v2NotFound(c: Context): Response {
  const body: V2ErrorBody = { type: "NOT_FOUND", message: "Not Found" };
  return c.json(body, 404);
}
