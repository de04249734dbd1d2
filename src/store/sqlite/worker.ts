/**
 * The SQLite store's worker thread (offload.ts): the same store on its own connection to the same
 * file, running the calls the main thread hands it (calls.ts: one after another, completions that
 * queued up together committed as one batch) and answering each with its value or its error
 * (wire.ts). Started by offload.ts only; the database is migrated already.
 */
import { parentPort, workerData } from "node:worker_threads";
import { createKeyring } from "../crypto.js";
import { createCallHandler } from "./calls.js";
import { loadBetterSqlite3, sqliteStoreWithBatches } from "./index.js";
import type { WorkerOptions } from "./offload.js";
import type { WorkerMessage } from "./wire.js";

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

port.on(
  "message",
  createCallHandler({
    port,
    store,
    batch,
    database,
    end() {
      // Closing the connection rolls back the transaction SQLite could not end.
      try {
        database.close();
      } finally {
        process.exit(1);
      }
    },
  }),
);
port.postMessage({ ready: true } satisfies WorkerMessage);
