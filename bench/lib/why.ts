/**
 * Why a target is missed, in words, for results.md: each explanation is computed from the run's own
 * figures where it can be, plus what profiling showed (`npm run bench -- --profile` writes a
 * per-run summary of the timed part). Kept here so a rerun does not lose them; update an entry when
 * the code changes what it explains. A missed target without an entry gets a clearly marked
 * "WHY: to be written" placeholder.
 *
 * PROFILE NOTES (refreshed 2026-12-01, third pass of issue 13; `--profile` of the committed run,
 * certgate on SQLite at 0 ms upstream, concurrency 50; shares of the production build's profile,
 * library shares from a dev-build profile of the same code; read shares, not times):
 *   - SQLite's own work on the event loop ≈ 28–31 % (the statements ≈ 16–19 %, BEGIN/COMMIT
 *     ≈ 12.5 %, in two profiled full runs; 37 % before migration 0007); the JavaScript of the transaction around it and its AES-GCM and
 *     HMAC ≈ 13 %. The store's completion path alone (no HTTP; scratch harness) costs ≈ 0.22 ms,
 *     most of it the COMMIT's WAL append (two pwrite calls per page, plus the WAL index's locks).
 *     perf puts better-sqlite3's native code (SQLite included) at only ≈ 6–8 % of the process:
 *     much of "the statements" is V8's side of the binding (parameters in, row objects out).
 *   - The HTTP side, which the floor server pays as well: socket writes ≈ 11 %, the upstream GET
 *     through node:http ≈ 9 %, node's parser and Hono's dispatch ≈ 8 %; garbage collection ≈ 4 %;
 *     pino ≈ 3 %; zod ≈ 3 %; the request-id AsyncLocalStorage (its promise hooks) ≈ 2 %;
 *     keepNames' `__name` on Hono's per-request closures ≈ 1.5 %.
 *   - Done in the third pass: the body read straight from Node's IncomingMessage (Hono's bodyLimit
 *     built every request's web Request, AbortSignal and stream: ≈ 8 % of certgate's CPU, and half
 *     of the floor's, which now reads its body the same way), rows of the synchronous path read as
 *     arrays and named in JavaScript, and migration 0007: only pending verifications indexed by
 *     status (a completion moved its row inside three status-led indexes; the store's completion
 *     path ≈ 15 % faster).
 *   - Tried in the third pass and not kept: 2 KiB pages for new databases (the store's completion
 *     path ≈ 13 % faster on a small database, none with 1,000,000 persons, where the deeper B-trees
 *     cost it back: the persons-scale ratio would worsen); minifying without keepNames (the
 *     package outgrows its 2 MB client-install budget, and stack traces lose their names).
 *   - Done in the second pass: the hot path's statements built and compiled by Kysely once per shape
 *     (store/prepared.ts; Kysely was ≈ 8–27 % before), the bound-id read on the synchronous path,
 *     the verified record built from the plaintext it sealed (no decrypt of what was just
 *     encrypted), WAL checkpoints by a worker thread (store/sqlite/checkpointer.ts; the automatic
 *     checkpoint ran inside a COMMIT on the event loop), the person key's HMAC computed once; on
 *     PostgreSQL the hot statements prepared by name once per connection.
 *   - Done in the first pass: PortOne calls through node:http(s) with a shared keep-alive agent
 *     instead of global fetch; the completion as ONE synchronous better-sqlite3 transaction
 *     (store/steps.ts); X-Request-Id set before the answer is built.
 *   - Earlier (issue 7): prepared statements reused by SQL text, RETURNING instead of re-reads, WAL with
 *     synchronous = NORMAL, pooled CSPRNG buffer.
 *   - Levers left: the store off the event loop (a worker thread owning the SQLite connection and
 *     running the whole completion transaction, crypto included: the ≈ 48 % above would leave the
 *     thread that answers requests for one message round trip; every store call would have to go
 *     there, or a second connection's lock waits would block the event loop); fewer B-tree pages
 *     per completion (WITHOUT ROWID tables for the ones keyed by text: a table rebuild on SQLite,
 *     ≈ 1 page each of the ≈ 15 a completion writes). On PostgreSQL,
 *     socket writes are ≈ 30 % of certgate's CPU: ten round trips per completion, each a write
 *     that wakes a backend; fewer round trips is the lever there.
 */
import type { BenchResults } from "./results.js";
import type { ScenarioResult } from "./scenario.js";
import { round } from "./stats.js";
import { MIN_THROUGHPUT_FACTOR, OPEN_LOOP_P99_ALLOWANCE_MS, type TargetId } from "./targets.js";

type Explain = (results: BenchResults) => string;

