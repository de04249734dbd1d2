/** The `certgate` command as an operator runs it: exit codes and one clear line on error. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "certgate-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function certgate(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    env: { PATH: process.env.PATH ?? "", DATABASE_URL: join(dir, "cli.sqlite"), ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("certgate command", () => {
  it("help lists the commands", () => {
    const { status, stdout } = certgate(["help"]);
    expect(status).toBe(0);
    for (const command of ["serve", "emulator", "migrate", "purge"])
      expect(stdout).toContain(`certgate ${command}`);
  });

  it("migrate applies the migrations and exits 0, twice", () => {
    expect(certgate(["migrate"]).status).toBe(0);
    const again = certgate(["migrate"]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain("migrations applied");
  });

  it("purge reports how many identities it purged", () => {
    const { status, stdout } = certgate(["purge"]);
    expect(status).toBe(0);
    expect(stdout).toMatch(/"purged":0/);
  });

  it("an unknown command exits 2 with one line", () => {
    const { status, stderr } = certgate(["frobnicate"]);
    expect(status).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
  });

  it("bad configuration exits 1 naming the variable, never its value", () => {
    const { status, stderr } = certgate(["serve"], { PORTONE_API_KEY: "some-real-looking-key-123456" });
    expect(status).toBe(1);
    expect(stderr.trim()).toBe("certgate: CERTGATE_SECRET: is required in production mode");
    expect(stderr).not.toContain("some-real-looking-key");
  });
});
