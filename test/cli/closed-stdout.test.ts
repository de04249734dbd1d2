/**
 * A one-shot command whose stdout reader is gone (`certgate purge | head -1`): the work is done and
 * the command ends with its own status, without Node's "Unhandled 'error' event" stack. It used to
 * exit 1 with that stack after the purge had run, which a cron job reads as a failed purge. Real
 * child processes, their stdout a real pipe closed before they write.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCertgate } from "./run-certgate.js";

const dir = mkdtempSync(join(tmpdir(), "certgate-closed-stdout-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const databaseUrl = join(dir, "certgate.sqlite");

/** `certgate <args>` with its stdout's reader gone before it writes: its status and stderr. */
async function withoutReader(args: string[]): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    env: { PATH: process.env.PATH ?? "", CERTGATE_DATA_DIR: join(dir, "data"), DATABASE_URL: databaseUrl },
  });
  child.stdout.destroy();
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += String(chunk);
  });
  const status = await new Promise<number | null>((resolve) => child.once("close", resolve));
  return { status, stderr };
}

describe("a command whose stdout's reader is gone", () => {
  it.each([["migrate"], ["purge"], ["webhooks", "list"], ["doctor"], ["--help"]])(
    "certgate %s ends with its own status, no stack",
    async (...args) => {
      const expected = (
        await runCertgate(args, { CERTGATE_DATA_DIR: join(dir, "data"), DATABASE_URL: databaseUrl })
      ).status;
      if (args[0] !== "doctor") expect(expected).toBe(0);
      const { status, stderr } = await withoutReader(args);
      expect(stderr).not.toContain("Unhandled 'error' event");
      expect(stderr).not.toContain("EPIPE");
      expect(status).toBe(expected);
    },
  );
});
