import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ageUnder, internationalAge, yearAge } from "../../src/core/age.js";
import { isRealDate } from "../../src/core/calendar.js";
import { ymd } from "./fixtures.js";

describe("yearAge (연 나이) and internationalAge (만 나이)", () => {
  it.each([
    // birth, on, year age, international age, why
    ["2007-05-10", "2026-05-10", 19, 19, "birthday today"],
    ["2007-05-10", "2026-05-09", 19, 18, "birthday tomorrow: year age 19 but international age 18"],
    ["2007-12-31", "2026-01-01", 19, 18, "adult by year age on 1 January of the 19th year"],
    ["2008-01-01", "2026-12-31", 18, 18, "year age ignores the birthday: still a youth on 31 December"],
    ["2007-01-01", "2026-01-01", 19, 19, "born on 1 January"],
    ["2004-02-29", "2023-02-28", 19, 18, "leap-day birth, non-leap year: not yet on 28 February"],
    ["2004-02-29", "2023-03-01", 19, 19, "leap-day birth, non-leap year: a year older on 1 March"],
    ["2004-02-29", "2024-02-28", 20, 19, "leap-day birth, leap year: not yet on 28 February"],
    ["2004-02-29", "2024-02-29", 20, 20, "leap-day birth, leap year: a year older on 29 February"],
    ["2004-02-29", "2100-03-01", 96, 96, "2100 is not a leap year: 1 March"],
    ["2004-02-29", "2100-02-28", 96, 95, "2100 is not a leap year: 28 February"],
    ["2005-03-01", "2024-02-29", 19, 18, "1 March birth on a leap day"],
    ["2026-03-01", "2026-03-01", 0, 0, "born today"],
    ["2026-03-02", "2026-03-01", 0, -1, "born tomorrow (a future birth date is never of age)"],
  ])(
    "born %s, on %s: year age %i, international age %i (%s)",
    (birth, on, expectedYear, expectedInternational) => {
      expect(yearAge(ymd(birth), ymd(on))).toBe(expectedYear);
      expect(internationalAge(ymd(birth), ymd(on))).toBe(expectedInternational);
      expect(ageUnder("year", ymd(birth), ymd(on))).toBe(expectedYear);
      expect(ageUnder("international", ymd(birth), ymd(on))).toBe(expectedInternational);
    },
  );

  const realDate = fc
    .record({
      year: fc.integer({ min: 1900, max: 2100 }),
      month: fc.integer({ min: 1, max: 12 }),
      day: fc.integer({ min: 1, max: 31 }),
    })
    .filter(isRealDate);

  it("internationalAge ≤ yearAge ≤ internationalAge + 1 for any two dates", () => {
    fc.assert(
      fc.property(realDate, realDate, (birth, on) => {
        const international = internationalAge(birth, on);
        const year = yearAge(birth, on);
        expect(international).toBeLessThanOrEqual(year);
        expect(year).toBeLessThanOrEqual(international + 1);
      }),
    );
  });

  it("internationalAge never decreases as the judging date advances", () => {
    fc.assert(
      fc.property(realDate, realDate, realDate, (birth, a, b) => {
        const [earlier, later] =
          a.year * 10000 + a.month * 100 + a.day <= b.year * 10000 + b.month * 100 + b.day ? [a, b] : [b, a];
        expect(internationalAge(birth, earlier)).toBeLessThanOrEqual(internationalAge(birth, later));
      }),
    );
  });
});
