/**
 * Startup failures explain themselves, through the real `certgate` command: one line on stderr
 * naming the variable and its own cause, the password never shown, the stack only with --verbose
 * or LOG_LEVEL=debug.
 */

import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { StartupError } from "../../src/core/errors.js";
import { formatStartupFailure, maskDatabaseUrl } from "../../src/startup-errors.js";
import { PG_URL } from "../integration/harness.js";
import { freePort } from "../reliability/own-postgres.js";
import { runCertgate } from "./run-certgate.js";
import { storeSealedVerification } from "./sealed-verification.js";

const dir = mkdtempSync(join(tmpdir(), "certgate-startup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A password that must never reach stderr, in one line or in a stack. */
const PASSWORD = "hunter2-not-shown";
const pgBase = new URL(PG_URL);
const pgHost = `${pgBase.hostname}:${pgBase.port || "5432"}`;
const random = () => `certgate_${randomBytes(6).toString("hex")}`;

function certgate(args: string[], env: Record<string, string>) {
  return runCertgate(args, { CERTGATE_DATA_DIR: join(dir, "data"), ...env });
}

/** stderr is exactly one `certgate: …` line, without a stack or the password. */
function expectOneLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^certgate: /);
  expect(stderr).not.toContain(PASSWORD);
  return lines[0] ?? "";
}

function expectStack(stderr: string) {
  expect(stderr.split("\n").length).toBeGreaterThan(3);
  expect(stderr).toMatch(/\n\s+at /);
  expect(stderr).toContain("caused by: ");
  expect(stderr).not.toContain(PASSWORD);
}

