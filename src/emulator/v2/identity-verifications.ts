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
 *
 * Longer than 400 lines on purpose: one concern (PortOne's V2 identity-verification resource), whose
 * operations share the record lookup, the scope check and the error envelope; split, each file would
 * re-import the same dozen helpers.
 */
import type { Context, Hono, MiddlewareHandler } from "hono";
import * as z from "zod";
import type { EmulatorClock } from "../clock.js";
import { deriveCi, deriveDi, PROVIDERS_WITHOUT_DI } from "../identity-keys.js";
import { formatDate, isRealDate, kstDateAt } from "../kst.js";
import { EMULATOR_OTP_CODE } from "../otp.js";
import { PERSONAS, personSeedOf } from "../personas.js";
import type { V2Authorizer, V2Principal } from "./auth.js";
import { readV2Json } from "./auth.js";
import { v2Fail } from "./errors.js";
import {
  emulatorChannel,
  identityVerificationIdSchema,
  isoAt,
  newPgTxId,
  pgTransaction,
  RFC3339,
  type StoredIdentityVerification,
  V2_OPERATORS,
  type V2Channel,
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

const sendSchema = z
  .object({
    storeId: storeIdSchema,
    channelKey: z.string().min(1),
    customer: z.object({
      id: z.string().min(1).optional(),
      name: z.string().min(1).max(100),
      phoneNumber: z.string().regex(/^\d{10,11}$/),
      /** YYMMDD + the 7th resident-number digit. Required for SMS only: in APP the app knows the person. */
      identityNumber: z
        .string()
        .regex(/^\d{7}$/)
        .optional(),
      ipAddress: z.string().min(1),
    }),
    customData: z.string().optional(),
    bypass: z.record(z.string(), z.unknown()).optional(),
    operator: z.enum(V2_OPERATORS),
    method: z.enum(["SMS", "APP"]),
  })
  .refine((body) => body.method !== "SMS" || body.customer.identityNumber !== undefined, {
    message: "required for SMS",
    path: ["customer", "identityNumber"],
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

  app.get("/identity-verifications", deps.guard("getIdentityVerifications"), async (c) => {
    const principal = deps.authorize(c);
    if (!principal) return v2Fail(c, "UNAUTHORIZED");
    const parsed = listBodySchema.safeParse(await readListBody(c));
    if (!parsed.success) return v2Fail(c, "INVALID_REQUEST", invalidFieldsMessage(parsed.error));
    const { page = {}, sort = {}, filter = {} } = parsed.data;
    if (filter.storeId === "") return v2Fail(c, "INVALID_REQUEST", "filter.storeId: 빈 값입니다.");
    if (filter.storeId !== undefined && filter.storeId !== principal.storeId) return v2Fail(c, "FORBIDDEN");
    const matching = deps.store
      .list()
      .filter(
        (entry) => entry.merchantCode === principal.merchantCode && matchesFilter(entry.record, filter),
      );
    const by = sort.by ?? "REQUESTED_AT";
    const direction = (sort.order ?? "DESC") === "DESC" ? -1 : 1;
    matching.sort(
      (a, b) =>
        direction * (timeOf(a.record, by) - timeOf(b.record, by)) || a.record.id.localeCompare(b.record.id),
    );
    const number = page.number ?? 0;
    const size = page.size ?? DEFAULT_PAGE_SIZE;
    const items = matching.slice(number * size, (number + 1) * size).map(servedRecord);
    return c.json({ items, page: { number, size, totalCount: matching.length } }, 200);
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
    const { identityNumber } = request.customer;
    const given = identityNumber === undefined ? undefined : birthFromIdentityNumber(identityNumber);
    if (identityNumber !== undefined && !given)
      return v2Fail(c, "INVALID_REQUEST", "customer.identityNumber: 올바른 생년월일이 아닙니다.");

    const nowMs = deps.clock.now();
    const now = isoAt(nowMs);
    const channel = channelOfKey(principal.merchantCode, request.channelKey);
    const pgProvider = channel.pgProvider;
    const { name, phoneNumber } = request.customer;
    // Without an identity number (APP) the app knows the person: a persona's phone number tells who.
    const birth = given ?? birthOfPersonaPhone(phoneNumber, nowMs);
    const personSeed = personSeedOf({ name, birthday: birth?.date ?? phoneNumber, gender: birth?.gender });
    const customer: V2StoredVerifiedCustomer = {
      ...(request.customer.id === undefined ? {} : { id: request.customer.id }),
      name,
      ...(pgProvider === "INICIS_UNIFIED" ? {} : { operator: request.operator }),
      phoneNumber,
      ...(birth
        ? { birthDate: birth.date, gender: V2_GENDER_OF[birth.gender], isForeigner: birth.foreigner }
        : {}),
      // Same derivation as the V1 OTP flow: one person, one CI, whichever API asked.
      ci: deriveCi(personSeed),
      ...(PROVIDERS_WITHOUT_DI.has(pgProvider.toLowerCase())
        ? {}
        : { di: deriveDi(personSeed, principal.merchantCode, pgProvider.toLowerCase()) }),
    };
    const [year, month, day] = given?.date.split("-") ?? [];
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
          ...(year && month && day ? { birthYear: year, birthMonth: month, birthDay: day } : {}),
        },
        ...(request.customData === undefined ? {} : { customData: request.customData }),
        requestedAt: now,
        updatedAt: now,
        statusChangedAt: now,
        version: "V2",
        // The provider opened its transaction when it sent the code.
        pgTxId: newPgTxId(nowMs, pgProvider),
      },
      pending: { code: EMULATOR_OTP_CODE, customer, sentByApi: true, method: request.method },
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
    // Only a verification sent through the API can be confirmed through it.
    if (entry.record.status !== "READY" || !pending?.sentByApi)
      return v2Fail(c, "IDENTITY_VERIFICATION_NOT_SENT");
    // The OTP is SMS's: in APP the person confirms in the app, so `{}` completes it.
    if (parsed.data.otp === undefined && pending.method !== "APP")
      return v2Fail(c, "INVALID_REQUEST", "otp: 필수 값입니다.");
    if (parsed.data.otp !== undefined && parsed.data.otp !== pending.code)
      return v2Fail(c, "INVALID_REQUEST", "otp: 인증번호가 일치하지 않습니다.");
    const nowMs = deps.clock.now();
    const now = isoAt(nowMs);
    const { status: _status, requestedCustomer: _requested, pgTxId, ...base } = entry.record;
    const verified: StoredIdentityVerification = {
      ...base,
      status: "VERIFIED",
      updatedAt: now,
      statusChangedAt: now,
      verifiedCustomer: pending.customer,
      verifiedAt: now,
      ...pgTransaction(nowMs, entry.record.channel.pgProvider, pgTxId),
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

const V2_GENDER_OF = { male: "MALE", female: "FEMALE" } as const;

const DEFAULT_PAGE_SIZE = 10;
const TIME_FIELDS = ["REQUESTED_AT", "VERIFIED_AT", "FAILED_AT", "STATUS_UPDATED_AT"] as const;
type TimeField = (typeof TIME_FIELDS)[number];
const instant = z.string().refine((text) => RFC3339.test(text) && Number.isFinite(Date.parse(text)), {
  message: "must be RFC 3339 with a zone",
});

/** `GetIdentityVerificationsBody`; unknown keys are refused, not ignored. */
const listBodySchema = z
  .object({
    page: z
      .object({
        number: z.number().int().min(0).optional(),
        size: z.number().int().min(1).max(1000).optional(),
      })
      .strict()
      .optional(),
    sort: z
      .object({ by: z.enum(TIME_FIELDS).optional(), order: z.enum(["DESC", "ASC"]).optional() })
      .strict()
      .optional(),
    filter: z
      .object({
        storeId: z.string().max(200).optional(),
        timeRangeField: z.enum(TIME_FIELDS).optional(),
        from: instant.optional(),
        until: instant.optional(),
        identityVerificationId: z.string().optional(),
        identityVerificationTxId: z.string().optional(),
        isTest: z.boolean().optional(),
        statuses: z.array(z.string()).optional(),
        pgTxId: z.string().optional(),
        pgMerchantId: z.string().optional(),
        pgProviders: z.array(z.string()).optional(),
        pgCompanies: z.array(z.string()).optional(),
        carriers: z.array(z.enum(V2_OPERATORS)).optional(),
        version: z.enum(["V1", "V2"]).optional(),
        customer: z
          .object({
            name: z.string().optional(),
            birthYear: z.string().optional(),
            birthMonth: z.string().optional(),
            birthDay: z.string().optional(),
            phoneNumber: z.string().optional(),
            gender: z.enum(["MALE", "FEMALE", "OTHER"]).optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

type ListFilter = NonNullable<z.infer<typeof listBodySchema>["filter"]>;

/**
 * The list body: PortOne's SDKs send it as the JSON query parameter `requestBody` (a GET carries no
 * body through fetch); a JSON body is read too. `undefined` (→ 400) when either is not a JSON object.
 */
async function readListBody(c: Context): Promise<Record<string, unknown> | undefined> {
  const query = c.req.query("requestBody");
  if (query === undefined) return readV2Json(c);
  try {
    const parsed: unknown = JSON.parse(query);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? Object.fromEntries(Object.entries(parsed))
      : undefined;
  } catch {
    return undefined;
  }
}

/** Unix ms of `record`'s `field`; NaN when the record has no such time (it never matches a range). */
function timeOf(record: StoredIdentityVerification, field: TimeField): number {
  switch (field) {
    case "REQUESTED_AT":
      return Date.parse(record.requestedAt);
    case "VERIFIED_AT":
      return record.status === "VERIFIED" ? Date.parse(record.verifiedAt) : Number.NaN;
    case "FAILED_AT":
      return record.status === "FAILED" ? Date.parse(record.statusChangedAt) : Number.NaN;
    case "STATUS_UPDATED_AT":
      return Date.parse(record.statusChangedAt);
  }
}

/** Whether `record` passes every given filter (an absent filter passes all). */
function matchesFilter(record: StoredIdentityVerification, filter: ListFilter): boolean {
  const field = filter.timeRangeField ?? "REQUESTED_AT";
  const at = timeOf(record, field);
  if (filter.from !== undefined && !(at >= Date.parse(filter.from))) return false;
  if (filter.until !== undefined && !(at < Date.parse(filter.until))) return false;
  if (filter.identityVerificationId !== undefined && record.id !== filter.identityVerificationId)
    return false;
  // The emulator's records keep no browser transaction id, so that filter matches none.
  if (filter.identityVerificationTxId !== undefined) return false;
  if (filter.isTest !== undefined && (record.channel.type === "TEST") !== filter.isTest) return false;
  if (filter.statuses && !filter.statuses.includes(record.status)) return false;
  const pgTxId = "pgTxId" in record ? record.pgTxId : undefined;
  if (filter.pgTxId !== undefined && pgTxId !== filter.pgTxId) return false;
  if (filter.pgMerchantId !== undefined && record.channel.pgMerchantId !== filter.pgMerchantId) return false;
  if (filter.pgProviders && !filter.pgProviders.includes(record.channel.pgProvider)) return false;
  // A provider's company is its first word: KCP_V2 is KCP's, INICIS_UNIFIED is INICIS's.
  const company = record.channel.pgProvider.split("_")[0] ?? "";
  if (filter.pgCompanies && !filter.pgCompanies.includes(company)) return false;
  if (filter.version !== undefined && record.version !== filter.version) return false;
  const verified = record.status === "VERIFIED" ? record.verifiedCustomer : undefined;
  if (filter.carriers && !(verified?.operator && filter.carriers.includes(verified.operator))) return false;
  const wanted = filter.customer;
  if (wanted) {
    const requested = record.status === "VERIFIED" ? {} : record.requestedCustomer;
    const [year, month, day] = verified?.birthDate?.split("-") ?? [];
    const person = {
      name: verified?.name ?? requested.name,
      phoneNumber: verified?.phoneNumber ?? requested.phoneNumber,
      birthYear: year ?? requested.birthYear,
      birthMonth: month ?? requested.birthMonth,
      birthDay: day ?? requested.birthDay,
      gender: verified?.gender,
    };
    for (const key of Object.keys(wanted) as (keyof typeof wanted)[])
      if (wanted[key] !== undefined && person[key] !== wanted[key]) return false;
  }
  return true;
}

/**
 * The channel a send's `channelKey` names. The emulator's own keys
 * (`channel-key-emulator-<provider>[-live]`, e.g. `channel-key-emulator-kcp-v2`) pick the provider
 * and the channel type; any other key is a Danal test channel under that key.
 */
function channelOfKey(merchantCode: string, channelKey: string): V2Channel {
  const match = /^channel-key-emulator-([a-z0-9-]+?)(-live)?$/.exec(channelKey);
  const provider = match?.[1]?.toUpperCase().replace(/-/g, "_");
  if (match && provider && (V2_CHANNEL_PROVIDERS as readonly string[]).includes(provider))
    return emulatorChannel(merchantCode, provider, match[2] ? "LIVE" : "TEST");
  return { ...emulatorChannel(merchantCode, "DANAL"), key: channelKey };
}

/** Providers whose emulator channel keys send understands. */
const V2_CHANNEL_PROVIDERS = ["DANAL", "KCP_V2", "INICIS_UNIFIED"] as const;

/** The birth of the built-in persona with this phone number, as of `nowMs`; else `undefined`. */
function birthOfPersonaPhone(
  phoneNumber: string,
  nowMs: number,
): { date: string; gender: "male" | "female"; foreigner: boolean } | undefined {
  const persona = Object.values(PERSONAS).find((candidate) => candidate.phone === phoneNumber);
  if (!persona || (persona.gender !== "male" && persona.gender !== "female")) return undefined;
  return { date: persona.birthdayOn(kstDateAt(nowMs)), gender: persona.gender, foreigner: persona.foreigner };
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
