import { describe, expect, it } from "vitest";
import { formatCalendarDate } from "../../src/core/calendar.js";
import {
  type Carrier,
  carrierFrom,
  maskName,
  personKeyOf,
  type VerifiedIdentity,
} from "../../src/core/identity.js";
import { fromV1Certification } from "../../src/core/v1/upstream.js";
import { MERCHANT_UID, makeCertification, NOW, TEST_CI, TEST_DI, unixSeconds } from "./fixtures.js";

function birthDateOf(overrides: Parameters<typeof makeCertification>[0]): string | undefined {
  const date = fromV1Certification(makeCertification(overrides)).identity.birthDate;
  return date && formatCalendarDate(date);
}

describe("fromV1Certification", () => {
  it("maps a complete record", () => {
    const result = fromV1Certification(makeCertification());
    expect(result).toEqual({
      source: "v1",
      upstreamId: "imp_000000000001",
      boundId: MERCHANT_UID,
      certified: true,
      identity: {
        name: "김테스트",
        birthDate: { year: 1990, month: 1, day: 1 },
        gender: "female",
        foreigner: false,
        phone: "01000000001",
        carrier: "SKT",
        ci: TEST_CI,
        di: TEST_DI,
        provider: "danal",
        verifiedAt: new Date(NOW.getTime() - 60_000),
        source: "v1",
      },
    });
  });

  describe("certified is true only for certified === true", () => {
    it.each([
      [true, true],
      [false, false],
      [undefined, false],
    ])("certified %s → %s", (certified, expected) => {
      expect(fromV1Certification(makeCertification({ certified })).certified).toBe(expected);
    });
  });

  describe("empty or whitespace text is missing, never a key", () => {
    it.each(["", " ", "\t\n"])("%j", (blank) => {
      const { identity, boundId } = fromV1Certification(
        makeCertification({
          unique_key: blank,
          unique_in_site: blank,
          name: blank,
          phone: blank,
          merchant_uid: blank,
        }),
      );
      expect(identity.ci).toBeUndefined();
      expect(identity.di).toBeUndefined();
      expect(identity.name).toBeUndefined();
      expect(identity.phone).toBeUndefined();
      expect(boundId).toBeUndefined();
      expect(personKeyOf(identity)).toBeUndefined();
    });

    it("absent CI and DI are missing too", () => {
      const { identity } = fromV1Certification(
        makeCertification({ unique_key: undefined, unique_in_site: undefined }),
      );
      expect(personKeyOf(identity)).toBeUndefined();
    });
  });

  describe("birth date", () => {
    it.each([
      [{ birthday: "2004-02-29" }, "2004-02-29", "birthday as a calendar date"],
      [
        { birthday: "1990-01-01", birth: Date.parse("1985-06-14T15:00:00Z") / 1000 },
        "1990-01-01",
        "birthday wins over birth",
      ],
      [
        { birthday: undefined, birth: Date.parse("1985-06-14T15:00:00Z") / 1000 },
        "1985-06-15",
        "legacy birth at 00:00 KST (15:00 UTC the day before) when birthday is absent",
      ],
      [
        { birthday: "", birth: Date.parse("2007-12-31T15:00:00Z") / 1000 },
        "2008-01-01",
        "an empty birthday is absent",
      ],
      [{ birthday: undefined, birth: undefined }, undefined, "neither"],
      [
        { birthday: "19900101", birth: Date.parse("1989-12-31T15:00:00Z") / 1000 },
        undefined,
        "a malformed birthday is not replaced by birth (fail closed)",
      ],
    ])("%j → %s (%s)", (overrides, expected, _why) => {
      expect(birthDateOf(overrides)).toBe(expected);
    });
  });

  describe("foreigner = foreigner_v2 ?? foreigner", () => {
    it.each([
      [true, false, true],
      [false, true, false],
      [undefined, true, true],
      [undefined, false, false],
    ])("foreigner_v2 %s, foreigner %s → %s", (foreigner_v2, foreigner, expected) => {
      expect(fromV1Certification(makeCertification({ foreigner_v2, foreigner })).identity.foreigner).toBe(
        expected,
      );
    });
  });

  it("verifiedAt is absent without certified_at", () => {
    expect(
      fromV1Certification(makeCertification({ certified_at: undefined })).identity.verifiedAt,
    ).toBeUndefined();
  });

  it("verifiedAt reads certified_at as unix seconds", () => {
    const at = new Date("2026-01-01T00:00:00Z");
    expect(
      fromV1Certification(makeCertification({ certified_at: unixSeconds(at) })).identity.verifiedAt,
    ).toEqual(at);
  });
});