describe("a bad DATABASE_URL: each its own one-line cause", async () => {
  const refusedPort = await freePort();
  const fileInTheWay = join(dir, "a-file");
  writeFileSync(fileInTheWay, "not a directory\n");
  const notADatabase = join(dir, "notes.txt");
  writeFileSync(notADatabase, "this is not a SQLite database, it is plain text of some length\n".repeat(20));

  const cases: [string, string, RegExp][] = [
    [
      "unknown host",
      `postgres://certgate:${PASSWORD}@nonexistent.invalid:5432/certgate`,
      /^certgate: DATABASE_URL: cannot resolve host nonexistent\.invalid \((ENOTFOUND|EAI_AGAIN)[^)]*\)$/,
    ],
    [
      "refused port",
      `postgres://certgate:${PASSWORD}@127.0.0.1:${refusedPort}/certgate`,
      new RegExp(
        `^certgate: DATABASE_URL: cannot connect to 127\\.0\\.0\\.1:${refusedPort} \\(ECONNREFUSED\\)$`,
      ),
    ],
    (() => {
      const database = random();
      const url = new URL(PG_URL);
      url.pathname = `/${database}`;
      url.password = PASSWORD;
      return [
        "missing database",
        url.toString(),
        new RegExp(
          `^certgate: DATABASE_URL: database "${database}" does not exist on ${pgHost} \\(3D000\\)$`,
        ),
      ] as [string, string, RegExp];
    })(),
    (() => {
      const role = random();
      const url = new URL(PG_URL);
      url.username = role;
      url.password = PASSWORD;
      return [
        "wrong role",
        url.toString(),
        new RegExp(
          `^certgate: DATABASE_URL: login refused for role "${role}" on ${pgHost} \\((28000|28P01)[^)]*\\)$`,
        ),
      ] as [string, string, RegExp];
    })(),
    [
      "SQLite path under a regular file",
      join(fileInTheWay, "certgate.sqlite"),
      /^certgate: DATABASE_URL: cannot create the directory .*a-file for the SQLite file \(EEXIST: [^)]+\)$/,
    ],
    [
      "SQLite path two levels under a regular file",
      join(fileInTheWay, "sub", "certgate.sqlite"),
      /^certgate: DATABASE_URL: cannot create the directory .*a-file\/sub for the SQLite file \(ENOTDIR: [^)]+\)$/,
    ],
    [
      "SQLite file in an unwritable directory",
      "/proc/certgate.sqlite",
      /^certgate: DATABASE_URL: cannot open the SQLite file \/proc\/certgate\.sqlite \(SQLITE_CANTOPEN: [^)]+\)$/,
    ],
    [
      "SQLite path naming a file that is not a database",
      notADatabase,
      /^certgate: DATABASE_URL: .*notes\.txt is not a SQLite database \(SQLITE_NOTADB\)$/,
    ],
    [
      "unparsable postgres URL",
      `postgres://certgate:${PASSWORD}@[::1:5432/db`,
      /^certgate: DATABASE_URL: is not a valid postgres:\/\/ URL$/,
    ],
  ];

  it.each(cases)("%s: migrate exits 1 with one line", async (_name, databaseUrl, expected) => {
    const { status, stderr } = await certgate(["migrate"], { DATABASE_URL: databaseUrl });
    expect(status).toBe(1);
    expect(expectOneLine(stderr)).toMatch(expected);
  });

  it.each([
    ["--verbose", ["migrate", "--verbose"], {}],
    ["LOG_LEVEL=debug", ["migrate"], { LOG_LEVEL: "debug" }],
  ])(
    "%s adds the stack and causes after the same line, still without the password",
    async (_name, args, env) => {
      const databaseUrl = `postgres://certgate:${PASSWORD}@127.0.0.1:${refusedPort}/certgate`;
      const { status, stderr } = await certgate(args, { DATABASE_URL: databaseUrl, ...env });
      expect(status).toBe(1);
      expect(stderr.split("\n")[0]).toBe(
        `certgate: DATABASE_URL: cannot connect to 127.0.0.1:${refusedPort} (ECONNREFUSED)`,
      );
      expectStack(stderr);
      expect(stderr).toContain("ECONNREFUSED");
    },
  );

  it.each([
    ["serve", ["serve"], {}],
    ["purge", ["purge"], {}],
    [
      "keys rotate",
      ["keys", "rotate"],
      {
        CERTGATE_SECRET: "the-new-secret-that-is-long-enough-000",
        CERTGATE_PREVIOUS_SECRETS: "the-old-secret-that-is-long-enough-000",
      },
    ],
  ])("%s explains it the same way", async (_name, args, env) => {
    const databaseUrl = `postgres://certgate:${PASSWORD}@127.0.0.1:${refusedPort}/certgate`;
    const { status, stderr } = await certgate(args, { DATABASE_URL: databaseUrl, ...env });
    expect(status).toBe(1);
    expect(expectOneLine(stderr)).toBe(
      `certgate: DATABASE_URL: cannot connect to 127.0.0.1:${refusedPort} (ECONNREFUSED)`,
    );
  });
});

describe("a failed migration names the migration and the cause", () => {
  it("SQLite", async () => {
    const file = join(dir, "conflict.sqlite");
    const db = new BetterSqlite3(file);
    db.exec("create table webhook_outbox (x integer)");
    db.close();
    const { status, stderr } = await certgate(["migrate"], { DATABASE_URL: file });
    expect(status).toBe(1);
    expect(expectOneLine(stderr)).toMatch(
      /^certgate: DATABASE_URL: migration 0002_webhook_outbox failed: SQLite error on .* \(SQLITE_ERROR: table "?webhook_outbox"? already exists\)$/,
    );
  });

  it("PostgreSQL", async () => {
    const schema = random();
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      await admin.query(`create schema ${schema}; create table ${schema}.webhook_outbox (x integer)`);
      const url = new URL(PG_URL);
      url.searchParams.set("options", `-c search_path=${schema}`);
      const { status, stderr } = await certgate(["migrate"], { DATABASE_URL: url.toString() });
      expect(status).toBe(1);
      expect(expectOneLine(stderr)).toBe(
        `certgate: DATABASE_URL: migration 0002_webhook_outbox failed: PostgreSQL at ${pgHost} refused (42P07: relation "webhook_outbox" already exists)`,
      );
    } finally {
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    }
  });
});

