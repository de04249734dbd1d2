/**
 * The SQLite store on two threads. better-sqlite3 is synchronous: each statement runs on the thread
 * that calls it. Serving one request at a time, that is the cheapest place — no hop, no copy — but
 * under concurrent requests a completion's transaction (its statements, the COMMIT's WAL writes, the
 * AES-GCM seals) holds the one thread that also parses, answers and calls PortOne for all the
 * others, while the machine's second core idles.
 *
 * So a write goes to a worker thread with its own connection to the same file (worker.ts), started
 * the first time it is needed, while `busy()` says this thread has other work waiting (`certgate
 * serve`: more than one request in flight: http/load.ts);
 * otherwise, and whenever the worker has nothing in hand, it runs here as before. Reads run here
 * always: under WAL a read never waits for the other connection's writes (it reads the last
 * commit), and the hop to the worker and back would cost more than the read. The same store code
 * runs on either side, and SQLite keeps the two connections' transactions apart:
 *
 * - A write runs here only when the worker has no call in hand, so a synchronous transaction
 *   here never waits for the worker's lock (it would block the event loop for the busy timeout).
 * - Every transaction begins IMMEDIATE (sqlite/index.ts): the one that finds the other
 *   connection's lock waits for it instead of failing at its first write with SQLITE_BUSY_SNAPSHOT.
 *   The worker may wait that way for an asynchronous transaction of this thread; waiting there
 *   blocks no one.
 * - A write here that finds the database locked by another process (an operator's `certgate purge`
 *   or `sqlite3`) does not wait for it here: this thread's connection waits only
 *   {@link INLINE_BUSY_TIMEOUT_MS}, then the write goes to the worker, which waits the full busy
 *   timeout where waiting blocks no one. Before, each such write held the event loop for up to 5 s,
 *   every request and `/healthz` with it. Nothing of the refused attempt was written: a write
 *   transaction begins IMMEDIATE, so the lock is refused at its BEGIN.
 * - Nothing is lost to a worker that dies: calls are sent to it only once it is ready (writes run
 *   here while it starts, and for good if it never does); a call it had in hand fails as a
 *   `StoreError` "unavailable" — its transaction committed whole or not at all, and a completion
 *   asked again is answered from what was stored — and the next write offloaded starts a new
 *   worker.
 *
 * The worker gets the keyring's secrets in memory (crypto.ts `keyringOptionsOf`), never through a
 * file or the environment.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { StoreError } from "../../core/errors.js";
import type { Store } from "../../core/store.js";
import type { KeyringOptions } from "../crypto.js";
import { fromWire, type WorkerMessage, type WorkerMethod, type WorkerRequest } from "./wire.js";

/** When a SQLite store hands its work to its worker thread (see the header). */
export interface SqliteOffload {
  /**
   * Whether the thread calling the store has other work than this call: while true, writes run on
   * the worker thread. `certgate serve`: more than one request in flight (http/load.ts).
   */
  busy(): boolean;
  /** Told when a worker is ready, when it exits unexpectedly, and when one could not start (to log them). */
  onWorker?: ((event: WorkerEvent) => void) | undefined;
}

/** What {@link SqliteOffload.onWorker} is told. `code`: the worker's exit code. */
export type WorkerEvent =
  | { type: "ready" }
  | { type: "exited"; code: number }
  | { type: "failed_to_start"; code: number };

/** What the worker thread needs to open the same store on its own connection (worker.ts). */
export interface WorkerOptions {
  filename: string;
  keyringOptions: KeyringOptions;
  busyTimeoutMs: number;
  /** The automatic checkpoint of the worker's connection, when a checkpointer runs (checkpointer.ts). */
  autocheckpointPages: number | undefined;
  /**
   * The worker's module (a file URL) in place of worker.ts: for tests of how a worker that fails is
   * answered (test/store/sqlite-offload.test.ts), with real threads that fail.
   */
  entry?: string | undefined;
}

/**
 * How long a write on the calling thread waits for another connection's lock before it is handed to
 * the worker instead (see the header), in ms: short, since the wait blocks the event loop.
 */
export const INLINE_BUSY_TIMEOUT_MS = 50;

