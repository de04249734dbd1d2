/**
 * Child processes of the benchmark: each server and the emulator runs in its own `node` process, so
 * its CPU time and peak RSS are its own and the load generator never shares its event loop.
 *
 * - stdout and stderr go to a log file (never the terminal, never a pipe that must be drained);
 *   readiness is the JSON line a process logs once it listens, found by polling that file.
 * - Every child is tracked; `killAllChildren` (run on exit, SIGINT and SIGTERM by run.ts) SIGKILLs
 *   those still alive, by pid, so a failed or interrupted run leaves nothing behind.
 * - CPU time and peak RSS come from /proc/<pid>/stat and /proc/<pid>/status (Linux only).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";

const live = new Set<ChildProcess>();

export interface StartedProcess {
  child: ChildProcess;
  pid: number;
  /** The parsed JSON line that announced readiness. */
  ready: Record<string, unknown>;
  logFile: string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  /** Arguments after `node`. */
  args: string[];
  env: Record<string, string>;
  cwd: string;
  logFile: string;
  /** A line of the log containing this text (a JSON object) means the process is ready. */
  readyText: string;
  timeoutMs?: number;
  /** A command that runs node, as `valgrind --tool=callgrind …` does (bench/instructions.ts). */
  wrapper?: string[] | undefined;
}

/** Spawns `node …args`, waits until its log shows `readyText`, and returns it. */
export async function startProcess(options: StartOptions): Promise<StartedProcess> {
  const fd = openSync(options.logFile, "a");
  let child: ChildProcess;
  try {
    const [command, ...prefix] = [...(options.wrapper ?? []), process.execPath];
    child = spawn(command ?? process.execPath, [...prefix, ...options.args], {
      cwd: options.cwd,
      env: options.env,
      stdio: ["ignore", fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  live.add(child);
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code, signal) => {
      live.delete(child);
      resolve(code ?? (signal ? -1 : null));
    });
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start node ${options.args.join(" ")}`);

  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let ready: Record<string, unknown> | undefined;
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  while (ready === undefined) {
    if (exitCode !== undefined) {
      throw new Error(
        `${options.args.join(" ")} exited (${exitCode}) before it was ready:\n${tail(options)}`,
      );
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${options.args.join(" ")} was not ready in time:\n${tail(options)}`);
    }
    ready = findReadyLine(options.logFile, options.readyText);
    if (ready === undefined) await sleep(25);
  }

  const stop = async (graceMs = 5_000) => {
    if (exitCode !== undefined) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return { child, pid, ready, logFile: options.logFile, stop };
}

/** SIGKILLs every child still alive (synchronous: safe in an `exit` handler). */
export function killAllChildren(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  live.clear();
}

function findReadyLine(logFile: string, readyText: string): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFileSync(logFile, "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    if (!line.includes(readyText)) continue;
    try {
      const parsed: unknown = JSON.parse(line);
      if (typeof parsed === "object" && parsed !== null) return parsed as Record<string, unknown>;
    } catch {
      // A line still being written: try again on the next poll.
    }
  }
  return undefined;
}

function tail(options: StartOptions): string {
  try {
    return readFileSync(options.logFile, "utf8").split("\n").slice(-15).join("\n");
  } catch {
    return "(no log)";
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------
// /proc

let clockTicks: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`, 100 on Linux). */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** CPU time of `pid` (all its threads) so far, in ms: user, system and their sum. Resolution: one clock tick. */
export function cpuTimeMs(pid: number): { user: number; system: number; total: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may itself contain spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Field 3 (state) is fields[0]: utime is field 14, stime field 15.
  const user = (Number(fields[11]) * 1000) / ticksPerSecond();
  const system = (Number(fields[12]) * 1000) / ticksPerSecond();
  return { user, system, total: user + system };
}

/**
 * CPU time so far, in ms, of every process of this machine whose command is `command` (e.g.
 * "postgres": the server, its backends and its background workers), or undefined when none runs.
 * A process that ends between two readings takes its time with it: compare readings taken while
 * the processes measured all live (a pool's connections, during a run).
 */
export function cpuTimeOfCommandMs(command: string): number | undefined {
  let total: number | undefined;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() !== command) continue;
      total = (total ?? 0) + cpuTimeMs(Number(entry)).total;
    } catch {
      // Ended while the list was read.
    }
  }
  return total;
}

/** Peak resident set size of `pid` (VmHWM), in bytes. */
export function peakRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}
