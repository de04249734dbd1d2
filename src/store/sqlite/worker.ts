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

const answer = (message: WorkerMessage) => port.postMessage(message);

port.on("message", (request: WorkerRequest) => {
  if (request.method === "close") {
    // Closing ends the thread: nothing is left to keep its event loop alive.
    store.close().finally(() => port.close());
    return;
  }
  const method = store[request.method] as (...args: unknown[]) => Promise<unknown>;
  method(...request.args).then(
    (value) => answer({ id: request.id, ok: true, value }),
    (error: unknown) => answer({ id: request.id, ok: false, error: toWire(error) }),
  );
});
answer({ ready: true });
