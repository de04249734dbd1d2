/**
 * The rows a PostgreSQL store keeps for its completions (store/context.ts RecentRows): the read
 * that opens one, by bound id, and the locked read's guess. Pending rows only — a finished one holds
 * the identity and is never completed — each taken once, none kept on a runner that does not
 * guess, and no more than the limit.
 */
import type { Selectable } from "kysely";
import { describe, expect, it } from "vitest";
import { recentRows } from "../../src/store/context.js";
import type { VerificationsTable } from "../../src/store/schema.js";

const row = (id: string, status = "pending") =>
  ({ id, bound_id: `mid_${id}`, status }) as Selectable<VerificationsTable>;

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

  it("finds a kept row by its bound id until it is taken or pushed out", () => {
    const recent = recentRows(true, 2);
    recent.remember(row("ver_a"));
    recent.remember(row("ver_b"));
    expect(recent.byBoundId("mid_ver_a")).toEqual(row("ver_a"));
    // Finding is not taking: the completion it opens takes the row.
    expect(recent.byBoundId("mid_ver_a")).toEqual(row("ver_a"));
    recent.take("ver_a");
    expect(recent.byBoundId("mid_ver_a")).toBeUndefined();
    recent.remember(row("ver_c"));
    recent.remember(row("ver_d"));
    expect(recent.byBoundId("mid_ver_b")).toBeUndefined();
    expect(recent.byBoundId("mid_ver_d")).toEqual(row("ver_d"));
  });

  it("forgets a row's bound id when it is read again finished", () => {
    const recent = recentRows(true);
    recent.remember(row("ver_a"));
    recent.remember(row("ver_a", "verified"));
    expect(recent.byBoundId("mid_ver_a")).toBeUndefined();
  });
});