/** `inline` (the store on this thread) with its operations handed to a worker while `busy()`. */
export function offloadingStore(inline: Store, options: WorkerOptions & SqliteOffload): Store {
  const { busy, onWorker, ...workerOptions } = options;
  const tell = (event: WorkerEvent) => {
    try {
      onWorker?.(event);
    } catch {
      // A broken hook must not break the store.
    }
  };
  let worker: StoreWorker | undefined;
  /** Set when a worker could not start at all: everything then runs here. */
  let unavailable = false;
  let closed = false;

  /** The worker, started if there is none (undefined once one could not start, or when closed). */
  const ensureWorker = (): StoreWorker | undefined => {
    if (closed || unavailable) return undefined;
    worker ??= startWorker(workerOptions, {
      ready: () => tell({ type: "ready" }),
      failedToStart: (code) => {
        unavailable = true;
        worker = undefined;
        tell({ type: "failed_to_start", code });
      },
      exited: (code) => {
        worker = undefined;
        tell({ type: "exited", code });
      },
    });
    return worker;
  };

  /** The worker a write goes to now, if any (see the header); starts one when first needed. */
  const workerForWrite = (): StoreWorker | undefined => {
    if (closed || unavailable) return undefined;
    // Calls in hand: the next one queues behind them (this thread must not take the lock meanwhile).
    if (worker !== undefined && !worker.idle()) return worker;
    if (!busy()) return undefined;
    // While it starts, the writes run here as before.
    const started = ensureWorker();
    return started?.ready() ? started : undefined;
  };

  /** A write here; refused by another connection's lock, it goes to the worker (see the header). */
  const inlineWrite = async (method: WorkerMethod, args: unknown[]): Promise<unknown> => {
    try {
      return await (inline[method] as (...a: unknown[]) => Promise<unknown>)(...args);
    } catch (error) {
      if (!(error instanceof StoreError && error.code === "busy")) throw error;
      const target = ensureWorker();
      if (target === undefined || !(await target.whenReady())) throw error;
      return target.call(method, args);
    }
  };

  const route =
    <M extends WorkerMethod>(method: M) =>
    (...args: Parameters<NonNullable<Store[M]>>): ReturnType<NonNullable<Store[M]>> => {
      if (READS.has(method))
        return (inline[method] as (...a: unknown[]) => ReturnType<NonNullable<Store[M]>>)(...args);
      const target = workerForWrite();
      if (target === undefined) return inlineWrite(method, args) as ReturnType<NonNullable<Store[M]>>;
      return target.call(method, args) as ReturnType<NonNullable<Store[M]>>;
    };

  const methods = Object.fromEntries(
    (Object.keys(inline) as (keyof Store)[])
      .filter((name): name is WorkerMethod => !["dialect", "migrate", "close"].includes(name))
      .map((name) => [name, route(name)]),
  );
  return Object.freeze({
    ...inline,
    ...methods,
    async close() {
      closed = true;
      await worker?.close();
      await inline.close();
    },
  } as Store);
}

/** The store's reads: they run on the calling thread whatever its load (see the header). */
const READS: ReadonlySet<WorkerMethod> = new Set<WorkerMethod>([
  "getVerification",
  "findVerificationByBoundId",
  "isAccountBound",
  "listAuditEvents",
  "listWebhookEvents",
  "listExpiredVerifications",
  "webhookBacklog",
  "upstreamDeletionBacklog",
  "unknownSealedKeyId",
  "ping",
]);

interface StoreWorker {
  /** True once its store is open: calls are sent to it only then. */
  ready(): boolean;
  /** Resolves true once it is ready, false if it exits first. */
  whenReady(): Promise<boolean>;
  /** True when no call is in hand: nothing of the worker's holds the database. */
  idle(): boolean;
  call(method: WorkerMethod, args: unknown[]): Promise<unknown>;
  close(): Promise<void>;
}

