/**
 * V2 identity verification records: their stored shape (PortOne V2's field names, exactly as
 * `GET /identity-verifications/{id}` returns them) and how the emulator builds one from a persona or
 * a person. The same persona has the same CI as in V1, and the same DI for the same merchant and
 * provider (`DANAL` here is V1's `danal`), as one identity provider contract would give.
 */
import { z } from "zod";
import { RequestError } from "../../core/errors.js";
import type { V1Carrier } from "../../core/v1/upstream.js";
import { deriveCi, deriveDi, PROVIDERS_WITHOUT_DI } from "../identity-keys.js";
import { describeIssues } from "../input.js";
import { kstDateAt } from "../kst.js";
import {
  PERSONA_IDS,
  PERSONAS,
  type Persona,
  type PersonaId,
  type PersonInput,
  personFromInput,
  personSchema,
} from "../personas.js";

/** Carriers as V2 names them (V1's LGT is LGU). */
export const V2_OPERATORS = ["SKT", "KT", "LGU", "SKT_MVNO", "KT_MVNO", "LGU_MVNO"] as const;
export type V2Operator = (typeof V2_OPERATORS)[number];

/** Statuses the emulator creates. */
export const V2_STATUSES = ["READY", "VERIFIED", "FAILED"] as const;
export type V2Status = (typeof V2_STATUSES)[number];

/** `SelectedChannel`: the channel the verification ran on. */
export interface V2Channel {
  type: "LIVE" | "TEST";
  id: string;
  key: string;
  name: string;
  /** V2 `PgProvider`, e.g. "DANAL", "INICIS_UNIFIED". */
  pgProvider: string;
  pgMerchantId: string;
}

/** `IdentityVerificationRequestedCustomer`: what the merchant passed when it asked. */
export interface V2RequestedCustomer {
  id?: string;
  name?: string;
  phoneNumber?: string;
  /** "yyyy", "MM", "dd" (strings, as the spec types them), from the identity number sent. */
  birthYear?: string;
  birthMonth?: string;
  birthDay?: string;
}

/** `IdentityVerificationVerifiedCustomer`. Optional fields are absent (never `null`) when unknown. */
export interface V2StoredVerifiedCustomer {
  id?: string;
  name: string;
  operator?: V2Operator;
  /** Digits only. */
  phoneNumber?: string;
  /** "yyyy-MM-dd". */
  birthDate?: string;
  gender?: "MALE" | "FEMALE" | "OTHER";
  isForeigner?: boolean;
  /** 88 characters. */
  ci?: string;
  /** 64 characters; absent for KG Inicis. */
  di?: string;
}

interface StoredBase {
  id: string;
  channel: V2Channel;
  customData?: string;
  /** RFC 3339 (UTC, milliseconds). */
  requestedAt: string;
  updatedAt: string;
  statusChangedAt: string;
  version: "V2";
}

/** A V2 identity verification as the emulator stores and serves it. */
export type StoredIdentityVerification =
  // `requestedCustomer` is declared by READY and FAILED only; a VERIFIED record has `verifiedCustomer`.
  | (StoredBase & { status: "READY"; requestedCustomer: V2RequestedCustomer; pgTxId?: string })
  | (StoredBase & {
      status: "VERIFIED";
      verifiedCustomer: V2StoredVerifiedCustomer;
      verifiedAt: string;
      pgTxId: string;
      /** The provider's raw answer, a JSON string. */
      pgRawResponse: string;
    })
  | (StoredBase & {
      status: "FAILED";
      requestedCustomer: V2RequestedCustomer;
      failure: { reason?: string; pgCode?: string; pgMessage?: string };
      pgTxId: string;
    });

/**
 * What to create. Either `persona` or `person`; neither means the `adult` persona.
 * - `identityVerificationId`: the id the merchant chose (required, as in V2).
 * - `merchantCode`: owner (an `imp` code of a merchant with V2 credentials); default the first one.
 * - `status`: default VERIFIED, or READY for the `uncertified` persona. A READY record awaits
 *   `EMULATOR_OTP_CODE` on `POST /identity-verifications/{id}/confirm`.
 * - `verifiedAt`: RFC 3339 with a zone; default the emulator clock's now. VERIFIED only.
 * - `customData`: echoed as PortOne does.
 * - `channelType`: the channel's `type`; default TEST (a test channel, as the emulator is).
 * - `fields`: final overrides of the served JSON in PortOne names (any JSON, `null` included), to
 *   stage what PortOne might send: an unknown `status`, a missing field, a mistyped one.
 * Creating over an existing READY or FAILED id replaces it (a new attempt); over a VERIFIED one fails.
 */
