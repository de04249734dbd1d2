/** Runs the real `certgate` command (from source, through tsx) as a child process. */
import { spawn } from "node:child_process";

export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Spawns `certgate <args>` with only PATH and `env` in its environment, and resolves when it has
 * exited and its output is closed. Asynchronous, so a socket of the test process (a busy PORT, an
 * emulator) keeps answering meanwhile.
 */
export function runCertgate(args: string[], env: Record<string, string>): Promise<CommandResult> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => {
    stdout += String(c);
  });
  child.stderr.on("data", (c: Buffer) => {
    stderr += String(c);
  });
  return new Promise((resolve) => {
    child.once("close", (status) => resolve({ status, stdout, stderr }));
  });
}
