/**
 * The SQLite store's worker thread (offload.ts): the same store on its own connection to the same
 * file, running the calls the main thread hands it, one after another, and answering each with its
 * value or its error (wire.ts). Started by offload.ts only; the database is migrated already.
 */
import { parentPort, workerData } from "node:worker_threads";
import { createKeyring } from "../crypto.js";
import { loadBetterSqlite3, sqliteStoreOn } from "./index.js";
import type { WorkerOptions } from "./offload.js";
import { toWire, type WorkerMessage, type WorkerRequest } from "./wire.js";

const port = parentPort;
if (port === null) throw new Error("certgate: the SQLite store worker runs as a worker thread only");
const options = (workerData as { options: WorkerOptions }).options;

const Database = await loadBetterSqlite3();
const database = new Database(options.filename, { fileMustExist: true });
const store = sqliteStoreOn(database, createKeyring(options.keyringOptions), options.busyTimeoutMs);
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

port.on("message", (request: WorkerRequest) => {
  if (request.method === "close") {
    // Closing ends the thread: nothing is left to keep its event loop alive.
    store.close().finally(() => port.close());
    return;
  }
  // Any failure of the call — a method the store does not have, one that throws before it
  // returns — is the call's answer, never the end of the thread. The call runs at once (a
  // SQLite completion commits before this returns), not a microtask later.
  let result: Promise<unknown>;
  try {
    const method = store[request.method];
    if (typeof method !== "function") throw new TypeError(`store: no method ${String(request.method)}`);
    result = (method as (...args: unknown[]) => Promise<unknown>)(...request.args);
  } catch (error) {
    result = Promise.reject(error);
  }
  result.then(
    (value) => answer({ id: request.id, ok: true, value }),
    (error: unknown) => answer({ id: request.id, ok: false, error: toWire(error) }),
  );
});
answer({ ready: true });
