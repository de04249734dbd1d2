/**
 * Built-in test people. Every name and phone number is obviously synthetic; none belongs to anyone.
 * Each persona has a fixed person seed, so its CI is the same on every emulator, run and merchant.
 */
import { z } from "zod";
import type { V1Carrier } from "../core/v1/upstream.js";
import { formatDate, isRealDate, type KstDate, parseDate } from "./kst.js";

/** Every built-in persona id, in declaration order. */
export const PERSONA_IDS = [
  "adult",
  "adult_year_only",
  "minor",
  "leap_day",
  "foreigner",
  "no_di",
  "no_ci",
  "uncertified",
  "no_gender",
  "gender_other",
  "inicis",
  "kcp",
] as const;

/** Ids of the built-in personas. */
export type PersonaId = (typeof PERSONA_IDS)[number];

/** A test person and the shape of the record PortOne would return for them. */
export interface Persona {
  id: PersonaId;
  /** What the persona is for, in one line (for developers: it may name fields and codes). */
  description: string;
  /**
   * What the verification window tells the tester about the persona, Korean and English: plain words,
   * no field names or codes.
   */
  shown: { ko: string; en: string };
  /** Input of the CI/DI derivation; stable forever. */
  personSeed: string;
  name: string;
  /**
   * Birthday "YYYY-MM-DD" for a record created when the emulator clock reads `today` (an
   * Asia/Seoul date). Fixed for most personas; relative to `today` where the age must not drift.
   */
  birthdayOn(today: KstDate): string;
  /** `"other"` is V2's `OTHER`; V1 knows only male and female, so there it is `null`. */
  gender: "male" | "female" | "other" | null;
  /** Digits only. */
  phone: string;
  carrier: V1Carrier;
  foreigner: boolean;
  /** `null` models a merchant without the foreigner-detection contract. */
  foreignerV2: boolean | null;
  /** V1's `pg_provider` ("danal", "inicis_unified", "inicis", "kcp_v2"); V2's is its upper case. */
  pgProvider: string;
  /** `false`: the record exists but its OTP was never confirmed. */
  certified: boolean;
  /** Whether the record carries `unique_key` (CI). */
  hasCi: boolean;
  /** Whether the record carries `unique_in_site` (DI). */
  hasDi: boolean;
}

const fixed = (birthday: string) => () => birthday;

/** Born on 1 January `years` years before today's year: that exact international age all year. */
const agedAllYear =
  (years: number) =>
  (today: KstDate): string =>
    formatDate({ year: today.year - years, month: 1, day: 1 });

/**
 * Born `years` years before today's year, on the day after today: `years` by year age ("연 나이"),
 * one less by international age ("만 나이") until tomorrow.
 *
 * Impossible on 31 December: no later day exists in the year, so the birthday falls on 31 December
 * itself and the persona is already `years` by international age that day. Pin the clock elsewhere
 * in the year when that distinction matters. 29 February (tomorrow in a leap year, absent in the
 * birth year) becomes 1 March, still later in the year than today.
 */
const yearAgeOnly =
  (years: number) =>
  (today: KstDate): string => {
    const year = today.year - years;
    const tomorrow = new Date(Date.UTC(today.year, today.month - 1, today.day + 1));
    if (tomorrow.getUTCFullYear() !== today.year) return formatDate({ year, month: 12, day: 31 });
    const candidate = { year, month: tomorrow.getUTCMonth() + 1, day: tomorrow.getUTCDate() };
    return formatDate(isRealDate(candidate) ? candidate : { year, month: 3, day: 1 });
  };

const base = {
  foreigner: false,
  foreignerV2: false,
  pgProvider: "danal",
  certified: true,
  hasCi: true,
  hasDi: true,
} as const;

