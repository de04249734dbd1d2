/**
 * How the SQLite store's worker thread (worker.ts) runs the calls the main thread hands it
 * (offload.ts): one after another, each answered with its value or its error (wire.ts), and the
 * completions that queued up together committed as one batch (group commit, below). Apart from the
 * thread so that it runs, in tests, on a real store and a real MessageChannel in one thread.
 */
import { type MessagePort, receiveMessageOnPort } from "node:worker_threads";
import { StoreError } from "../../core/errors.js";
import type { Store } from "../../core/store.js";
import { toStoreError } from "../errors.js";
import type { SqliteBatch } from "./index.js";
import { toWire, type WorkerMessage, type WorkerMethod, type WorkerRequest } from "./wire.js";

/** A call of a store method (every request but "close"). */
type Call = WorkerRequest & { method: WorkerMethod };

/** The call that is committed in batches: the hot write of a completion. */
const BATCHED = "completeVerification";

/** The most completions one batch commits together. */
export const MAX_BATCH = 64;

export interface CallHandlerOptions {
  /** The port the requests arrive on and the answers leave by. */
  port: MessagePort;
  store: Store;
  batch: SqliteBatch;
  /** The store's connection: whether a transaction is open on it. */
  database: { readonly inTransaction: boolean };
  /**
   * Ends the thread (its connection, with the transaction it could not end, closed by the exit):
   * offload.ts then fails the calls still in hand as `unavailable` and starts another worker.
   */
  end(): void;
}

/**
 * The handler of the port's "message" events. "close" closes the store once every call before it
 * is answered, then the port.
 */
export function createCallHandler(options: CallHandlerOptions): (request: WorkerRequest) => void {
  const { port, store, batch, database } = options;
  /** Answers not yet sent (their call still running): "close" waits for them. */
  const unanswered = new Set<Promise<void>>();

  /**
   * Answers request `id`. A value the structured clone refuses is answered as that error, so that
   * the call fails instead of the thread.
   */
  const answer = (message: WorkerMessage & { id: number }) => {
    try {
      port.postMessage(message);
    } catch (error) {
      port.postMessage({ id: message.id, ok: false, error: toWire(error) });
    }
  };

  const answerWhenSettled = (id: number, result: Promise<unknown>) => {
    const sent = result.then(
      (value) => answer({ id, ok: true, value }),
      (error: unknown) => answer({ id, ok: false, error: toWire(error) }),
    );
    unanswered.add(sent);
    sent.finally(() => unanswered.delete(sent));
  };

  /**
   * Runs the call. Any failure of it — a method the store does not have, one that throws before it
   * returns — is the call's result, never the end of the thread. The call runs at once (a SQLite
   * completion commits, or in a batch reaches its savepoint's RELEASE, before this returns).
   */
  const run = (request: Call): Promise<unknown> => {
    try {
      const method = store[request.method];
      if (typeof method !== "function") throw new TypeError(`store: no method ${String(request.method)}`);
      return (method as (...args: unknown[]) => Promise<unknown>)(...request.args);
    } catch (error) {
      return Promise.reject(error);
    }
  };

  const handle = (request: WorkerRequest) => {
    if (request.method === "close") {
      // Closing ends the thread: nothing is left to keep its event loop alive.
      Promise.allSettled(unanswered)
        .then(() => store.close())
        .finally(() => port.close());
      return;
    }
    answerWhenSettled(request.id, run(request));
  };

  /**
   * Group commit. The completions queued on the port when one arrives (sent while this thread was
   * busy with the last batch) run in ONE transaction, each in a savepoint of its own (index.ts
   * `SqliteBatch`): one BEGIN and one COMMIT for all of them, and the pages they share — the
   * tables' last pages, the indexes' inner pages — written to the WAL once, not once each. None
   * waits for another to arrive: a completion alone in the queue commits alone, at once. Each is
   * answered only after the COMMIT, so an answer still means "committed". A batch that fails as a
   * whole committed none of it: when its BEGIN failed (the lock held past the busy timeout, say),
   * each completion is answered with that fault, as each would have met it; when anything later
   * failed (its COMMIT, a fault that made SQLite roll the transaction back), each runs again on its
   * own, as it would have without batching.
   */
  const handleCompletions = (first: Call) => {
    const requests: Call[] = [first];
    let next: WorkerRequest | undefined;
    while (requests.length < MAX_BATCH) {
      next = receiveMessageOnPort(port)?.message as WorkerRequest | undefined;
      if (next === undefined || next.method !== BATCHED) break;
      requests.push(next);
      next = undefined;
    }
    if (requests.length === 1 || database.inTransaction) {
      for (const request of requests) handle(request);
    } else {
      runBatch(requests);
    }
    if (next !== undefined) handle(next);
  };

  const runBatch = (requests: Call[]) => {
    let results: Promise<unknown>[] | undefined;
    try {
      batch(() => {
        results = requests.map(run);
      });
    } catch (error) {
      // Nothing of the batch is committed: what its calls said is void (and must not be left as
      // an unhandled rejection).
      for (const result of results ?? []) result.catch(() => {});
      if (database.inTransaction) {
        // Not even rolled back: whatever ran next on this connection would join that transaction
        // and be answered without ever being committed.
        for (const request of requests) {
          answer({
            id: request.id,
            ok: false,
            error: toWire(new StoreError("unavailable", { dialect: "sqlite" })),
          });
        }
        options.end();
        return;
      }
      if (results === undefined) {
        const fault = toWire(toStoreError(error, "sqlite") ?? error);
        for (const request of requests) answer({ id: request.id, ok: false, error: fault });
        return;
      }
      results = requests.map(run);
    }
    for (const [i, request] of requests.entries()) {
      answerWhenSettled(request.id, (results as Promise<unknown>[])[i] as Promise<unknown>);
    }
  };

  return (request) => {
    if (request.method === BATCHED) handleCompletions(request);
    else handle(request);
  };
}
