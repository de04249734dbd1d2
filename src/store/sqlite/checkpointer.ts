/**
 * WAL checkpoints off the event loop. A checkpoint copies the pages the WAL holds back into the
 * database file and, under `synchronous = NORMAL`, fsyncs both files: left to SQLite's automatic
 * checkpoint it runs inside the COMMIT that crosses the threshold, on the one thread that answers
 * every request, which then waits for the disk (milliseconds every few dozen completions: the tail
 * of a completion's latency).
 *
 * Here a worker thread with its own connection runs a PASSIVE checkpoint every
 * {@link CHECKPOINT_INTERVAL_MS}: PASSIVE never blocks the writer nor waits for it, and SQLite
 * restarts the WAL from its beginning at the next write after a complete one, as it would after its
 * own. The store's connection keeps an automatic checkpoint at {@link FALLBACK_AUTOCHECKPOINT_PAGES}
 * as a backstop, so a worker that died or fell behind costs latency again, never an unbounded WAL.
 * Durability is unchanged: a commit is in the WAL before it is answered; a checkpoint only moves it.
 *
 * Under a steady stream of commits (more than a few dozen a second) a PASSIVE checkpoint is never
 * complete — commits land while it runs — so the WAL restarts only through the writer's own
 * automatic checkpoint at the backstop: it copies what the worker has not (little) and fsyncs the
 * WAL and the database, ≈ 20 ms on this machine's disk, during which the writer answers nothing.
 * The backstop is therefore far away: at 1,900 completions a second (≈ 22,000 pages) 10,000 pages
 * meant such a pause twice a second, 100,000 pages one every ≈ 4.5 s (benchmark A/B: completion
 * p99 0.77–0.94×). The price is disk: under such load the WAL grows to ≈ 400 MiB and keeps that
 * size (SQLite reuses the file from its beginning rather than shrinking it).
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** How often the worker checkpoints, in ms. */
export const CHECKPOINT_INTERVAL_MS = 200;

/**
 * The store connections' own automatic checkpoint while the worker runs (pages of 4 KiB; SQLite's
 * default is 1000): see the header for why it is this far.
 */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 100_000;

/** The worker, as CommonJS source: it needs no file of its own in the package. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.module);
const db = new Database(workerData.filename, { fileMustExist: true });
db.pragma("synchronous = NORMAL");
const checkpoint = () => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch {
    // Busy, read-only, full or gone: the store's connection answers for those; try again later.
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.once("message", () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  /** Stops the worker after one last checkpoint; resolves when it has exited. */
  stop(): Promise<void>;
}

/**
 * Starts checkpointing `filename` (a WAL database that exists) off the event loop; undefined when
 * no worker can be started here, in which case SQLite's automatic checkpoint stays in charge.
 */
export function startCheckpointer(filename: string): Checkpointer | undefined {
  let worker: Worker;
  try {
    const module = createRequire(import.meta.url).resolve("better-sqlite3");
    worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { filename, module, intervalMs: CHECKPOINT_INTERVAL_MS },
      // Its own small heap: it holds one connection and a timer.
      resourceLimits: { maxOldGenerationSizeMb: 16 },
    });
  } catch {
    return undefined;
  }
  // Never keeps the process alive, and never takes it down: the backstop checkpoint remains.
  worker.unref();
  worker.on("error", () => {});
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        // Referenced again while it stops: the caller is awaiting its exit, which alone must keep
        // the process alive (a CLI command closing its store is the last thing it does).
        worker.ref();
        worker.postMessage("stop");
        const timeout = new Promise<"timeout">((resolve) => setTimeout(resolve, 2_000, "timeout").unref());
        if ((await Promise.race([exited, timeout])) === "timeout") await worker.terminate();
      })();
      return stopping;
    },
  };
}
