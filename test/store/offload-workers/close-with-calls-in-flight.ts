/**
 * A process that hands completions to the SQLite store's worker and, with them still in flight,
 * awaits the store's `close()` and nothing else: it must print "closed" and exit 0 — not end with
 * exit code 13 (a top-level await left unsettled) because nothing kept its event loop alive while
 * the worker closed. Usage: close-with-calls-in-flight.ts DIR. For test/store/sqlite-offload.test.ts.
 */
import { join } from "node:path";
import { createKeyring } from "../../../src/store/crypto.js";
import { openSqliteStore } from "../../../src/store/sqlite/index.js";
import { makeIdentity, makeVerification, NOW, uid, verified } from "../fixtures.js";

const dir = process.argv[2] ?? ".";
let ready = () => {};
const started = new Promise<void>((resolve) => {
  ready = resolve;
});
const store = await openSqliteStore({
  filename: join(dir, "certgate.db"),
  keyring: createKeyring({ secret: "sqlite-offload-test-secret-000000000000" }),
  offload: { busy: () => true, onWorker: (event) => event.type === "ready" && ready() },
});
const pendings = [];
for (let i = 0; i < 200; i++)
  pendings.push(await store.createVerification(makeVerification({ accountRef: uid("acct") })));
await started;
for (const v of pendings) {
  store
    .completeVerification({
      verificationId: v.id,
      upstreamId: uid("imp"),
      decision: verified(makeIdentity()),
      now: NOW,
    })
    .catch(() => {});
}
await store.close();
process.stdout.write("closed\n");
