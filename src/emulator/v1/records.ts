/**
 * V1 certification records: their stored shape (PortOne's field names, exactly as
 * `GET /certifications/{imp_uid}` returns them) and how the emulator builds one from a persona or
 * a person.
 */
import * as z from "zod";
import { RequestError } from "../../core/errors.js";
import { deriveCi, deriveDi, PROVIDERS_WITHOUT_DI } from "../identity-keys.js";
import { describeIssues } from "../input.js";
import { kstDateAt, kstMidnightUnixSeconds, parseDate } from "../kst.js";
import {
  PERSONA_IDS,
  PERSONAS,
  type PersonaId,
  type PersonInput,
  personFromInput,
  personSchema,
} from "../personas.js";

/**
 * A V1 certification record as the emulator stores and serves it. Like PortOne, every field is
 * always present; a value the provider did not supply is `null`.
 *
 * @example
 * import { createEmulator, type StoredCertification } from "certgate/emulator";
 * const record: StoredCertification = createEmulator().createCertification({ persona: "adult" });
 * record.imp_uid; // "imp_" + 12 digits
 */
export interface StoredCertification {
  /** `imp_` + 12 digits. */
  imp_uid: string;
  merchant_uid: string | null;
  pg_tid: string | null;
  /** Default "danal". */
  pg_provider: string | null;
  name: string | null;
  gender: "male" | "female" | null;
  /** "YYYY-MM-DD". */
  birthday: string | null;
  /** Legacy: unix seconds at 00:00 KST of `birthday`. */
  birth: number | null;
  foreigner: boolean | null;
  foreigner_v2: boolean | null;
  /** Digits only. */
  phone: string | null;
  carrier: string | null;
  certified: boolean | null;
  /** Unix seconds. */
  certified_at: number | null;
  /** CI: 88 characters. */
  unique_key: string | null;
  /** DI: 64 characters; `null` for KG Inicis. */
  unique_in_site: string | null;
  /** URL of the page that ran the verification. */
  origin: string | null;
}

/**
 * Overrides applied last, in PortOne names; `null` clears a value.
 *
 * @example
 * import { type CertificationFieldOverrides, createEmulator } from "certgate/emulator";
 * const fields: CertificationFieldOverrides = { certified: false, unique_key: null };
 * createEmulator().createCertification({ persona: "adult", merchant_uid: "mid_123", fields });
 */
export type CertificationFieldOverrides = Partial<StoredCertification>;

/**
 * What to create. Either `persona` or `person`; neither means the `adult` persona.
 * - `merchantCode`: owner (an `imp` code of a configured merchant); default the first merchant.
 * - `merchant_uid`: default a generated `mid_…`.
 * - `certified_at`: unix seconds; default the emulator clock's now (unset for uncertified records).
 * - `fields`: final overrides in PortOne names; `null` clears a value.
 * A record that ends up `certified !== true` awaits {@link EMULATOR_OTP_CODE} on
 * `POST /certifications/otp/confirm/{imp_uid}`.
 *
 * @example
 * import { type CreateCertificationInput, createEmulator } from "certgate/emulator";
 * const input: CreateCertificationInput = { persona: "minor", merchant_uid: "mid_123" };
 * const { imp_uid } = createEmulator().createCertification(input);
 */
export interface CreateCertificationInput {
  persona?: PersonaId;
  person?: PersonInput;
  merchantCode?: string;
  merchant_uid?: string;
  certified_at?: number;
  fields?: CertificationFieldOverrides;
}

const nullable = <T extends z.ZodType>(schema: T) => schema.nullable().optional();

export const fieldOverridesSchema = z
  .object({
    imp_uid: z.string().min(1).optional(),
    merchant_uid: nullable(z.string()),
    pg_tid: nullable(z.string()),
    pg_provider: nullable(z.string()),
    name: nullable(z.string()),
    gender: nullable(z.enum(["male", "female"])),
    birthday: nullable(z.string()),
    birth: nullable(z.number().int()),
    foreigner: nullable(z.boolean()),
    foreigner_v2: nullable(z.boolean()),
    phone: nullable(z.string()),
    carrier: nullable(z.string()),
    certified: nullable(z.boolean()),
    certified_at: nullable(z.number().int()),
    unique_key: nullable(z.string()),
    unique_in_site: nullable(z.string()),
    origin: nullable(z.string()),
  })
  .strict();

