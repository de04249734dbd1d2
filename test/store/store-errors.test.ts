/**
 * Which driver errors are database faults (a StoreError, 503) and which are certgate's bugs (left
 * as thrown, 500): the pure rule of src/store/errors.ts, as a table. The errors are shaped as the
 * drivers raise them (pg's DatabaseError carries the SQLSTATE in `code`, Node's socket errors the
 * errno name, better-sqlite3's SqliteError the SQLite code); the real faults are raised against
 * real databases in sqlite-faults.test.ts, reliability/postgres-faults.test.ts and
 * library/express-faults.test.ts.
 */
import { describe, expect, it } from "vitest";
import { StoreError } from "../../src/core/errors.js";
import { toStoreError } from "../../src/store/errors.js";

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

const POSTGRES_ROWS: [string, unknown, string | undefined][] = [
  ["refused port", withCode("connect ECONNREFUSED 127.0.0.1:5433", "ECONNREFUSED"), "unavailable"],
  ["reset connection", withCode("read ECONNRESET", "ECONNRESET"), "unavailable"],
  ["unknown host", withCode("getaddrinfo ENOTFOUND db.internal", "ENOTFOUND"), "unavailable"],
  [
    "terminated backend",
    withCode("terminating connection due to administrator command", "57P01"),
    "unavailable",
  ],
  ["starting up", withCode("the database system is starting up", "57P03"), "unavailable"],
  ["too many connections", withCode("sorry, too many clients already", "53300"), "unavailable"],
  ["connection exception", withCode("connection failure", "08006"), "unavailable"],
  ["disk full", withCode("could not extend file", "53100"), "full"],
  [
    "read-only transaction",
    withCode("cannot execute INSERT in a read-only transaction", "25006"),
    "read_only",
  ],
  ["lock timeout", withCode("canceling statement due to lock timeout", "55P03"), "busy"],
  ["socket closed", new Error("Connection terminated unexpectedly"), "unavailable"],
  [
    "client broken",
    new Error("Client has encountered a connection error and is not queryable"),
    "unavailable",
  ],
  ["pool connect timeout", new Error("timeout exceeded when trying to connect"), "unavailable"],
  [
    "several addresses refused",
    new AggregateError([withCode("connect ECONNREFUSED ::1:5433", "ECONNREFUSED")], "connect failed"),
    "unavailable",
  ],
  // certgate's own mistakes stay unexpected: a 500 is a bug.
  ["unique violation", withCode("duplicate key value violates unique constraint", "23505"), undefined],
  ["syntax error", withCode("syntax error at or near", "42601"), undefined],
  ["undefined table", withCode('relation "verifications" does not exist', "42P01"), undefined],
  ["a plain bug", new TypeError("cannot read properties of undefined"), undefined],
  ["not an error", "text", undefined],
];

const SQLITE_ROWS: [string, unknown, string | undefined][] = [
  ["busy", withCode("database is locked", "SQLITE_BUSY"), "busy"],
  ["busy snapshot", withCode("database is locked", "SQLITE_BUSY_SNAPSHOT"), "busy"],
  ["locked table", withCode("database table is locked", "SQLITE_LOCKED"), "busy"],
  ["read-only", withCode("attempt to write a readonly database", "SQLITE_READONLY"), "read_only"],
  ["moved file", withCode("attempt to write a readonly database", "SQLITE_READONLY_DBMOVED"), "read_only"],
  ["full", withCode("database or disk is full", "SQLITE_FULL"), "full"],
  ["I/O error", withCode("disk I/O error", "SQLITE_IOERR_WRITE"), "unavailable"],
  ["cannot open", withCode("unable to open database file", "SQLITE_CANTOPEN"), "unavailable"],
  ["constraint", withCode("UNIQUE constraint failed", "SQLITE_CONSTRAINT_UNIQUE"), undefined],
  ["sql error", withCode("no such table: verifications", "SQLITE_ERROR"), undefined],
  ["a socket code is not SQLite's", withCode("read ECONNRESET", "ECONNRESET"), undefined],
];

describe.each([
  ["postgres", POSTGRES_ROWS],
  ["sqlite", SQLITE_ROWS],
] as const)("driver errors on %s", (dialect, rows) => {
  const cases = rows.map(([what, error, code]) => ({
    what,
    error,
    code,
    expected: code ?? "left as thrown",
  }));
  it.each(cases)("$what → $expected", ({ error, code }) => {
    const translated = toStoreError(error, dialect);
    expect(translated?.code).toBe(code);
    if (translated) {
      expect(translated).toBeInstanceOf(StoreError);
      expect(translated.cause).toBe(error);
      // The driver's message may name the host, the port or a value: the StoreError's never does.
      expect(translated.message).toMatch(
        /^store (unavailable|busy|read_only|full) \((postgres|sqlite) [\w]+\)$/,
      );
    }
  });
});
