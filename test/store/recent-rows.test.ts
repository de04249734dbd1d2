/**
 * The rows a PostgreSQL store keeps as its completions' guesses (store/context.ts RecentRows):
 * pending rows only — a finished one holds the identity and is never completed — each taken once,
 * none kept on a runner that does not guess, and no more than the limit.
 */
import type { Selectable } from "kysely";
import { describe, expect, it } from "vitest";
import { recentRows } from "../../src/store/context.js";
import type { VerificationsTable } from "../../src/store/schema.js";

const row = (id: string, status = "pending") => ({ id, status }) as Selectable<VerificationsTable>;

describe("RecentRows", () => {
  it("keeps a pending row until its completion takes it, once", () => {
    const recent = recentRows(true);
    recent.remember(row("ver_a"));
    expect(recent.take("ver_a")).toEqual(row("ver_a"));
    expect(recent.take("ver_a")).toBeUndefined();
  });

  it("keeps no finished row, and a finished read forgets nothing else", () => {
    const recent = recentRows(true);
    recent.remember(row("ver_a"));
    recent.remember(row("ver_b", "verified"));
    expect(recent.take("ver_b")).toBeUndefined();
    expect(recent.take("ver_a")).toEqual(row("ver_a"));
  });

  it("keeps nothing on a runner that does not guess", () => {
    const recent = recentRows(false);
    recent.remember(row("ver_a"));
    expect(recent.take("ver_a")).toBeUndefined();
  });

  it("drops the oldest read past its limit, and a row read again is the newest", () => {
    const recent = recentRows(true, 2);
    recent.remember(row("ver_a"));
    recent.remember(row("ver_b"));
    recent.remember(row("ver_a"));
    recent.remember(row("ver_c"));
    expect(recent.take("ver_b")).toBeUndefined();
    expect(recent.take("ver_a")).toEqual(row("ver_a"));
    expect(recent.take("ver_c")).toEqual(row("ver_c"));
  });

  it("forgets the pending row it kept when the same verification is read again finished", () => {
    const recent = recentRows(true);
    recent.remember(row("ver_a"));
    recent.remember(row("ver_a", "verified"));
    expect(recent.take("ver_a")).toBeUndefined();
  });
});
