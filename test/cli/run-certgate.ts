/** Runs the real `certgate` command (from source, through tsx) as a child process. */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

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
export function runCertgate(
  args: string[],
  env: Record<string, string>,
  options: { cwd?: string } = {},
): Promise<CommandResult> {
  return runTypeScript("src/cli/main.ts", args, env, options);
}

/**
 * {@link runCertgate} for any TypeScript file of the repository (a test's child process); in the
 * repository's directory unless `options.cwd` says another (where a `.env` may be).
 */
export function runTypeScript(
  file: string,
  args: string[],
  env: Record<string, string>,
  options: { cwd?: string } = {},
): Promise<CommandResult> {
  const repo = fileURLToPath(new URL("../../", import.meta.url));
  // tsx by its file: `--import tsx` resolves from the working directory, which may be elsewhere.
  const tsx = new URL("../../node_modules/tsx/dist/loader.mjs", import.meta.url).href;
  const child = spawn(process.execPath, ["--import", tsx, join(repo, file), ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    cwd: options.cwd ?? repo,
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

/** A `certgate serve` (or `emulator`) child, once it printed its URL. */
export interface RunningCertgate {
  url: string;
  /** Everything it wrote on stdout so far (the banner). */
  stdout(): string;
  stop(): Promise<void>;
}

/**
 * Spawns `certgate <args>` (a serving command) with only PATH and `env`, and resolves once stdout
 * shows a URL matching `ready` (first group: the URL).
 */
export function startCertgateProcess(
  args: string[],
  env: Record<string, string>,
  ready: RegExp = /SANDBOX mode at (http:\/\/\S+)/,
): Promise<RunningCertgate> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    child.stderr.on("data", (c: Buffer) => {
      err += String(c);
    });
    child.stdout.on("data", (c: Buffer) => {
      out += String(c);
      const url = ready.exec(out)?.[1];
      if (url)
        resolve({
          url,
          stdout: () => out,
          async stop() {
            child.kill("SIGTERM");
            await exited;
          },
        });
    });
    child.once("exit", (code) => reject(new Error(`certgate ${args[0]} exited (${code}): ${err}`)));
  });
}
