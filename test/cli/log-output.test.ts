/**
 * `certgate serve`'s log on stdout (cli/logger.ts `turnBatchedStdout`): the lines of one event-loop
 * turn leave in one write, in order, and none is lost when the process exits or throws in the turn
 * that wrote it; a closed stdout (EPIPE) does not end the process. Real child processes, their stdout
 * a real pipe.
 */
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { runTypeScript } from "./run-certgate.js";

const CHILD = "test/cli/log-children/turns.ts";

async function runChild(mode: string) {
  const { status, stdout, stderr } = await runTypeScript(CHILD, [mode], {});
  const lines = stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { n: number; msg: string });
  return { status, lines, writes: Number(/writes=(\d+)/.exec(stderr)?.[1] ?? Number.NaN), stderr };
}

describe("serve's stdout log", () => {
  it("writes the lines of one turn together, in order", async () => {
    const { status, lines, writes } = await runChild("turns");
    expect(status).toBe(0);
    expect(lines.map((l) => [l.n, l.msg])).toEqual([
      [1, "first turn"],
      [2, "first turn"],
      [3, "first turn"],
      [4, "second turn"],
      [5, "second turn"],
    ]);
    expect(writes).toBe(2);
  });

  it("writes the lines in hand when the process exits in the turn that logged them", async () => {
    const { status, lines } = await runChild("exit");
    expect(status).toBe(3);
    expect(lines.map((l) => l.msg)).toEqual(["before exit"]);
  });

  it("goes on when its stdout's reader is gone (EPIPE), without ending the process", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, "closed"], {
      env: { PATH: process.env.PATH ?? "" },
    });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += String(c);
    });
    const status = await new Promise<number | null>((resolve) => child.once("close", resolve));
    expect(status).toBe(0);
    expect(stderr).toContain("still serving");
  });

  it("writes the lines in hand when an uncaught exception ends the process", async () => {
    const { status, lines, stderr } = await runChild("throw");
    expect(status).toBe(1);
    expect(stderr).toContain("boom");
    expect(lines.map((l) => l.msg)).toEqual(["before throw"]);
  });
});
