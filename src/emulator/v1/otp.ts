/**
 * The API-driven (no PortOne window) OTP flow of Danal and KCP:
 * `POST /certifications/otp/request` creates an uncertified record awaiting a code, and
 * `POST /certifications/otp/confirm/{imp_uid}` certifies it. The emulator sends no SMS; it accepts
 * {@link EMULATOR_OTP_CODE} for every request.
 *
 * Statuses: request body invalid → 400. Confirm: unknown (or another merchant's) imp_uid → 404;
 * `otp` missing → 400; nothing pending (already confirmed, or never requested) → 400; wrong code →
 * 400 with the record left pending, so the caller may try again.
 */
import type { Hono } from "hono";
import * as z from "zod";
import { type EmulatorClock, nowSeconds } from "../clock.js";
import { deriveCi, deriveDi } from "../identity-keys.js";
import { isRealDate, kstMidnightUnixSeconds } from "../kst.js";
import { EMULATOR_OTP_CODE } from "../otp.js";
import { personSeedOf } from "../personas.js";
import { v1Unauthorized } from "./auth.js";
import { readV1Params } from "./body.js";
import { findOwnCertification, type V1CertificationDeps } from "./certifications.js";
import { V1_MESSAGES, v1Fail, v1Ok } from "./envelope.js";
import type { StoredCertification } from "./records.js";

const booleanParam = z.preprocess(
  (value) => (value === "true" ? true : value === "false" ? false : value),
  z.boolean(),
);

/** PortOne strips every non-digit from `phone` and `birth` ("010-0000-0001", "90.01.15" are fine). */
const digitsOnly = (schema: z.ZodString) =>
  z.preprocess((value) => (typeof value === "string" ? value.replace(/\D/g, "") : value), schema);

/** A JSON string holding an object: what V1's `bypass` is (provider-specific parameters). */
const jsonObjectString = z.string().refine((text) => {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed);
  } catch {
    return false;
  }
}, "must be a JSON object in a string");

/** `requestOTP`'s parameters, as PortOne's V1 OpenAPI declares them. */
const otpRequestSchema = z.object({
  name: z.string().min(1).max(100),
  phone: digitsOnly(z.string().regex(/^\d{10,11}$/)),
  /** YYMMDD. */
  birth: digitsOnly(z.string().regex(/^\d{6}$/)),
  /** 7th digit of the resident registration number: century, sex and nationality. */
  gender_digit: z.union([z.string(), z.number()]).transform(String).pipe(z.string().regex(/^\d$/)),
  carrier: z.enum(["SKT", "KT", "LGT"]),
  /** Optional, default false. */
  is_mvno: booleanParam.optional(),
  company: z.string().optional(),
  merchant_uid: z.string().min(1).max(200).optional(),
  /** Deprecated by `channel_key`. */
  pg: z.string().optional(),
  /** Required: the channel (provider contract) that sends the SMS. */
  channel_key: z.string().min(1).max(200),
  /** KCP only. */
  verification_method: z.enum(["SMS", "APP"]).optional(),
  /** KCP only. */
  bypass: jsonObjectString.optional(),
});

const otpConfirmSchema = z.object({ otp: z.union([z.string().min(1), z.number()]).transform(String) });

export interface V1OtpDeps extends V1CertificationDeps {
  clock: EmulatorClock;
}

