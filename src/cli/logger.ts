import pino from "pino";
import type { LogLevel } from "./config.js";

/**
 * stdout for a long-running process's log, written once per event-loop turn: the lines one turn
 * logs (under load, the completion and access lines of every request the turn finished) leave in
 * one `write` instead of one each, at the end of that turn (`setImmediate`), so a line is never
 * held back longer than the turn that wrote it. A write is a system call, and on this path one per
 * line was ≈ 4 % of the event loop at 50 concurrent completions (bench/lib/why.ts). The lines in
 * hand are written synchronously when the process exits (`exit` also follows an uncaught
 * exception); only a process killed outright (SIGKILL) loses the lines of its last turn.
 * `flush()` writes them now.
 */
export function turnBatchedStdout(): pino.DestinationStream & { flush(): void } {
  // SonicBoom writes synchronously and retries a full pipe (EAGAIN) or a partial write itself.
  const out = pino.destination({ dest: 1, sync: true });
  let pending = "";
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending === "") return;
    const text = pending;
    pending = "";
    out.write(text);
  };
  process.on("exit", flush);
  return {
    write(line: string) {
      pending += line;
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

/** Fields written as {@link CENSOR} wherever they appear at the top of a line's object. */
const CENSORED = new Set([
  "name",
  "phone",
  "birthday",
  "birth",
  "unique_key",
  "unique_in_site",
  "ci",
  "di",
  "token",
]);
/** Fields written as {@link CENSOR} one level down (`person.name`, `card.phone`). */
const CENSORED_NESTED = ["name", "phone"] as const;
const CENSOR = "[redacted]";

/**
 * A line's object with its censored fields replaced, copied only when it holds one (so the caller's
 * object is never changed). pino's own `redact` option did the same through @pinojs/redact, which
 * copies every line's object first: ≈ 9 % of what a completion allocates, and ≈ 3.5 % of the event
 * loop at 20 ms upstream latency and concurrency 10 (bench/lib/why.ts, thirteenth pass).
 */
function censored(fields: Record<string, unknown>): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key in fields) {
    if (CENSORED.has(key)) {
      copy ??= { ...fields };
      copy[key] = CENSOR;
      continue;
    }
    const value = fields[key];
    if (typeof value !== "object" || value === null) continue;
    if (!CENSORED_NESTED.some((nested) => Object.hasOwn(value, nested))) continue;
    const inner: Record<string, unknown> = { ...value };
    for (const nested of CENSORED_NESTED) if (Object.hasOwn(inner, nested)) inner[nested] = CENSOR;
    copy ??= { ...fields };
    copy[key] = inner;
  }
  return copy ?? fields;
}

/**
 * stdout for a one-shot command's log (migrate, purge, keys rotate, …): each line written when it is
 * logged, so the command's summary line, written after them, is its last line (pino's default
 * destination buffers, and its lines came out after the summary).
 */
export function syncStdout(): pino.DestinationStream {
  return pino.destination({ dest: 1, sync: true });
}

/**
 * The process logger: JSON lines on stdout. Call sites pass ids and decisions only; the censored
 * fields are a second line of defence should a personal or secret field ever be passed by mistake.
 * Every line written while an HTTP request is served carries that request's `request_id`: the app
 * and the service write it themselves (a pino `mixin` reading `currentRequestId()` would put every
 * promise of the process through async_hooks: observability/request-context.ts).
 * `level` is LOG_LEVEL's, validated by `loadLogLevel` (cli/config.ts).
 */
export function createLogger(destination?: pino.DestinationStream, level: LogLevel = "info") {
  const logger = pino({ level, base: undefined, formatters: { log: censored } }, destination);
  // A child's fields are written on each of its lines but never pass `formatters.log` (nor pino's
  // `bindings` formatter, which only the root's base fields do): censored here, once per child, as
  // pino's `redact` did. Children inherit this `child`, so theirs are censored too.
  const child = logger.child;
  logger.child = function (this: typeof logger, bindings, options) {
    return child.call(this, censored(bindings), options);
  } as typeof child;
  return logger;
}
