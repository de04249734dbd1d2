import { describe, expect, it } from "vitest";
import { nextRecoveryCheckAt, nextUpstreamDeletionAt } from "../../src/core/recovery.js";

const T0 = Date.parse("2026-06-15T03:00:00Z");
const at = (seconds: number) => new Date(T0 + seconds * 1000);

describe("nextRecoveryCheckAt (default schedule: 15 s doubling to 2 min, last look 5 s before expiry)", () => {
  it.each([
    // checks made, now (s), expiry (s), next check (s), why
    [1, 15, 900, 30, "after the first check: 15 s"],
    [2, 30, 900, 60, "then 30 s"],
    [3, 60, 900, 120, "then 60 s"],
    [4, 120, 900, 240, "then 2 minutes"],
    [5, 240, 900, 360, "capped at 2 minutes"],
    [40, 600, 900, 720, "a huge count stays capped"],
    [5, 800, 900, 895, "the backoff would pass the last look: the last look, 5 s before expiry"],
    [6, 895, 900, 900, "the last look is behind: the expiry itself (recovery claims it no more)"],
    [1, 15, 60, 30, "a short verification: its backoff fits"],
    [0, 0, 900, 15, "zero checks counts as the first"],
  ])("after %i checks at %i s, expiring at %i s: next at %i s (%s)", (checks, now, expires, next) => {
    expect(nextRecoveryCheckAt({ checks, now: at(now), expiresAt: at(expires) })).toEqual(at(next));
  });
});

describe("nextUpstreamDeletionAt (1 min doubling to 6 h, never dropped)", () => {
  it.each([
    // attempts made, delay (s), why
    [1, 60, "after the first recovery attempt: a minute"],
    [2, 120, "then two"],
    [3, 240, "then four"],
    [9, 15_360, "then on doubling: 256 minutes"],
    [10, 21_600, "capped at 6 hours"],
    [1_000, 21_600, "a huge count stays capped"],
    [0, 60, "zero attempts counts as the first"],
  ])("after %i attempts: next %i s later (%s)", (attempts, delay) => {
    expect(nextUpstreamDeletionAt({ attempts, now: at(100) })).toEqual(at(100 + delay));
  });
});
