/**
 * A logger whose methods never throw. The merchant's logger is called after a completion commits
 * (the service's "verification completed") and while an error becomes its JSON answer (the HTTP
 * app's handler): a logger that threw there (a broken transport, a `{}` handed in as one) turned a
 * committed verification into a bare 500 with an empty body, and an unknown route into the same.
 * A log line is never worth the answer, so a throw is dropped, and said once, without its fields,
 * as a process warning.
 */

import { loggerOption } from "../core/option-values.js";

type LogMethod = (fields: Record<string, never>, message: string) => void;

/** The wrappers made so far, per logger and levels: one each, so its warning is said once. */
const made = new WeakMap<object, Map<string, unknown>>();

/**
 * `logger`'s `levels`, each calling the original and dropping what it throws. The same logger and
 * levels get the same wrapper (`toErrorResponse` asks for one per call).
 */
export function guardedLogger<L extends { [K in Level]: LogMethod }, Level extends string>(
  logger: L,
  levels: readonly Level[],
): Pick<L, Level> {
  const key = levels.join(",");
  // Not an object (a string handed to toErrorResponse): no cache, and each call's throw is caught.
  const cacheable = typeof logger === "object" && logger !== null;
  const wrappers = (cacheable && made.get(logger)) || new Map<string, unknown>();
  if (cacheable) made.set(logger, wrappers);
  const known = wrappers.get(key);
  if (known !== undefined) return known as Pick<L, Level>;
  let warned = false;
  const guarded = {} as Record<Level, LogMethod>;
  for (const level of levels) {
    const dropped = () => {
      if (warned) return;
      warned = true;
      globalThis.process?.emitWarning?.(
        `certgate: the logger's ${level}() threw; that line and any later one that throws are dropped`,
      );
    };
    guarded[level] = (fields, message) => {
      try {
        const returned: unknown = logger[level](fields, message);
        // An async logger's rejection would be unhandled, which ends a Node process.
        if (typeof (returned as { then?: unknown } | undefined)?.then === "function")
          (returned as Promise<unknown>).then(undefined, dropped);
      } catch {
        dropped();
      }
    };
  }
  wrappers.set(key, guarded);
  return guarded as unknown as Pick<L, Level>;
}

/**
 * An optional logger option: checked to have `levels` (a ConfigError naming `name`), then guarded;
 * undefined when left out.
 */
export function checkedLogger<L extends { [K in Level]: LogMethod }, Level extends string>(
  name: string,
  logger: L | undefined,
  levels: readonly Level[],
): Pick<L, Level> | undefined {
  loggerOption(name, logger, levels);
  return logger === undefined ? undefined : guardedLogger(logger, levels);
}
