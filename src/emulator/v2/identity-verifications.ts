/**
 * `GET /identity-verifications/{id}` and the API-driven (no PortOne window) OTP flow:
 * `POST /identity-verifications/{id}/send` creates (or retries) a READY verification awaiting a code,
 * `/confirm` completes it with {@link EMULATOR_OTP_CODE} and `/resend` "sends" the code again. The
 * emulator sends no SMS.
 *
 * Checks, in order: credentials (401 UNAUTHORIZED), the body (400 INVALID_REQUEST), `storeId` (403
 * FORBIDDEN when it is not the caller's store), then the record: another merchant's id answers exactly
 * like a missing one (404 IDENTITY_VERIFICATION_NOT_FOUND). A wrong code answers 400 INVALID_REQUEST
 * and leaves the verification pending, so the caller may try again.
 */
import type { Context, Hono, MiddlewareHandler } from "hono";
import { z } from "zod";
import { deriveCi, deriveDi } from "../identity-keys.js";
import { formatDate, isRealDate } from "../kst.js";
import type { EmulatorClock } from "../state.js";
import { EMULATOR_OTP_CODE, personSeedOf } from "../v1/records.js";
import type { V2Authorizer, V2Principal } from "./auth.js";
import { readV2Json } from "./auth.js";
import { v2Fail } from "./errors.js";
import {
  emulatorChannel,
  identityVerificationIdSchema,
  isoAt,
  pgTransaction,
  type StoredIdentityVerification,
  V2_OPERATORS,
  type V2StoredVerifiedCustomer,
} from "./records.js";
import type { V2RouteName } from "./route-names.js";
import type { IdentityVerificationEntry, IdentityVerificationStore } from "./state.js";

export interface V2IdentityVerificationDeps {
  store: IdentityVerificationStore;
  authorize: V2Authorizer;
  clock: EmulatorClock;
  guard(route: V2RouteName): MiddlewareHandler;
}

/** The served JSON of an entry: the record, then its staged overrides. */
export function servedRecord(entry: IdentityVerificationEntry): Record<string, unknown> {
  return { ...entry.record, ...entry.fields };
}

const storeIdSchema = z.string().min(1).max(200).optional();

const sendSchema = z.object({
  storeId: storeIdSchema,
  channelKey: z.string().min(1),
  customer: z.object({
    id: z.string().min(1).optional(),
    name: z.string().min(1).max(100),
    phoneNumber: z.string().regex(/^\d{10,11}$/),
    /** YYMMDD + the 7th resident-number digit. Optional upstream for APP; the emulator needs it. */
    identityNumber: z.string().regex(/^\d{7}$/),
    ipAddress: z.string().min(1),
  }),
  customData: z.string().optional(),
  bypass: z.record(z.string(), z.unknown()).optional(),
  operator: z.enum(V2_OPERATORS),
  method: z.enum(["SMS", "APP"]),
});

const confirmSchema = z.object({ storeId: storeIdSchema, otp: z.string().min(1).optional() });

