/**
 * The two legal ways of counting age in Korea. Both take calendar dates, never timestamps: the
 * "on" date is the Asia/Seoul date of the moment being judged (see {@link seoulDate}).
 */
import type { CalendarDate } from "./calendar.js";

/**
 * - `"year"`: 연 나이, Youth Protection Act (청소년보호법): `on.year - birth.year`, birthday ignored.
 *   The rule for alcohol, tobacco and adult content; 19 by year age is the common adult default.
 * - `"international"`: 만 나이, Civil Act art. 158 (default for legal ages since 2023-06-28): full years.
 *
 * @example
 * import type { AgeRule } from "certgate";
 * const rule: AgeRule = "year"; // 연 나이, the Youth Protection Act's rule for adult content
 */
export type AgeRule = "year" | "international";

/** The closed list of {@link AgeRule}s, for parsing at the edges. */
export const AGE_RULES = ["year", "international"] as const satisfies readonly AgeRule[];

/**
 * Year age (연 나이): `on.year - birth.year`. On 2026-01-01 everyone born in 2007 is 19.
 * Negative when `on` precedes the birth year.
 */
export function yearAge(birth: CalendarDate, on: CalendarDate): number {
  return on.year - birth.year;
}

/**
 * International age (만 나이): completed years since `birth` on the date `on`.
 *
 * The birthday counts from its own day. Someone born on 29 February has no birthday in a non-leap
 * year and becomes a year older on 1 March (on 28 February they are not yet): comparing (month, day)
 * pairs gives exactly that, since (2, 28) < (2, 29) < (3, 1).
 */
export function internationalAge(birth: CalendarDate, on: CalendarDate): number {
  const beforeBirthday = on.month < birth.month || (on.month === birth.month && on.day < birth.day);
  return on.year - birth.year - (beforeBirthday ? 1 : 0);
}

/** The age of `birth` on `on` under `rule`. */
export function ageUnder(rule: AgeRule, birth: CalendarDate, on: CalendarDate): number {
  return rule === "year" ? yearAge(birth, on) : internationalAge(birth, on);
}
