/**
 * Instructions per verification: each server under valgrind's callgrind, one completion at a time
 * after a warm-up, counting the user-space instructions of its whole process (every thread) while
 * the timed completions run and nothing else. A count, not a time: the same build gives the same
 * figure within about a per cent whatever else the machine does (three runs of certgate here:
 * 2.69–2.73 M; its steady part, V8's optimizing compiler aside, 1.487–1.493 M), where throughput
 * and CPU time on a shared 2-core VM swing by ±20 % between runs of one build (bench/lib/why.ts,
 * fourteenth and fifteenth passes). So a lever worth a few per cent, too small for an
 * A/B of `npm run bench` to resolve, can be measured here. What it leaves out: the kernel's work
 * (socket writes, the WAL's pwrite) and any waiting, and concurrency — one completion at a time
 * keeps certgate's store on its event loop (its worker thread waits).
 *
 *   npm run bench:instructions                          # certgate and the floor, 1,000 each
 *   npm run bench:instructions -- --server certgate --ref ../other-checkout
 *   npm run bench:instructions -- --n 300 --warm 300    # quicker, noisier (the JIT still warming)
 *
 * Needs valgrind (a Debian package on every machine of this project). Slow: valgrind runs node
 * about fifty times slower; the defaults take a few minutes per server.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { killAllChildren } from "./lib/processes.js";
import {
  certgateMainIn,
  REPO_ROOT,
  removeCompiledBaseline,
  type Server,
  startBaseline,
  startCertgate,
  startEmulator,
  startFloor,
} from "./lib/servers.js";
import { mean } from "./lib/stats.js";

const HELP = `npm run bench:instructions -- [options]
  --server LIST   certgate, certgate-ref, floor, baseline (default certgate,floor; with --ref, certgate,certgate-ref)
  --n N           timed completions per run (default 1000)
  --warm N        completions before them, not counted (default 1000: the JIT is warm by then)
  --repeat N      runs per server, alternating (default 2)
  --ref DIR       another checkout's build, as certgate-ref
  --no-build      use the existing dist/ (default: npm run build first)`;

const { values: args } = parseArgs({
  options: {
    server: { type: "string" },
    n: { type: "string", default: "1000" },
    warm: { type: "string", default: "1000" },
    repeat: { type: "string", default: "2" },
    ref: { type: "string" },
    "no-build": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (args.help) {
  console.log(HELP);
  process.exit(0);
}
const count = (name: string, value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
};
const N = count("n", args.n);
const WARM = count("warm", args.warm);
const REPEAT = count("repeat", args.repeat);
type Name = "certgate" | "certgate-ref" | "floor" | "baseline";
const NAMES: readonly Name[] = ["certgate", "certgate-ref", "floor", "baseline"];
const servers = (args.server ?? (args.ref ? "certgate,certgate-ref" : "certgate,floor")).split(",") as Name[];
for (const name of servers) if (!NAMES.includes(name)) throw new Error(`--server: unknown server ${name}`);
if (servers.includes("certgate-ref") && !args.ref) throw new Error("--server certgate-ref needs --ref DIR");

/** callgrind_control finds the run by the HOST its environment had (the servers' 127.0.0.1). */
function control(action: string, pid: number): void {
  execFileSync("callgrind_control", [action, String(pid)], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOST: "127.0.0.1" },
    stdio: "ignore",
  });
}

/** What one run counted per timed completion: everything, and V8's optimizing compiler's part. */
interface Counted {
  total: number;
  compiler: number;
}

/**
 * V8's optimizing compiler (TurboFan, on a background thread) by its symbols. It still optimizes,
 * and re-optimizes after a deoptimization, long after the warm-up (`--trace-opt` at c1: about one
 * function every ten completions after 2,000), and each compile costs millions of instructions:
 * its share says how warm the run was, and the rest is the steady work of a completion.
 */
const COMPILER = /v8::internal::(compiler|maglev|turboshaft)::/;

