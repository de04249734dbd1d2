/**
 * Logs through `certgate serve`'s stdout (cli/logger.ts `turnBatchedStdout`) in the way
 * test/cli/log-output.test.ts asks (argv[2]), counting the writes that reach fd 1 and reporting
 * them on stderr as `writes=N`.
 */
import { createRequire } from "node:module";
import { createLogger, turnBatchedStdout } from "../../../src/cli/logger.js";

// The module object SonicBoom calls into (a namespace import is read-only).
const fs = createRequire(import.meta.url)("node:fs") as typeof import("node:fs");
let writes = 0;
const writeSync = fs.writeSync;
fs.writeSync = ((fd: number, ...rest: unknown[]) => {
  if (fd === 1) writes++;
  return (writeSync as (...a: unknown[]) => number)(fd, ...rest);
}) as typeof fs.writeSync;
process.on("exit", () => process.stderr.write(`writes=${writes}\n`));

const log = createLogger(turnBatchedStdout());
const mode = process.argv[2];

if (mode === "turns") {
  // Three lines in one turn, two in the next: two writes, every line in order.
  for (const n of [1, 2, 3]) log.info({ n }, "first turn");
  setTimeout(() => {
    for (const n of [4, 5]) log.info({ n }, "second turn");
  }, 5);
} else if (mode === "exit") {
  // process.exit in the turn that logged: the line still leaves.
  log.info({ n: 1 }, "before exit");
  process.exit(3);
} else if (mode === "closed") {
  // Stdout's reader gone (EPIPE): logging goes on quietly, the process does not end.
  let n = 0;
  const timer = setInterval(() => {
    log.info({ n: n++ }, "into a closed pipe");
    if (n === 50) {
      clearInterval(timer);
      process.stderr.write("still serving\n");
    }
  }, 5);
} else if (mode === "throw") {
  // An uncaught exception in the turn that logged: the line still leaves.
  log.info({ n: 1 }, "before throw");
  throw new Error("boom");
}
