/**
 * The one place driver errors become {@link StoreError}s: a fault of the database (unreachable, a
 * dropped or terminated connection, a restart, a lock, a read-only or full disk) is told apart from
 * a bug of certgate's (anything else, which stays as thrown and becomes a logged 500).
 *
 * pg reports connection loss partly without codes (`Connection terminated unexpectedly`), so those
 * few are recognised by their fixed message text; every other rule reads a code: a SQLSTATE, a
 * socket `errno` code, or a SQLite result code.
 */
import { StoreError, type StoreErrorCode } from "../core/errors.js";
import type { Store } from "../core/store.js";
import { errorCode } from "../util/error-code.js";
import type { DialectName } from "./dialect.js";

/** Socket and DNS errors: the database host cannot be reached or the connection broke. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * pg's connection errors that carry no code, by their fixed text (pg 8: lib/client.js, pg-pool),
 * named for `driverCode`.
 */
const PG_CONNECTION_MESSAGES: readonly [RegExp, string][] = [
  [/^Connection terminated/, "connection_terminated"],
  [/not queryable/, "connection_not_queryable"],
  [/^timeout exceeded when trying to connect/, "connect_timeout"],
  [/^Query read timeout/, "query_timeout"],
];

/**
 * SQLSTATEs that are faults of the server or its resources (PostgreSQL appendix A), not of the
 * query: class 08 connection exception, 57P01–57P05 operator intervention (terminated backend,
 * crash or admin shutdown, starting up, idle session timeout), 57014 a cancelled query, 53
 * insufficient resources, 28 a login refused and 3D000 a database gone (at runtime: the
 * store is unreachable for this instance until an operator acts), 55P03 a lock timeout, 25006
 * writes refused, 58 system I/O errors.
 */
function postgresCode(sqlState: string): StoreErrorCode | undefined {
  if (sqlState === "53100") return "full";
  if (sqlState === "25006") return "read_only";
  if (sqlState === "55P03") return "busy";
  if (
    sqlState.startsWith("08") ||
    sqlState.startsWith("57P") ||
    sqlState === "57014" ||
    sqlState.startsWith("53") ||
    sqlState.startsWith("28") ||
    sqlState === "3D000" ||
    sqlState.startsWith("58")
  ) {
    return "unavailable";
  }
  return undefined;
}

/** SQLite's primary result codes (the extended ones start with them, e.g. SQLITE_BUSY_SNAPSHOT). */
function sqliteCode(code: string): StoreErrorCode | undefined {
  const primary = /^SQLITE_[A-Z]+/.exec(code)?.[0];
  switch (primary) {
    case "SQLITE_BUSY":
    case "SQLITE_LOCKED":
      return "busy";
    case "SQLITE_READONLY":
      return "read_only";
    case "SQLITE_FULL":
      return "full";
    case "SQLITE_IOERR":
    case "SQLITE_CANTOPEN":
    case "SQLITE_NOLFS":
    case "SQLITE_PROTOCOL":
      return "unavailable";
    default:
      return undefined;
  }
}

/**
 * The {@link StoreError} a driver error stands for, or undefined when it is not a fault of the
 * database (then it is certgate's bug and is rethrown as it was).
 */
export function toStoreError(error: unknown, dialect: DialectName): StoreError | undefined {
  if (error instanceof StoreError) return error;
  if (typeof error !== "object" || error === null) return undefined;
  const code = errorCode(error);
  if (dialect === "sqlite") {
    const mapped = code?.startsWith("SQLITE_") ? sqliteCode(code) : undefined;
    return mapped && new StoreError(mapped, { dialect, driverCode: code, cause: error });
  }
  if (code !== undefined && NETWORK_CODES.has(code)) {
    return new StoreError("unavailable", { dialect, driverCode: code, cause: error });
  }
  if (code !== undefined && /^[0-9A-Z]{5}$/.test(code)) {
    const mapped = postgresCode(code);
    return mapped && new StoreError(mapped, { dialect, driverCode: code, cause: error });
  }
  // Node's connect to a name with several addresses fails with an AggregateError of each attempt.
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const translated = toStoreError(inner, dialect);
      if (translated) {
        return new StoreError(translated.code, { dialect, driverCode: translated.driverCode, cause: error });
      }
    }
    return undefined;
  }
  const message = error instanceof Error ? error.message : "";
  for (const [pattern, name] of PG_CONNECTION_MESSAGES) {
    if (pattern.test(message))
      return new StoreError("unavailable", { dialect, driverCode: name, cause: error });
  }
  // pg-pool wraps a connect timeout around the socket's error.
  if (error instanceof Error && error.cause !== undefined) {
    const translated = toStoreError(error.cause, dialect);
    return (
      translated &&
      new StoreError(translated.code, { dialect, driverCode: translated.driverCode, cause: error })
    );
  }
  return undefined;
}

/** Left as they are: they run at startup and shutdown, where the command reports the driver's own cause. */
const UNTRANSLATED = new Set<string>(["migrate", "close"]);

/**
 * `store` with every query-running method's driver faults thrown as {@link StoreError}s: every
 * method but `migrate` and `close`, so a method added to the Store later is covered too.
 */
export function withStoreErrors(store: Store, dialect: DialectName): Store {
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(store)) {
    if (typeof value !== "function" || UNTRANSLATED.has(name)) {
      wrapped[name] = value;
      continue;
    }
    const method = value as (...args: unknown[]) => Promise<unknown>;
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await method(...args);
      } catch (error) {
        throw toStoreError(error, dialect) ?? error;
      }
    };
  }
  return wrapped as unknown as Store;
}
