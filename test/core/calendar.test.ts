import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  birthDateFromLegacyBirth,
  compareCalendarDates,
  formatCalendarDate,
  isRealDate,
  parseBirthday,
  seoulDate,
  seoulMidnightUnixSeconds,
} from "../../src/core/calendar.js";
import { ymd } from "./fixtures.js";

describe("seoulDate: the calendar date in Asia/Seoul, whatever the server's time zone", () => {
  it.each([
    ["2025-12-31T14:59:59.999Z", "2025-12-31", "23:59:59.999 KST, the last instant of the year"],
    ["2025-12-31T15:00:00.000Z", "2026-01-01", "00:00 KST on 1 January"],
    ["2025-12-31T15:30:00.000Z", "2026-01-01", "00:30 KST on 1 January while UTC is still 31 December"],
    ["2026-01-01T00:00:00.000Z", "2026-01-01", "09:00 KST"],
    ["2024-02-28T15:00:00.000Z", "2024-02-29", "a leap day"],
    ["2023-02-28T15:00:00.000Z", "2023-03-01", "the day after 28 February in a non-leap year"],
    ["1969-12-31T15:00:00.000Z", "1970-01-01", "before the epoch (negative milliseconds)"],
    ["1900-02-28T15:00:00.000Z", "1900-03-01", "1900 is not a leap year"],
  ])("%s is %s (%s)", (instant, expected) => {
    expect(formatCalendarDate(seoulDate(new Date(instant)))).toBe(expected);
  });

  it("refuses an invalid Date", () => {
    expect(() => seoulDate(new Date(Number.NaN))).toThrow(RangeError);
  });

  it("agrees with Intl's Asia/Seoul calendar for any instant since 1989", () => {
    const seoul = new Intl.DateTimeFormat("en-CA", {
      timeZone: "Asia/Seoul",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    });
    fc.assert(
      fc.property(
        fc.date({
          min: new Date("1989-01-01T00:00:00Z"),
          max: new Date("2200-01-01T00:00:00Z"),
          noInvalidDate: true,
        }),
        (instant) => {
          expect(formatCalendarDate(seoulDate(instant))).toBe(seoul.format(instant));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("parseBirthday: strict YYYY-MM-DD of a real date", () => {
  it.each([
    ["1990-01-01", "1990-01-01"],
    ["2024-02-29", "2024-02-29"],
    ["2000-02-29", "2000-02-29"],
    ["1999-12-31", "1999-12-31"],
    ["0001-01-01", "0001-01-01"],
  ])("accepts %s", (text, expected) => {
    const date = parseBirthday(text);
    expect(date && formatCalendarDate(date)).toBe(expected);
  });

  it.each([
    ["2023-02-29", "29 February in a non-leap year"],
    ["1900-02-29", "29 February in a century non-leap year"],
    ["1990-13-01", "month 13"],
    ["1990-00-10", "month 0"],
    ["1990-04-31", "31 April"],
    ["1990-01-00", "day 0"],
    ["0000-01-01", "year 0"],
    ["19900101", "no separators"],
    ["1990/01/01", "slashes"],
    ["1990-1-1", "unpadded"],
    [" 1990-01-01", "leading space"],
    ["1990-01-01\n", "trailing newline"],
    ["1990-01-01T00:00:00Z", "a timestamp"],
    ["+01990-01-01", "an expanded year"],
    ["１９９０-01-01", "full-width digits"],
    ["", "empty"],
  ])("rejects %j (%s)", (text) => {
    expect(parseBirthday(text)).toBeUndefined();
  });

  it("round-trips every real date through formatCalendarDate", () => {
    fc.assert(
      fc.property(
        fc.record({
          year: fc.integer({ min: 1, max: 9999 }),
          month: fc.integer({ min: 1, max: 12 }),
          day: fc.integer({ min: 1, max: 31 }),
        }),
        (date) => {
          const parsed = parseBirthday(formatCalendarDate(date));
          if (isRealDate(date)) expect(parsed).toEqual(date);
          else expect(parsed).toBeUndefined();
        },
      ),
    );
  });
});

describe("birthDateFromLegacyBirth: V1 `birth` (unix seconds at 00:00 KST) read in Asia/Seoul", () => {
  it.each([
    [Date.parse("1990-04-30T15:00:00Z") / 1000, "1990-05-01", "00:00 KST is 15:00 UTC the day before"],
    [
      Date.parse("2007-12-31T15:00:00Z") / 1000,
      "2008-01-01",
      "00:00 KST on 1 January is still the old year in UTC",
    ],
    [Date.parse("2004-02-28T15:00:00Z") / 1000, "2004-02-29", "a leap-day birthday"],
    [Date.parse("1960-06-30T15:00:00Z") / 1000, "1960-07-01", "before the epoch"],
    // A producer applying 1987's daylight saving (UTC+10) wrote 00:00 KDT = 14:00 UTC: still that day.
    [Date.parse("1987-07-14T14:00:00Z") / 1000, "1987-07-15", "midnight under historical daylight saving"],
  ])("%d is %s (%s)", (seconds, expected) => {
    const date = birthDateFromLegacyBirth(seconds);
    expect(date && formatCalendarDate(date)).toBe(expected);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, 1e15])("rejects %d", (seconds) => {
    expect(birthDateFromLegacyBirth(seconds)).toBeUndefined();
  });

  it("inverts seoulMidnightUnixSeconds for every date", () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date("1900-01-01T00:00:00Z"),
          max: new Date("2100-01-01T00:00:00Z"),
          noInvalidDate: true,
        }),
        (instant) => {
          const date = seoulDate(instant);
          expect(birthDateFromLegacyBirth(seoulMidnightUnixSeconds(date))).toEqual(date);
        },
      ),
    );
  });
});

describe("compareCalendarDates", () => {
  it.each([
    ["2026-01-01", "2025-12-31", 1],
    ["2026-02-28", "2026-03-01", -1],
    ["2026-03-01", "2026-03-01", 0],
  ])("%s vs %s → %i", (a, b, sign) => {
    expect(Math.sign(compareCalendarDates(ymd(a), ymd(b)))).toBe(sign);
  });
});
