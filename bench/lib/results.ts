/** The shape of results.json: what one benchmark run measured and judged. */
import type { Machine, Versions } from "./machine.js";
import type { ScenarioConfig, ScenarioResult } from "./scenario.js";
import type { SeedResult } from "./seed.js";
import type { TargetResult } from "./targets.js";

export interface BenchResults {
  generated_at: string;
  mode: "full" | "quick";
  duration_seconds: number;
  machine: Machine;
  versions: Versions;
  config: ScenarioConfig & {
    scale_concurrency: number;
    scale_latency_ms: number;
    open_loop_rate: number;
    /** `--ref DIR`: the other checkout certgate-ref ran from, and its commit (null without). */
    ref?: { dir: string; commit: string | null } | null;
  };
  seeding: SeedResult[];
  runs: ScenarioResult[];
  /** Scenarios that could not run at all (a process failed to start, seeding failed, …). */
  run_errors: { scenario: string; message: string }[];
  targets: TargetResult[];
}