/** The instructions of `file` (a callgrind dump) in functions whose name matches `pattern`. */
function instructionsIn(file: string, pattern: RegExp): number {
  const annotated = execFileSync("callgrind_annotate", ["--inclusive=no", "--threshold=100", file], {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  let sum = 0;
  for (const line of annotated.split("\n")) {
    const match = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$/.exec(line);
    if (match?.[1] && match[2] && !match[2].includes("PROGRAM TOTALS") && pattern.test(match[2])) {
      sum += Number(match[1].replaceAll(",", ""));
    }
  }
  return sum;
}

/** One run of `name`: its instructions per timed completion. */
async function measure(name: Name): Promise<Counted> {
  const dir = mkdtempSync(join(tmpdir(), "certgate-instructions-"));
  const out = join(dir, "callgrind.out");
  const wrapper = [
    "valgrind",
    "--tool=callgrind",
    "--smc-check=all-non-file", // V8 writes the code it runs
    "--instr-atstart=no",
    `--callgrind-out-file=${out}`,
  ];
  const emulator = await startEmulator({ dir });
  let server: Server | undefined;
  try {
    const runId = `ins${Date.now().toString(36)}`;
    server =
      name === "floor"
        ? await startFloor({ dir }, emulator.url, { runId, wrapper })
        : name === "baseline"
          ? await startBaseline({ dir }, emulator.url, { runId, wrapper })
          : await startCertgate({ dir }, emulator.url, {
              databaseFile: join(dir, "certgate.sqlite"),
              runId,
              wrapper,
              ...(name === "certgate-ref" && args.ref ? { main: certgateMainIn(args.ref), name } : {}),
            });
    const running = server;
    const complete = async (body: string) => {
      const res = await fetch(`${running.url}${running.path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      const text = await res.text();
      if (res.status !== 200)
        throw new Error(`${name}: a completion answered ${res.status}: ${text.slice(0, 200)}`);
    };
    for (const body of await running.prepare(0, WARM)) await complete(body);
    const bodies = await running.prepare(WARM, N);
    control("--instr=on", running.process.pid);
    for (const body of bodies) await complete(body);
    control("--instr=off", running.process.pid);
    control("--dump", running.process.pid);
    await running.process.stop();
    // The dump's file(s) hold the window; the one written at exit holds nothing after it.
    let total = 0;
    let compiler = 0;
    for (const file of readdirSync(dir).filter((f) => f.startsWith("callgrind.out"))) {
      const totals = /^totals: (\d+)$/m.exec(readFileSync(join(dir, file), "utf8"));
      const counted = Number(totals?.[1] ?? 0);
      total += counted;
      if (counted > 0) compiler += instructionsIn(join(dir, file), COMPILER);
    }
    if (total === 0) throw new Error(`${name}: callgrind counted nothing (is callgrind_control working?)`);
    return { total: total / N, compiler: compiler / N };
  } finally {
    await server?.process.stop();
    await emulator.process.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

process.on("exit", killAllChildren);
if (!args["no-build"]) execFileSync("npm", ["run", "build"], { cwd: REPO_ROOT, stdio: "inherit" });
const results = new Map<Name, Counted[]>(servers.map((name) => [name, []]));
const millions = (xs: number[]) => xs.map((x) => `${(x / 1e6).toFixed(3)} M`).join(", ");
for (let round = 0; round < REPEAT; round++) {
  for (const name of servers) {
    const counted = await measure(name);
    results.get(name)?.push(counted);
    console.error(
      `${name}, run ${round + 1}: ${millions([counted.total])} instructions, ${millions([counted.compiler])} of them compiling`,
    );
  }
}
removeCompiledBaseline();
const steady = (runs: Counted[]) => runs.map((r) => r.total - r.compiler);
const first = mean(steady(results.get(servers[0] as Name) ?? []));
console.log(
  `\n| server | all instructions (each run) | V8 compiling | the rest (each run) | the rest, mean | vs ${servers[0]} |`,
);
console.log("| --- | --- | --- | --- | ---: | ---: |");
for (const [name, runs] of results) {
  const rest = steady(runs);
  const all = millions(runs.map((r) => r.total));
  const compiling = millions(runs.map((r) => r.compiler));
  const ratio = (mean(rest) / first).toFixed(3);
  console.log(
    `| ${name} | ${all} | ${compiling} | ${millions(rest)} | ${millions([mean(rest)])} | ${ratio}× |`,
  );
}
console.log(
  `\n${WARM} completions of warm-up, ${N} counted, one at a time; user-space instructions of the server's process per completion. "V8 compiling": its optimizing compiler, still warming up; "the rest": the steady work, compared.`,
);
