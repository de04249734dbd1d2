/**
 * `certgate webhooks list|replay --since`: an RFC 3339 time with its zone, or a bare date (midnight
 * UTC), and nothing else. A time without a zone was read in the machine's zone, and a date that
 * does not exist rolled over (2026-02-31 ran from March 3): the events in between were silently not
 * listed or replayed.
 */
import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/cli/command-table.js";
import { instant } from "../../src/cli/webhooks.js";

describe("--since", () => {
  it.each([
    ["2026-06-15", "2026-06-15T00:00:00.000Z"],
    ["2026-06-15T03:00:00Z", "2026-06-15T03:00:00.000Z"],
    ["2026-06-15t03:00:00z", "2026-06-15T03:00:00.000Z"],
    ["2026-06-15T12:00:00+09:00", "2026-06-15T03:00:00.000Z"],
    ["2026-06-15 03:00Z", "2026-06-15T03:00:00.000Z"],
    ["2026-06-15T03:00:00.123456Z", "2026-06-15T03:00:00.123Z"],
    ["2024-02-29", "2024-02-29T00:00:00.000Z"],
  ])("takes %s as %s", (text, iso) => {
    expect(instant(text).toISOString()).toBe(iso);
  });

  it.each([
    "2026-02-31",
    "2026-02-30T00:00:00Z",
    "2025-02-29",
    "2026-13-01",
    "2026-06-15T03:00",
    "2026-06-15T03:00:00",
    "2026-06-15T24:00:00Z",
    "2026-06-15T03:60:00Z",
    "2026-06-15T03:00:60Z",
    "2026-06-15T03:00:00+24:00",
    "2026-06-15T03:00:00+0900",
    "yesterday",
    "",
  ])("refuses %j", (text) => {
    expect(() => instant(text)).toThrow(UsageError);
  });
});
