/**
 * http/load.ts: what tells a SQLite store of `certgate serve` to hand its writes to its worker
 * thread. Busy means more than one request in flight, however idle or busy the event loop: requests
 * that overlap are where one's transaction delays the others. Requests are held in flight for real
 * (their promises wait on a gate) while the loop is made busy for real or left idle.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { requestLoad } from "../../src/http/load.js";

/** Keeps the event loop busy for `ms`, yielding every few ms so that timers and I/O still run. */
async function spin(ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    const slice = performance.now() + 5;
    while (performance.now() < slice) {
      // busy
    }
    await nextTurn();
  }
}

/** `count` requests in flight until `release()`; a request that fails is `failing`. */
function inFlight(load: ReturnType<typeof requestLoad>, count: number, failing = false) {
  let release = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const served = Array.from({ length: count }, () =>
    load.track(async () => {
      await gate;
      if (failing) throw new Error("the request failed");
    }),
  );
  return {
    async release() {
      release();
      await Promise.allSettled(served);
    },
  };
}

describe("request load", () => {
  it("is busy while more than one request is in flight, and only then, however idle the loop", async () => {
    const load = requestLoad();
    expect(load.busy()).toBe(false);
    const one = inFlight(load, 1);
    expect(load.busy()).toBe(false);
    const another = inFlight(load, 1);
    // Idle: no spinning. Two requests overlap, and that alone makes it busy.
    expect(load.busy()).toBe(true);
    await another.release();
    expect(load.busy()).toBe(false);
    await one.release();
    expect(load.busy()).toBe(false);
  });

  it("is never busy with one request or none in flight, however busy the loop", async () => {
    const load = requestLoad();
    const one = inFlight(load, 1);
    await spin(300);
    expect(load.busy()).toBe(false);
    await one.release();
    const two = inFlight(load, 2);
    await spin(50);
    expect(load.busy()).toBe(true);
    await two.release();
    expect(load.busy()).toBe(false);
  });

  it("counts a request that failed as served: its failure reaches the caller and it leaves the count", async () => {
    const load = requestLoad();
    await expect(load.track(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    const failing = inFlight(load, 2, true);
    expect(load.busy()).toBe(true);
    await failing.release();
    expect(load.busy()).toBe(false);
  });
});
