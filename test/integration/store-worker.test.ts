/**
 * `certgate serve` on SQLite hands the store's writes to its worker thread while requests overlap
 * (http/load.ts, store/sqlite/offload.ts), and only then. Through the real start-up, a real socket,
 * the emulator with a real upstream latency, and the worker a real thread: completions one at a time
 * never start it; completions that overlap, on an event loop with time to spare, do, and each is
 * answered with its own outcome, stored.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { complete, createVerification, type Harness, startHarness } from "./harness.js";

const WORKER_STARTED = "store worker thread started";

/** Whether the log has the worker's start, waiting up to `ms` for it (the thread starts in the background). */
async function workerStarted(h: Harness, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (h.logs.some((line) => line.includes(WORKER_STARTED))) return true;
    if (Date.now() > until) return false;
    await sleep(20);
  }
}

/** A V1 verification of an adult, its upstream record made; `finish()` is the browser's completion. */
async function prepared(h: Harness) {
  const created = await createVerification(h);
  const record = h.emulator.createCertification({ merchant_uid: created.merchant_uid, persona: "adult" });
  return { id: created.id, finish: () => complete(h, record.imp_uid, created.merchant_uid) };
}

describe("the SQLite store's worker under certgate serve", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("sqlite");
    // Each lookup takes 30 ms of real time, so that completions sent together are in flight together.
    h.emulator.setFault({ route: "getCertification", kind: "latency", latencyMs: 30 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("is not started by completions one at a time", async () => {
    for (let i = 0; i < 4; i++) {
      const v = await prepared(h);
      const res = await v.finish();
      expect(res.status).toBe(200);
      expect((await h.store.getVerification(v.id))?.status).toBe("verified");
    }
    // Long enough for a worker started by the first write to be ready (≈ 0.5–1 s under vitest).
    expect(await workerStarted(h, 2_000)).toBe(false);
  });

  it("takes the writes of completions that overlap, on a loop with time to spare; each gets its own outcome", async () => {
    // Rounds of eight at once: the first overlap starts the worker; writes run on the event loop
    // until it is ready, on the worker after.
    const ids: string[] = [];
    for (let round = 0; round < 3; round++) {
      // Created one at a time: only the completions overlap.
      const batch = [];
      for (let i = 0; i < 8; i++) batch.push(await prepared(h));
      const answers = await Promise.all(batch.map((v) => v.finish()));
      for (const [i, res] of answers.entries()) {
        expect(res.status).toBe(200);
        const body = (await res.json()) as { verification: { id: string; status: string } };
        expect(body.verification).toMatchObject({ id: batch[i]?.id, status: "verified" });
      }
      ids.push(...batch.map((v) => v.id));
    }
    expect(await workerStarted(h, 5_000)).toBe(true);
    for (const id of ids) expect((await h.store.getVerification(id))?.status).toBe("verified");
  });
});
