/**
 * Another process holding the SQLite write lock (an operator's `certgate purge`, `sqlite3`) does not
 * freeze the thread of a store with a worker (store/sqlite/offload.ts): a write that finds the lock
 * waits on the worker, so timers (every request, `/healthz`) keep running meanwhile, and the write
 * succeeds once the lock is gone. Without a worker the store waits as before (busy_timeout) and
 * fails as `busy` past it. The lock is held by a real second process.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Store } from "../../src/core/store.js";
import { createKeyring } from "../../src/store/crypto.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { makeVerification } from "./fixtures.js";

const keyring = createKeyring({ secret: "sqlite-external-lock-test-secret-00000000" });
const HOLD_MS = 1_500;

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "certgate-external-lock-"));
  file = join(dir, "certgate.db");
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Another process takes the write lock (BEGIN IMMEDIATE), holds it `ms`, then commits and exits. */
async function holdWriteLock(ms: number): Promise<{ released: Promise<void> }> {
  const script = `
    const Database = require("better-sqlite3");
    const db = new Database(process.argv[1]);
    db.exec("BEGIN IMMEDIATE");
    process.stdout.write("locked\\n");
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(process.argv[2]));
    db.exec("COMMIT");
    db.close();`;
  const child = spawn(process.execPath, ["-e", script, file, String(ms)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const released = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`lock holder exited ${code}`)));
  });
  return { released };
}

/** The longest gap between 10 ms ticks while `work` runs: how long the event loop was held. */
async function longestStall<T>(work: () => Promise<T>): Promise<{ result: T; stallMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 10);
  try {
    const result = await work();
    // The gap up to now counts too: a stall right before the work settled has seen no tick yet.
    return { result, stallMs: Math.max(stallMs, performance.now() - last) };
  } finally {
    clearInterval(timer);
  }
}

describe("another process holding the SQLite write lock", () => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it("with a worker: the write waits there, the event loop keeps running, and the write lands", async () => {
    // Not busy: the write would run on this thread, and is handed to the worker only for the lock.
    const opened = await openSqliteStore({ filename: file, keyring, offload: { busy: () => false } });
    store = opened;
    const { released } = await holdWriteLock(HOLD_MS);
    const { result, stallMs } = await longestStall(() => opened.createVerification(makeVerification()));
    await released;
    expect((await opened.getVerification(result.id))?.status).toBe("pending");
    // Held for 1.5 s by the other process; this thread stalled at most a brief wait and a worker start.
    expect(stallMs).toBeLessThan(HOLD_MS / 2);
  });

  it("without a worker: it waits for the lock as before (busy_timeout) and lands", async () => {
    store = await openSqliteStore({ filename: file, keyring });
    const { released } = await holdWriteLock(300);
    const created = await store.createVerification(makeVerification());
    await released;
    expect((await store.getVerification(created.id))?.status).toBe("pending");
  });
});
