/**
 * The `certgate` command follows command-line conventions, through the real command: --version,
 * strict flags per command (usage line and exit 2), flags that override the environment, LOG_LEVEL
 * validated like any variable, a summary line (and on a terminal, progress) for long commands.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../reliability/own-postgres.js";
import { runCertgate, startCertgateProcess } from "./run-certgate.js";

const PG_URL = process.env.CERTGATE_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const dir = mkdtempSync(join(tmpdir(), "certgate-conventions-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const version = (JSON.parse(readFileSync("package.json", "utf8")) as { version: string }).version;

// Each test spawns the real command through tsx: seconds each on a loaded machine, not 30 s.
describe("certgate follows command-line conventions", { timeout: 120_000 }, () => {
  it.each([["--version"], ["-v"]])("%s prints the package version", async (flag) => {
    const { status, stdout } = await runCertgate([flag], {});
    expect(status).toBe(0);
    expect(stdout).toBe(`${version}\n`);
  });

  it.each([
    [["emulator", "--bogus"], "certgate: unknown flag --bogus", "usage: certgate emulator [--port N]"],
    [["emulator", "--port"], "certgate: --port needs a value", "usage: certgate emulator [--port N]"],
    [["serve", "--prot", "1"], "certgate: unknown flag --prot", "usage: certgate serve [--port N]"],
    [
      ["migrate", "--database"],
      "certgate: --database needs a value",
      "usage: certgate migrate [--database URL]",
    ],
    [["purge", "extra"], 'certgate: unexpected argument "extra"', "usage: certgate purge"],
    [
      ["purge", "--retention-days", "3650", "--retention-days", "1"],
      "certgate: --retention-days is given more than once",
      "usage: certgate purge",
    ],
    [["migrate", "--database", ""], "certgate: --database needs a value", "usage: certgate migrate"],
    [["migrate", "--database= "], "certgate: --database needs a value", "usage: certgate migrate"],
    [["serve", "--port", ""], "certgate: --port needs a value", "usage: certgate serve"],
    [["lookup"], "certgate: missing <imp_uid|identityVerificationId>", "usage: certgate lookup <imp_uid"],
    [["keys", "spin"], 'certgate: unknown keys subcommand "spin"', "usage: certgate keys rotate"],
    [["--version", "--x"], "certgate: --version takes no arguments", "usage: certgate --version"],
    [["help", "keys", "rotate", "x"], "certgate: help takes a command's name only", "usage: certgate help"],
  ])("%j is a usage error: its line and the usage line on stderr, exit 2", async (args, line, usage) => {
    const { status, stdout, stderr } = await runCertgate(args, { CERTGATE_DATA_DIR: dir });
    expect(status).toBe(2);
    expect(stdout).toBe("");
    const [first, second, ...more] = stderr.trim().split("\n");
    expect(first).toBe(line);
    expect(second?.startsWith(usage)).toBe(true);
    // A group's usage goes on with its other subcommands, one line each (keys rotate, keys forget).
    if (args[0] === "keys") expect(more).toEqual([expect.stringMatching(/^ +certgate keys forget /)]);
    else expect(more).toEqual([]);
    expect(stderr).not.toContain("unexpected error");
  });

  it("help <command> prints that command's help; help of an unknown one is exit 2, not the general help", async () => {
    const serve = await runCertgate(["help", "serve"], {});
    expect([serve.status, serve.stdout.split("\n")[0]?.startsWith("usage: certgate serve")]).toEqual([
      0,
      true,
    ]);
    for (const args of [
      ["help", "--verbose"],
      ["--version", "--verbose"],
      ["help", "serve", "--verbose"],
    ]) {
      expect((await runCertgate(args, {})).status).toBe(0);
    }
    const bogus = await runCertgate(["help", "bogus"], {});
    expect([bogus.status, bogus.stdout, bogus.stderr.trim()]).toEqual([
      2,
      "",
      'certgate: unknown command "bogus" (try: certgate help)',
    ]);
  });

  it.each(["serve", "migrate", "purge", "doctor", "lookup", "keys rotate"])(
    "%s --help lists its flags and the variables they override",
    async (command) => {
      const { status, stdout } = await runCertgate([...command.split(" "), "--help"], {});
      expect(status).toBe(0);
      expect(stdout).toContain(`usage: certgate ${command}`);
      expect(stdout).toContain("--verbose");
      if (command !== "lookup") expect(stdout).toContain("--database URL");
      if (command === "serve") {
        for (const variable of ["PORT", "HOST", "DATABASE_URL", "CERTGATE_DATA_DIR"])
          expect(stdout).toContain(`(overrides ${variable})`);
      }
    },
  );

  it("serve --port and --database win over PORT and DATABASE_URL; the banner names the database", async () => {
    const port = await freePort();
    const database = join(dir, "flag.sqlite");
    const running = await startCertgateProcess(["serve", "--port", String(port), "--database", database], {
      PORT: "1",
      DATABASE_URL: join(dir, "env.sqlite"),
      CERTGATE_DATA_DIR: dir,
    });
    try {
      expect(running.url).toBe(`http://127.0.0.1:${port}`);
      expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
      expect(running.stdout()).toContain(`(embedded PortOne emulator, SQLite ${database})`);
      expect(running.stdout()).not.toContain("./data/");
    } finally {
      await running.stop();
    }
  });

  it("the sandbox banner names a PostgreSQL database with its password masked", async () => {
    const name = `certgate_banner_${process.pid}_${Date.now()}`;
    const admin = new pg.Client(PG_URL);
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(PG_URL);
    url.password = "hunter2-not-shown"; // trust authentication: any password is accepted
    url.pathname = `/${name}`;
    try {
      const running = await startCertgateProcess(["serve", "--port", "0"], {
        DATABASE_URL: url.toString(),
        CERTGATE_DATA_DIR: dir,
      });
      await running.stop();
      expect(running.stdout()).toContain(`(embedded PortOne emulator, PostgreSQL ${url.protocol}//`);
      expect(running.stdout()).toContain(`:***@${url.host}/${name})`);
      expect(running.stdout()).not.toContain("hunter2");
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });

  it("LOG_LEVEL: any case of a pino level works; anything else stops every command, naming it", async () => {
    const database = join(dir, "log-level.sqlite");
    expect((await runCertgate(["migrate"], { DATABASE_URL: database, LOG_LEVEL: "WARN" })).status).toBe(0);
    for (const command of [["migrate"], ["serve"], ["doctor"]]) {
      const { status, stderr } = await runCertgate(command, { DATABASE_URL: database, LOG_LEVEL: "loud" });
      expect(status).toBe(1);
      expect(stderr).toBe(
        "certgate: LOG_LEVEL: must be one of trace, debug, info, warn, error, fatal, silent\n",
      );
    }
  });

  it("migrate, purge and keys rotate end with one summary line when not on a terminal", async () => {
    const database = join(dir, "summary.sqlite");
    const migrate = await runCertgate(["migrate", "--database", database], { LOG_LEVEL: "silent" });
    expect(migrate.stdout).toMatch(
      new RegExp(`^certgate migrate: migrations applied to SQLite ${database} in \\d+ ms\\n$`),
    );
    expect(migrate.stderr).toBe("");
    const purge = await runCertgate(["purge", "--database", database, "--retention-days", "7"], {
      LOG_LEVEL: "silent",
    });
    expect(purge.stdout).toMatch(
      /^certgate purge: 0 identities purged \(retention 7 days\), 0 expired idempotency keys deleted in \d+ ms\n$/,
    );
    const rotate = await runCertgate(["keys", "rotate", "--database", database], {
      LOG_LEVEL: "silent",
      CERTGATE_SECRET: "the-new-secret-of-this-test-1111111111",
      CERTGATE_PREVIOUS_SECRETS: "the-old-secret-of-this-test-0000000000",
    });
    expect(rotate.stdout).toMatch(
      /^certgate keys rotate: 0 verifications re-encrypted, 0 person hashes still under an old key in \d+ ms\n$/,
    );
  });

  it("with their log on, migrate and purge still end with the summary line", async () => {
    const database = join(dir, "summary-last.sqlite");
    for (const args of [
      ["migrate", "--database", database],
      ["purge", "--database", database],
    ]) {
      const { status, stdout } = await runCertgate(args, { LOG_LEVEL: "info" });
      expect(status).toBe(0);
      const lines = stdout.trimEnd().split("\n");
      expect(lines.length).toBeGreaterThan(1); // the log's lines came too
      expect(lines.at(-1)).toMatch(new RegExp(`^certgate ${args[0]}: .* in \\d+ ms$`));
    }
  });

  it("on a terminal, purge shows each step's progress on stderr", async () => {
    const database = join(dir, "tty.sqlite");
    expect((await runCertgate(["migrate", "--database", database], { LOG_LEVEL: "silent" })).status).toBe(0);
    // script(1) gives the command a pseudo-terminal; its output is what the terminal showed.
    const command = `${process.execPath} --import tsx src/cli/main.ts purge --database ${database}`;
    const { stdout } = await promisify(execFile)("script", ["-qec", command, "/dev/null"], {
      env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "silent" },
    });
    expect(stdout).toMatch(/✓ opening the database \(\d+\.\d s\)/);
    expect(stdout).toMatch(/✓ purging identities completed before \S+ \(\d+\.\d s\)/);
    expect(stdout).toMatch(/✓ deleting expired idempotency keys \(\d+\.\d s\)/);
    expect(stdout).toMatch(/certgate purge: 0 identities purged/);
  });
});

describe("certgate lookup in sandbox mode", { timeout: 120_000 }, () => {
  it("asks the running sandbox's embedded emulator, never PortOne's real host", async () => {
    const port = await freePort();
    const running = await startCertgateProcess(["serve", "--port", String(port)], { CERTGATE_DATA_DIR: dir });
    try {
      const created = (await (
        await fetch(`${running.url}/emulator/__admin/certifications`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ persona: "adult" }),
        })
      ).json()) as { imp_uid: string };
      const { status, stdout } = await runCertgate(["lookup", created.imp_uid, "--port", String(port)], {
        CERTGATE_DATA_DIR: dir,
      });
      expect(status).toBe(0);
      expect((JSON.parse(stdout) as { imp_uid: string }).imp_uid).toBe(created.imp_uid);
    } finally {
      await running.stop();
    }
    // No sandbox running: the failure names the local emulator it asked, not api.iamport.kr.
    const down = await runCertgate(["lookup", "imp_000000000000", "--port", String(port)], {
      CERTGATE_DATA_DIR: dir,
    });
    expect(down.status).toBe(1);
    expect(down.stderr).toContain(`http://127.0.0.1:${port}/emulator`);
    expect(down.stderr).not.toContain("iamport");
  });
});
