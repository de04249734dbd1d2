/**
 * The background loop the webhook dispatcher and the recovery job share: one run at a time (a
 * second `runOnce` while one runs joins it), a timer re-armed after each run, and a failed run
 * logged by class and code only and retried on the next tick, so a database or upstream fault
 * never ends the process and the loop resumes by itself when it passes.
 */
import { CertgateError } from "../core/errors.js";
import { MAX_DELAY_MS, wholeNumberOption } from "../core/option-values.js";

/** A certgate error's stable code; foreign errors' messages may echo input, so nothing of theirs. */
export function errorCode(error: unknown): string | undefined {
  return error instanceof CertgateError ? error.code : undefined;
}

export interface BackgroundLoop<T> {
  runOnce(): Promise<T>;
  start(intervalMs: number): void;
  stop(): Promise<void>;
}

export function backgroundLoop<T>(
  run: () => Promise<T>,
  options: {
    logger?: { warn(fields: Record<string, string | undefined>, message: string): void } | undefined;
    /** The log line of a failed run. */
    failure: string;
    /** The delay before the next run (default `intervalMs`), e.g. 0 while a backlog remains. */
    nextDelayMs?: (intervalMs: number) => number;
  },
): BackgroundLoop<T> {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<T> | undefined;
  const runOnce = () => {
    running ??= run().finally(() => {
      running = undefined;
    });
    return running;
  };
  return {
    runOnce,
    start(intervalMs) {
      wholeNumberOption("intervalMs", intervalMs, 1, MAX_DELAY_MS);
      const tick = () => {
        void runOnce()
          .catch((error: unknown) => {
            options.logger?.warn(
              { error: error instanceof Error ? error.name : "unknown", code: errorCode(error) },
              options.failure,
            );
          })
          .finally(() => {
            if (timer !== undefined)
              timer = setTimeout(tick, options.nextDelayMs?.(intervalMs) ?? intervalMs);
          });
      };
      timer = setTimeout(tick, intervalMs);
    },
    async stop() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
  };
}
