/**
 * One measurement: a fresh server process, a warm-up, then the timed part.
 *
 *   reset the emulator → start the server → prepare warm-up requests → arm the upstream latency
 *   → warm-up → size the timed part from the warm-up's rate → prepare its requests → the measured
 *   run (autocannon): lead-in, then the window (CPU times of server, emulator and load generator
 *   snapshotted as it opens and closes; see load.ts), then the drain → peak RSS, emulator counters
 *   → stop the server.
 *
 * The emulator process is shared by the runs of one benchmark and reset before each (records,
 * tokens, faults, counters): it is not what is measured, and one warm emulator is steadier than a
 * fresh one per run. Preparing (creating verifications and upstream records) is never inside the
 * timed part; only the completions are.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  type EmulatorStats,
  emulatorStats,
  inParallel,
  RECORDS_PER_BATCH,
  resetEmulator,
  setUpstreamLatency,
  upstreamCalls,
} from "./emulator.js";
import { type LoadResult, leadInBudget, runLoad, spareBodies } from "./load.js";
import { type OpenLoopResult, runOpenLoop } from "./openloop.js";
import { createBenchDatabase, dropBenchDatabase } from "./postgres.js";
import { cpuTimeMs, cpuTimeOfCommandMs, peakRssBytes } from "./processes.js";
import {
  type RunDirs,
  type Server,
  type ServerName,
  startBaseline,
  startCertgate,
  startFloor,
} from "./servers.js";
import { mean, percentile, round } from "./stats.js";

export interface ScenarioSpec {
  /**
   * "main": the closed-loop matrix (certgate, certgate on PostgreSQL, the baseline, the floor);
   * "scale": certgate with N persons stored; "open": a fixed arrival rate (open loop).
   */
  group: "main" | "scale" | "open";
  server: ServerName;
  latencyMs: number;
  /** Closed loop: connections. Open loop: the warm-up's connections. */
  concurrency: number;
  /** Open loop: arrivals per second. */
  rate?: number;
  /** Scale runs: persons already stored in `databaseFile`. */
  persons?: number;
  /** Scale runs: which of the interleaved rounds (1, 2, …). */
  round?: number;
  databaseFile?: string;
  /** certgate-ref runs: the other build's cli/main.js (`--ref DIR`). */
  refMain?: string;
}

export interface ScenarioConfig {
  /** Target length of the timed part, seconds (its request count is sized from the warm-up rate). */
  timedSeconds: number;
  /** Completions at 0 ms upstream latency before the warm-up, for the JIT (0: none). */
  jitWarmup: number;
  /** Warm-up requests per connection, and bounds of the warm-up. */
  warmupPerConnection: number;
  warmupMin: number;
  warmupMax: number;
  /** Bounds of the timed part's request count. */
  timedMin: number;
  timedMax: number;
  /** Batches of requests prepared at a time (each batch one request to the emulator). */
  prepareParallel: number;
  /** Scales the requests budgeted for the measured run's connection start-up (load.ts `leadInBudget`). */
  leadInFactor: number;
}

export interface ScenarioResult {
  group: "main" | "scale" | "open";
  server: ServerName;
  upstream_latency_ms: number;
  concurrency: number;
  /** Open loop: the arrival rate, per second; else null. */
  arrival_rate: number | null;
  persons: number | null;
  /** Scale runs: the round (interleaved: few, many, few, many); else null. */
  round: number | null;
  /** Completions inside the measurement window (the timed part). */
  requests: number;
  /** Every completion sent to this server: warm-up, lead-in, window and drain. */
  requests_sent: number;
  /** Wall time of the window. */
  seconds: number;
  verifications_per_second: number;
  latency_ms: { mean: number; p50: number; p90: number; p99: number; p999: number; max: number };
  /**
   * V1 calls the emulator counted during the measured run (`GET /__admin/stats` before and after;
   * nothing is in flight at either end) ÷ the run's completions (lead-in, window and drain).
   */
  upstream_calls_per_verification: number;
  /** The emulator's counters over the measured run, by route. */
  upstream_calls: Record<string, number>;
  /** getToken calls over the server's whole life (start, warm-up and timed part). */
  get_token_calls_total: number;
  cpu_ms_per_verification: number;
  cpu_ms_total: number;
  /** User and system (kernel: sockets, file writes, scheduling) CPU time over the timed part, ms. */
  cpu_ms_split: { user: number; system: number };
  peak_rss_bytes: number;
  /** For reading contention: the emulator's and the load generator's CPU per verification. */
  emulator_cpu_ms_per_verification: number;
  load_generator_cpu_ms_per_verification: number;
  /**
   * certgate-postgres: the CPU of this machine's PostgreSQL processes (server, backends, background
   * workers) per verification over the timed part; null for the other servers, or when PostgreSQL
   * runs elsewhere. Absent from results written before it was measured.
   */
  database_cpu_ms_per_verification?: number | null;
  failures: number;
  warmup_failures: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  /** No failure in the warm-up nor the measured run, every request answered: only then is it a measurement. */
  valid: boolean;
  /** Wall time of each phase, seconds (start, prepare, warm-up, timed). */
  phases_seconds: Record<string, number>;
  /**
   * The timed part on the system's monotonic clock in µs — the clock of V8's CPU profiles — so a
   * `--profile` summary can keep only the samples of the timed part.
   */
  timed_window_us: [number, number];
  /** The run's CPU profile in the profile directory, under `--profile`. */
  profile_file: string | null;
}