/** The built-in personas, keyed by id. */
export const PERSONAS: Readonly<Record<PersonaId, Persona>> = {
  adult: {
    ...base,
    id: "adult",
    shown: { ko: "1990년생 성인, 모든 항목이 있음", en: "An adult born in 1990, every field present" },
    description: "An adult born in 1990 with every field present.",
    personSeed: "certgate-persona:adult",
    name: "김테스트",
    birthdayOn: fixed("1990-01-15"),
    gender: "male",
    phone: "01000000001",
    carrier: "SKT",
  },
  adult_year_only: {
    ...base,
    id: "adult_year_only",
    shown: {
      ko: "연 나이로 19세, 만 나이로는 18세 (생일이 내일)",
      en: "19 by year age, 18 by international age (birthday tomorrow)",
    },
    description: "19 by year age but 18 by international age: the birthday is tomorrow (KST).",
    personSeed: "certgate-persona:adult_year_only",
    name: "이테스트",
    birthdayOn: yearAgeOnly(19),
    gender: "female",
    phone: "01000000002",
    carrier: "KT",
  },
  minor: {
    ...base,
    id: "minor",
    shown: { ko: "올해 내내 만 15세인 청소년", en: "15 years old all year" },
    description: "15 years old all year (born 1 January, 15 years before the emulator's year).",
    personSeed: "certgate-persona:minor",
    name: "박테스트",
    birthdayOn: agedAllYear(15),
    gender: "male",
    phone: "01000000003",
    carrier: "LGT",
  },
  leap_day: {
    ...base,
    id: "leap_day",
    shown: { ko: "2004년 2월 29일생", en: "Born on 29 February 2004" },
    description: "Born on 29 February 2004.",
    personSeed: "certgate-persona:leap_day",
    name: "최테스트",
    birthdayOn: fixed("2004-02-29"),
    gender: "female",
    phone: "01000000004",
    carrier: "SKT_MVNO",
  },
  foreigner: {
    ...base,
    id: "foreigner",
    shown: { ko: "등록 외국인", en: "A registered foreigner" },
    description: "A registered foreigner: foreigner and foreigner_v2 are true.",
    personSeed: "certgate-persona:foreigner",
    name: "테스트외국인",
    birthdayOn: fixed("1988-07-07"),
    gender: "male",
    phone: "01000000005",
    carrier: "KT_MVNO",
    foreigner: true,
    foreignerV2: true,
  },
  no_di: {
    ...base,
    id: "no_di",
    shown: { ko: "KG이니시스 통합인증으로 인증: DI 없음", en: "Verified through KG Inicis (unified): no DI" },
    description: "Verified through KG Inicis (inicis_unified): no unique_in_site.",
    personSeed: "certgate-persona:no_di",
    name: "정테스트",
    birthdayOn: fixed("1992-03-03"),
    gender: "female",
    phone: "01000000006",
    carrier: "LGT_MVNO",
    foreignerV2: null,
    pgProvider: "inicis_unified",
    hasDi: false,
  },
  no_ci: {
    ...base,
    id: "no_ci",
    shown: {
      ko: "CI를 받지 않는 다날 계약: CI 없음, DI 있음",
      en: "A Danal contract without CI: no CI, DI present",
    },
    description:
      "Danal without CI in the merchant's contract (Danal's rule since January 2026): no unique_key, DI present.",
    personSeed: "certgate-persona:no_ci",
    name: "강테스트",
    birthdayOn: fixed("1991-11-11"),
    gender: "male",
    phone: "01000000007",
    carrier: "SKT",
    hasCi: false,
  },
  uncertified: {
    ...base,
    id: "uncertified",
    shown: {
      ko: "인증을 끝내지 않음: 결과가 미인증",
      en: "Did not finish verifying: the result is not certified",
    },
    description:
      "certified: false, OTP pending (code EMULATOR_OTP_CODE); carries CI and DI so only certified tells.",
    personSeed: "certgate-persona:uncertified",
    name: "조테스트",
    birthdayOn: fixed("1993-05-05"),
    gender: "female",
    phone: "01000000008",
    carrier: "KT",
    certified: false,
  },
  no_gender: {
    ...base,
    id: "no_gender",
    shown: { ko: "성별이 비어 있음 (일부 인증사처럼)", en: "No gender, as some providers return" },
    description: "gender is null, as some providers return.",
    personSeed: "certgate-persona:no_gender",
    name: "윤테스트",
    birthdayOn: fixed("1994-09-09"),
    gender: null,
    phone: "01000000009",
    carrier: "LGT",
  },
  gender_other: {
    ...base,
    id: "gender_other",
    shown: { ko: "성별 기타 (V2만, V1에서는 비어 있음)", en: "Gender other (V2 only; empty in V1)" },
    description: "V2 gender OTHER (V1 knows only male and female: gender null there).",
    personSeed: "certgate-persona:gender_other",
    name: "서테스트",
    birthdayOn: fixed("1995-10-10"),
    gender: "other",
    phone: "01000000010",
    carrier: "KT",
  },
  inicis: {
    ...base,
    id: "inicis",
    shown: { ko: "예전 KG이니시스로 인증: DI 없음", en: "Verified through legacy KG Inicis: no DI" },
    description: "Verified through legacy KG Inicis (pg_provider inicis): no unique_in_site.",
    personSeed: "certgate-persona:inicis",
    name: "한테스트",
    birthdayOn: fixed("1989-04-04"),
    gender: "male",
    phone: "01000000011",
    carrier: "SKT",
    pgProvider: "inicis",
    hasDi: false,
  },
  kcp: {
    ...base,
    id: "kcp",
    shown: { ko: "NHN KCP로 인증, 모든 항목이 있음", en: "Verified through NHN KCP, every field present" },
    description: "Verified through NHN KCP (pg_provider kcp_v2), every field present.",
    personSeed: "certgate-persona:kcp",
    name: "오테스트",
    birthdayOn: fixed("1987-08-08"),
    gender: "female",
    phone: "01000000012",
    carrier: "LGT",
    pgProvider: "kcp_v2",
  },
};

