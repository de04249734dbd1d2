import { describe, expect, it } from "vitest";
import { fromV2IdentityVerification } from "../../src/core/v2/upstream.js";
import { makeVerifiedV2, TEST_CI, TEST_DI } from "./fixtures.js";

describe("fromV2IdentityVerification", () => {
  it("maps a VERIFIED record; its own id is the binding", () => {
    expect(fromV2IdentityVerification(makeVerifiedV2())).toEqual({
      source: "v2",
      upstreamId: "iv_test_0000000001",
      boundId: "iv_test_0000000001",
      certified: true,
      identity: {
        name: "김테스트",
        birthDate: { year: 1990, month: 1, day: 1 },
        gender: "female",
        foreigner: false,
        phone: "01000000001",
        carrier: "LGU_MVNO",
        ci: TEST_CI,
        di: TEST_DI,
        provider: "DANAL",
        verifiedAt: new Date("2026-03-01T02:59:00Z"),
        source: "v2",
      },
    });
  });

  it.each([
    { id: "iv_test_1", status: "READY" as const },
    { id: "iv_test_1", status: "FAILED" as const, failure: { reason: "test failure" } },
    { id: "iv_test_1", status: "UNRECOGNIZED" as const, rawStatus: "SOMETHING_NEW" },
  ])("a $status record is not certified and carries no identity", (record) => {
    const result = fromV2IdentityVerification(record);
    expect(result.certified).toBe(false);
    expect(result.identity).toEqual({ provider: "portone_v2", source: "v2" });
  });

  it.each([
    ["MALE", "male"],
    ["FEMALE", "female"],
    ["OTHER", "other"],
    [undefined, undefined],
  ] as const)("gender %s → %s", (gender, expected) => {
    expect(fromV2IdentityVerification(makeVerifiedV2({ gender })).identity.gender).toBe(expected);
  });

  it("empty CI and DI are missing", () => {
    const { identity } = fromV2IdentityVerification(makeVerifiedV2({ ci: "", di: " " }));
    expect(identity.ci).toBeUndefined();
    expect(identity.di).toBeUndefined();
  });

  it.each([
    ["2026-03-01T11:59:00+09:00", new Date("2026-03-01T02:59:00Z")],
    ["2026-03-01T02:59:00.123456Z", new Date("2026-03-01T02:59:00.123Z")],
    ["2026-03-01T02:59:00", undefined],
    ["2026-03-01", undefined],
    ["yesterday", undefined],
  ])("verifiedAt %j → %j", (verifiedAt, expected) => {
    expect(fromV2IdentityVerification(makeVerifiedV2({}, verifiedAt)).identity.verifiedAt).toEqual(expected);
  });
});
