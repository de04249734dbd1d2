/**
 * The benchmark of issue 7: certgate's completion against the baseline a merchant would otherwise
 * run (PortOne's guide sample, bench/baseline/server.ts), both against the PortOne emulator.
 *
 *   npm run bench                      # full: ≈ 8 minutes on 2 cores (limit 10); writes bench/results/
 *   npm run bench -- --quick           # smoke run, ≈ 2 minutes; writes to a temp directory
 *   npm run bench -- --help            # every flag
 *
 * Design choices:
 * - Processes. certgate and the baseline each run as their own `node` process, started fresh for
 *   every run, so CPU time (/proc/<pid>/stat) and peak RSS (VmHWM) belong to one server and one run,
 *   and the load generator (autocannon, in this process) never shares a server's event loop. The
 *   emulator is one more process, also started fresh for every run (and reset before it, as before).
 *   certgate runs from the build (`node dist/cli/main.js serve`, production mode, SQLite in a temp
 *   directory, logs to a file); the baseline runs as plain JavaScript (no loader inflating its figures).
 * - Requests. Every timed request is a fresh verification of a fresh person, prepared beforehand
 *   (certgate: POST /api/verifications, then an emulator record bound to its merchant_uid; baseline: an
 *   emulator record), so neither server ever answers from a cache nor a replay, and the timed part
 *   contains nothing but completions.
 * - Sizing. A warm-up (JIT, connections, certgate's token) precedes each timed part; the timed part's
 *   request count is the warm-up's steady rate × a target duration, so slow scenarios (concurrency 1
 *   at 20 ms) stay short and fast ones long enough to measure. autocannon's `amount` sends exactly
 *   lead-in + that + drain; latencies come from its per-response hrtime event.
 * - Window. The timed part opens once every connection of the measured run has been answered (a busy
 *   Node server accepts autocannon's burst of new connections one per event-loop turn: a load
 *   generator artefact, not steady state) and closes before the drain; see bench/lib/load.ts.
 * - Validity. Any non-2xx answer, connection error or timeout (warm-up included) makes the run
 *   invalid; it is reported, never averaged away, and the exit code is 1.
 * - Upstream latency is the emulator's persistent latency fault on every route, so the baseline's
 *   two calls each pay it and certgate's one call pays it once.
 * - Scale. Persons are seeded straight into certgate's SQLite file (bench/lib/seed.ts) after its
 *   migrations, then completions are measured at one concurrency with few and with many persons.
 * - Results. results.md (tables, targets met/missed), results.json (raw figures) and results.svg
 *   (chart, generated here); reasons for missed targets live in bench/lib/why.ts.
 * - Cleanup. Children are SIGKILLed and the temp directory removed on exit, SIGINT and SIGTERM.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { currentLoadAverage, describeMachine, describeVersions } from "./lib/machine.js";
import { dropLiveBenchDatabases } from "./lib/postgres.js";
import { killAllChildren } from "./lib/processes.js";
import { renderProfileSummary, summarizeProfile } from "./lib/profile.js";
import { type BenchResults, buildResults, writeResults } from "./lib/report.js";
import { runScenario, type ScenarioConfig, type ScenarioResult, type ScenarioSpec } from "./lib/scenario.js";
import { type SeedResult, seedPersons } from "./lib/seed.js";
import { certgateMainIn, REPO_ROOT, removeCompiledBaseline, startEmulator } from "./lib/servers.js";
import { formatCount } from "./lib/targets.js";

const HELP = `npm run bench -- [flags]

  --quick           smoke run (≈ 2 minutes): 1 s timed parts, 20,000 persons; results to a temp dir
  --no-build        use the existing dist/ (default: npm run build first)
  --out DIR         where results.{md,json,svg} go (default bench/results, or a temp dir with --quick)
  --seconds S       target length of each timed part (default 6, quick 1)
  --persons N       persons stored for the large scale run (default 1000000, quick 20000)
  --only PART       main (closed loop), open (fixed arrival rate) or scale (persons) only
  --server LIST     of certgate, certgate-postgres, baseline, floor (default all; main and open parts),
                    and certgate-ref with --ref
  --ref DIR         also run the certgate built in DIR (another checkout, \`npm run build\` done there)
                    as certgate-ref, beside certgate in every main and open-loop scenario (which of
                    the two goes first alternates, from a random start): an A/B of two commits in
                    one run (results.md adds their ratios)
  --latency LIST    upstream latencies of the main and open parts, ms (default 0,20)
  --concurrency LIST  concurrencies of the main part (default 1,10,50)
  --rate N          arrivals per second of the open-loop part (default 300)
  --profile         after the measurements, rerun certgate (SQLite, PostgreSQL) and the floor at
                    c50 under node --cpu-prof: OUT/profile-summary.md, .cpuprofile files in OUT/profiles
  --keep-temp       keep the temp directory (databases, logs) for inspection
`;

const args = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    "no-build": { type: "boolean", default: false },
    out: { type: "string" },
    seconds: { type: "string" },
    persons: { type: "string" },
    only: { type: "string" },
    server: { type: "string" },
    ref: { type: "string" },
    latency: { type: "string" },
    concurrency: { type: "string" },
    rate: { type: "string" },
    profile: { type: "boolean", default: false },
    "keep-temp": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
}).values;

const quick = args.quick === true;

/** The servers of the main part, in the order they run for each scenario. */
const SERVERS = ["certgate-ref", "certgate", "certgate-postgres", "baseline", "floor"] as const;
/** The servers of the open-loop part. */
const OPEN_LOOP_SERVERS = ["certgate-ref", "certgate", "baseline", "floor"] as const;
/** `--ref DIR`: the other build certgate-ref runs (its dist/cli/main.js must exist). */
const refMain = args.ref === undefined ? undefined : certgateMainIn(args.ref);
if (refMain !== undefined && !existsSync(refMain)) {
  console.error(`--ref: ${refMain} does not exist (run npm run build in ${args.ref} first)`);
  process.exit(2);
}

