import { describe, expect, it } from "vitest";
import { RequestError } from "../../src/core/errors.js";
import {
  DEFAULT_POLICY,
  evaluatePolicy,
  type Policy,
  type PolicyDecision,
  resolvePolicy,
  validatePolicy,
} from "../../src/core/policy.js";
import { REJECTION_REASONS } from "../../src/core/reasons.js";
import { fromV1Certification, type V1Certification } from "../../src/core/v1/upstream.js";
import { fromV2IdentityVerification } from "../../src/core/v2/upstream.js";
import {
  MERCHANT_UID,
  makeCertification,
  makeVerifiedV2,
  NOW,
  TEST_CI,
  TEST_DI,
  unixSeconds,
} from "./fixtures.js";

const ADULT_BY_YEAR = { minAge: { age: 19, rule: "year" } } as const;
const ADULT_BY_INTERNATIONAL = { minAge: { age: 19, rule: "international" } } as const;
const YOUTH_ONLY = { maxAge: { age: 18, rule: "international" } } as const;

function policy(partial: Partial<Policy> = {}): Policy {
  return resolvePolicy(partial, { creatingAccount: true });
}

function decide(
  overrides: Partial<V1Certification>,
  partial: Partial<Policy> = {},
  options: { now?: Date; expectedBoundId?: string } = {},
): PolicyDecision {
  return evaluatePolicy({
    result: fromV1Certification(makeCertification(overrides)),
    expectedBoundId: options.expectedBoundId ?? MERCHANT_UID,
    policy: policy(partial),
    now: options.now ?? NOW,
  });
}

function reasonOf(decision: PolicyDecision): string {
  return decision.ok ? "ok" : decision.reason;
}

/** A record verified `secondsAgo` before {@link NOW}. */
function verifiedAgo(secondsAgo: number): Partial<V1Certification> {
  return { certified_at: unixSeconds(NOW) - secondsAgo };
}

describe("evaluatePolicy accepts a good record", () => {
  it("returns the identity, the CI key and both ages on the Seoul date of verification", () => {
    const decision = decide({ birthday: "2007-03-01" }, ADULT_BY_INTERNATIONAL);
    expect(decision).toEqual({
      ok: true,
      identity: fromV1Certification(makeCertification({ birthday: "2007-03-01" })).identity,
      personKey: { kind: "ci", value: TEST_CI },
      age: { year: 19, international: 19 },
    });
  });

  it("reports no ages when there is no birth date and no age rule", () => {
    const decision = decide({ birthday: undefined, birth: undefined });
    expect(decision.ok && decision.age).toBeUndefined();
    expect(decision.ok).toBe(true);
  });
});

describe("evaluatePolicy rejects each failing check", () => {
  it.each([
    ["merchant_uid_mismatch", "another merchant_uid", { merchant_uid: "mid_someone_else" }, {}],
    ["merchant_uid_mismatch", "no merchant_uid", { merchant_uid: undefined }, {}],
    ["merchant_uid_mismatch", "an empty merchant_uid", { merchant_uid: "" }, {}],
    ["not_certified", "certified false", { certified: false }, {}],
    ["not_certified", "certified absent", { certified: undefined }, {}],
    ["stale_certification", "no certified_at", { certified_at: undefined }, {}],
    ["stale_certification", "older than the window", verifiedAgo(601), {}],
    ["stale_certification", "too far in the future", verifiedAgo(-61), {}],
    ["underage", "year age 18", { birthday: "2008-01-01" }, ADULT_BY_YEAR],
    [
      "underage",
      "international age 18 (birthday tomorrow)",
      { birthday: "2007-03-02" },
      ADULT_BY_INTERNATIONAL,
    ],
    [
      "underage",
      "no birth date under a minimum age",
      { birthday: undefined, birth: undefined },
      ADULT_BY_YEAR,
    ],
    ["overage", "international age 19", { birthday: "2007-03-01" }, YOUTH_ONLY],
    [
      "overage",
      "no birth date under a maximum-only policy",
      { birthday: undefined, birth: undefined },
      YOUTH_ONLY,
    ],
    ["no_person_key", "neither CI nor DI", { unique_key: undefined, unique_in_site: undefined }, {}],
    ["no_person_key", "empty CI and DI", { unique_key: "", unique_in_site: "" }, {}],
  ] as const)("%s: %s", (reason, _why, overrides, partial) => {
    expect(reasonOf(decide(overrides, partial))).toBe(reason);
  });

  it("rejects when the expected bound id is empty, even if the record's is empty too", () => {
    expect(reasonOf(decide({ merchant_uid: "" }, {}, { expectedBoundId: "" }))).toBe("merchant_uid_mismatch");
  });
});