const PROFILE_HOTSPOTS =
  "certgate does more per verification than the baseline and the floor, on purpose: one transaction of 7–8 statements over six tables (the verification, the consumed imp_uid, the person, the account, the audit event, the webhook outbox event), AES-GCM encryption of the identity and an HMAC of the person key, the policy, a structured log line and metrics. Profiling the timed part (`--profile`; notes in bench/lib/why.ts) puts ≈ 28–31 % of certgate's CPU in SQLite on the event loop (the statements ≈ 16–19 %, BEGIN/COMMIT ≈ 12.5 %, most of it the COMMIT's WAL append of every page the completion touched) and ≈ 13 % in the JavaScript and crypto of the transaction around it; the socket writes, the upstream GET, node's HTTP parser and Hono — which the floor pays too — take ≈ 28 %. Levers left: the store off the event loop (a worker thread owning the connection and the whole completion transaction), fewer B-tree pages per completion (WITHOUT ROWID tables: a table rebuild).";

function mainRuns(results: BenchResults, server: string, latency?: number): ScenarioResult[] {
  return results.runs.filter(
    (r) =>
      r.group === "main" &&
      r.server === server &&
      (latency === undefined || r.upstream_latency_ms === latency),
  );
}

function average(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Mean CPU per verification of server, emulator and load generator over `runs`. */
function cpuShares(runs: ScenarioResult[]) {
  return {
    server: round(average(runs.map((r) => r.cpu_ms_per_verification))),
    emulator: round(average(runs.map((r) => r.emulator_cpu_ms_per_verification))),
    load: round(average(runs.map((r) => r.load_generator_cpu_ms_per_verification))),
  };
}

/** The runs at the highest concurrency measured: the ones that keep the CPU busy. */
function busiest(runs: ScenarioResult[]): ScenarioResult[] {
  const top = Math.max(...runs.map((r) => r.concurrency));
  return runs.filter((r) => r.concurrency === top);
}

const throughput =
  (latency: number): Explain =>
  (results) => {
    const c = cpuShares(busiest(mainRuns(results, "certgate", latency)));
    const b = cpuShares(busiest(mainRuns(results, "baseline", latency)));
    const top = busiest(mainRuns(results, "certgate", latency))[0]?.concurrency ?? "?";
    const total = (x: typeof c) => round(x.server + x.emulator + x.load);
    return [
      `On ${results.machine.cores} cores shared by the server, the emulator and the load generator, a run that keeps the CPU busy can go no faster than cores ÷ (CPU per verification of all three).`,
      `At concurrency ${top} that sum is ${total(c)} ms for certgate (server ${c.server} + emulator ${c.emulator} + load generator ${c.load}) against ${total(b)} ms for the baseline (${b.server} + ${b.emulator} + ${b.load}):`,
      `certgate saves the baseline's second upstream call (the emulator's share) and its own CPU per verification is ${c.server > b.server ? "higher than the baseline's" : `${round((100 * c.server) / Math.max(b.server, 0.001), 0)} % of the baseline's`}, so the bound is ≈ ${round(total(b) / Math.max(total(c), 0.001), 2)}× where ${MIN_THROUGHPUT_FACTOR[latency] ?? "?"}× is asked.`,
      latency > 0 ? latencyBound(results, latency) : "",
      PROFILE_HOTSPOTS,
    ]
      .filter((s) => s !== "")
      .join(" ");
  };

/** At concurrency 1 throughput is 1 ÷ latency: the upstream round trips plus each server's own time. */
function latencyBound(results: BenchResults, latency: number): string {
  const find = (server: string) => mainRuns(results, server, latency).find((r) => r.concurrency === 1);
  const c = find("certgate");
  const b = find("baseline");
  if (!c || !b) return "";
  const own = (r: ScenarioResult, calls: number) => round(r.latency_ms.p50 - calls * latency, 1);
  // (2L + b) / (L + c) ≥ factor  ⇔  c ≤ (2L + b) / factor − L
  const factor = MIN_THROUGHPUT_FACTOR[latency] ?? 2;
  const budget = round((2 * latency + own(b, 2)) / factor - latency, 1);
  return `At concurrency 1 a completion is latency-bound: certgate's p50 ${c.latency_ms.p50} ms is one ${latency} ms upstream call plus ≈ ${own(c, 1)} ms of its own, the baseline's ${b.latency_ms.p50} ms two calls plus ≈ ${own(b, 2)} ms; ${factor}× needs certgate's own time to be ≤ ${budget} ms.`;
}

/** The floor's open-loop p99 at each latency against the same limit, in words. */
function floorOpenLoop(results: BenchResults): string {
  const runs = results.runs.filter((r) => r.group === "open" && r.server === "floor");
  if (runs.length === 0) return "";
  const over = (r: ScenarioResult) => r.latency_ms.p99 > r.upstream_latency_ms + OPEN_LOOP_P99_ALLOWANCE_MS;
  const figures = runs
    .map(
      (r) =>
        `p99 ${r.latency_ms.p99} ms at ${r.upstream_latency_ms} ms (limit ${r.upstream_latency_ms + OPEN_LOOP_P99_ALLOWANCE_MS})`,
    )
    .join(", ");
  return runs.some(over)
    ? `The floor, which allocates a fraction of what a completion does, measured ${figures} in this run: where it is over the limit too, the machine and the load generator alone exceed it.`
    : `The floor, which allocates a fraction of what a completion does, measured ${figures} in this run, within the limit.`;
}

export const WHY: Partial<Record<TargetId, Explain>> = {
  throughput_0ms: throughput(0),
  throughput_20ms: throughput(20),

  open_loop_p99(results) {
    return results.runs
      .filter((r) => r.group === "open" && r.server === "certgate")
      .map((r) => {
        const limit = r.upstream_latency_ms + OPEN_LOOP_P99_ALLOWANCE_MS;
        const cores = results.machine.cores;
        const all = round(
          r.cpu_ms_per_verification +
            r.emulator_cpu_ms_per_verification +
            r.load_generator_cpu_ms_per_verification,
        );
        const load = round(((r.arrival_rate ?? 0) * all) / (cores * 10), 1);
        return `At ${r.upstream_latency_ms} ms: at ${r.arrival_rate}/s server, emulator and load generator together keep ≈ ${load} % of the ${cores} cores busy (${all} ms per verification), so a request arriving while certgate's event loop runs another one waits for it; the p99 of ${r.latency_ms.p99} ms against the ${limit} ms limit is that waiting, which shrinks with certgate's CPU per verification (see the CPU target) and grows with anything else running on the machine (load average ${results.machine.load_average.start}–${results.machine.load_average.end ?? "?"}).`;
      })
      .concat(
        `Part of that waiting is the garbage collector: certgate run under \`--trace-gc\` at 300/s and 20 ms (2026-12-01) showed young-generation collections pausing the event loop for 1–8 ms about three times a second, each delaying the requests that arrive or are in flight during it. ${floorOpenLoop(results)}`,
      )
      .join("\n\n");
  },

  cpu_c50(results) {
    const c = cpuShares(mainRuns(results, "certgate"));
    const b = cpuShares(mainRuns(results, "baseline"));
    const floor = cpuShares(mainRuns(results, "floor"));
    return `Over the whole matrix certgate spends ${c.server} ms of CPU per verification on average, the floor ${floor.server} ms and the baseline ${b.server} ms. ${PROFILE_HOTSPOTS} CPU per verification rises with the machine's load (cache and scheduler contention; load average ${results.machine.load_average.start}–${results.machine.load_average.end ?? "?"} here), which is why the target also asks for a ratio to the floor measured in the same run.`;
  },

  postgres_c50(results) {
    const pg = mainRuns(results, "certgate-postgres").filter((r) => r.concurrency === 50);
    return `${pg.map((r) => `At ${r.upstream_latency_ms} ms certgate on PostgreSQL spent ${r.cpu_ms_per_verification} ms (user ${r.cpu_ms_split.user} / system ${r.cpu_ms_split.system} ms over the window) at ${r.verifications_per_second}/s.`).join(" ")} On PostgreSQL the completion is an asynchronous transaction of the same statements (store/steps.ts), each a round trip through the pg client (query serialization, the protocol, a promise per statement) plus BEGIN and COMMIT, and PostgreSQL's own backend processes compete for the same ${results.machine.cores} cores as certgate, the emulator and the load generator. The hot statements are prepared by name once per connection (PostgreSQL parses and plans each once). Profiling the timed part puts ≈ 30 % of certgate's CPU on PostgreSQL in socket writes: a completion is ten round trips (the bound-id read, BEGIN, seven statements, COMMIT), each a write that wakes a backend process on the same cores. Levers left: fewer round trips (a completion's decisions sit between its statements, so they cannot be sent together as they stand; one CTE would move the decisions into SQL).`;
  },

  peak_rss() {
    return "certgate's peak RSS is its code (Hono, Kysely, zod, pino, prom-client, pg, the emulator's personas, the OpenAPI document) plus the heap of the requests in flight, plus ≈ 7–8 MiB for the thread that checkpoints the WAL off the event loop (its own V8 isolate and SQLite connection; measured by starting one in an otherwise idle process); the baseline loads Express and axios only. The V8 heap grows to what the in-flight requests need before a major GC runs; a smaller semi-space or `--max-old-space-size` would trade CPU for memory.";
  },

  persons_scale(results) {
    const scale = results.runs.filter((r) => r.group === "scale");
    const large = scale[scale.length - 1];
    return `Every lookup of a completion is indexed (persons_key_unique, accounts.person_id, verifications.bound_id), so more persons cost B-tree depth, not scans. A miss points at SQLite's page cache (certgate opens the database with the default cache_size of 2 MiB, while ${large?.persons?.toLocaleString("en-US") ?? "the large"} persons take hundreds of MiB with random-key indexes: each new person's insert touches cold pages) or at noise: the rounds of one size differ by as much as the machine drifts between them; compare the CPU per verification of the runs.`;
  },
};
