/** The machine and the versions a result was measured with. */
import { readFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem, type } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "./servers.js";

export interface Machine {
  cpu: string;
  cores: number;
  memory_gib: number;
  os: string;
  /** 1-minute load average when the benchmark started and ended: a busy machine gives noisy figures. */
  load_average: { start: number; end?: number };
}

export function describeMachine(): Machine {
  const cpuList = cpus();
  return {
    cpu: cpuList[0]?.model.trim() ?? "unknown",
    cores: cpuList.length,
    memory_gib: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: `${osName()} (${type()} ${release()})`,
    load_average: { start: Math.round((loadavg()[0] ?? 0) * 100) / 100 },
  };
}

export function currentLoadAverage(): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100;
}

function osName(): string {
  try {
    const text = readFileSync("/etc/os-release", "utf8");
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1] ?? type();
  } catch {
    return type();
  }
}

export interface Versions {
  node: string;
  certgate: string;
  express: string;
  axios: string;
  "better-sqlite3": string;
  autocannon: string;
}

export function describeVersions(): Versions {
  const version = (packageJson: string) =>
    String((JSON.parse(readFileSync(join(REPO_ROOT, packageJson), "utf8")) as { version?: unknown }).version);
  const dependency = (name: string) => version(`node_modules/${name}/package.json`);
  return {
    node: process.version,
    certgate: version("package.json"),
    express: dependency("express"),
    axios: dependency("axios"),
    "better-sqlite3": dependency("better-sqlite3"),
    autocannon: dependency("autocannon"),
  };
}