describe("evaluatePolicy reports the earliest failing check", () => {
  const everythingWrong: Partial<V1Certification> = {
    merchant_uid: "mid_someone_else",
    certified: false,
    certified_at: unixSeconds(NOW) - 3600,
    birthday: "2015-01-01",
    unique_key: "",
    unique_in_site: "",
  };
  const bothBounds: Partial<Policy> = {
    minAge: { age: 19, rule: "year" },
    maxAge: { age: 30, rule: "year" },
  };

  it.each([
    ["merchant_uid_mismatch", {}],
    ["not_certified", { merchant_uid: MERCHANT_UID }],
    ["stale_certification", { merchant_uid: MERCHANT_UID, certified: true }],
    ["underage", { merchant_uid: MERCHANT_UID, certified: true, ...verifiedAgo(60) }],
    [
      "no_person_key",
      { merchant_uid: MERCHANT_UID, certified: true, ...verifiedAgo(60), birthday: "2000-01-01" },
    ],
  ] as const)("%s when the earlier checks are fixed", (reason, fixes) => {
    expect(reasonOf(decide({ ...everythingWrong, ...fixes }, bothBounds))).toBe(reason);
  });

  it("underage before overage when there is no birth date and both bounds are set", () => {
    expect(reasonOf(decide({ birthday: undefined, birth: undefined }, bothBounds))).toBe("underage");
  });

  it("overage before no_person_key", () => {
    expect(reasonOf(decide({ birthday: "1980-01-01", unique_key: "", unique_in_site: "" }, bothBounds))).toBe(
      "overage",
    );
  });

  it("lists every policy rejection among the closed set of reasons", () => {
    const policyReasons = [
      "merchant_uid_mismatch",
      "not_certified",
      "stale_certification",
      "underage",
      "overage",
      "no_person_key",
    ];
    for (const reason of policyReasons) expect(REJECTION_REASONS).toContain(reason);
  });
});

describe("freshness: within freshnessSeconds before now, at most futureToleranceSeconds after", () => {
  it.each([
    [0, "ok"],
    [600, "ok"],
    [601, "stale_certification"],
    [-60, "ok"],
    [-61, "stale_certification"],
  ])("verified %i s before now → %s", (secondsAgo, expected) => {
    expect(reasonOf(decide(verifiedAgo(secondsAgo)))).toBe(expected);
  });

  it.each([
    [{ freshnessSeconds: 30 }, verifiedAgo(31), "stale_certification"],
    [{ freshnessSeconds: 3600 }, verifiedAgo(3600), "ok"],
    [{ futureToleranceSeconds: 0 }, verifiedAgo(-1), "stale_certification"],
    [{ futureToleranceSeconds: 300 }, verifiedAgo(-300), "ok"],
  ] as const)("with %j, %j → %s", (partial, overrides, expected) => {
    expect(reasonOf(decide(overrides, partial))).toBe(expected);
  });
});

