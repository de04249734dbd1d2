/** results.md (tables, targets, machine, versions), results.json (raw figures) and results.svg. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderChart } from "./chart.js";
import type { BenchResults } from "./results.js";
import type { ScenarioResult } from "./scenario.js";
import { round } from "./stats.js";
import { evaluateTargets, formatCount, type TargetResult } from "./targets.js";
import { WHY } from "./why.js";

export type { BenchResults } from "./results.js";

export function buildResults(input: Omit<BenchResults, "targets">): BenchResults {
  return {
    ...input,
    targets: evaluateTargets(input.runs, {
      durationSeconds: input.duration_seconds,
      mode: input.mode,
      cores: input.machine.cores,
    }),
  };
}

/** Writes the three files into `outDir`; returns their paths. */
export function writeResults(outDir: string, results: BenchResults): string[] {
  mkdirSync(outDir, { recursive: true });
  const files = {
    json: join(outDir, "results.json"),
    markdown: join(outDir, "results.md"),
    svg: join(outDir, "results.svg"),
  };
  writeFileSync(files.json, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(files.svg, renderChart(results.runs, chartTitle(results)));
  writeFileSync(files.markdown, renderMarkdown(results));
  return Object.values(files);
}

function chartTitle(results: BenchResults): string {
  return `certgate vs the guide's baseline — ${results.machine.cores} cores, ${results.mode} run, ${results.generated_at.slice(0, 10)}`;
}

const STATUS_LABEL: Record<TargetResult["status"], string> = {
  met: "✅ met",
  missed: "❌ missed",
  invalid: "⚠️ invalid (a run had failures)",
  "not measured": "– not measured",
};

export function renderMarkdown(results: BenchResults): string {
  const { machine, versions } = results;
  const lines: string[] = [
    "# certgate benchmark results",
    "",
    `Generated ${results.generated_at} by \`npm run bench${results.mode === "quick" ? " -- --quick" : ""}\` in ${Math.round(results.duration_seconds)} s (${results.mode} run).`,
    "How to read these figures, and what exactly is measured: [bench/README.md](../README.md).",
    "",
  ];
  if (results.mode === "quick") {
    lines.push(
      "> **Smoke run** (`--quick`): short timed parts and a small persons count. Not a measurement to quote.",
      "",
    );
  }
  // Only the reading at the start says whether other work was running: by the end the load
  // average is the benchmark's own (a server, the emulator and the load generator: ≈ 2–3).
  if (machine.load_average.start > machine.cores * 0.25) {
    lines.push(
      `> **Noisy machine**: the 1-minute load average was ${machine.load_average.start} at the start (${machine.load_average.end ?? "?"} at the end, the benchmark's own processes included), on ${machine.cores} cores. Other work competed for the CPU; rerun on a quiet machine before quoting.`,
      "",
    );
  } else {
    lines.push(
      `> Quiet machine at the start: 1-minute load average ${machine.load_average.start} on ${machine.cores} cores (${machine.load_average.end ?? "?"} at the end: the benchmark's own server, emulator and load generator).`,
      "",
    );
  }

  if (results.run_errors.length > 0) {
    lines.push("> **Runs that failed to run** (their figures are missing below):");
    for (const e of results.run_errors) lines.push(`> - ${e.scenario}: ${e.message.split("\n")[0]}`);
    lines.push("");
  }

  lines.push("## Targets", "", "| Target | Measured | Result |", "| --- | --- | --- |");
  for (const t of results.targets) lines.push(`| ${t.target} | ${t.measured} | ${STATUS_LABEL[t.status]} |`);
  lines.push("");
  lines.push(
    "### Why, target by target",
    "",
    "_Computed from this run's figures; a missed target adds the profiling notes of bench/lib/why.ts (refresh those after profiling a quiet-machine run)._",
    "",
  );
  for (const t of results.targets) {
    lines.push(
      `**${t.target}** — ${STATUS_LABEL[t.status]}: ${t.measured}. ${t.why.replace(/\.$/, "")}.`,
      "",
    );
    if (t.status !== "missed") continue;
    const why = WHY[t.id]?.(results);
    lines.push(
      why ??
        "> **WHY: to be written** (explain from a profile of this run, then add it to bench/lib/why.ts).",
      "",
    );
  }
  const invalid = results.targets.filter((t) => t.status === "invalid");
  if (invalid.length > 0) {
    lines.push(
      "Targets marked invalid depend on a run with failed requests (see the failures column): that run is not a measurement.",
      "",
    );
  }

  lines.push(
    "## Completion, closed loop: certgate (SQLite and PostgreSQL), the baseline and the floor",
    "",
    "Each row is one run: a fresh server process, a warm-up, then the timed part — N completions, every one a new person, inside a window of the measured run that excludes its connection start-up and its drain (bench/README.md). _floor_ is the least any server must do for one verification on certgate's stack (bench/floor/server.ts); _certgate-postgres_ is certgate on a fresh PostgreSQL database.",
    "",
    "| Upstream latency | Concurrency | Server | N | Verifications/s | p50 ms | p99 ms | Upstream calls / verification | getToken calls (total) | CPU ms / verification | Peak RSS MiB | Failures |",
    "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  const main = results.runs.filter((r) => r.group === "main");
  for (const r of main) lines.push(runRow(r));
  lines.push("", "![Verifications per second and p99 latency, certgate and the baseline](results.svg)", "");

  const same = (server: string, c: ScenarioResult) =>
    main.find(
      (b) =>
        b.server === server &&
        b.upstream_latency_ms === c.upstream_latency_ms &&
        b.concurrency === c.concurrency,
    );
  const ratios = main
    .filter((r) => r.server === "certgate" || r.server === "certgate-postgres")
    .map((c) => ({ c, b: same("baseline", c), f: same("floor", c) }));
  if (ratios.length > 0) {
    lines.push(
      "### certgate relative to the baseline and the floor",
      "",
      "| Upstream latency | Concurrency | Server | Throughput × baseline | p99 ÷ baseline | CPU per verification ÷ baseline | CPU per verification ÷ floor | Peak RSS ÷ baseline |",
      "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    );
    for (const { c, b, f } of ratios) {
      lines.push(
        `| ${c.upstream_latency_ms} ms | ${c.concurrency} | ${c.server} | ${ratio(c.verifications_per_second, b?.verifications_per_second)} | ${ratio(c.latency_ms.p99, b?.latency_ms.p99)} | ${ratio(c.cpu_ms_per_verification, b?.cpu_ms_per_verification)} | ${ratio(c.cpu_ms_per_verification, f?.cpu_ms_per_verification)} | ${ratio(c.peak_rss_bytes, b?.peak_rss_bytes)} |`,
      );
    }
    lines.push("");
  }

  lines.push(...abTable(results));

  const open = results.runs.filter((r) => r.group === "open");
  if (open.length > 0) {
    lines.push(
      `## Completion, open loop: ${results.config.open_loop_rate} verifications/s`,
      "",
      "Requests leave at a fixed rate whatever the server does (bench/lib/openloop.ts); each latency is measured from the instant its request was scheduled, so a stalled server or generator cannot hide waiting time. The first 10 % are not measured.",
      "",
      "| Upstream latency | Server | N | Answered/s | p50 ms | p99 ms | p99.9 ms | max ms | CPU ms / verification | Peak RSS MiB | Failures |",
      "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    );
    for (const r of open) {
      lines.push(
        `| ${r.upstream_latency_ms} ms | ${r.server} | ${r.requests} | ${r.verifications_per_second} | ${r.latency_ms.p50} | ${r.latency_ms.p99} | ${r.latency_ms.p999} | ${r.latency_ms.max} | ${r.cpu_ms_per_verification} | ${mib(r.peak_rss_bytes)} | ${failures(r)} |`,
      );
    }
    lines.push("");
  }

  const scale = results.runs.filter((r) => r.group === "scale");
  if (scale.length > 0) {
    lines.push(
      "## Completion with many persons stored (certgate, SQLite)",
      "",
      `Persons (each with an account) seeded straight into certgate's database before the server starts; then completions at concurrency ${results.config.scale_concurrency}, ${results.config.scale_latency_ms} ms upstream latency. The two sizes are measured in interleaved rounds, each on a fresh copy of the seeded file; the target compares each size's mean p50.`,
      "",
      "| Persons stored | Round | N | Verifications/s | mean ms | p50 ms | p99 ms | CPU ms / verification | Peak RSS MiB | Failures |",
      "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    );
    for (const r of scale) {
      lines.push(
        `| ${formatCount(r.persons ?? 0)} | ${r.round ?? "–"} | ${r.requests} | ${r.verifications_per_second} | ${r.latency_ms.mean} | ${r.latency_ms.p50} | ${r.latency_ms.p99} | ${r.cpu_ms_per_verification} | ${mib(r.peak_rss_bytes)} | ${failures(r)} |`,
      );
    }
    lines.push("");
    if (results.seeding.length > 0) {
      lines.push(
        `Seeding: ${results.seeding.map((s) => `${formatCount(s.persons)} persons in ${round(s.seconds, 1)} s (${mib(s.bytes)} MiB)`).join("; ")}.`,
        "",
      );
    }
  }

  lines.push(
    "## Machine and versions",
    "",
    `- CPU: ${machine.cpu}, ${machine.cores} cores; memory ${machine.memory_gib} GiB; ${machine.os}`,
    `- Load average (1 min): ${machine.load_average.start} at the start, ${machine.load_average.end ?? "?"} at the end`,
    `- node ${versions.node}, certgate ${versions.certgate}, express ${versions.express}, axios ${versions.axios}, better-sqlite3 ${versions["better-sqlite3"]}, autocannon ${versions.autocannon}`,
    `- Timed part sized to ≈ ${results.config.timedSeconds} s per run (${results.config.timedMin}–${results.config.timedMax} completions); warm-up ${results.config.jitWarmup} completions at 0 ms upstream latency (for the JIT), then ${results.config.warmupPerConnection} per connection at the run's latency (${results.config.warmupMin}–${results.config.warmupMax}); upstream calls per verification over the whole measured run, getToken calls over each server's life.`,
    "",
    "Raw figures (also the emulator's and the load generator's CPU per verification, p90, max, status codes): [results.json](results.json).",
    "",
  );
  return `${lines.join("\n")}`;
}

function runRow(r: ScenarioResult): string {
  return `| ${r.upstream_latency_ms} ms | ${r.concurrency} | ${r.server} | ${r.requests} | ${r.verifications_per_second} | ${r.latency_ms.p50} | ${r.latency_ms.p99} | ${r.upstream_calls_per_verification} | ${r.get_token_calls_total} | ${r.cpu_ms_per_verification} | ${mib(r.peak_rss_bytes)} | ${failures(r)} |`;
}

function failures(r: ScenarioResult): string {
  if (r.valid) return "0";
  const statuses = Object.entries(r.statuses)
    .filter(([status]) => !status.startsWith("2"))
    .map(([status, count]) => `${count}×${status}`);
  const parts = [...statuses, ...(r.errors > 0 ? [`${r.errors} errors`] : [])];
  if (r.warmup_failures > 0) parts.push(`${r.warmup_failures} in warm-up`);
  return `**${parts.join(", ") || "incomplete"} — INVALID**`;
}

function mib(bytes: number): string {
  return String(round(bytes / 1024 ** 2, 1));
}

function ratio(a: number, b: number | undefined): string {
  return b === undefined || b === 0 ? "–" : `${round(a / b, 2)}`;
}

/**
 * `--ref DIR`: certgate ÷ certgate-ref for every scenario both ran (each pair back to back, which
 * goes first alternating): an A/B of two commits, readable where runs minutes apart are not.
 */
function abTable(results: BenchResults): string[] {
  const refs = results.runs.filter((r) => r.server === "certgate-ref");
  if (refs.length === 0) return [];
  const ref = results.config.ref;
  const rows = refs.flatMap((a) => {
    const b = results.runs.find(
      (r) =>
        r.server === "certgate" &&
        r.group === a.group &&
        r.upstream_latency_ms === a.upstream_latency_ms &&
        r.concurrency === a.concurrency &&
        r.arrival_rate === a.arrival_rate,
    );
    if (b === undefined) return [];
    const load = a.group === "open" ? `${a.arrival_rate}/s` : `c${a.concurrency}`;
    return [
      `| ${a.group} | ${a.upstream_latency_ms} ms | ${load} | ${ratio(b.verifications_per_second, a.verifications_per_second)} | ${ratio(b.latency_ms.p50, a.latency_ms.p50)} | ${ratio(b.latency_ms.p99, a.latency_ms.p99)} | ${ratio(b.cpu_ms_per_verification, a.cpu_ms_per_verification)} | ${ratio(b.peak_rss_bytes, a.peak_rss_bytes)} |`,
    ];
  });
  return [
    `### A/B: this checkout ÷ certgate-ref${ref ? ` (${ref.commit ?? "?"}, ${ref.dir})` : ""}`,
    "",
    "Each pair ran back to back, which of the two went first alternating from one scenario to the next (from a random start). Below 1 is better for every column but throughput.",
    "",
    "| Part | Upstream latency | Load | Throughput | p50 | p99 | CPU per verification | Peak RSS |",
    "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
  ];
}