describe("other startup failures name their variable", () => {
  it("PORT: serve on a port another process listens on", async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      const { status, stderr } = await certgate(["serve"], {
        PORT: String(port),
        HOST: "127.0.0.1",
        DATABASE_URL: join(dir, "port.sqlite"),
      });
      expect(status).toBe(1);
      expect(expectOneLine(stderr)).toBe(
        `certgate: PORT: cannot listen on 127.0.0.1:${port} (EADDRINUSE: another process listens there)`,
      );
    } finally {
      server.close();
    }
  });

  it("CERTGATE_DATA_DIR: sandbox serve with a data directory under a regular file", async () => {
    const file = join(dir, "data-file");
    writeFileSync(file, "x");
    const { status, stderr } = await certgate(["serve"], {
      CERTGATE_DATA_DIR: join(file, "data"),
      DATABASE_URL: join(dir, "datadir.sqlite"),
    });
    expect(status).toBe(1);
    expect(expectOneLine(stderr)).toMatch(
      /^certgate: CERTGATE_DATA_DIR: cannot write .*data-file\/data \(ENOTDIR: [^)]+\)$/,
    );
  });

  it("a CERTGATE_ variable certgate does not read: serve exits 1 naming it, a .env's the same", async () => {
    const { status, stderr } = await certgate(["serve"], {
      DATABASE_URL: join(dir, "unknown-variable.sqlite"),
      CERTGATE_DELETE_UPSTREM: "true",
    });
    expect(status).toBe(1);
    expect(expectOneLine(stderr)).toBe(
      "certgate: CERTGATE_DELETE_UPSTREM: is not a variable certgate reads (did you mean CERTGATE_DELETE_UPSTREAM?); correct or remove it",
    );
    const cwd = mkdtempSync(join(dir, "dotenv-"));
    writeFileSync(join(cwd, ".env"), "CERTGATE_RETENTION_DAY=7\n");
    const fromFile = await runCertgate(["migrate"], { DATABASE_URL: join(dir, "dotenv.sqlite") }, { cwd });
    expect(fromFile.status).toBe(1);
    expect(expectOneLine(fromFile.stderr)).toMatch(
      /^certgate: CERTGATE_RETENTION_DAY: .*did you mean CERTGATE_RETENTION_DAYS\?/,
    );
  });

  it(".env: purge in a directory whose .env has a line that is not NAME=value exits 1 naming the line", async () => {
    const cwd = mkdtempSync(join(dir, "dotenv-bad-"));
    writeFileSync(join(cwd, ".env"), "# retention\nCERTGATE_RETENTION_DAYS 7\n");
    const result = await runCertgate(["purge"], { DATABASE_URL: join(dir, "dotenv-bad.sqlite") }, { cwd });
    expect(result.status).toBe(1);
    expect(expectOneLine(result.stderr)).toBe("certgate: .env: line 2 is not NAME=value, a comment or blank");
  });

  it("CERTGATE_SECRET: serve, doctor and keys rotate refuse a database sealed under a secret they lack", async () => {
    const OLD = "the-old-secret-of-this-test-0000000000";
    const NEW = "the-new-secret-of-this-test-1111111111";
    const WRONG = "not-the-old-secret-of-this-test-22222";
    const databaseUrl = join(dir, "changed-secret.sqlite");
    await storeSealedVerification(databaseUrl, OLD, "changed_secret");
    const refusal =
      /^certgate: CERTGATE_SECRET: the database holds identities sealed, or persons hashed, under key [0-9a-f]{12}, which neither CERTGATE_SECRET nor CERTGATE_PREVIOUS_SECRETS derives/;

    // The secret changed without the old one: serve used to start, answer 500 for every stored
    // identity and verify a returning person again under a new account.
    const serve = await certgate(["serve"], { DATABASE_URL: databaseUrl, PORT: "0", CERTGATE_SECRET: NEW });
    expect(serve.status).toBe(1);
    const line = expectOneLine(serve.stderr);
    expect(line).toMatch(refusal);
    for (const secret of [OLD, NEW]) expect(line).not.toContain(secret);
    const doctor = await certgate(["doctor"], { DATABASE_URL: databaseUrl, CERTGATE_SECRET: NEW });
    expect(doctor.status).not.toBe(0);
    expect(doctor.stdout + doctor.stderr).toMatch(
      /CERTGATE_SECRET: the database holds identities sealed, or persons hashed, under key/,
    );
    expect(doctor.stdout).toContain("list it in CERTGATE_PREVIOUS_SECRETS");
    expect(doctor.stdout).not.toContain("correct DATABASE_URL");
    // keys rotate with a previous secret that is not the old one: named, not "unexpected error".
    const rotateWrong = await certgate(["keys", "rotate"], {
      DATABASE_URL: databaseUrl,
      CERTGATE_SECRET: NEW,
      CERTGATE_PREVIOUS_SECRETS: WRONG,
    });
    expect(rotateWrong.status).toBe(1);
    expect(expectOneLine(rotateWrong.stderr)).toMatch(refusal);

    // The old secret among the previous ones: serve's check passes (it starts: killed by the test's
    // timeout would be a hang, so keys rotate stands in for it), and after the rotation the
    // identities read under the new secret (its person's hash still needs the old one: next test).
    const rotate = await certgate(["keys", "rotate"], {
      DATABASE_URL: databaseUrl,
      CERTGATE_SECRET: NEW,
      CERTGATE_PREVIOUS_SECRETS: OLD,
    });
    expect(rotate.status).toBe(0);
    const after = await certgate(["doctor"], {
      DATABASE_URL: databaseUrl,
      CERTGATE_SECRET: NEW,
      CERTGATE_PREVIOUS_SECRETS: OLD,
    });
    expect(after.stdout + after.stderr).not.toMatch(/CERTGATE_SECRET: the database holds/);
    // Commands that decrypt and hash nothing run without the secret, as before.
    expect((await certgate(["purge"], { DATABASE_URL: databaseUrl })).status).toBe(0);
  });

  it("keys forget: after a rotation a person's hash needs the old secret, until forgotten with --yes", async () => {
    const OLD = "the-old-secret-of-this-test-3333333333";
    const NEW = "the-new-secret-of-this-test-4444444444";
    const databaseUrl = join(dir, "forget-persons.sqlite");
    await storeSealedVerification(databaseUrl, OLD, "forget_persons");
    const rotate = await certgate(["keys", "rotate"], {
      DATABASE_URL: databaseUrl,
      CERTGATE_SECRET: NEW,
      CERTGATE_PREVIOUS_SECRETS: OLD,
    });
    expect(rotate.status).toBe(0);
    expect(rotate.stdout).toContain("1 verifications re-encrypted, 1 person hashes still under an old key");
    // The person's hash cannot move (the CI is not stored): the new secret alone is refused, since
    // that person would be matched anew (serve started on it before: one account per person failed).
    const alone = await certgate(["doctor"], { DATABASE_URL: databaseUrl, CERTGATE_SECRET: NEW });
    expect(alone.stdout + alone.stderr).toMatch(/CERTGATE_SECRET: the database holds .* persons hashed/);
    // Letting that person go is a choice made on purpose: without --yes nothing changes.
    const unconfirmed = await certgate(["keys", "forget"], {
      DATABASE_URL: databaseUrl,
      CERTGATE_SECRET: NEW,
    });
    expect(unconfirmed.status).toBe(2);
    expect(unconfirmed.stderr).toContain("give --yes");
    const forget = await certgate(["keys", "forget", "--yes"], {
      DATABASE_URL: databaseUrl,
      CERTGATE_SECRET: NEW,
    });
    expect(forget.status).toBe(0);
    expect(forget.stdout).toMatch(/^certgate keys forget: 1 persons forgotten in \d+ ms$/m);
    const after = await certgate(["doctor"], { DATABASE_URL: databaseUrl, CERTGATE_SECRET: NEW });
    expect(after.stdout + after.stderr).not.toMatch(/CERTGATE_SECRET: the database holds/);
  });

  it("CERTGATE_SECRET in sandbox mode: a database made with another data directory's generated secret", async () => {
    const databaseUrl = join(dir, "sandbox-moved.sqlite");
    await storeSealedVerification(databaseUrl, "a-secret-of-another-data-directory-000", "sandbox_moved");
    const dataDir = join(dir, "fresh-data-dir");
    // No CERTGATE_SECRET: serve generates one into the new data directory, which sealed nothing here.
    const serve = await certgate(["serve"], {
      DATABASE_URL: databaseUrl,
      PORT: "0",
      CERTGATE_DATA_DIR: dataDir,
    });
    expect(serve.status).toBe(1);
    expect(expectOneLine(serve.stderr)).toMatch(
      /^certgate: CERTGATE_SECRET: the database holds identities sealed, or persons hashed, under key [0-9a-f]{12}, which the sandbox secret generated into .*fresh-data-dir\/sandbox-secret does not derive/,
    );
    // doctor reads that generated secret as serve does, and says the same.
    const doctor = await certgate(["doctor"], { DATABASE_URL: databaseUrl, CERTGATE_DATA_DIR: dataDir });
    expect(doctor.status).not.toBe(0);
    expect(doctor.stdout).toMatch(/which the sandbox secret generated into .*does not derive/);
  });

  it("--host: the emulator on a host that does not resolve exits 1 naming the flag", async () => {
    const { status, stderr } = await certgate(["emulator", "--port", "0", "--host", "bad host name"], {});
    expect(status).toBe(1);
    expect(expectOneLine(stderr)).toBe("certgate: --host: cannot listen on bad host name:0 (ENOTFOUND)");
    // A name too long to be one: getaddrinfo's EINVAL, which named --port.
    const long = await certgate(["emulator", "--port", "0", "--host", "a".repeat(300)], {});
    expect(long.status).toBe(1);
    expect(expectOneLine(long.stderr)).toMatch(/^certgate: --host: cannot listen on a{300}:0 \(EINVAL\)$/);
  });

  it("PORTONE_V2_API_URL: lookup when PortOne cannot be reached", async () => {
    const port = await freePort();
    const { status, stderr } = await certgate(["lookup", "identity-verification-1"], {
      PORTONE_V2_API_URL: `http://127.0.0.1:${port}`,
    });
    expect(status).toBe(1);
    expect(expectOneLine(stderr)).toBe(
      `certgate: PORTONE_V2_API_URL: cannot reach http://127.0.0.1:${port} (ECONNREFUSED)`,
    );
  });
});

