/**
 * Expected identity's pure rules (core/expected.ts) and the purpose rules (core/purpose.ts): the
 * canonical forms, validation, which fields mismatch, and how a reverify's decision is handed on.
 */
import { describe, expect, it } from "vitest";
import { canonicalExpected, mismatchedFields, validateExpected } from "../../src/core/expected.js";
import type { VerifiedIdentity } from "../../src/core/identity.js";
import { DEFAULT_POLICY } from "../../src/core/policy.js";
import { completionDecisionFor, personCheckOf, purposeProblem } from "../../src/core/purpose.js";
import { buildNewVerification, type CreateVerificationInput } from "../../src/service/creation.js";

const identity = (overrides: Partial<VerifiedIdentity> = {}): VerifiedIdentity => ({
  name: "김테스트",
  birthDate: { year: 1990, month: 1, day: 15 },
  phone: "01000000001",
  ci: "CI".padEnd(88, "0"),
  provider: "danal",
  source: "v1",
  ...overrides,
});

describe("canonicalExpected", () => {
  it.each([
    ["name", "김테스트", "김테스트"],
    ["name", "  Anna \t\n Kim  ", "Anna Kim"],
    ["name", "김테스트".normalize("NFD"), "김테스트"],
    ["name", "Anna\u3000Kim", "Anna Kim"],
    ["name", "   ", undefined],
    ["birth_date", "1990-01-15", "1990-01-15"],
    ["birth_date", "2000-02-29", "2000-02-29"],
    ["birth_date", "1900-02-29", undefined],
    ["birth_date", "1990-1-15", undefined],
    ["phone", "010-1234-5678", "01012345678"],
    ["phone", "010 1234 5678", "01012345678"],
    ["phone", "+82 10-1234-5678", "01012345678"],
    ["phone", "+82 010 1234 5678", "01012345678"],
    ["phone", "+821012345678", "01012345678"],
    ["phone", "02-123-4567", "021234567"],
    ["phone", "010.1234.5678", undefined],
    ["phone", "1234", undefined],
    ["phone", "010-CALL-ME", undefined],
  ] as const)("%s %j → %j", (field, value, canonical) => {
    expect(canonicalExpected(field, value)).toBe(canonical);
  });
});

describe("validateExpected", () => {
  const name = (field: string) => `expected.${field}`;
  it("needs at least one field and names the ones without a canonical form", () => {
    expect(validateExpected({}, name).map((p) => p.field)).toEqual(["expected.name"]);
    expect(
      validateExpected({ name: " ", birthDate: "1990-13-01", phone: "x" }, name).map((p) => p.field),
    ).toEqual(["expected.name", "expected.birth_date", "expected.phone"]);
    expect(validateExpected({ name: "가".repeat(101) }, name)).toHaveLength(1);
    expect(
      validateExpected({ name: "Anna Kim", birthDate: "1990-01-15", phone: "+82 10 1234 5678" }, name),
    ).toEqual([]);
  });
});

describe("mismatchedFields", () => {
  const equalTo =
    (expected: Record<string, string>) =>
    (field: string, canonical: string): boolean =>
      expected[field] === canonical;

  it("names only the given fields that differ, in a fixed order", () => {
    const matches = equalTo({ name: "김테스트", birth_date: "1990-01-16", phone: "01000000001" });
    expect(mismatchedFields(["phone", "birth_date", "name"], identity(), matches)).toEqual(["birth_date"]);
    expect(mismatchedFields(["name"], identity(), matches)).toEqual([]);
  });

  it("fails closed on a field the provider did not return", () => {
    const matches = () => true;
    expect(
      mismatchedFields(
        ["phone", "birth_date"],
        identity({ phone: undefined, birthDate: undefined }),
        matches,
      ),
    ).toEqual(["birth_date", "phone"]);
  });
});

