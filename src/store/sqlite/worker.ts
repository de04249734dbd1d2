/**
 * The SQLite store's worker thread (offload.ts): the same store on its own connection to the same
 * file, running the calls the main thread hands it, one after another — completions that queued
 * up together committed as one batch (group commit: `handleCompletions`) — and answering each with
 * its value or its error (wire.ts). Started by offload.ts only; the database is migrated already.
 */
import { parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import { createKeyring } from "../crypto.js";
import { loadBetterSqlite3, sqliteStoreWithBatches } from "./index.js";
import type { WorkerOptions } from "./offload.js";
import { toWire, type WorkerMessage, type WorkerMethod, type WorkerRequest } from "./wire.js";

const port = parentPort;
if (port === null) throw new Error("certgate: the SQLite store worker runs as a worker thread only");
const options = (workerData as { options: WorkerOptions }).options;

const Database = await loadBetterSqlite3();
const database = new Database(options.filename, { fileMustExist: true });
const { store, batch } = sqliteStoreWithBatches(
  database,
  createKeyring(options.keyringOptions),
  options.busyTimeoutMs,
);
if (options.autocheckpointPages !== undefined) {
  database.pragma(`wal_autocheckpoint = ${options.autocheckpointPages}`);
}

/**
 * Answers request `id`. A value the structured clone refuses is answered as that error, so that
 * the call fails instead of the thread.
 */
const answer = (message: WorkerMessage) => {
  try {
    port.postMessage(message);
  } catch (error) {
    if (!("id" in message)) throw error;
    port.postMessage({ id: message.id, ok: false, error: toWire(error) });
  }
};

/**
 * Runs the call. Any failure of it — a method the store does not have, one that throws before it
 * returns — is the call's result, never the end of the thread. The call runs at once (a SQLite
 * completion commits, or in a batch reaches its savepoint's RELEASE, before this returns).
 */
/** A call of a store method (every request but "close"). */
type Call = WorkerRequest & { method: WorkerMethod };

const run = (request: Call): Promise<unknown> => {
  try {
    const method = store[request.method];
    if (typeof method !== "function") throw new TypeError(`store: no method ${String(request.method)}`);
    return (method as (...args: unknown[]) => Promise<unknown>)(...request.args);
  } catch (error) {
    return Promise.reject(error);
  }
};

const answerWhenSettled = (id: number, result: Promise<unknown>) =>
  result.then(
    (value) => answer({ id, ok: true, value }),
    (error: unknown) => answer({ id, ok: false, error: toWire(error) }),
  );

const handle = (request: WorkerRequest) => {
  if (request.method === "close") {
    // Closing ends the thread: nothing is left to keep its event loop alive.
    store.close().finally(() => port.close());
    return;
  }
  answerWhenSettled(request.id, run(request));
};

/** The call that is committed in batches: the hot write of a completion. */
const BATCHED = "completeVerification";
/** The most completions one batch commits together. */
const MAX_BATCH = 64;

/**
 * Group commit. The completions queued on the port when one arrives (sent while this thread was
 * busy with the last batch) run in ONE transaction, each in a savepoint of its own (index.ts
 * `SqliteBatch`): one BEGIN and one COMMIT for all of them, and the pages they share — the tables'
 * last pages, the indexes' inner pages — written to the WAL once, not once each. None waits for
 * another to arrive: a completion alone in the queue commits alone, at once. Each is answered only
 * after the COMMIT, so an answer still means "committed"; if the batch fails as a whole (its COMMIT,
 * a fault that rolls SQLite's transaction back), none of it is committed and each runs again on
 * its own, as it would have without batching.
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
    let results: Promise<unknown>[] = [];
    try {
      batch(() => {
        results = requests.map(run);
      });
    } catch {
      // Nothing of the batch is committed: what the calls said is void (and must not be left as
      // an unhandled rejection); each runs again on its own.
      for (const result of results) result.catch(() => {});
      results = requests.map(run);
    }
    for (const [i, request] of requests.entries()) {
      answerWhenSettled(request.id, results[i] as Promise<unknown>);
    }
  }
  if (next !== undefined) handle(next);
};

port.on("message", (request: WorkerRequest) => {
  if (request.method === BATCHED) handleCompletions(request);
  else handle(request);
});
answer({ ready: true });
