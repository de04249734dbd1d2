/**
 * Which commands create a SQLite database (src/cli/existing-database.ts), through the real command:
 * serve and migrate create a missing file; purge, keys rotate and webhooks refuse one in one line,
 * exit 1 (a configuration failure), creating nothing; doctor reports it and creates nothing.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCertgate } from "./run-certgate.js";

const dir = mkdtempSync(join(tmpdir(), "certgate-existing-database-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SECRETS = {
  CERTGATE_SECRET: "the-new-secret-of-this-test-1111111111",
  CERTGATE_PREVIOUS_SECRETS: "the-old-secret-of-this-test-0000000000",
};

/** A fresh directory of this test, and a SQLite path two missing directories below it. */
function missingPath(name: string) {
  const root = mkdtempSync(join(dir, `${name}-`));
  return { root, file: join(root, "typo", "nested", "certgate.sqlite") };
}

// Each test spawns the real command through tsx: seconds each on a loaded machine, not 30 s.
describe("a SQLite file that does not exist", { timeout: 120_000 }, () => {
  it.each([
    ["purge", ["purge"], {}],
    ["keys rotate", ["keys", "rotate"], SECRETS],
    ["webhooks list", ["webhooks", "list"], {}],
    ["webhooks replay", ["webhooks", "replay", "--since", "2026-01-01"], {}],
  ])("%s refuses it in one line, exit 1, creating no file or directory", async (command, args, env) => {
    const { root, file } = missingPath(command.replace(" ", "-"));
    const { status, stdout, stderr } = await runCertgate(args, { ...env, DATABASE_URL: file });
    expect(status).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      `certgate: DATABASE_URL: the SQLite file ${file} does not exist, and certgate ${command} creates none (check the path; certgate migrate creates a new database)\n`,
    );
    expect(readdirSync(root)).toEqual([]);
  });

  it("purge --database refuses it the same way (the flag stands for DATABASE_URL)", async () => {
    const { root, file } = missingPath("purge-flag");
    const { status, stderr } = await runCertgate(["purge", "--database", file], {});
    expect(status).toBe(1);
    expect(stderr).toMatch(/^certgate: DATABASE_URL: the SQLite file .* does not exist, and certgate purge/);
    expect(stderr).not.toContain("usage:");
    expect(readdirSync(root)).toEqual([]);
  });

  it("a path through a file is refused too, and the file is left as it was", async () => {
    const root = mkdtempSync(join(dir, "through-file-"));
    writeFileSync(join(root, "plain"), "not a directory");
    const file = join(root, "plain", "certgate.sqlite");
    const { status, stderr } = await runCertgate(["purge"], { DATABASE_URL: file });
    expect(status).toBe(1);
    expect(stderr).toContain(`the SQLite file ${file} does not exist`);
    expect(readdirSync(root)).toEqual(["plain"]);
  });

  it.each([
    ["purge", ["purge"], {}],
    ["keys rotate", ["keys", "rotate"], SECRETS],
    ["webhooks list", ["webhooks", "list"], {}],
  ])(
    "%s refuses an empty (0-byte) file in one line, exit 1, and leaves it empty",
    async (command, args, env) => {
      // SQLite reads it as an empty database: it was migrated in place and the command said "0 …".
      const root = mkdtempSync(join(dir, "empty-"));
      const file = join(root, "certgate.sqlite");
      writeFileSync(file, "");
      const { status, stdout, stderr } = await runCertgate(args, { ...env, DATABASE_URL: file });
      expect({ status, stdout }).toEqual({ status: 1, stdout: "" });
      expect(stderr).toBe(
        `certgate: DATABASE_URL: the SQLite file ${file} is empty, not a certgate database, and certgate ${command} makes none of it (check the path; certgate migrate creates a new database)\n`,
      );
      expect(statSync(file).size).toBe(0);
    },
  );

  it("a mistyped postgres:// URL is refused naming its scheme only, never its password", async () => {
    const { status, stderr } = await runCertgate(["purge"], {
      DATABASE_URL: "postgress://app:hunter2-not-shown@db.invalid/certgate",
    });
    expect(status).toBe(1);
    expect(stderr).toContain(
      'certgate: DATABASE_URL: has the scheme "postgress:", which certgate does not open',
    );
    expect(stderr).not.toContain("hunter2");
    expect(stderr).not.toContain("db.invalid");
  });

  it("migrate creates it, directories included, and then purge works on it", async () => {
    const { file } = missingPath("migrate");
    expect((await runCertgate(["migrate"], { DATABASE_URL: file })).status).toBe(0);
    expect(existsSync(file)).toBe(true);
    const purge = await runCertgate(["purge"], { DATABASE_URL: file });
    expect(purge.status).toBe(0);
    expect(purge.stdout).toContain("0 identities purged");
  });

  it("doctor reports it as one serve will create, and creates nothing", async () => {
    const { root, file } = missingPath("doctor");
    const { stdout } = await runCertgate(["doctor", "--database", file], {});
    expect(stdout).toMatch(/^ok\s+database\s+sqlite .*: does not exist yet; serve will create it$/m);
    expect(readdirSync(root)).toEqual([]);
  });

  it("doctor fails when serve could not create it, with the fix", async () => {
    const root = mkdtempSync(join(dir, "doctor-through-file-"));
    writeFileSync(join(root, "plain"), "not a directory");
    const { status, stdout } = await runCertgate(
      ["doctor", "--database", join(root, "plain", "x.sqlite")],
      {},
    );
    expect(status).toBe(1);
    expect(stdout).toMatch(/^fail\s+database\s+sqlite .*: does not exist, and cannot be created \(/m);
    expect(stdout).toContain("fix: correct the path in DATABASE_URL");
    expect(readdirSync(root)).toEqual(["plain"]);
  });
});
