/**
 * Expected identity: the name, birth date or phone a merchant already holds (a contract, a delivery
 * address) and wants the verified person to match. Compared after the upstream result; a field that
 * differs, or that the provider did not return, is `identity_mismatch` with the fields named (never
 * a value).
 *
 * The values are personal data, so the store keeps them only as keyed hashes of their canonical
 * form ({@link canonicalExpected}) and drops them when the verification finishes; the comparison is
 * this module's, the hashing the store's (it hands {@link mismatchedFields} a matcher).
 *
 * Canonical forms:
 * - name: Unicode NFC, whitespace trimmed and every run collapsed to one space ("김  테스트" and
 *   "김 테스트" are one name; a decomposed "김" is the composed one). Case is kept: a provider's
 *   name is what the resident registry holds.
 * - birth date: "YYYY-MM-DD", exact.
 * - phone: the digits, with a leading "+82" (Korea's country code) read as the trunk "0":
 *   "+82 10-1234-5678", "010 1234 5678" and "01012345678" are one number.
 */
import { formatCalendarDate, isRealDate } from "./calendar.js";
import type { VerifiedIdentity } from "./identity.js";

/** The fields an expected identity may give, in the contract's spelling (also `mismatched_fields`). */
export const EXPECTED_FIELDS = ["name", "birth_date", "phone"] as const;

/** One of {@link EXPECTED_FIELDS}. */
export type ExpectedField = (typeof EXPECTED_FIELDS)[number];

/** Whether `value` is an {@link ExpectedField} (for reading stored rows). */
export function isExpectedField(value: unknown): value is ExpectedField {
  return EXPECTED_FIELDS.some((field) => field === value);
}

/** What the merchant expects of the verified person; at least one field. */
export interface ExpectedIdentity {
  /** 1–100 characters once canonical. */
  name?: string | undefined;
  /** "YYYY-MM-DD", a real date. */
  birthDate?: string | undefined;
  /** Digits with optional spaces and "-", optionally "+82" first. */
  phone?: string | undefined;
}

/** The {@link ExpectedIdentity} key of each field. */
const KEY_OF: Readonly<Record<ExpectedField, keyof ExpectedIdentity>> = {
  name: "name",
  birth_date: "birthDate",
  phone: "phone",
};

/** The keys of {@link ExpectedIdentity}; the compiler keeps this list in step with it. */
export const EXPECTED_KEYS: Readonly<Record<keyof ExpectedIdentity, true>> = {
  name: true,
  birthDate: true,
  phone: true,
};

/** Longest canonical name accepted. */
export const MAX_EXPECTED_NAME_LENGTH = 100;

/** The accepted spelling of a phone number: digits, spaces and "-", optionally "+82" first. */
const PHONE_SPELLING = /^(\+82)?[0-9 -]+$/;

/** The canonical form of `value` as field `field` (see the module header), or undefined when it has none. */
export function canonicalExpected(field: ExpectedField, value: string): string | undefined {
  switch (field) {
    case "name": {
      const name = value.normalize("NFC").trim().replace(/\s+/gu, " ");
      return name === "" ? undefined : name;
    }
    case "birth_date": {
      const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
      if (!match) return undefined;
      const [, year, month, day] = match.map(Number);
      return isRealDate({ year: year ?? 0, month: month ?? 0, day: day ?? 0 }) ? value : undefined;
    }
    case "phone": {
      const spelled = value.trim();
      if (!PHONE_SPELLING.test(spelled)) return undefined;
      const digits = spelled.replace(/[^0-9]/g, "");
      // "+82 10…" is "010…"; "+82 (0)10…" written without the parentheses keeps its one 0.
      const national = spelled.startsWith("+82") ? `0${digits.slice(2).replace(/^0/, "")}` : digits;
      return national.length >= 8 && national.length <= 12 ? national : undefined;
    }
  }
}

/**
 * The problems of `expected` as messages naming fields by `name` (empty when valid): at least one
 * field, each with a canonical form, a name at most {@link MAX_EXPECTED_NAME_LENGTH} characters.
 */
export function validateExpected(
  expected: ExpectedIdentity,
  name: (field: ExpectedField) => string,
): { field: string; message: string }[] {
  const given = givenFields(expected);
  if (given.length === 0) {
    return [{ field: name("name"), message: "expected identity needs at least one field" }];
  }
  const problems: { field: string; message: string }[] = [];
  for (const field of given) {
    const value: unknown = expected[KEY_OF[field]];
    // A value that is not a string (a JavaScript caller's) has no canonical form either.
    const canonical = typeof value === "string" ? canonicalExpected(field, value) : undefined;
    if (canonical === undefined) {
      problems.push({
        field: name(field),
        message: `${name(field)} is not a valid ${field.replace("_", " ")}`,
      });
    } else if (field === "name" && Array.from(canonical).length > MAX_EXPECTED_NAME_LENGTH) {
      problems.push({
        field: name(field),
        message: `${name(field)} must be at most ${MAX_EXPECTED_NAME_LENGTH} characters`,
      });
    }
  }
  return problems;
}

/** The fields `expected` gives, in {@link EXPECTED_FIELDS} order. */
export function givenFields(expected: ExpectedIdentity): ExpectedField[] {
  return EXPECTED_FIELDS.filter((field) => expected[KEY_OF[field]] !== undefined);
}

/** The canonical values of `expected`, by field (only the given ones, each valid per {@link validateExpected}). */
export function canonicalExpectedValues(expected: ExpectedIdentity): Partial<Record<ExpectedField, string>> {
  const values: Partial<Record<ExpectedField, string>> = {};
  for (const field of givenFields(expected)) {
    const canonical = canonicalExpected(field, expected[KEY_OF[field]] ?? "");
    if (canonical !== undefined) values[field] = canonical;
  }
  return values;
}

/**
 * The expected fields the verified `identity` does not match, in {@link EXPECTED_FIELDS} order.
 * `expected` lists the fields that were given; `matches(field, canonical)` says whether the verified
 * value's canonical form is the expected one (the store compares keyed hashes). A field the provider
 * did not return, or returned in no canonical form, is a mismatch: fail closed.
 */
export function mismatchedFields(
  expected: readonly ExpectedField[],
  identity: VerifiedIdentity,
  matches: (field: ExpectedField, canonical: string) => boolean,
): ExpectedField[] {
  const verified: Record<ExpectedField, string | undefined> = {
    name: identity.name,
    birth_date: identity.birthDate && formatCalendarDate(identity.birthDate),
    phone: identity.phone,
  };
  return EXPECTED_FIELDS.filter((field) => {
    if (!expected.includes(field)) return false;
    const value = verified[field];
    const canonical = value === undefined ? undefined : canonicalExpected(field, value);
    return canonical === undefined || !matches(field, canonical);
  });
}