describe("age is judged on the Asia/Seoul date", () => {
  // 2025-12-31T15:30Z is 00:30 KST on 1 January 2026; a UTC date (31 December) would misjudge.
  const newYearKst = new Date("2025-12-31T15:30:00Z");
  const atNewYear = { certified_at: unixSeconds(newYearKst) - 60 };
  const judgedAtNewYear = { now: newYearKst };

  it.each([
    ["2007-06-15", ADULT_BY_YEAR, "ok", "born 2007: year age 19 on 1 January 2026"],
    ["2008-01-01", ADULT_BY_YEAR, "underage", "born 2008: year age 18 all through 2026"],
    ["2007-01-01", ADULT_BY_INTERNATIONAL, "ok", "19th birthday on 1 January"],
    ["2007-01-02", ADULT_BY_INTERNATIONAL, "underage", "19th birthday tomorrow"],
  ] as const)("born %s, verified 00:29 KST on 1 January → %s (%s)", (birthday, partial, expected, _why) => {
    expect(reasonOf(decide({ ...atNewYear, birthday }, partial, judgedAtNewYear))).toBe(expected);
  });

  it("reads legacy birth in Asia/Seoul: 00:00 KST 1 January 2008 (15:00 UTC on 31 December) is underage by year", () => {
    const birth = Date.parse("2007-12-31T15:00:00Z") / 1000;
    const decision = decide({ birthday: undefined, birth }, ADULT_BY_YEAR);
    expect(reasonOf(decision)).toBe("underage");
  });

  it("accepts a legacy birth in 2007 by year age", () => {
    const birth = Date.parse("2006-12-31T15:00:00Z") / 1000;
    const decision = decide({ birthday: undefined, birth }, ADULT_BY_YEAR);
    expect(decision.ok && decision.age).toEqual({ year: 19, international: 19 });
  });

  it("leap-day birth: international age turns on 1 March in a non-leap year", () => {
    // NOW is 2026-03-01 12:00 KST; verified a minute earlier.
    expect(reasonOf(decide({ birthday: "2004-02-29" }, { minAge: { age: 22, rule: "international" } }))).toBe(
      "ok",
    );
    const lastFebruary = new Date("2026-02-28T03:00:00Z");
    expect(
      reasonOf(
        decide(
          { birthday: "2004-02-29", certified_at: unixSeconds(lastFebruary) },
          { minAge: { age: 22, rule: "international" } },
          { now: lastFebruary },
        ),
      ),
    ).toBe("underage");
  });

  it('judges on the verification date by default and on now\'s date with judgeAgeAt "now"', () => {
    // Verified 23:55 KST on 31 December 2025, completed 00:01 KST on 1 January 2026.
    const verifiedAt = new Date("2025-12-31T14:55:00Z");
    const now = new Date("2025-12-31T15:01:00Z");
    const overrides = { birthday: "2007-07-07", certified_at: unixSeconds(verifiedAt) };
    expect(reasonOf(decide(overrides, ADULT_BY_YEAR, { now }))).toBe("underage");
    expect(reasonOf(decide(overrides, { ...ADULT_BY_YEAR, judgeAgeAt: "now" }, { now }))).toBe("ok");
  });

  it("accepts the boundaries of an age range inclusively", () => {
    const range = {
      minAge: { age: 14, rule: "international" },
      maxAge: { age: 18, rule: "international" },
    } as const;
    expect(reasonOf(decide({ birthday: "2012-03-01" }, range))).toBe("ok");
    expect(reasonOf(decide({ birthday: "2012-03-02" }, range))).toBe("underage");
    expect(reasonOf(decide({ birthday: "2007-03-02" }, range))).toBe("ok");
    expect(reasonOf(decide({ birthday: "2007-03-01" }, range))).toBe("overage");
  });
});

describe("person key", () => {
  it("falls back to the provider-scoped DI when CI is missing", () => {
    const decision = decide({ unique_key: "" });
    expect(decision.ok && decision.personKey).toEqual({ kind: "di", provider: "danal", value: TEST_DI });
  });

  it("rejects a keyless person only when a key is required", () => {
    const keyless = { unique_key: undefined, unique_in_site: undefined };
    expect(reasonOf(decide(keyless, { requirePersonKey: true }))).toBe("no_person_key");
    const accepted = decide(keyless, { requirePersonKey: false });
    expect(accepted.ok && accepted.personKey).toBeUndefined();
    expect(accepted.ok).toBe(true);
  });

  it("requires a key by default only when creating an account", () => {
    const keyless = fromV1Certification(
      makeCertification({ unique_key: undefined, unique_in_site: undefined }),
    );
    const run = (creatingAccount: boolean) =>
      reasonOf(
        evaluatePolicy({
          result: keyless,
          expectedBoundId: MERCHANT_UID,
          policy: resolvePolicy({}, { creatingAccount }),
          now: NOW,
        }),
      );
    expect(run(true)).toBe("no_person_key");
    expect(run(false)).toBe("ok");
  });
});

