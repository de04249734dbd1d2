/**
 * A store worker that dies in the middle of one call: certgate's own worker (worker.ts) serving
 * every call, but exiting right after it ran a completion of upstream id "imp_crash" — committed,
 * its answer never sent. For test/store/sqlite-offload.test.ts.
 */
import { parentPort } from "node:worker_threads";

await import("../../../src/store/sqlite/worker.js");
// After worker.ts's own listener: it has run the call (a completion commits synchronously) when this one runs.
parentPort?.on("message", (request: { method: string; args: unknown[] }) => {
  const input = request.args[0] as { upstreamId?: string } | undefined;
  if (request.method === "completeVerification" && input?.upstreamId === "imp_crash") process.exit(1);
});