interface PendingCall {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** How long `close` waits for the worker to close its connection before terminating it, in ms. */
const CLOSE_TIMEOUT_MS = 5_000;

/**
 * Starts the worker; calls are sent once it is ready. If it exits before, `failedToStart` tells the
 * caller to stop offloading; after, `exited` tells it to start a new one when next needed.
 */
function startWorker(
  options: WorkerOptions,
  on: { ready(): void; failedToStart(code: number): void; exited(code: number): void },
): StoreWorker {
  const pending = new Map<number, PendingCall>();
  let nextId = 1;
  let ready = false;
  let closing: Promise<void> | undefined;
  let exitCode: number | undefined;
  let readied: (ready: boolean) => void = () => {};
  const whenReady = new Promise<boolean>((resolve) => {
    readied = resolve;
  });
  const worker = new Worker(BOOTSTRAP, {
    eval: true,
    workerData: { ...workerEntry(options.entry), options },
    // A small nursery: what the worker allocates per call is short-lived, and a young generation
    // sized like the main thread's would add tens of MiB to the process for nothing. The old
    // generation keeps the process's own limit: a lower one would make a large (but valid) record
    // kill the whole process, as V8 does when a worker's external memory passes its heap limit.
    resourceLimits: { maxYoungGenerationSizeMb: 2 },
  });
  // An idle worker never keeps the process alive; one with calls in hand does, as a socket would.
  worker.unref();

  const settle = (id: number) => {
    const call = pending.get(id);
    pending.delete(id);
    // Once closing, the worker stays referenced until it exits (close() waits for that).
    if (pending.size === 0 && closing === undefined) worker.unref();
    return call;
  };
  worker.on("message", (message: WorkerMessage) => {
    if ("ready" in message) {
      ready = true;
      readied(true);
      on.ready();
      return;
    }
    const call = settle(message.id);
    if (call === undefined) return;
    if (message.ok) call.resolve(message.value);
    else call.reject(fromWire(message.error));
  });
  worker.on("error", () => {
    // Answered by "exit", which follows.
  });
  worker.once("exit", (code) => {
    exitCode = code;
    readied(false);
    const calls = [...pending.values()];
    pending.clear();
    for (const call of calls) {
      call.reject(new StoreError("unavailable", { dialect: "sqlite", driverCode: "worker_exited" }));
    }
    if (closing !== undefined) return;
    // Before it was ready it was sent nothing: everything runs here from now on.
    if (ready) on.exited(code);
    else on.failedToStart(code);
  });

  return {
    ready: () => ready && exitCode === undefined,
    whenReady: () => whenReady.then((isReady) => isReady && exitCode === undefined),
    idle: () => pending.size === 0,
    call(method, args) {
      return new Promise((resolve, reject) => {
        const id = nextId++;
        // Arguments the structured clone refuses (a function, say) never reach the worker: the
        // call fails here, and leaves nothing pending.
        worker.postMessage({ id, method, args } satisfies WorkerRequest);
        if (pending.size === 0) worker.ref();
        pending.set(id, { resolve, reject });
      });
    },
    close() {
      closing ??= (async () => {
        if (exitCode !== undefined) return;
        const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
        worker.ref();
        worker.postMessage({ id: 0, method: "close", args: [] } satisfies WorkerRequest);
        const timeout = new Promise<"timeout">((resolve) =>
          setTimeout(resolve, CLOSE_TIMEOUT_MS, "timeout").unref(),
        );
        if ((await Promise.race([exited, timeout])) === "timeout") await worker.terminate();
      })();
      return closing;
    },
  };
}

/**
 * The worker's module — the package's own `store/sqlite-worker.js` (tsup.config.ts), worker.ts when
 * certgate runs from its TypeScript source (its tests), or a test's `entry` — and, for a TypeScript
 * module, tsx's loader to register first.
 */
function workerEntry(entry: string | undefined): { module: string; tsx: string | undefined } {
  const source = import.meta.url.endsWith(".ts");
  const module = entry ?? new URL(source ? "./worker.ts" : "./store/sqlite-worker.js", import.meta.url).href;
  if (!module.endsWith(".ts")) return { module, tsx: undefined };
  // tsx's ESM API, beside the CommonJS one `require` finds (which cannot register the loader from a
  // worker's first script). tsx is a development dependency: only the source runs this.
  const api = createRequire(import.meta.url).resolve("tsx/esm/api");
  return { module, tsx: pathToFileURL(api.replace(/\.cjs$/, ".mjs")).href };
}

/** The worker's first code, as CommonJS: loads the entry (after tsx's loader, from source). */
const BOOTSTRAP = `
const { workerData } = require("node:worker_threads");
(async () => {
  if (workerData.tsx !== undefined) (await import(workerData.tsx)).register();
  await import(workerData.module);
})();
`;