describe("V2 records go through the same checks", () => {
  const v2 = (verifiedAt?: string) => fromV2IdentityVerification(makeVerifiedV2({}, verifiedAt));

  it("binds to the identity verification id", () => {
    const run = (expectedBoundId: string) =>
      reasonOf(evaluatePolicy({ result: v2(), expectedBoundId, policy: policy(), now: NOW }));
    expect(run("iv_test_0000000001")).toBe("ok");
    expect(run("iv_test_0000000002")).toBe("merchant_uid_mismatch");
  });

  it("a READY record is not certified", () => {
    const result = fromV2IdentityVerification({ id: "iv_test_1", status: "READY" });
    expect(
      reasonOf(evaluatePolicy({ result, expectedBoundId: "iv_test_1", policy: policy(), now: NOW })),
    ).toBe("not_certified");
  });

  it("an unparseable verifiedAt is stale", () => {
    expect(
      reasonOf(
        evaluatePolicy({
          result: v2("not a time"),
          expectedBoundId: "iv_test_0000000001",
          policy: policy(),
          now: NOW,
        }),
      ),
    ).toBe("stale_certification");
  });
});

describe("fails closed on an unvalidated policy", () => {
  it.each([
    [{ freshnessSeconds: Number.NaN }, "stale_certification"],
    [{ futureToleranceSeconds: Number.NaN }, "stale_certification"],
    [{ minAge: { age: Number.NaN, rule: "year" } }, "underage"],
    [{ maxAge: { age: Number.NaN, rule: "year" } }, "overage"],
  ] as const)("%j → %s", (partial, expected) => {
    expect(reasonOf(decide({}, partial))).toBe(expected);
  });

  it("an invalid now is stale", () => {
    expect(reasonOf(decide({}, {}, { now: new Date(Number.NaN) }))).toBe("stale_certification");
  });
});

describe("resolvePolicy", () => {
  it("fills the defaults", () => {
    expect(resolvePolicy({}, { creatingAccount: true })).toEqual({
      ...DEFAULT_POLICY,
      minAge: undefined,
      maxAge: undefined,
    });
    expect(resolvePolicy({}, { creatingAccount: false }).requirePersonKey).toBe(false);
    expect(DEFAULT_POLICY).toMatchObject({
      freshnessSeconds: 600,
      futureToleranceSeconds: 60,
      judgeAgeAt: "verification",
    });
  });

  it("keeps what is given and ignores explicit undefined", () => {
    const resolved = resolvePolicy(
      { ...ADULT_BY_YEAR, freshnessSeconds: 120, futureToleranceSeconds: undefined, requirePersonKey: false },
      { creatingAccount: true },
    );
    expect(resolved).toMatchObject({
      ...ADULT_BY_YEAR,
      freshnessSeconds: 120,
      futureToleranceSeconds: 60,
      requirePersonKey: false,
    });
  });
});

