/**
 * The results chart as a self-contained SVG (no dependency): panels of grouped bars. The closed-loop
 * panels have one group per scenario (upstream latency × concurrency) and one bar per server
 * (certgate on SQLite, certgate on PostgreSQL, the baseline, the floor; with `--ref`, certgate-ref
 * first) — verifications per second
 * (higher is better), p99 latency and CPU per verification (lower is better); the open-loop panel has
 * one group per upstream latency and percentile (p50, p99, p99.9).
 */
import type { ScenarioResult } from "./scenario.js";

const COLORS = {
  "certgate-ref": "#93c5fd",
  certgate: "#2563eb",
  "certgate-postgres": "#7c3aed",
  baseline: "#9ca3af",
  floor: "#10b981",
} as const;
/** Every server a chart can show; certgate-ref (`--ref`) only when the run has it. */
const ALL_SERVERS = ["certgate-ref", "certgate", "certgate-postgres", "baseline", "floor"] as const;
type ChartServer = (typeof ALL_SERVERS)[number];
const WIDTH = 820;
const PANEL_HEIGHT = 280;
const MARGIN = { left: 70, right: 20, top: 40, bottom: 50 };

interface Panel {
  title: string;
  unit: string;
  value(run: ScenarioResult): number;
  groups: Group[];
}

interface Group {
  label: string;
  runs: (ScenarioResult | undefined)[];
}

export function renderChart(runs: readonly ScenarioResult[], title: string): string {
  const servers = ALL_SERVERS.filter((s) => s !== "certgate-ref" || runs.some((r) => r.server === s));
  const main = runs.filter((run) => run.group === "main");
  const groups = [...new Set(main.map((run) => `${run.upstream_latency_ms}|${run.concurrency}`))].map(
    (key) => {
      const [latency, concurrency] = key.split("|").map(Number);
      return {
        label: `${latency} ms · c${concurrency}`,
        runs: servers.map((server) =>
          main.find(
            (run) =>
              run.server === server && run.upstream_latency_ms === latency && run.concurrency === concurrency,
          ),
        ),
      };
    },
  );
  const open = runs.filter((run) => run.group === "open");
  const openGroups = [...new Set(open.map((run) => run.upstream_latency_ms))].flatMap((latency) =>
    (["p50", "p99", "p999"] as const).map((p) => ({
      label: `${latency} ms · ${p === "p999" ? "p99.9" : p}`,
      percentile: p,
      runs: servers.map((server) =>
        open.find((run) => run.server === server && run.upstream_latency_ms === latency),
      ),
    })),
  );
  const panels: Panel[] = [
    {
      title: "Closed loop: verifications per second (higher is better)",
      unit: "/s",
      value: (r) => r.verifications_per_second,
      groups,
    },
    {
      title: "Closed loop: p99 latency in ms (lower is better)",
      unit: " ms",
      value: (r) => r.latency_ms.p99,
      groups,
    },
    {
      title: "Closed loop: server CPU ms per verification (lower is better)",
      unit: " ms",
      value: (r) => r.cpu_ms_per_verification,
      groups,
    },
  ];
  if (openGroups.length > 0) {
    // One panel, three percentiles: each group reads its own percentile.
    const byLabel = new Map(openGroups.map((g) => [g.label, g.percentile]));
    panels.push({
      title: `Open loop at ${open[0]?.arrival_rate ?? "?"}/s: latency in ms (lower is better)`,
      unit: " ms",
      value: (r) => r.latency_ms.p99,
      groups: openGroups.map((g) => ({
        label: g.label,
        runs: g.runs.map((run) =>
          run === undefined
            ? undefined
            : {
                ...run,
                // The bar of this group shows this group's percentile.
                latency_ms: { ...run.latency_ms, p99: run.latency_ms[byLabel.get(g.label) ?? "p99"] },
              },
        ),
      })),
    });
  }
  const height = 50 + panels.length * (PANEL_HEIGHT + 20) + 30;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" font-weight="600">${escapeXml(title)}</text>`,
  ];
  panels.forEach((panel, index) => {
    parts.push(renderPanel(panel, panel.groups, 40 + index * (PANEL_HEIGHT + 20), servers));
  });
  // Legend.
  const legendY = height - 18;
  servers.forEach((server, i) => {
    const x = WIDTH / 2 - 260 - (servers.length - 4) * 70 + i * 140;
    parts.push(
      `<rect x="${x}" y="${legendY - 10}" width="12" height="12" fill="${COLORS[server]}"/>`,
      `<text x="${x + 18}" y="${legendY}">${server}</text>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

function renderPanel(panel: Panel, groups: Group[], top: number, servers: readonly ChartServer[]): string {
  const plotTop = top + MARGIN.top;
  const plotHeight = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const values = groups.flatMap((g) => g.runs.map((run) => (run ? panel.value(run) : 0)));
  const max = niceCeiling(Math.max(1, ...values));
  const y = (value: number) => px(plotTop + plotHeight - (value / max) * plotHeight);
  const out: string[] = [
    `<text x="${MARGIN.left}" y="${top + 22}" font-size="13" font-weight="600">${escapeXml(panel.title)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const value = (max / 4) * i;
    out.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(value)}" y2="${y(value)}" stroke="#e5e7eb"/>`,
      `<text x="${MARGIN.left - 6}" y="${y(value) + 4}" text-anchor="end" fill="#4b5563">${formatNumber(value)}</text>`,
    );
  }
  const groupWidth = plotWidth / Math.max(groups.length, 1);
  const barWidth = Math.min(34, (groupWidth - 16) / servers.length);
  groups.forEach((group, g) => {
    const groupLeft = px(MARGIN.left + g * groupWidth + (groupWidth - barWidth * servers.length) / 2);
    group.runs.forEach((run, s) => {
      if (!run) return;
      const value = panel.value(run);
      const x = px(groupLeft + s * barWidth);
      const barTop = y(value);
      const fill = run.valid ? COLORS[servers[s] ?? "baseline"] : "#ef4444";
      out.push(
        `<rect x="${px(x + 1)}" y="${barTop}" width="${px(barWidth - 2)}" height="${px(plotTop + plotHeight - barTop)}" fill="${fill}"><title>${escapeXml(`${run.server}, ${group.label}: ${formatNumber(value)}${panel.unit}${run.valid ? "" : " (INVALID: failures)"}`)}</title></rect>`,
        `<text x="${px(x + barWidth / 2)}" y="${px(barTop - 4)}" text-anchor="middle" font-size="10" fill="#111827">${formatNumber(value)}</text>`,
      );
    });
    out.push(
      `<text x="${px(MARGIN.left + g * groupWidth + groupWidth / 2)}" y="${plotTop + plotHeight + 18}" text-anchor="middle" fill="#374151">${escapeXml(group.label)}</text>`,
    );
  });
  out.push(
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${plotTop + plotHeight}" y2="${plotTop + plotHeight}" stroke="#6b7280"/>`,
    `<text x="${MARGIN.left + plotWidth / 2}" y="${plotTop + plotHeight + 38}" text-anchor="middle" fill="#6b7280">upstream latency · concurrency</text>`,
  );
  return out.join("\n");
}

/** A coordinate with one decimal: enough for a chart, short in the file. */
function px(value: number): number {
  return Math.round(value * 10) / 10;
}

/** The next 1, 2 or 5 × 10^k at or above `value`. */
function niceCeiling(value: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function formatNumber(value: number): string {
  if (value >= 100) return String(Math.round(value));
  if (value >= 10) return value.toFixed(1).replace(/\.0$/, "");
  return value.toFixed(2).replace(/\.?0+$/, "") || "0";
}

function escapeXml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}