/** "0,20" → [0, 20], each an integer in [min, max]. */
function numberList(min: number, max: number) {
  return z
    .string()
    .transform((text) => text.split(",").map((part) => Number(part.trim())))
    .pipe(z.array(z.number().int().min(min).max(max)).min(1));
}
const options = z
  .object({
    seconds: z.coerce.number().positive().max(120),
    persons: z.coerce.number().int().min(1_000).max(10_000_000),
    only: z.enum(["main", "open", "scale"]).optional(),
    server: z
      .string()
      .transform((text) => text.split(",").map((part) => part.trim()))
      .pipe(z.array(z.enum(SERVERS)).min(1)),
    latency: numberList(0, 10_000),
    concurrency: numberList(1, 1_000),
    rate: z.coerce.number().int().min(1).max(5_000),
  })
  .parse({
    seconds: args.seconds ?? (quick ? 1 : 6),
    persons: args.persons ?? (quick ? 20_000 : 1_000_000),
    only: args.only,
    server: args.server ?? SERVERS.filter((s) => s !== "certgate-ref" || refMain !== undefined).join(","),
    latency: args.latency ?? "0,20",
    concurrency: args.concurrency ?? "1,10,50",
    rate: args.rate ?? 300,
  });

if (options.server.includes("certgate-ref") && refMain === undefined) {
  console.error("--server certgate-ref needs --ref DIR");
  process.exit(2);
}

const SCALE = { concurrency: 10, latencyMs: 0, smallPersons: 1_000, rounds: 2 };
/** Connections of the open-loop part's warm-up. */
const OPEN_WARMUP_CONCURRENCY = 10;
/** Concurrency of the profiled runs (`--profile`). */
const PROFILE_CONCURRENCY = 50;

const config: ScenarioConfig = quick
  ? {
      timedSeconds: options.seconds,
      jitWarmup: 200,
      warmupPerConnection: 4,
      warmupMin: 10,
      warmupMax: 200,
      timedMin: 20,
      timedMax: 5_000,
      prepareParallel: 2,
      leadInFactor: 0.25,
    }
  : {
      timedSeconds: options.seconds,
      jitWarmup: 2_000,
      warmupPerConnection: 20,
      warmupMin: 50,
      warmupMax: 1_000,
      timedMin: 100,
      timedMax: 30_000,
      prepareParallel: 2,
      leadInFactor: 1,
    };