describe("formatStartupFailure", () => {
  it("an error certgate did not foresee shows only its class, and its stack with --verbose", () => {
    const error = new TypeError(`something odd with ${PASSWORD}`);
    expect(formatStartupFailure(error, { verbose: false, printable: false })).toBe(
      "certgate: unexpected error (TypeError); --verbose shows the stack\n",
    );
    const verbose = formatStartupFailure(error, {
      verbose: true,
      printable: false,
      databaseUrl: `postgres://u:${PASSWORD}@h/db`,
    });
    expect(verbose).toMatch(
      /^certgate: unexpected error \(TypeError\)\nTypeError: something odd with \*\*\*\n\s+at /,
    );
  });

  it("--verbose shows DATABASE_URL with its password masked", () => {
    const error = new StartupError("DATABASE_URL", "cannot connect to h:5432 (ECONNREFUSED)");
    const verbose = formatStartupFailure(error, {
      verbose: true,
      printable: true,
      databaseUrl: `postgres://u:${PASSWORD}@h/db`,
    });
    expect(verbose).toContain("DATABASE_URL is postgres://u:***@h/db\n");
    expect(verbose).not.toContain(PASSWORD);
  });
});

describe("maskDatabaseUrl", () => {
  it.each([
    ["postgres://user:secret@host/db", "postgres://user:***@host/db"],
    [
      "postgresql://user:p%40ss@host:5433/db?sslmode=require",
      "postgresql://user:***@host:5433/db?sslmode=require",
    ],
    ["postgres://user:p@ss@host/db", "postgres://user:***@host/db"],
    ["postgres://user@host/db", "postgres://user@host/db"],
    ["postgres://host/db?user=a@b", "postgres://host/db?user=a@b"],
    ["./data/certgate.sqlite", "./data/certgate.sqlite"],
  ])("%s → %s", (url, masked) => {
    expect(maskDatabaseUrl(url)).toBe(masked);
  });
});