/** The shared emulator process. */
export interface EmulatorHandle {
  url: string;
  pid: number;
}

/** CPU times of the three processes at one instant. */
interface CpuSnapshot {
  server: { user: number; system: number; total: number };
  emulator: number;
  /** certgate-postgres: this machine's PostgreSQL processes, ms (undefined otherwise). */
  database: number | undefined;
  /** This process (the load generator), ms. */
  load: number;
  /** CLOCK_MONOTONIC, µs. */
  at: number;
}

/** Runs one scenario in `dirs.dir` (created) and returns its figures. */
export async function runScenario(
  spec: ScenarioSpec,
  config: ScenarioConfig,
  dirs: RunDirs,
  emulator: EmulatorHandle,
  runId: string,
): Promise<ScenarioResult> {
  mkdirSync(dirs.dir, { recursive: true });
  const phases: Record<string, number> = {};
  let phaseStart = performance.now();
  const phase = (name: string) => {
    const now = performance.now();
    phases[name] = round((phases[name] ?? 0) + (now - phaseStart) / 1000, 2);
    phaseStart = now;
  };
  await resetEmulator(emulator.url);
  let server: Server | undefined;
  let database: { name: string; url: string } | undefined;
  try {
    const profileName = profileNameOf(spec);
    if (spec.server === "certgate-postgres") database = await createBenchDatabase(runId);
    server = await startServer(spec, dirs, emulator, runId, profileName, database?.url);
    const active = server;
    const c = spec.concurrency;
    let prepared = 0;
    // In batches of the emulator's batch size, `prepareParallel` of them at a time.
    const prepare = async (count: number) => {
      const first = prepared;
      prepared += count;
      const batches = Math.ceil(count / RECORDS_PER_BATCH);
      const parts = await inParallel(batches, config.prepareParallel, (b) =>
        active.prepare(
          first + b * RECORDS_PER_BATCH,
          Math.min(RECORDS_PER_BATCH, count - b * RECORDS_PER_BATCH),
        ),
      );
      return parts.flat();
    };
    const snapshot = (): CpuSnapshot => {
      const load = process.cpuUsage();
      return {
        server: cpuTimeMs(active.process.pid),
        emulator: cpuTimeMs(emulator.pid).total,
        database:
          database !== undefined && onThisMachine(database.url) ? cpuTimeOfCommandMs("postgres") : undefined,
        load: (load.user + load.system) / 1000,
        at: monotonicMicros(),
      };
    };
    /**
     * The measured run `run`, between two readings of the emulator's counters, with CPU snapshots
     * at its window's edges and the server's peak RSS right after it: the same for both loops.
     */
    const measured = async <T>(run: (onWindow: (edge: "open" | "close") => void) => Promise<T>) => {
      const before = await emulatorStats(emulator.url);
      let opened: CpuSnapshot | undefined;
      let closed: CpuSnapshot | undefined;
      const result = await run((edge) => {
        if (edge === "open") opened = snapshot();
        else closed = snapshot();
      });
      const peakRss = peakRssBytes(active.process.pid);
      phase("timed");
      const after = await emulatorStats(emulator.url);
      return { result, before, after, opened, closed, peakRss };
    };
    phase("start");

    // JIT warm-up, at 0 ms upstream latency (the emulator was just reset: no fault armed), the same
    // count for every server, so the timed part measures compiled code. With only the warm-up below,
    // a run at 20 ms and concurrency 1 had served 50 completions when its timed part began and V8
    // was still optimizing through it (bench/lib/why.ts, thirteenth pass). It runs at the run's
    // concurrency: certgate takes its inline store path with one request in flight and its worker
    // thread's beyond, each compiled by its own thread. The open loop's requests are in flight one at
    // a time or several, so half of its JIT warm-up runs at concurrency 1, half at its warm-up's.
    const jitWarmup = { amount: config.jitWarmup, failures: 0 };
    const jitConnections = spec.rate !== undefined && c > 1 ? [1, c] : [c];
    for (const connections of config.jitWarmup > 0 ? jitConnections : []) {
      const amount = Math.round(config.jitWarmup / jitConnections.length);
      const jit = await runLoad({
        url: active.url,
        path: active.path,
        connections,
        bodies: await prepare(amount + spareBodies(connections)),
        amount,
      });
      jitWarmup.failures += jit.failures;
      phase("jit");
    }

    // Warm-up at the scenario's latency: certgate's token, and the rate that sizes the timed part.
    const warmupAmount = clamp(
      c * config.warmupPerConnection,
      Math.max(c, config.warmupMin),
      config.warmupMax,
    );
    const warmupBodies = await prepare(warmupAmount + spareBodies(c));
    if (spec.latencyMs > 0) await setUpstreamLatency(emulator.url, spec.latencyMs);
    phase("prepare");
    const warmup = await runLoad({
      url: active.url,
      path: active.path,
      connections: c,
      bodies: warmupBodies,
      amount: warmupAmount,
    });
    phase("warmup");

    // The measured run: a lead-in (every connection answered), the window of ≈ `target` completions,
    // the drain. The rate is the warm-up's steady one (its second half): its first requests ran cold.
    if (spec.rate !== undefined) {
      // Open loop: `rate` arrivals per second for ≈ the timed part's length, the first 10 % unmeasured.
      const total = Math.max(Math.round(spec.rate * config.timedSeconds), config.timedMin);
      const openBodies = await prepare(total);
      phase("prepare");
      const rate = spec.rate;
      const {
        result: open,
        before,
        after,
        opened,
        closed,
        peakRss,
      } = await measured((onWindow) =>
        runOpenLoop({
          url: active.url,
          path: active.path,
          rate,
          bodies: openBodies,
          skip: Math.floor(total / 10),
          onWindow,
        }),
      );
      if (opened === undefined || closed === undefined) throw new Error("the open loop never opened");
      return summarize(spec, {
        timed: fromOpenLoop(open),
        warmup,
        warmupAmount,
        jitWarmup,
        amount: total,
        opened,
        closed,
        peakRss,
        before,
        after,
        phases,
        profileFile: dirs.profileDir === undefined ? null : `${profileName}.cpuprofile`,
      });
    }

    const rate = Math.max(warmup.tailRate, warmup.ok / Math.max(warmup.seconds, 0.001));
    const target = clamp(
      Math.round(rate * config.timedSeconds),
      Math.max(c * 4, config.timedMin),
      config.timedMax,
    );
    const amount = leadInBudget(c, config.leadInFactor) + target + c;
    const bodies = await prepare(amount + spareBodies(c));
    phase("prepare");

    const {
      result: timed,
      before,
      after,
      opened,
      closed,
      peakRss,
    } = await measured((onWindow) =>
      runLoad({
        url: active.url,
        path: active.path,
        connections: c,
        bodies,
        amount,
        leadIn: 2 * c,
        onWindow,
      }),
    );
    if (!timed.windowed || opened === undefined || closed === undefined) {
      throw new Error(
        `the measurement window never ${opened ? "closed" : "opened"} (${timed.responses} responses)`,
      );
    }
    return summarize(spec, {
      timed,
      warmup,
      warmupAmount,
      jitWarmup,
      amount,
      opened,
      closed,
      peakRss,
      before,
      after,
      phases,
      profileFile: dirs.profileDir === undefined ? null : `${profileName}.cpuprofile`,
    });
  } finally {
    await server?.process.stop();
    if (database !== undefined) await dropBenchDatabase(database.name);
  }
}

