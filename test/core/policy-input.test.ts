/** The short form of a policy (`PolicyInput`) and {@link policyFromInput}. */
import { describe, expect, it } from "vitest";
import { RequestError } from "../../src/core/errors.js";
import { DEFAULT_POLICY, policyFromInput, resolvePolicy } from "../../src/core/policy.js";

const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (error instanceof RequestError) return { code: error.code, details: error.details };
    throw error;
  }
  throw new Error("not refused");
};

describe("policyFromInput", () => {
  it("reads a number as an age by the international rule, as the HTTP API's min_age", () => {
    expect(policyFromInput({ minAge: 19, maxAge: 24 }, { creatingAccount: false })).toEqual({
      ...DEFAULT_POLICY,
      minAge: { age: 19, rule: "international" },
      maxAge: { age: 24, rule: "international" },
      requirePersonKey: false,
    });
  });

  it("keeps an { age, rule } bound and requires a person key when creating an account", () => {
    const policy = policyFromInput({ minAge: { age: 19, rule: "year" } }, { creatingAccount: true });
    expect([policy.minAge, policy.requirePersonKey]).toEqual([{ age: 19, rule: "year" }, true]);
  });

  it("leaves a full policy as it is", () => {
    const full = resolvePolicy(
      { maxAge: { age: 18, rule: "year" }, judgeAgeAt: "now" },
      { creatingAccount: false },
    );
    expect(policyFromInput(full, { creatingAccount: true })).toEqual(full);
  });

  it("is the defaults, with no age bound, when absent", () => {
    expect(policyFromInput(undefined, { creatingAccount: true })).toEqual({
      ...DEFAULT_POLICY,
      minAge: undefined,
      maxAge: undefined,
    });
  });

  it.each([
    ["a misspelt key", { minage: 19 }, "unknown_field", { field: "policy.minage" }],
    [
      "a misspelt key of a bound",
      { minAge: { age: 19, rul: "year" } },
      "unknown_field",
      { field: "policy.minAge.rul" },
    ],
    [
      "an age over 150",
      { minAge: 200 },
      "invalid_request",
      { problems: ["policy.minAge.age must be an integer from 0 to 150"] },
    ],
    [
      "a fractional age",
      { minAge: 18.5 },
      "invalid_request",
      { problems: [expect.stringContaining("policy.minAge.age")] },
    ],
    [
      "minAge above maxAge",
      { minAge: 30, maxAge: 20 },
      "invalid_request",
      { problems: ["policy.minAge.age must not exceed policy.maxAge.age"] },
    ],
    [
      "a bound of null (JavaScript)",
      { minAge: null },
      "invalid_request",
      { problems: [expect.stringContaining("policy.minAge.age")] },
    ],
    [
      "a bound given as a string (JavaScript)",
      { minAge: "19" },
      "invalid_request",
      { problems: expect.arrayContaining([expect.stringContaining("policy.minAge.age")]) },
    ],
    ["a policy that is a string (JavaScript)", "adult", "invalid_request", { field: "policy" }],
    ["a policy that is null (JavaScript)", null, "invalid_request", { field: "policy" }],
    ["a policy that is an array (JavaScript)", [19], "invalid_request", { field: "policy" }],
  ])("refuses %s, never reading it as no bound", (_, input, code, details) => {
    expect(refusal(() => policyFromInput(input as never, { creatingAccount: true }))).toEqual({
      code,
      details: expect.objectContaining(details),
    });
  });
});