const tempRoot = mkdtempSync(join(tmpdir(), "certgate-bench-"));
const outDir = resolve(
  args.out ?? (quick ? join(tmpdir(), "certgate-bench-quick") : join(REPO_ROOT, "bench/results")),
);
const profileDir = args.profile ? join(outDir, "profiles") : undefined;

function cleanup() {
  killAllChildren();
  removeCompiledBaseline();
  if (!args["keep-temp"]) rmSync(tempRoot, { recursive: true, force: true });
}
process.on("exit", cleanup);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the servers, dropping PostgreSQL databases, removing ${tempRoot}`);
    cleanup();
    void dropLiveBenchDatabases().finally(() => process.exit(130));
  });
}

async function main(): Promise<number> {
  if (args.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const started = performance.now();
  const machine = describeMachine();
  console.log(
    `certgate benchmark (${quick ? "quick" : "full"}): ${machine.cpu}, ${machine.cores} cores, load ${machine.load_average.start}`,
  );
  if (!args["no-build"]) build();
  if (profileDir) {
    rmSync(profileDir, { recursive: true, force: true });
    console.log(`profiling: after the measurements; CPU profiles go to ${profileDir}`);
  }

  const runs: ScenarioResult[] = [];
  const runErrors: { scenario: string; message: string }[] = [];
  const seeding: SeedResult[] = [];
  let index = 0;
  const profiled: ScenarioResult[] = [];
  const measure = async (spec: ScenarioSpec, profiling?: string) => {
    const name = describe(spec);
    const dir = join(tempRoot, `${String(++index).padStart(2, "0")}-${name.replaceAll(/[^a-z0-9]+/gi, "-")}`);
    // A fresh emulator for every run, as a fresh server: one shared by all the runs grew with each
    // run's records and, collecting their garbage, once stalled every upstream call of a later run
    // by ≈ 200 ms (its CPU per verification 0.57 ms in that run, 0.32–0.34 in the others).
    const emulatorDir = join(dir, "emulator");
    mkdirSync(emulatorDir, { recursive: true });
    let emulator: Awaited<ReturnType<typeof startEmulator>> | undefined;
    try {
      emulator = await startEmulator({ dir: emulatorDir });
      const result = await runScenario(
        spec,
        config,
        { dir, profileDir: profiling },
        { url: emulator.url, pid: emulator.process.pid },
        `r${index}${Date.now().toString(36)}`,
      );
      (profiling === undefined ? runs : profiled).push(result);
      console.log(`  ${name.padEnd(38)} ${line(result)}`);
    } catch (error) {
      const message = describeError(error);
      runErrors.push({ scenario: name, message });
      console.error(`  ${name.padEnd(38)} ERROR: ${message}`);
    } finally {
      await emulator?.process.stop();
      if (!args["keep-temp"]) rmSync(dir, { recursive: true, force: true });
    }
  };

  // The A/B pair (certgate-ref, certgate) swaps its order from one scenario to the next, starting
  // either way at random, so neither build always runs first (after another server's teardown) or
  // second (on a warmer machine), also over repeated runs of a single scenario.
  let abPairs = Math.floor(Math.random() * 2);
  if (options.only === undefined || options.only === "main") {
    console.log("completion, closed loop (certgate, certgate on PostgreSQL, baseline, floor):");
    for (const latencyMs of options.latency) {
      for (const concurrency of options.concurrency) {
        for (const server of abOrder(SERVERS, ++abPairs)) {
          if (!options.server.includes(server)) continue;
          // certgate on PostgreSQL and the floor skip c1 by default (their targets are at c50): time.
          if (
            concurrency === 1 &&
            args.concurrency === undefined &&
            server !== "certgate" &&
            server !== "certgate-ref" &&
            server !== "baseline"
          )
            continue;
          await measure({ group: "main", server, latencyMs, concurrency, refMain });
        }
      }
    }
  }

  if (options.only === undefined || options.only === "open") {
    console.log(`completion, open loop at ${options.rate}/s:`);
    for (const latencyMs of options.latency) {
      for (const server of abOrder(OPEN_LOOP_SERVERS, ++abPairs)) {
        if (!options.server.includes(server)) continue;
        await measure({
          group: "open",
          server,
          latencyMs,
          concurrency: OPEN_WARMUP_CONCURRENCY,
          rate: options.rate,
          refMain,
        });
      }
    }
  }

  if (options.only === undefined || options.only === "scale") {
    console.log(`completion with persons stored (certgate, c${SCALE.concurrency}, ${SCALE.latencyMs} ms):`);
    // Both databases are seeded first, then measured in interleaved rounds (few, many, few, many),
    // each round on a fresh copy of the seeded file: the target compares runs minutes apart, and on
    // a shared machine the cores' speed drifts over minutes; the mean of each size's rounds halves
    // what that drift can do to the ratio.
    const seeded: { persons: number; databaseFile: string; snapshot: string }[] = [];
    for (const persons of [SCALE.smallPersons, options.persons]) {
      const dir = join(tempRoot, `seed-${persons}`);
      try {
        const databaseFile = join(dir, "certgate.sqlite");
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
        const result = await seedPersons(dir, databaseFile, persons);
        seeding.push(result);
        console.log(`  seeded ${formatCount(persons)} persons in ${result.seconds.toFixed(1)} s`);
        const snapshot = `${databaseFile}.seeded`;
        copyFileSync(databaseFile, snapshot);
        seeded.push({ persons, databaseFile, snapshot });
      } catch (error) {
        const message = describeError(error);
        runErrors.push({ scenario: `seeding ${persons} persons`, message });
        console.error(`  seeding ${persons} persons: ERROR: ${message}`);
      }
    }
    for (let round = 1; round <= SCALE.rounds; round++) {
      for (const { persons, databaseFile, snapshot } of seeded) {
        for (const suffix of ["-wal", "-shm"]) rmSync(`${databaseFile}${suffix}`, { force: true });
        copyFileSync(snapshot, databaseFile);
        await measure({
          group: "scale",
          server: "certgate",
          latencyMs: SCALE.latencyMs,
          concurrency: SCALE.concurrency,
          persons,
          round,
          databaseFile,
        });
      }
    }
    if (!args["keep-temp"]) {
      for (const { persons } of seeded)
        rmSync(join(tempRoot, `seed-${persons}`), { recursive: true, force: true });
    }
  }

  const measuredSeconds = Math.round((performance.now() - started) / 1000);
  if (profileDir) {
    // Profiled runs apart from the measured ones: the profiler's overhead never reaches results.md.
    console.log("profiled runs (not measurements: the profiler adds its overhead):");
    for (const latencyMs of options.latency) {
      for (const server of ["certgate", "certgate-postgres", "floor"] as const) {
        if (!options.server.includes(server)) continue;
        await measure({ group: "main", server, latencyMs, concurrency: PROFILE_CONCURRENCY }, profileDir);
      }
    }
  }

  machine.load_average.end = currentLoadAverage();
  const results: BenchResults = buildResults({
    generated_at: new Date().toISOString(),
    mode: quick ? "quick" : "full",
    // The measured runs only: `--profile`'s extra runs come after and are not part of the benchmark.
    duration_seconds: measuredSeconds,
    machine,
    versions: describeVersions(),
    config: {
      ...config,
      scale_concurrency: SCALE.concurrency,
      scale_latency_ms: SCALE.latencyMs,
      open_loop_rate: options.rate,
      ref: args.ref === undefined ? null : { dir: resolve(args.ref), commit: commitOf(args.ref) },
    },
    seeding,
    runs,
    run_errors: runErrors,
  });
  const files = writeResults(outDir, results);
  if (profileDir) files.push(writeProfileSummary(profileDir, profiled, join(outDir, "profile-summary.md")));

  console.log("\ntargets:");
  for (const t of results.targets) console.log(`  ${t.status.padEnd(12)} ${t.target}: ${t.measured}`);
  console.log(`\nwrote ${files.map((f) => relative(process.cwd(), f) || f).join(", ")}`);
  console.log(
    `finished in ${Math.round((performance.now() - started) / 1000)} s (measured runs: ${results.duration_seconds} s)`,
  );
  const invalid = runs.filter((r) => !r.valid).length;
  if (invalid > 0 || runErrors.length > 0) {
    console.error(
      `${invalid} invalid run(s), ${runErrors.length} error(s): these figures are not a measurement`,
    );
    return 1;
  }
  return 0;
}

/** An error's message with its causes ("fetch failed: connect ECONNREFUSED …"). */
/** `servers` with certgate-ref and certgate swapped on every other scenario (`n` counts them). */
function abOrder<S extends string>(servers: readonly S[], n: number): S[] {
  if (n % 2 === 1) return [...servers];
  return servers.map((s) =>
    s === "certgate-ref" ? ("certgate" as S) : s === "certgate" ? ("certgate-ref" as S) : s,
  );
}

/** The short commit checked out at `dir`, or null when it is not a git checkout. */
function commitOf(dir: string): string | null {
  const git = spawnSync("git", ["-C", dir, "rev-parse", "--short", "HEAD"], { encoding: "utf8" });
  return git.status === 0 ? git.stdout.trim() : null;
}

function describeError(error: unknown): string {
  const parts: string[] = [];
  for (
    let e: unknown = error;
    e !== undefined && parts.length < 4;
    e = e instanceof Error ? e.cause : undefined
  ) {
    parts.push(e instanceof Error ? e.message : String(e));
  }
  return parts.join(": ");
}

function build() {
  console.log("building certgate (npm run build; --no-build skips) …");
  const result = spawnSync("npm", ["run", "build"], { cwd: REPO_ROOT, encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`npm run build failed:\n${result.stdout}\n${result.stderr}`);
  }
}

function describe(spec: ScenarioSpec): string {
  const persons =
    spec.persons === undefined
      ? ""
      : ` ${formatCount(spec.persons)} persons${spec.round === undefined ? "" : ` (round ${spec.round})`}`;
  const load = spec.rate === undefined ? `c${spec.concurrency}` : `${spec.rate}/s`;
  return `${spec.server} ${spec.latencyMs} ms ${load}${persons}`;
}

function line(r: ScenarioResult): string {
  const validity = r.valid ? "" : `  INVALID (${r.failures} failures, ${r.warmup_failures} in warm-up)`;
  return [
    `${String(r.verifications_per_second).padStart(7)}/s`,
    `p50 ${r.latency_ms.p50} ms`,
    `p99 ${r.latency_ms.p99} ms`,
    ...(r.group === "open" ? [`p99.9 ${r.latency_ms.p999} ms`] : []),
    `upstream ${r.upstream_calls_per_verification}/v`,
    `cpu ${r.cpu_ms_per_verification} ms/v`,
    `rss ${Math.round(r.peak_rss_bytes / 1024 ** 2)} MiB`,
    `n ${r.requests}`,
  ]
    .join("  ")
    .concat(validity);
}

function writeProfileSummary(dir: string, runs: readonly ScenarioResult[], file: string): string {
  const text = [
    "# CPU profiles of the benchmark's server processes",
    "",
    `Written by \`npm run bench -- --profile\` (${quick ? "quick" : "full"} run, ${new Date().toISOString()}, load average ${currentLoadAverage()}): after the measured runs, certgate on SQLite and on PostgreSQL and the floor server ran again at concurrency ${PROFILE_CONCURRENCY} under \`node --cpu-prof\`.`,
    "Samples of each run's timed part only (completions), of each process's main thread: certgate on SQLite runs its",
    "store's writes on a worker thread while requests overlap, and that thread's work is not in these",
    "profiles (the CPU per verification below counts it). Shares are what to read; figures of profiled runs carry the",
    "profiler's overhead and are not in results.md.",
    "",
    "| Run | Verifications/s (profiled) | CPU ms / verification (profiled) |",
    "| --- | ---: | ---: |",
    ...runs.map(
      (r) =>
        `| ${r.server} ${r.upstream_latency_ms} ms c${r.concurrency} | ${r.verifications_per_second} | ${r.cpu_ms_per_verification} |`,
    ),
    "",
    ...runs.flatMap((r) =>
      r.profile_file === null
        ? []
        : [renderProfileSummary(summarizeProfile(join(dir, r.profile_file), r.timed_window_us))],
    ),
  ].join("\n");
  writeFileSync(file, text);
  // Each profile's timed part, so a profile can be read further than the summary (e.g. a call tree).
  const windows = Object.fromEntries(runs.map((r) => [r.profile_file, r.timed_window_us]));
  writeFileSync(join(dir, "windows.json"), `${JSON.stringify(windows, null, 2)}\n`);
  return file;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