function startServer(
  spec: ScenarioSpec,
  dirs: RunDirs,
  emulator: EmulatorHandle,
  runId: string,
  profileName: string,
  postgresUrl: string | undefined,
): Promise<Server> {
  switch (spec.server) {
    case "certgate":
      return startCertgate(dirs, emulator.url, {
        databaseFile: spec.databaseFile ?? join(dirs.dir, "certgate.sqlite"),
        runId,
        profileName,
      });
    case "certgate-ref":
      if (spec.refMain === undefined) throw new Error("certgate-ref needs --ref DIR");
      return startCertgate(dirs, emulator.url, {
        databaseFile: join(dirs.dir, "certgate.sqlite"),
        runId,
        profileName,
        name: "certgate-ref",
        main: spec.refMain,
      });
    case "certgate-postgres":
      if (postgresUrl === undefined) throw new Error("certgate-postgres needs a database");
      return startCertgate(dirs, emulator.url, {
        databaseFile: postgresUrl,
        runId,
        profileName,
        name: "certgate-postgres",
      });
    case "baseline":
      return startBaseline(dirs, emulator.url, { runId, profileName });
    case "floor":
      return startFloor(dirs, emulator.url, { runId, profileName });
  }
}

/** An open-loop result in the shape `summarize` reads (the whole run is its "window"). */
function fromOpenLoop(open: OpenLoopResult): LoadResult {
  return {
    responses: open.ok + open.failures - open.errors,
    ok: open.ok,
    failures: open.failures,
    statuses: open.statuses,
    errors: open.errors,
    timeouts: 0,
    measured: open.measured,
    seconds: open.seconds,
    latenciesMs: open.latenciesMs,
    windowed: true,
    tailRate: 0,
  };
}

