/**
 * What the browser SDK stand-in hands the merchant page: the `rsp` shape of PortOne V1's
 * `IMP.certification` callback, the `postMessage` envelope between the verification window and its
 * opener, and the error codes the stand-in uses.
 */

/**
 * The `type` of every message the verification window posts to its opener.
 *
 * @example
 * import { WINDOW_MESSAGE_TYPE } from "certgate/emulator";
 * window.addEventListener("message", (event: MessageEvent) => {
 *   if (event.data?.type === WINDOW_MESSAGE_TYPE) console.log(event.data);
 * });
 */
export const WINDOW_MESSAGE_TYPE = "certgate-emulator:certification";

/**
 * The callback argument of `IMP.certification` (and, as strings, the query of `m_redirect_url`).
 * PortOne sends `error_code`/`error_msg` only on failure; `pg_provider`/`pg_type` are also seen.
 *
 * @example
 * import type { CertificationRsp } from "certgate/emulator";
 * const callback = (rsp: CertificationRsp) => {
 *   if (rsp.success) void fetch("/certgate/certifications", { method: "POST", body: JSON.stringify(rsp) });
 * };
 */
export interface CertificationRsp {
  success: boolean;
  /** `imp_` + 12 digits; `null` when no record could be created (e.g. an unknown merchant code). */
  imp_uid: string | null;
  merchant_uid: string | null;
  error_code: string | null;
  error_msg: string | null;
  pg_provider: string | null;
  pg_type: "certification";
}

/** An error `rsp` code and message. */
export interface RspError {
  code: string;
  message: string;
}

/**
 * Failures the stand-in reports.
 *
 * `cancelled` follows what integrations in the wild see: merchant pages test `error_code === "F0000"`
 * for a cancelled verification, and PortOne's own Cordova plugin reports the message below when the
 * window is closed. Per PortOne's support, a person refused by Danal's `min_age` check sees a failure
 * screen whose close button answers exactly like a cancel, so `min_age` refusals use it too.
 * Every other code is the emulator's own choice (PortOne's are undocumented); they all start with
 * "F1" so a merchant can tell them from a cancel.
 *
 * @example
 * import { type CertificationRsp, RSP_ERRORS } from "certgate/emulator";
 * const cancelled = (rsp: CertificationRsp) => rsp.error_code === RSP_ERRORS.cancelled.code; // "F0000"
 */
export const RSP_ERRORS = {
  cancelled: { code: "F0000", message: "사용자가 본인인증을 취소하였습니다." },
  notInitialized: { code: "F1000", message: "IMP.init()으로 가맹점 식별코드를 먼저 설정해 주세요." },
  unknownMerchant: { code: "F1001", message: "가맹점 식별코드가 올바르지 않습니다." },
  popupBlocked: { code: "F1002", message: "본인인증 팝업이 차단되었습니다. 팝업 차단을 해제해 주세요." },
  redirectUrlRequired: { code: "F1003", message: "리디렉션 방식에는 m_redirect_url이 필요합니다." },
  invalidParams: { code: "F1004", message: "본인인증 요청 파라미터가 올바르지 않습니다." },
  scriptUrlUnknown: {
    code: "F1005",
    message: "iamport.js의 주소를 알 수 없어 본인인증 창을 열 수 없습니다.",
  },
} as const satisfies Record<string, RspError>;

/** A success `rsp`. */
export function successRsp(record: {
  imp_uid: string;
  merchant_uid: string | null;
  pg_provider: string | null;
}): CertificationRsp {
  return {
    success: true,
    imp_uid: record.imp_uid,
    merchant_uid: record.merchant_uid,
    error_code: null,
    error_msg: null,
    pg_provider: record.pg_provider,
    pg_type: "certification",
  };
}

/** A failure `rsp`. */
export function failureRsp(
  error: RspError,
  ids: { imp_uid?: string | null; merchant_uid?: string | null } = {},
): CertificationRsp {
  return {
    success: false,
    imp_uid: ids.imp_uid ?? null,
    merchant_uid: ids.merchant_uid ?? null,
    error_code: error.code,
    error_msg: error.message,
    pg_provider: "danal",
    pg_type: "certification",
  };
}

/**
 * `m_redirect_url` with PortOne's redirect query: `imp_uid`, `merchant_uid`, `success` ("true" or
 * "false"), and `error_code`/`error_msg` on failure. The URL's own query is kept.
 */
export function redirectTarget(redirectUrl: string, rsp: CertificationRsp): string {
  const target = new URL(redirectUrl);
  if (rsp.imp_uid !== null) target.searchParams.set("imp_uid", rsp.imp_uid);
  if (rsp.merchant_uid !== null) target.searchParams.set("merchant_uid", rsp.merchant_uid);
  target.searchParams.set("success", String(rsp.success));
  if (rsp.error_code !== null) target.searchParams.set("error_code", rsp.error_code);
  if (rsp.error_msg !== null) target.searchParams.set("error_msg", rsp.error_msg);
  return target.toString();
}

/**
 * What PortOne V2's `PortOne.requestIdentityVerification` resolves to (and, as strings, the query of
 * `redirectUrl`). `code` and `message` are present only on failure.
 */
export interface IdentityVerificationResponse {
  transactionType: "IDENTITY_VERIFICATION";
  identityVerificationId: string;
  identityVerificationTxId: string;
  code?: string;
  message?: string;
}

/**
 * Failures the V2 stand-in reports. PortOne V2 tags a provider-side failure (a cancel among them)
 * `FAILURE_TYPE_PG`; the other codes are the emulator's own, each a V2-style upper-case tag.
 */
export const V2_RESPONSE_ERRORS = {
  cancelled: { code: "FAILURE_TYPE_PG", message: "사용자가 본인인증을 취소하였습니다." },
  unknownStore: { code: "INVALID_STORE", message: "storeId가 올바르지 않습니다." },
  invalidParams: { code: "INVALID_REQUEST", message: "본인인증 요청 파라미터가 올바르지 않습니다." },
  alreadyVerified: { code: "ALREADY_VERIFIED", message: "이미 인증이 완료된 identityVerificationId입니다." },
  popupBlocked: {
    code: "POPUP_BLOCKED",
    message: "본인인증 팝업이 차단되었습니다. 팝업 차단을 해제해 주세요.",
  },
  redirectUrlRequired: { code: "INVALID_REQUEST", message: "리디렉션 방식에는 redirectUrl이 필요합니다." },
  scriptUrlUnknown: {
    code: "SDK_URL_UNKNOWN",
    message: "browser-sdk.js의 주소를 알 수 없어 본인인증 창을 열 수 없습니다.",
  },
} as const satisfies Record<string, RspError>;

/** A V2 response: success without `error`, failure with its code and message. */
export function identityVerificationResponse(
  ids: { identityVerificationId: string; identityVerificationTxId: string },
  error?: RspError,
): IdentityVerificationResponse {
  return {
    transactionType: "IDENTITY_VERIFICATION",
    identityVerificationId: ids.identityVerificationId,
    identityVerificationTxId: ids.identityVerificationTxId,
    ...(error ? { code: error.code, message: error.message } : {}),
  };
}

/** `redirectUrl` with the response's fields as its query (the URL's own query is kept). */
export function v2RedirectTarget(redirectUrl: string, response: IdentityVerificationResponse): string {
  const target = new URL(redirectUrl);
  for (const [key, value] of Object.entries(response)) {
    if (typeof value === "string") target.searchParams.set(key, value);
  }
  return target.toString();
}