describe("purposes", () => {
  const names = {
    purpose: "purpose",
    accountRef: "account_ref",
    requirePersonKey: "policy.require_person_key",
  };
  it.each([
    ["signup", "a", true, undefined],
    ["reverify", "a", true, undefined],
    ["check", undefined, false, undefined],
    ["signup", undefined, true, "purpose"],
    ["reverify", undefined, true, "purpose"],
    ["check", "a", false, "purpose"],
    ["reverify", "a", false, "policy.require_person_key"],
  ] as const)(
    "%s with account %j (requirePersonKey %j) → problem on %j",
    (purpose, accountRef, key, field) => {
      expect(purposeProblem({ purpose, accountRef, requirePersonKey: key }, names)?.field).toBe(field);
    },
  );

  it("hands a reverify's rejections about the person on with the key, and the others as they are", () => {
    const who = identity();
    const key = { kind: "ci", value: who.ci ?? "" } as const;
    expect(completionDecisionFor("reverify", { ok: false, reason: "underage" }, who)).toEqual({
      ok: false,
      reason: "underage",
      personKey: key,
    });
    expect(completionDecisionFor("reverify", { ok: false, reason: "not_certified" }, who)).toEqual({
      ok: false,
      reason: "not_certified",
    });
    expect(completionDecisionFor("signup", { ok: false, reason: "underage" }, who)).toEqual({
      ok: false,
      reason: "underage",
    });
    const keyless = identity({ ci: undefined, di: undefined });
    expect(completionDecisionFor("reverify", { ok: false, reason: "no_person_key" }, keyless)).toEqual({
      ok: false,
      reason: "person_mismatch",
    });
    expect(
      completionDecisionFor(
        "reverify",
        { ok: true, identity: keyless, personKey: undefined, age: undefined },
        keyless,
      ),
    ).toEqual({ ok: false, reason: "person_mismatch" });
  });

  it("checks the person of a reverify only, and of an accepted decision even without a key", () => {
    const who = identity();
    expect(personCheckOf("signup", { ok: true, identity: who, personKey: undefined })).toBeUndefined();
    expect(personCheckOf("reverify", { ok: true, identity: who, personKey: undefined })).toEqual({
      personKey: undefined,
    });
    expect(personCheckOf("reverify", { ok: false, reason: "stale_certification" })).toBeUndefined();
  });
});

describe("the library's creation input", () => {
  const build = (input: Record<string, unknown>) =>
    buildNewVerification({ policy: DEFAULT_POLICY, ...input } as CreateVerificationInput, {
      apiVersions: ["v1"],
      now: () => new Date(0),
      ttlSeconds: 900,
      newId: (prefix) => `${prefix}_1`,
    });

  it("refuses an unknown purpose, an unknown expected key and an invalid expected value", () => {
    expect(() => build({ purpose: "recover", accountRef: "a" })).toThrow(
      expect.objectContaining({ code: "invalid_request", details: { field: "purpose" } }),
    );
    expect(() => build({ expected: { nick: "x" } })).toThrow(
      expect.objectContaining({
        code: "unknown_field",
        details: expect.objectContaining({ field: "expected.nick" }),
      }),
    );
    expect(() => build({ expected: { birthDate: "1990-02-30" } })).toThrow(
      expect.objectContaining({
        code: "invalid_request",
        details: expect.objectContaining({ field: "expected.birthDate" }),
      }),
    );
  });

  it.each([
    ["null", null, "expected"],
    ["a string", "김테스트", "expected"],
    ["an array", ["김테스트"], "expected"],
    ["a name that is a number", { name: 123 }, "expected.name"],
    ["a phone that is a number", { phone: 1012345678 }, "expected.phone"],
    ["a birthday that is an object", { birthDate: { year: 1990 } }, "expected.birthDate"],
  ])(
    "refuses an expected identity that is %s (JavaScript) with a 4xx naming the field, never a TypeError",
    (_, expected, field) => {
      expect(() => build({ expected })).toThrow(
        expect.objectContaining({ code: "invalid_request", details: expect.objectContaining({ field }) }),
      );
    },
  );

  it("defaults the purpose from the account as before", () => {
    expect(build({ accountRef: "a" }).purpose).toBe("signup");
    expect(build({ policy: { ...DEFAULT_POLICY, requirePersonKey: false } }).purpose).toBe("check");
  });
});
