/**
 * Calendar dates in Asia/Seoul, computed by plain arithmetic.
 *
 * Korea's legal "today" is the Asia/Seoul date (UTC+9; no daylight saving since 1988), whatever the
 * server's time zone. Everything here is offset arithmetic on epoch milliseconds and day numbers: no
 * local-time `Date` getters, no `Date.UTC` (which maps years 0-99 to 1900-1999), no `Intl`, so the
 * result cannot depend on the host's TZ or ICU data.
 */

/**
 * A date on the proleptic Gregorian calendar, with no time and no zone. `month` is 1-12, `day` 1-31.
 *
 * A plain object (not a branded "YYYY-MM-DD" string) so age rules compare numbers; use
 * {@link formatCalendarDate} / {@link parseBirthday} to cross a text edge. Values produced by this
 * module are always real dates (no 30 February).
 */
export interface CalendarDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

const MS_PER_DAY = 86_400_000;
/** Asia/Seoul is UTC+9. It kept daylight saving in 1987-1988 only; see {@link birthDateFromLegacyBirth}. */
const SEOUL_OFFSET_MS = 9 * 60 * 60 * 1000;

/**
 * The calendar date in Asia/Seoul at `instant`.
 *
 * @throws RangeError when `instant` is an invalid Date (a programming fault, not an input to judge).
 * @example seoulDate(new Date("2025-12-31T15:30:00Z")) // { year: 2026, month: 1, day: 1 } (00:30 KST)
 */
export function seoulDate(instant: Date): CalendarDate {
  const ms = instant.getTime();
  if (!Number.isFinite(ms)) throw new RangeError("seoulDate: invalid Date");
  return dateFromDayNumber(Math.floor((ms + SEOUL_OFFSET_MS) / MS_PER_DAY));
}

/**
 * Parses a strict "YYYY-MM-DD" (PortOne V1 `birthday`, V2 `birthDate`) into a real calendar date.
 *
 * Exactly four digits, two, two, separated by "-"; year 0001-9999; the day must exist in that month.
 * Returns `undefined` for anything else: "2023-02-29", "1990-13-01", "19900101", "1990-1-1",
 * " 1990-01-01", "1990-01-01T00:00:00Z".
 */
export function parseBirthday(text: string): CalendarDate | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return undefined;
  const date = { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
  return isRealDate(date) ? date : undefined;
}

/**
 * The birth date encoded by PortOne V1's legacy `birth` field (unix SECONDS at 00:00 KST of the birthday).
 *
 * The instant is read in Asia/Seoul and rounded to the NEAREST Seoul midnight rather than truncated:
 * a producer that applied Korea's historical offsets (UTC+10 in the 1987-1988 summers, UTC+8:30 in
 * 1954-1961) puts "midnight" up to an hour before 00:00 UTC+9, which truncation would push to the
 * previous day. An exact 00:00 KST value (the documented form, e.g. 15:00 UTC the day before) is
 * unaffected. Returns `undefined` for a non-finite or out-of-range number.
 */
export function birthDateFromLegacyBirth(unixSeconds: number): CalendarDate | undefined {
  if (!Number.isFinite(unixSeconds)) return undefined;
  const seoulMs = unixSeconds * 1000 + SEOUL_OFFSET_MS;
  const date = dateFromDayNumber(Math.floor((seoulMs + MS_PER_DAY / 2) / MS_PER_DAY));
  return date.year >= 1 && date.year <= 9999 ? date : undefined;
}

/** Unix seconds at 00:00 Asia/Seoul (UTC+9) of `date`: the inverse of {@link birthDateFromLegacyBirth}. */
export function seoulMidnightUnixSeconds(date: CalendarDate): number {
  return (dayNumberOf(date) * MS_PER_DAY - SEOUL_OFFSET_MS) / 1000;
}

/** "YYYY-MM-DD" (the format {@link parseBirthday} accepts). */
export function formatCalendarDate(date: CalendarDate): string {
  const pad = (n: number, width: number) => String(n).padStart(width, "0");
  return `${pad(date.year, 4)}-${pad(date.month, 2)}-${pad(date.day, 2)}`;
}

/** Negative when `a` is before `b`, zero when equal, positive when after. */
export function compareCalendarDates(a: CalendarDate, b: CalendarDate): number {
  return a.year - b.year || a.month - b.month || a.day - b.day;
}

/** Whether `year` has a 29 February (Gregorian rule). */
export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Whether `date` exists on the calendar: integer parts, year 1-9999, 29 February only in leap years. */
export function isRealDate(date: CalendarDate): boolean {
  const { year, month, day } = date;
  if (!Number.isInteger(year) || !Number.isInteger(month) || !Number.isInteger(day)) return false;
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1) return false;
  return day <= daysInMonth(year, month);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

// Days since 1970-01-01 ↔ civil date; Howard Hinnant's algorithms (exact for the whole proleptic calendar).
function dayNumberOf({ year, month, day }: CalendarDate): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const shiftedMonth = (month + 9) % 12; // March = 0
  const dayOfYear = Math.floor((153 * shiftedMonth + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

function dateFromDayNumber(dayNumber: number): CalendarDate {
  const z = dayNumber + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return { year, month, day };
}
