/** Calendar arithmetic in Asia/Seoul (UTC+9, no daylight saving since 1988). */

const KST_OFFSET_MS = 9 * 60 * 60 * 1000;

/** A calendar date; `month` is 1-12. */
export interface KstDate {
  year: number;
  month: number;
  day: number;
}

/** The Asia/Seoul calendar date at the unix-ms instant `ms`. */
export function kstDateAt(ms: number): KstDate {
  const shifted = new Date(ms + KST_OFFSET_MS);
  return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() };
}

/** "YYYY-MM-DD". */
export function formatDate(date: KstDate): string {
  const pad = (n: number, width: number) => String(n).padStart(width, "0");
  return `${pad(date.year, 4)}-${pad(date.month, 2)}-${pad(date.day, 2)}`;
}

/** Parses "YYYY-MM-DD" into a real calendar date, or `undefined` (e.g. "2003-02-29"). */
export function parseDate(text: string): KstDate | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return undefined;
  const date = { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
  return isRealDate(date) ? date : undefined;
}

/** Whether `date` exists on the calendar (29 February only in leap years). */
export function isRealDate(date: KstDate): boolean {
  const probe = new Date(Date.UTC(date.year, date.month - 1, date.day));
  return (
    probe.getUTCFullYear() === date.year &&
    probe.getUTCMonth() === date.month - 1 &&
    probe.getUTCDate() === date.day
  );
}

/** Unix SECONDS at 00:00 KST of `date`: the legacy V1 `birth` field. */
export function kstMidnightUnixSeconds(date: KstDate): number {
  return (Date.UTC(date.year, date.month - 1, date.day) - KST_OFFSET_MS) / 1000;
}