describe("carrierFrom: V1 and V2 spellings → one Carrier", () => {
  it.each<[string | undefined, Carrier | undefined]>([
    ["SKT", "SKT"],
    ["KT", "KT"],
    ["LGT", "LGU"],
    ["LGU", "LGU"],
    ["SKT_MVNO", "SKT_MVNO"],
    ["KT_MVNO", "KT_MVNO"],
    ["LGT_MVNO", "LGU_MVNO"],
    ["LGU_MVNO", "LGU_MVNO"],
    ["lgt", "LGU"],
    ["KTF", undefined],
    ["MVNO", undefined],
    ["", undefined],
    [undefined, undefined],
  ])("%j → %j", (input, expected) => {
    expect(carrierFrom(input)).toBe(expected);
    expect(fromV1Certification(makeCertification({ carrier: input })).identity.carrier).toBe(expected);
  });
});

describe("personKeyOf: CI preferred, DI scoped by provider as fallback", () => {
  const identity = (overrides: Partial<VerifiedIdentity>): VerifiedIdentity => ({
    provider: "danal",
    source: "v1",
    ...overrides,
  });

  it.each([
    [
      { ci: TEST_CI, di: TEST_DI },
      { kind: "ci", value: TEST_CI },
    ],
    [{ ci: TEST_CI }, { kind: "ci", value: TEST_CI }],
    [{ di: TEST_DI }, { kind: "di", provider: "danal", value: TEST_DI }],
    [
      { ci: "", di: TEST_DI },
      { kind: "di", provider: "danal", value: TEST_DI },
    ],
    [{ ci: " ", di: " " }, undefined],
    [{}, undefined],
    // Not in PortOne's formats (CI 88 characters, DI 64): missing, never a key strangers share.
    [{ ci: "0", di: "null" }, undefined],
    [
      { ci: "null", di: TEST_DI },
      { kind: "di", provider: "danal", value: TEST_DI },
    ],
    [{ ci: TEST_CI.slice(1), di: TEST_DI.slice(1) }, undefined],
    [{ ci: `${TEST_CI}0`, di: `${TEST_DI}0` }, undefined],
    [{ ci: `${TEST_CI.slice(1)} `.padStart(88, " ") }, undefined],
    [{ ci: `${TEST_CI.slice(0, 40)} ${TEST_CI.slice(41)}` }, undefined],
    [{ di: `${TEST_DI.slice(0, 63)}\u0000` }, undefined],
    [{ ci: ` ${TEST_CI} ` }, { kind: "ci", value: TEST_CI }],
  ])("%j → %j", (overrides, expected) => {
    expect(personKeyOf(identity(overrides))).toEqual(expected);
  });

  it("V1's lower-case and V2's upper-case names of one provider are one scope", () => {
    expect(personKeyOf(identity({ di: TEST_DI, provider: "DANAL", source: "v2" }))).toEqual(
      personKeyOf(identity({ di: TEST_DI, provider: "danal" })),
    );
  });

  it("the same DI from two providers is two keys", () => {
    expect(personKeyOf(identity({ di: TEST_DI, provider: "danal" }))).not.toEqual(
      personKeyOf(identity({ di: TEST_DI, provider: "kcp_v2" })),
    );
  });
});

describe("maskName", () => {
  it.each([
    ["김테스트", "김**트"],
    ["김테스", "김*스"],
    ["김테", "김*"],
    ["김", "*"],
    ["", ""],
    [" 김테스트 ", "김**트"],
    ["TEST PERSON", "T*********N"],
  ])("%j → %j", (name, expected) => {
    expect(maskName(name)).toBe(expected);
  });
});
