/**
 * http/load.ts: what tells a SQLite store of `certgate serve` to hand its writes to its worker
 * thread. Busy means two things at once: more than one request in flight, and an event loop that
 * is the bottleneck — from three samples in a row it was busy three quarters of, until one it was
 * busy less than 40 % of. The loop is made busy for real (spinning in slices, so the sampler's timer still runs
 * between them) and left idle for real.
 */
import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { LOAD_SAMPLE_MS, requestLoad } from "../../src/http/load.js";

/**
 * Keeps the event loop busy for `ms`, yielding every few ms so that timers still fire; with
 * `share` < 1, idle (waiting on a timer) for the rest of each 10 ms.
 */
async function spin(ms: number, share = 1): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    const slice = performance.now() + (share < 1 ? 10 * share : 5);
    while (performance.now() < slice) {
      // busy
    }
    if (share < 1) await sleep(10 * (1 - share));
    else await nextTurn();
  }
}

/** `count` requests in flight until `release()`. */
function inFlight(load: ReturnType<typeof requestLoad>, count: number) {
  let release = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const served = Array.from({ length: count }, () => load.track(() => gate));
  return {
    async release() {
      release();
      await Promise.all(served);
    },
  };
}

/** Runs `test` on a fresh load, stopped afterwards whatever happens. */
async function withLoad(test: (load: ReturnType<typeof requestLoad>) => Promise<void>): Promise<void> {
  const load = requestLoad();
  try {
    await test(load);
  } finally {
    load.stop();
  }
}

describe("request load", () => {
  it("turns busy after three samples of a loop busy three quarters of the time, and idle below 40 %", () =>
    withLoad(async (load) => {
      const requests = inFlight(load, 2);
      await sleep(LOAD_SAMPLE_MS * 2.5);
      expect(load.busy()).toBe(false);
      // A burst shorter than three samples is not a bottleneck yet, nor a loop busy half the time.
      await spin(LOAD_SAMPLE_MS * 1.5);
      expect(load.busy()).toBe(false);
      await spin(LOAD_SAMPLE_MS * 5.5, 0.55);
      expect(load.busy()).toBe(false);
      await spin(LOAD_SAMPLE_MS * 5.5);
      expect(load.busy()).toBe(true);
      // Once busy, half the time keeps it so; an idle loop ends it.
      await spin(LOAD_SAMPLE_MS * 5.5, 0.55);
      expect(load.busy()).toBe(true);
      await sleep(LOAD_SAMPLE_MS * 2.5);
      expect(load.busy()).toBe(false);
      await requests.release();
    }));

  it("is never busy with one request or none in flight, however busy the loop", () =>
    withLoad(async (load) => {
      const one = inFlight(load, 1);
      await spin(LOAD_SAMPLE_MS * 5.5);
      expect(load.busy()).toBe(false);
      await one.release();
      const two = inFlight(load, 2);
      await spin(LOAD_SAMPLE_MS * 5.5);
      expect(load.busy()).toBe(true);
      await two.release();
      expect(load.busy()).toBe(false);
    }));
});
