/**
 * The targets of issue 7, each judged met / missed from the figures (or "invalid" when a run it
 * needs had failures, "not measured" when the run was skipped).
 */
import type { ScenarioResult } from "./scenario.js";
import { round } from "./stats.js";

export type TargetId =
  | "upstream_calls"
  | "throughput_20ms"
  | "throughput_0ms"
  | "p99_c50"
  | "cpu_per_verification"
  | "persons_scale";

export type TargetStatus = "met" | "missed" | "invalid" | "not measured";

export interface TargetResult {
  id: TargetId;
  target: string;
  measured: string;
  status: TargetStatus;
}

/** Certgate's upstream calls per verification, at most. */
export const MAX_UPSTREAM_CALLS = 1.01;
/** Throughput factor over the baseline by upstream latency (ms). */
export const MIN_THROUGHPUT_FACTOR: Record<number, number> = { 0: 1.5, 20: 2 };
/** p99 at concurrency 50 may exceed the upstream latency by this much (ms). */
export const P99_ALLOWANCE_MS = 15;
export const MAX_CPU_MS = 1;
/** Completion latency with the large person count, relative to the small one. */
export const MAX_SCALE_FACTOR = 1.3;

export function evaluateTargets(runs: readonly ScenarioResult[]): TargetResult[] {
  const main = runs.filter((run) => run.group === "main");
  const certgate = main.filter((run) => run.server === "certgate");
  const find = (server: string, latency: number, concurrency: number) =>
    main.find(
      (r) => r.server === server && r.upstream_latency_ms === latency && r.concurrency === concurrency,
    );
  const results: TargetResult[] = [];

  // Upstream calls per verification: every certgate run, scale runs included.
  const allCertgate = runs.filter((run) => run.server === "certgate");
  const baselineCalls = main
    .filter((run) => run.server === "baseline")
    .map((r) => r.upstream_calls_per_verification);
  const worstCalls = Math.max(...allCertgate.map((r) => r.upstream_calls_per_verification));
  results.push({
    id: "upstream_calls",
    target: `certgate upstream calls per verification ≤ ${MAX_UPSTREAM_CALLS} (the baseline makes 2)`,
    measured:
      allCertgate.length === 0
        ? "–"
        : `certgate at most ${worstCalls} over ${allCertgate.length} runs; baseline ${describeRange(baselineCalls)}`,
    status: judge(allCertgate, worstCalls <= MAX_UPSTREAM_CALLS),
  });

  // Throughput factors, per upstream latency, at every concurrency measured.
  for (const latency of [20, 0]) {
    const factor = MIN_THROUGHPUT_FACTOR[latency] ?? 1;
    const pairs = [
      ...new Set(certgate.filter((r) => r.upstream_latency_ms === latency).map((r) => r.concurrency)),
    ]
      .map((c) => ({ c, certgate: find("certgate", latency, c), baseline: find("baseline", latency, c) }))
      .filter((p): p is { c: number; certgate: ScenarioResult; baseline: ScenarioResult } =>
        Boolean(p.certgate && p.baseline),
      );
    const ratios = pairs.map((p) => ({
      c: p.c,
      ratio: p.certgate.verifications_per_second / Math.max(p.baseline.verifications_per_second, 0.001),
    }));
    results.push({
      id: latency === 20 ? "throughput_20ms" : "throughput_0ms",
      target: `throughput ≥ ${factor}× the baseline at ${latency} ms upstream latency (every concurrency)`,
      measured: ratios.length === 0 ? "–" : ratios.map((r) => `c${r.c}: ${round(r.ratio, 2)}×`).join(", "),
      status: judge(
        pairs.flatMap((p) => [p.certgate, p.baseline]),
        ratios.every((r) => r.ratio >= factor),
      ),
    });
  }

  // p99 at concurrency 50.
  const c50 = certgate.filter((r) => r.concurrency === 50);
  results.push({
    id: "p99_c50",
    target: `certgate p99 ≤ upstream latency + ${P99_ALLOWANCE_MS} ms at concurrency 50`,
    measured:
      c50.length === 0
        ? "–"
        : c50
            .map(
              (r) =>
                `${r.upstream_latency_ms} ms: p99 ${r.latency_ms.p99} ms (limit ${r.upstream_latency_ms + P99_ALLOWANCE_MS})`,
            )
            .join(", "),
    status: judge(
      c50,
      c50.every((r) => r.latency_ms.p99 <= r.upstream_latency_ms + P99_ALLOWANCE_MS),
    ),
  });

  // CPU per verification, every certgate run of the matrix (SQLite).
  const worstCpu = certgate.reduce<ScenarioResult | undefined>(
    (worst, r) =>
      worst === undefined || r.cpu_ms_per_verification > worst.cpu_ms_per_verification ? r : worst,
    undefined,
  );
  results.push({
    id: "cpu_per_verification",
    target: `certgate CPU ≤ ${MAX_CPU_MS} ms per verification on SQLite (every run)`,
    measured:
      worstCpu === undefined
        ? "–"
        : `${describeRange(certgate.map((r) => r.cpu_ms_per_verification))} ms (worst at ${worstCpu.upstream_latency_ms} ms, c${worstCpu.concurrency}); baseline ${describeRange(main.filter((r) => r.server === "baseline").map((r) => r.cpu_ms_per_verification))} ms`,
    status: judge(certgate, (worstCpu?.cpu_ms_per_verification ?? Number.POSITIVE_INFINITY) <= MAX_CPU_MS),
  });

  // Persons scale.
  const scale = runs
    .filter((run) => run.group === "scale")
    .sort((a, b) => (a.persons ?? 0) - (b.persons ?? 0));
  const small = scale[0];
  const large = scale[scale.length - 1];
  const scaleRatio = small && large ? large.latency_ms.p50 / Math.max(small.latency_ms.p50, 0.001) : 0;
  results.push({
    id: "persons_scale",
    target: `completion p50 with ${formatCount(large?.persons ?? 1_000_000)} persons ≤ ${MAX_SCALE_FACTOR}× that with ${formatCount(small?.persons ?? 1_000)}`,
    measured:
      small && large && small !== large
        ? `${large.latency_ms.p50} ms vs ${small.latency_ms.p50} ms: ${round(scaleRatio, 2)}× (c${large.concurrency}, ${large.upstream_latency_ms} ms upstream)`
        : "–",
    status:
      small && large && small !== large
        ? judge([small, large], scaleRatio <= MAX_SCALE_FACTOR)
        : "not measured",
  });
  return results;
}

function judge(runs: readonly ScenarioResult[], met: boolean): TargetStatus {
  if (runs.length === 0) return "not measured";
  if (runs.some((run) => !run.valid)) return "invalid";
  return met ? "met" : "missed";
}

function describeRange(values: readonly number[]): string {
  if (values.length === 0) return "–";
  const min = Math.min(...values);
  const max = Math.max(...values);
  return min === max ? String(min) : `${min}–${max}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}