describe("resolvePolicy refuses a key that is no field of a policy (JavaScript callers)", () => {
  /** What a JavaScript caller may pass: TypeScript's excess-property check does not reach it. */
  function resolveUnchecked(partial: object, opts: object = { creatingAccount: true }): unknown {
    try {
      return resolvePolicy(partial as Partial<Policy>, opts as { creatingAccount: boolean });
    } catch (error) {
      return error;
    }
  }

  it.each([
    ["a lower-case field", { minage: 19 }, ["minage"]],
    ["a snake_case field, as over HTTP", { min_age: { age: 19, rule: "year" } }, ["min_age"]],
    ["a misspelt age bound field", { minAge: { age: 19, rul: "year" } }, ["minAge.rul"]],
    ["a misspelt maxAge field", { maxAge: { agee: 18, rule: "year" } }, ["maxAge.agee"]],
    [
      "several, each named",
      { minage: 19, maxAge: { age: 18, rule: "year", max: 1 } },
      ["minage", "maxAge.max"],
    ],
    ["a prototype name", JSON.parse('{"__proto__": {"minAge": 19}}'), ["__proto__"]],
    ["an empty key", { "": 1 }, [""]],
  ])("%s: throws unknown_field naming it in camelCase as written", (_, partial, fields) => {
    const error = resolveUnchecked(partial);
    expect(error).toBeInstanceOf(RequestError);
    expect(error).toMatchObject({ code: "unknown_field", details: { field: fields[0], fields } });
    expect((error as RequestError).message).toContain(JSON.stringify(fields[0]));
  });

  it("refuses a misspelt option too (creatingaccount would drop the person-key requirement)", () => {
    expect(resolveUnchecked({}, { creatingaccount: true })).toMatchObject({
      code: "unknown_field",
      details: { field: "creatingaccount" },
    });
  });

  it("accepts every real field, explicit undefined included", () => {
    expect(
      resolvePolicy(
        {
          minAge: { age: 19, rule: "year" },
          maxAge: undefined,
          freshnessSeconds: 60,
          futureToleranceSeconds: 5,
          judgeAgeAt: "now",
          requirePersonKey: false,
        },
        { creatingAccount: true },
      ),
    ).toEqual({
      minAge: { age: 19, rule: "year" },
      maxAge: undefined,
      freshnessSeconds: 60,
      futureToleranceSeconds: 5,
      judgeAgeAt: "now",
      requirePersonKey: false,
    });
  });

  it("quotes a hostile key bounded in the message and exactly in details", () => {
    const key = `x${"\u0000".repeat(200)}`;
    const error = resolveUnchecked({ [key]: 1 });
    expect(error).toMatchObject({ code: "unknown_field", details: { field: key } });
    expect((error as RequestError).message.length).toBeLessThan(100);
    expect((error as RequestError).message).not.toContain("\u0000");
  });
});

describe("validatePolicy", () => {
  it("accepts the defaults and a typical adult policy", () => {
    expect(validatePolicy(DEFAULT_POLICY)).toEqual([]);
    expect(validatePolicy(policy({ ...ADULT_BY_YEAR, maxAge: { age: 19, rule: "international" } }))).toEqual(
      [],
    );
  });

  it.each([
    [{ minAge: { age: -1, rule: "year" } }, "minAge.age must be an integer from 0 to 150"],
    [{ minAge: { age: 19.5, rule: "year" } }, "minAge.age must be an integer from 0 to 150"],
    [{ maxAge: { age: 151, rule: "international" } }, "maxAge.age must be an integer from 0 to 150"],
    [
      { minAge: { age: 20, rule: "year" }, maxAge: { age: 18, rule: "year" } },
      "minAge.age must not exceed maxAge.age",
    ],
    [{ freshnessSeconds: -1 }, "freshnessSeconds must be an integer from 0 to 86400"],
    [{ freshnessSeconds: 1.5 }, "freshnessSeconds must be an integer from 0 to 86400"],
    // The HTTP API's bounds hold for every caller: a day of freshness, an hour ahead.
    [{ freshnessSeconds: 86_401 }, "freshnessSeconds must be an integer from 0 to 86400"],
    [{ futureToleranceSeconds: 3_601 }, "futureToleranceSeconds must be an integer from 0 to 3600"],
    [
      { futureToleranceSeconds: Number.POSITIVE_INFINITY },
      "futureToleranceSeconds must be an integer from 0 to 3600",
    ],
  ] as const)("%j → %s", (partial, problem) => {
    expect(validatePolicy(policy(partial))).toEqual([problem]);
  });

  it("names the fields the caller's way when given names (HTTP: snake_case)", () => {
    const snake = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    const bounds = policy({ minAge: { age: 20, rule: "year" }, maxAge: { age: 18, rule: "year" } });
    expect(validatePolicy(bounds, { name: snake })).toEqual(["min_age.age must not exceed max_age.age"]);
    expect(validatePolicy({ ...DEFAULT_POLICY, freshnessSeconds: -1 }, { name: snake })).toEqual([
      "freshness_seconds must be an integer from 0 to 86400",
    ]);
  });
});