const createInputSchema = z
  .object({
    persona: z.enum(PERSONA_IDS).optional(),
    person: personSchema.optional(),
    merchantCode: z.string().min(1).optional(),
    merchant_uid: z.string().min(1).max(200).optional(),
    certified_at: z.number().int().min(0).optional(),
    fields: fieldOverridesSchema.optional(),
  })
  .strict()
  .refine((input) => !(input.persona && input.person), { message: "give persona or person, not both" });

/** Everything a build needs from the emulator. */
export interface BuildContext {
  nowMs: number;
  merchantCodes: readonly string[];
  newImpUid(): string;
  isImpUidTaken(impUid: string): boolean;
}

/** A built record and the merchant that owns it. */
export interface BuiltCertification {
  merchantCode: string;
  record: StoredCertification;
}

/** The default `origin`: a page of a fictional merchant. */
export const DEFAULT_ORIGIN = "https://merchant.example/certification";

/**
 * Validates `input` and builds the record. Throws `RequestError("invalid_request")` on bad input
 * (an unknown merchant, a taken imp_uid, a malformed field); messages carry no field values.
 */
export function buildCertification(input: unknown, ctx: BuildContext): BuiltCertification {
  const parsed = createInputSchema.safeParse(input ?? {});
  if (!parsed.success) throw new RequestError("invalid_request", describeIssues(parsed.error));
  const options = parsed.data;
  const merchantCode = options.merchantCode ?? ctx.merchantCodes[0];
  if (merchantCode === undefined || !ctx.merchantCodes.includes(merchantCode)) {
    throw new RequestError("invalid_request", "merchantCode: not a configured merchant");
  }
  const person = options.person ? personFromInput(options.person) : PERSONAS[options.persona ?? "adult"];
  const impUid = options.fields?.imp_uid ?? ctx.newImpUid();
  if (ctx.isImpUidTaken(impUid)) throw new RequestError("invalid_request", "imp_uid: already taken");

  const digits = impUid.replace(/^imp_/, "");
  const birthday = person.birthdayOn(kstDateAt(ctx.nowMs));
  const provider = person.pgProvider;
  const birthDate = parseDate(birthday);
  const record: StoredCertification = {
    imp_uid: impUid,
    merchant_uid: options.merchant_uid ?? `mid_${digits}`,
    pg_tid: `emulator${digits}`,
    pg_provider: provider,
    name: person.name,
    gender: person.gender === "other" ? null : person.gender,
    birthday,
    birth: birthDate ? kstMidnightUnixSeconds(birthDate) : null,
    foreigner: person.foreigner,
    foreigner_v2: person.foreignerV2,
    phone: person.phone,
    carrier: person.carrier,
    certified: person.certified,
    certified_at: options.certified_at ?? (person.certified ? Math.floor(ctx.nowMs / 1000) : null),
    unique_key: person.hasCi ? deriveCi(person.personSeed) : null,
    unique_in_site: null,
    origin: DEFAULT_ORIGIN,
  };
  const overrides = options.fields ?? {};
  // DI depends on the provider, so an overridden pg_provider changes it (or removes it for Inicis).
  const diProvider = overrides.pg_provider ?? provider;
  if (person.hasDi && !PROVIDERS_WITHOUT_DI.has(diProvider)) {
    record.unique_in_site = deriveDi(person.personSeed, merchantCode, diProvider);
  }
  const final: StoredCertification = { ...record, ...overrides, imp_uid: impUid };
  // Keep the legacy `birth` consistent with an overridden birthday unless `birth` is overridden too.
  if (typeof overrides.birthday === "string" && overrides.birth === undefined) {
    const overridden = parseDate(overrides.birthday);
    final.birth = overridden ? kstMidnightUnixSeconds(overridden) : null;
  }
  return { merchantCode, record: final };
}