export function registerOtpRoutes(app: Hono, deps: V1OtpDeps) {
  app.post("/certifications/otp/request", deps.guard("otpRequest"), async (c) => {
    const merchantCode = deps.authorize(c);
    if (merchantCode === undefined) return v1Unauthorized(c);
    const parsed = otpRequestSchema.safeParse((await readV1Params(c)) ?? {});
    if (!parsed.success) return v1Fail(c, 400, invalidParamsMessage(parsed.error));
    const request = parsed.data;
    const birthday = birthdayFrom(request.birth, request.gender_digit);
    if (!birthday) return v1Fail(c, 400, "birth: 올바른 생년월일(YYMMDD)이 아닙니다.");
    const digit = Number(request.gender_digit);
    const gender = digit % 2 === 1 ? "male" : "female";
    const foreigner = digit >= 5 && digit <= 8;
    const impUid = deps.certifications.newImpUid();
    const personSeed = personSeedOf({ name: request.name, birthday: birthday.text, gender });
    // The emulator's KCP channel keys ("…kcp…") verify through kcp_v2; every other key is Danal's.
    const provider = /kcp/i.test(request.channel_key) ? "kcp_v2" : "danal";
    const record: StoredCertification = {
      imp_uid: impUid,
      merchant_uid: request.merchant_uid ?? `mid_${impUid.slice(4)}`,
      pg_tid: `emulator${impUid.slice(4)}`,
      pg_provider: provider,
      name: request.name,
      gender,
      birthday: birthday.text,
      birth: birthday.unixSeconds,
      foreigner,
      foreigner_v2: foreigner,
      phone: request.phone,
      carrier: request.is_mvno ? `${request.carrier}_MVNO` : request.carrier,
      certified: false,
      certified_at: null,
      unique_key: null,
      unique_in_site: null,
      origin: null,
    };
    deps.certifications.add({
      merchantCode,
      record,
      pendingOtp: {
        code: EMULATOR_OTP_CODE,
        // The provider reveals CI/DI only once the person proved the phone is theirs.
        onConfirm: {
          unique_key: deriveCi(personSeed),
          unique_in_site: deriveDi(personSeed, merchantCode, provider),
        },
      },
    });
    return v1Ok(c, { imp_uid: impUid });
  });

  app.post("/certifications/otp/confirm/:imp_uid", deps.guard("otpConfirm"), async (c) => {
    const merchantCode = deps.authorize(c);
    if (merchantCode === undefined) return v1Unauthorized(c);
    const entry = findOwnCertification(deps.certifications, merchantCode, c.req.param("imp_uid"));
    if (!entry) return v1Fail(c, 404, V1_MESSAGES.notFound);
    const parsed = otpConfirmSchema.safeParse((await readV1Params(c)) ?? {});
    if (!parsed.success) return v1Fail(c, 400, V1_MESSAGES.missingOtp);
    const pending = entry.pendingOtp;
    if (!pending) return v1Fail(c, 400, V1_MESSAGES.alreadyConfirmed);
    if (parsed.data.otp !== pending.code) return v1Fail(c, 400, V1_MESSAGES.wrongOtp);
    entry.record = {
      ...entry.record,
      ...pending.onConfirm,
      certified: true,
      certified_at: nowSeconds(deps.clock),
    };
    entry.pendingOtp = undefined;
    return v1Ok(c, { ...entry.record });
  });
}

/** Resolves YYMMDD with the century the 7th resident-number digit encodes. */
function birthdayFrom(
  yymmdd: string,
  genderDigit: string,
): { text: string; unixSeconds: number } | undefined {
  const digit = Number(genderDigit);
  const century = digit === 9 || digit === 0 ? 1800 : digit <= 2 || digit === 5 || digit === 6 ? 1900 : 2000;
  const date = {
    year: century + Number(yymmdd.slice(0, 2)),
    month: Number(yymmdd.slice(2, 4)),
    day: Number(yymmdd.slice(4, 6)),
  };
  if (!isRealDate(date)) return undefined;
  return {
    text: `${date.year}-${yymmdd.slice(2, 4)}-${yymmdd.slice(4, 6)}`,
    unixSeconds: kstMidnightUnixSeconds(date),
  };
}

function invalidParamsMessage(error: z.ZodError): string {
  const fields = [...new Set(error.issues.map((issue) => String(issue.path[0] ?? "body")))];
  return `필수 파라메터가 누락되었거나 올바르지 않습니다: ${fields.join(", ")}`;
}