export function registerV2IdentityVerificationRoutes(app: Hono, deps: V2IdentityVerificationDeps) {
  /** The id and store checks every route runs after authorizing: a Response when one fails. */
  const outOfScope = (c: Context, principal: V2Principal, storeId: string | undefined) => {
    if (!identityVerificationIdSchema.safeParse(c.req.param("id")).success)
      return v2Fail(c, "INVALID_REQUEST", "identityVerificationId: 올바르지 않습니다.");
    if (storeId === "") return v2Fail(c, "INVALID_REQUEST", "storeId: 빈 값입니다.");
    if (storeId !== undefined && storeId !== principal.storeId) return v2Fail(c, "FORBIDDEN");
    return undefined;
  };
  /** The caller's identity verification named by `:id`, or the Response refusing it. */
  const ownEntry = (c: Context, principal: V2Principal, storeId: string | undefined) => {
    const refused = outOfScope(c, principal, storeId);
    if (refused) return refused;
    // outOfScope has checked the id against its schema.
    return (
      deps.store.get(principal.merchantCode, c.req.param("id") ?? "") ??
      v2Fail(c, "IDENTITY_VERIFICATION_NOT_FOUND")
    );
  };

  app.get("/identity-verifications/:id", deps.guard("getIdentityVerification"), (c) => {
    const principal = deps.authorize(c);
    if (!principal) return v2Fail(c, "UNAUTHORIZED");
    const entry = ownEntry(c, principal, c.req.query("storeId"));
    if (entry instanceof Response) return entry;
    return c.json(servedRecord(entry), 200);
  });

  app.post("/identity-verifications/:id/send", deps.guard("sendIdentityVerification"), async (c) => {
    const principal = deps.authorize(c);
    if (!principal) return v2Fail(c, "UNAUTHORIZED");
    const parsed = sendSchema.safeParse(await readV2Json(c));
    if (!parsed.success) return v2Fail(c, "INVALID_REQUEST", invalidFieldsMessage(parsed.error));
    const request = parsed.data;
    const refused = outOfScope(c, principal, request.storeId);
    if (refused) return refused;
    const id = c.req.param("id");
    const existing = deps.store.get(principal.merchantCode, id);
    if (existing?.record.status === "VERIFIED") return v2Fail(c, "IDENTITY_VERIFICATION_ALREADY_VERIFIED");
    if (existing?.pending?.sentByApi) return v2Fail(c, "IDENTITY_VERIFICATION_ALREADY_SENT");
    const birth = birthFromIdentityNumber(request.customer.identityNumber);
    if (!birth) return v2Fail(c, "INVALID_REQUEST", "customer.identityNumber: 올바른 생년월일이 아닙니다.");

    const now = isoAt(deps.clock.now());
    const pgProvider = "DANAL";
    const channel = { ...emulatorChannel(principal.merchantCode, pgProvider), key: request.channelKey };
    const { name, phoneNumber } = request.customer;
    const personSeed = personSeedOf({ name, birthday: birth.date, gender: birth.gender });
    const customer: V2StoredVerifiedCustomer = {
      ...(request.customer.id === undefined ? {} : { id: request.customer.id }),
      name,
      operator: request.operator,
      phoneNumber,
      birthDate: birth.date,
      gender: birth.gender === "male" ? "MALE" : "FEMALE",
      isForeigner: birth.foreigner,
      // Same derivation as the V1 OTP flow: one person, one CI, whichever API asked.
      ci: deriveCi(personSeed),
      di: deriveDi(personSeed, principal.merchantCode, pgProvider.toLowerCase()),
    };
    deps.store.put({
      merchantCode: principal.merchantCode,
      record: {
        status: "READY",
        id,
        channel,
        requestedCustomer: {
          ...(request.customer.id === undefined ? {} : { id: request.customer.id }),
          name,
          phoneNumber,
        },
        ...(request.customData === undefined ? {} : { customData: request.customData }),
        requestedAt: now,
        updatedAt: now,
        statusChangedAt: now,
        version: "V2",
      },
      pending: { code: EMULATOR_OTP_CODE, customer, sentByApi: true },
    });
    return c.json({}, 200);
  });

  app.post("/identity-verifications/:id/confirm", deps.guard("confirmIdentityVerification"), async (c) => {
    const principal = deps.authorize(c);
    if (!principal) return v2Fail(c, "UNAUTHORIZED");
    const parsed = confirmSchema.safeParse(await readV2Json(c));
    if (!parsed.success) return v2Fail(c, "INVALID_REQUEST", invalidFieldsMessage(parsed.error));
    const entry = ownEntry(c, principal, parsed.data.storeId);
    if (entry instanceof Response) return entry;
    if (entry.record.status === "VERIFIED") return v2Fail(c, "IDENTITY_VERIFICATION_ALREADY_VERIFIED");
    const pending = entry.pending;
    if (entry.record.status !== "READY" || !pending) return v2Fail(c, "IDENTITY_VERIFICATION_NOT_SENT");
    if (parsed.data.otp === undefined) return v2Fail(c, "INVALID_REQUEST", "otp: 필수 값입니다.");
    if (parsed.data.otp !== pending.code)
      return v2Fail(c, "INVALID_REQUEST", "otp: 인증번호가 일치하지 않습니다.");
    const nowMs = deps.clock.now();
    const now = isoAt(nowMs);
    const { status: _status, ...base } = entry.record;
    const verified: StoredIdentityVerification = {
      ...base,
      status: "VERIFIED",
      updatedAt: now,
      statusChangedAt: now,
      verifiedCustomer: pending.customer,
      verifiedAt: now,
      ...pgTransaction(nowMs, entry.record.channel.pgProvider),
    };
    entry.record = verified;
    entry.pending = undefined;
    return c.json({ identityVerification: servedRecord(entry) }, 200);
  });

  app.post("/identity-verifications/:id/resend", deps.guard("resendIdentityVerification"), (c) => {
    const principal = deps.authorize(c);
    if (!principal) return v2Fail(c, "UNAUTHORIZED");
    const entry = ownEntry(c, principal, c.req.query("storeId"));
    if (entry instanceof Response) return entry;
    if (entry.record.status === "VERIFIED") return v2Fail(c, "IDENTITY_VERIFICATION_ALREADY_VERIFIED");
    if (!entry.pending?.sentByApi) return v2Fail(c, "IDENTITY_VERIFICATION_NOT_SENT");
    entry.record = { ...entry.record, updatedAt: isoAt(deps.clock.now()) };
    return c.json({}, 200);
  });
}

/** Birth date, sex and nationality from YYMMDD + the 7th resident-number digit. */
function birthFromIdentityNumber(
  identityNumber: string,
): { date: string; gender: "male" | "female"; foreigner: boolean } | undefined {
  const digit = Number(identityNumber[6]);
  const century = digit === 9 || digit === 0 ? 1800 : digit <= 2 || digit === 5 || digit === 6 ? 1900 : 2000;
  const date = {
    year: century + Number(identityNumber.slice(0, 2)),
    month: Number(identityNumber.slice(2, 4)),
    day: Number(identityNumber.slice(4, 6)),
  };
  if (!isRealDate(date)) return undefined;
  return {
    date: formatDate(date),
    gender: digit % 2 === 1 ? "male" : "female",
    foreigner: digit >= 5 && digit <= 8,
  };
}

/** Field paths only: the values are personal data. */
function invalidFieldsMessage(error: z.ZodError): string {
  const fields = [...new Set(error.issues.map((issue) => issue.path.join(".") || "body"))];
  return `필수 값이 누락되었거나 올바르지 않습니다: ${fields.join(", ")}`;
}