function summarize(
  spec: ScenarioSpec,
  m: {
    timed: LoadResult;
    warmup: LoadResult;
    warmupAmount: number;
    jitWarmup: { amount: number; failures: number };
    amount: number;
    opened: CpuSnapshot;
    closed: CpuSnapshot;
    peakRss: number;
    before: EmulatorStats;
    after: EmulatorStats;
    phases: Record<string, number>;
    profileFile: string | null;
  },
): ScenarioResult {
  const { timed, opened, closed } = m;
  const warmupFailures = m.warmup.failures + m.jitWarmup.failures;
  const done = Math.max(timed.measured, 1);
  const latencies = timed.latenciesMs;
  const user = closed.server.user - opened.server.user;
  const system = closed.server.system - opened.server.system;
  const delta = Object.fromEntries(
    Object.entries(m.after.requests).map(([route, count]) => [
      route,
      count - (m.before.requests[route] ?? 0),
    ]),
  );
  return {
    group: spec.group,
    server: spec.server,
    upstream_latency_ms: spec.latencyMs,
    concurrency: spec.concurrency,
    arrival_rate: spec.rate ?? null,
    persons: spec.persons ?? null,
    round: spec.round ?? null,
    requests: timed.measured,
    requests_sent: m.jitWarmup.amount + m.warmupAmount + m.amount,
    seconds: round(timed.seconds, 3),
    verifications_per_second: round(timed.measured / timed.seconds, 1),
    latency_ms: {
      mean: round(mean(latencies)),
      p50: round(percentile(latencies, 0.5)),
      p90: round(percentile(latencies, 0.9)),
      p99: round(percentile(latencies, 0.99)),
      p999: round(percentile(latencies, 0.999)),
      max: round(latencies[latencies.length - 1] ?? 0),
    },
    upstream_calls_per_verification: round(
      (upstreamCalls(m.after) - upstreamCalls(m.before)) / Math.max(timed.ok, 1),
      4,
    ),
    upstream_calls: Object.fromEntries(Object.entries(delta).filter(([, count]) => count !== 0)),
    get_token_calls_total: m.after.requests.getToken ?? 0,
    cpu_ms_per_verification: round((user + system) / done, 3),
    cpu_ms_total: round(user + system, 0),
    cpu_ms_split: { user: round(user, 0), system: round(system, 0) },
    peak_rss_bytes: m.peakRss,
    emulator_cpu_ms_per_verification: round((closed.emulator - opened.emulator) / done, 3),
    load_generator_cpu_ms_per_verification: round((closed.load - opened.load) / done, 3),
    database_cpu_ms_per_verification:
      opened.database === undefined || closed.database === undefined
        ? null
        : round((closed.database - opened.database) / done, 3),
    failures: timed.failures,
    warmup_failures: warmupFailures,
    statuses: timed.statuses,
    errors: timed.errors,
    timeouts: timed.timeouts,
    valid: timed.failures === 0 && warmupFailures === 0 && timed.ok === m.amount,
    phases_seconds: m.phases,
    timed_window_us: [opened.at, closed.at],
    profile_file: m.profileFile,
  };
}

/** Whether the PostgreSQL of `url` runs here: only then are this machine's postgres processes its own. */
function onThisMachine(url: string): boolean {
  return ["127.0.0.1", "localhost", "[::1]"].includes(new URL(url).hostname);
}

/** Name of the run's .cpuprofile (without extension) under `--profile`. */
function profileNameOf(spec: ScenarioSpec): string {
  const persons =
    spec.persons === undefined
      ? ""
      : `-${spec.persons}-persons${spec.round === undefined ? "" : `-round-${spec.round}`}`;
  const load = spec.rate === undefined ? `c${spec.concurrency}` : `${spec.rate}per-s`;
  return `${spec.group}-${spec.server}-${spec.latencyMs}ms-${load}${persons}`;
}

/** CLOCK_MONOTONIC in µs, as V8 stamps profile samples. */
function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), Math.max(min, max));
}