// ---------------------------------------------------------------------------------------------
// People not among the personas (admin input, the verification window), for V1 and V2 alike

/** Carriers V1 REST reports: personas carry V1's spelling, and V2 records map it to V2's. */
export const V1_CARRIERS = [
  "SKT",
  "KT",
  "LGT",
  "SKT_MVNO",
  "KT_MVNO",
  "LGT_MVNO",
] as const satisfies readonly V1Carrier[];

/** A person not among the built-in personas. The same name, birthday and gender give the same CI. */
export interface PersonInput {
  name: string;
  /** "YYYY-MM-DD", a real calendar date. */
  birthday: string;
  gender?: "male" | "female" | null;
  /** Digits only. */
  phone?: string;
  carrier?: V1Carrier;
  foreigner?: boolean;
  /** Overrides the derived person seed (to give two different names one CI, say). */
  seed?: string;
}

export const personSchema = z
  .object({
    name: z.string().min(1).max(100),
    birthday: z.string().refine((text) => parseDate(text) !== undefined, "must be a real date YYYY-MM-DD"),
    gender: z.enum(["male", "female"]).nullable().optional(),
    phone: z
      .string()
      .regex(/^\d{9,11}$/, "digits only")
      .optional(),
    carrier: z.enum(V1_CARRIERS).optional(),
    foreigner: z.boolean().optional(),
    seed: z.string().min(1).optional(),
  })
  .strict();

/** The person seed of a non-persona person: stable for the same name, birthday and gender. */
export function personSeedOf(person: { name: string; birthday: string; gender?: string | null }): string {
  return `certgate-person:${person.name}|${person.birthday}|${person.gender ?? ""}`;
}

/** A typed person as a persona (its seed from name, birthday and gender, so one person is one CI). */
export function personFromInput(
  input: z.infer<typeof personSchema>,
): Omit<Persona, "id" | "description" | "shown"> {
  return {
    personSeed: input.seed ?? personSeedOf(input),
    name: input.name,
    birthdayOn: () => input.birthday,
    gender: input.gender ?? null,
    phone: input.phone ?? "01000000000",
    carrier: input.carrier ?? "SKT",
    foreigner: input.foreigner ?? false,
    foreignerV2: input.foreigner ?? false,
    pgProvider: "danal",
    certified: true,
    hasCi: true,
    hasDi: true,
  };
}