export interface CreateIdentityVerificationInput {
  identityVerificationId: string;
  persona?: PersonaId;
  person?: PersonInput;
  merchantCode?: string;
  status?: V2Status;
  verifiedAt?: string;
  customData?: string;
  channelType?: V2Channel["type"];
  fields?: Record<string, unknown>;
}

/** RFC 3339 with an explicit zone, as PortOne writes instants. */
export const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** An id as the emulator accepts it in a path: non-empty, bounded, no control characters. */
export const identityVerificationIdSchema = z
  .string()
  .min(1)
  .max(200)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  .regex(/^[^\u0000-\u001f\u007f/]+$/, "no '/' or control characters");

export const createIdentityVerificationInputSchema = z
  .object({
    identityVerificationId: identityVerificationIdSchema,
    persona: z.enum(PERSONA_IDS).optional(),
    person: personSchema.optional(),
    merchantCode: z.string().min(1).optional(),
    status: z.enum(V2_STATUSES).optional(),
    verifiedAt: z
      .string()
      .regex(RFC3339, "must be RFC 3339 with a zone")
      .refine((text) => Number.isFinite(Date.parse(text)), "must be a real instant")
      .optional(),
    customData: z.string().max(10_000).optional(),
    channelType: z.enum(["LIVE", "TEST"]).optional(),
    fields: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .refine((input) => !(input.persona && input.person), { message: "give persona or person, not both" })
  .refine((input) => input.verifiedAt === undefined || (input.status ?? "VERIFIED") === "VERIFIED", {
    message: "verifiedAt is for a VERIFIED record only",
    path: ["verifiedAt"],
  });

/** Everything a build needs from the emulator. */
export interface V2BuildContext {
  nowMs: number;
  /** `imp` codes of merchants with V2 credentials, the default first. */
  merchantCodes: readonly string[];
}

/** A record, its owner, what confirming it will add, and the served-JSON overrides. */
export interface BuiltIdentityVerification {
  merchantCode: string;
  record: StoredIdentityVerification;
  /** The customer a READY record becomes on confirmation. */
  pendingCustomer?: V2StoredVerifiedCustomer;
  fields?: Record<string, unknown>;
}

/** The channel the emulator reports for `pgProvider`, scoped to the merchant. */
export function emulatorChannel(
  merchantCode: string,
  pgProvider: string,
  type: V2Channel["type"] = "TEST",
): V2Channel {
  const slug = pgProvider.toLowerCase().replace(/_/g, "-");
  const live = type === "LIVE" ? "-live" : "";
  return {
    type,
    id: `channel-id-emulator-${slug}${live}`,
    key: `channel-key-emulator-${slug}${live}`,
    name: `emulator ${slug}`,
    pgProvider,
    pgMerchantId: `emulator_${merchantCode}`,
  };
}

/**
 * The identity the provider verified, as V2's `verifiedCustomer`, for `person` at merchant
 * `merchantCode`, with each provider's field rules (PortOne's per-provider notes on
 * `IdentityVerificationVerifiedCustomer`):
 * - KG Inicis (`INICIS_UNIFIED`): no `operator` and no `di`; `isForeigner` always.
 * - Danal: `di` always; `ci` only when the merchant's contract includes it (since January 2026).
 * - Others: `isForeigner` only with the foreigner-detection contract (a null `foreignerV2`: without).
 */
export function verifiedCustomerOf(
  person: Omit<Persona, "id" | "description" | "shown">,
  birthDate: string,
  merchantCode: string,
  pgProvider: string,
): V2StoredVerifiedCustomer {
  // One DI per site and provider: V2's "DANAL" is the same Danal contract as V1's "danal".
  const diProvider = pgProvider.toLowerCase();
  const inicisUnified = pgProvider === "INICIS_UNIFIED";
  const hasDi = (person.hasDi || pgProvider === "DANAL") && !PROVIDERS_WITHOUT_DI.has(diProvider);
  return {
    name: person.name,
    ...(inicisUnified ? {} : { operator: operatorOf(person.carrier) }),
    phoneNumber: person.phone,
    birthDate,
    ...(person.gender === null ? {} : { gender: V2_GENDERS[person.gender] }),
    ...(person.foreignerV2 === null && !inicisUnified ? {} : { isForeigner: person.foreigner }),
    ...(person.hasCi ? { ci: deriveCi(person.personSeed) } : {}),
    ...(hasDi ? { di: deriveDi(person.personSeed, merchantCode, diProvider) } : {}),
  };
}

/** V2's `Gender` of a persona's gender. */
const V2_GENDERS = { male: "MALE", female: "FEMALE", other: "OTHER" } as const;

/** V1 carrier → V2 operator. */
export function operatorOf(carrier: V1Carrier): V2Operator {
  switch (carrier) {
    case "LGT":
      return "LGU";
    case "LGT_MVNO":
      return "LGU_MVNO";
    default:
      return carrier;
  }
}

/** RFC 3339 in UTC with milliseconds. */
export function isoAt(ms: number): string {
  return new Date(ms).toISOString();
}

/** The failure a FAILED record carries. */
export const EMULATOR_FAILURE = {
  reason: "본인인증에 실패하였습니다. (emulated)",
  pgCode: "EMULATED_FAILURE",
  pgMessage: "emulated identity verification failure",
} as const;

/**
 * Validates `input` and builds the record. Throws `RequestError("invalid_request")` on bad input;
 * messages carry no field values.
 */
export function buildIdentityVerification(input: unknown, ctx: V2BuildContext): BuiltIdentityVerification {
  const parsed = createIdentityVerificationInputSchema.safeParse(input ?? {});
  if (!parsed.success) throw new RequestError("invalid_request", describeIssues(parsed.error));
  const options = parsed.data;
  const merchantCode = options.merchantCode ?? ctx.merchantCodes[0];
  if (merchantCode === undefined || !ctx.merchantCodes.includes(merchantCode))
    throw new RequestError("invalid_request", "merchantCode: not a merchant with V2 credentials");
  const persona = options.persona ? PERSONAS[options.persona] : undefined;
  const person = options.person ? personFromInput(options.person) : (persona ?? PERSONAS.adult);
  const status = options.status ?? (person.certified ? "VERIFIED" : "READY");
  const pgProvider = person.pgProvider.toUpperCase();
  const nowIso = isoAt(ctx.nowMs);
  const changedAt = options.verifiedAt ?? nowIso;
  const requestedAt = Date.parse(changedAt) < ctx.nowMs ? changedAt : nowIso;
  const base: StoredBase = {
    id: options.identityVerificationId,
    channel: emulatorChannel(merchantCode, pgProvider, options.channelType),
    ...(options.customData === undefined ? {} : { customData: options.customData }),
    requestedAt,
    updatedAt: changedAt,
    statusChangedAt: changedAt,
    version: "V2",
  };
  const customer = verifiedCustomerOf(
    person,
    person.birthdayOn(kstDateAt(ctx.nowMs)),
    merchantCode,
    pgProvider,
  );
  const built: BuiltIdentityVerification = {
    merchantCode,
    record: { ...base, status: "READY", requestedCustomer: {} },
  };
  if (status === "VERIFIED") {
    built.record = {
      ...base,
      status,
      verifiedCustomer: customer,
      verifiedAt: changedAt,
      ...pgTransaction(ctx.nowMs, pgProvider),
    };
  } else if (status === "FAILED") {
    built.record = {
      ...base,
      status,
      requestedCustomer: {},
      failure: { ...EMULATOR_FAILURE },
      // The provider's transaction exists whatever its outcome.
      pgTxId: pgTransaction(ctx.nowMs, pgProvider).pgTxId,
    };
  } else {
    built.pendingCustomer = customer;
  }
  if (options.fields) built.fields = options.fields;
  return built;
}

/**
 * `pgTxId` and `pgRawResponse` of a verification completed at `nowMs`; `pgTxId` continues the
 * provider transaction a sent READY record already carries.
 */
export function pgTransaction(
  nowMs: number,
  pgProvider: string,
  pgTxId = newPgTxId(nowMs, pgProvider),
): { pgTxId: string; pgRawResponse: string } {
  // Real providers put their own result codes here; the emulator keeps it small and data-free.
  return {
    pgTxId,
    pgRawResponse: JSON.stringify({ RETURNCODE: "0000", RETURNMSG: "emulated", TID: pgTxId }),
  };
}

/** A fresh provider transaction id. */
export function newPgTxId(nowMs: number, pgProvider: string): string {
  return `emulator${pgProvider.toLowerCase()}${nowMs.toString(36)}${Math.floor(Math.random() * 1e6)}`;
}
