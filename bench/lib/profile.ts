/**
 * Summaries of V8 CPU profiles (`node --cpu-prof`, written by `npm run bench -- --profile`): where a
 * server process spends its time, by function (self and inclusive) and by package or source file.
 * A profile covers the process's whole life; given the timed part's window (V8 stamps samples with
 * the system's monotonic clock, which the benchmark records around the timed part) only the samples
 * of the completions are summarized. Open a .cpuprofile in Chrome DevTools (Performance tab) for
 * the flame chart.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { z } from "zod";

const profileSchema = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
      children: z.array(z.number()).optional(),
    }),
  ),
  startTime: z.number(),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});

interface Row {
  name: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  file: string;
  /** Whether only the timed part was summarized. */
  windowed: boolean;
  /** Sampled time outside "(idle)", ms. */
  busyMs: number;
  idleMs: number;
  bySelf: Row[];
  byInclusive: Row[];
  byOrigin: Row[];
}

const SPECIAL = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);

/** Summarizes `file`; with `window` ([start, end] µs, monotonic), only the samples inside it. */
export function summarizeProfile(file: string, window?: readonly [number, number], top = 25): ProfileSummary {
  const profile = profileSchema.parse(JSON.parse(readFileSync(file, "utf8")));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const origin = new Map<string, number>();
  let idleUs = 0;
  let busyUs = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    at += us;
    if (window && (at < window[0] || at > window[1])) return;
    const node = byId.get(id);
    if (!node) return;
    if (node.callFrame.functionName === "(idle)") {
      idleUs += us;
      return;
    }
    busyUs += us;
    const key = frameName(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + us);
    const from = originOf(node.callFrame);
    origin.set(from, (origin.get(from) ?? 0) + us);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame || SPECIAL.has(frame.functionName)) continue;
      const name = frameName(frame);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
  });
  const rows = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: Math.round(us / 1000), share: busyUs === 0 ? 0 : us / busyUs }));
  return {
    file: basename(file),
    windowed: window !== undefined,
    busyMs: Math.round(busyUs / 1000),
    idleMs: Math.round(idleUs / 1000),
    bySelf: rows(self),
    byInclusive: rows(inclusive),
    byOrigin: rows(origin),
  };
}

export function renderProfileSummary(summary: ProfileSummary): string {
  const table = (title: string, rows: Row[]) => [
    `#### ${title}`,
    "",
    "| ms | share of busy time | |",
    "| ---: | ---: | --- |",
    ...rows.map(
      (row) => `| ${row.ms} | ${(row.share * 100).toFixed(1)} % | \`${row.name.replaceAll("|", "\\|")}\` |`,
    ),
    "",
  ];
  return [
    `### ${summary.file}`,
    "",
    `${summary.windowed ? "Timed part only" : "Whole process life"}: busy ${summary.busyMs} ms, idle ${summary.idleMs} ms (sampled wall time; on a busy machine, time the process waited for a core counts as busy).`,
    "",
    ...table("By package or file (self time)", summary.byOrigin),
    ...table("By function, self time", summary.bySelf),
    ...table("By function, inclusive time (on the stack)", summary.byInclusive),
  ].join("\n");
}

function frameName(frame: { functionName: string; url: string; lineNumber: number }): string {
  if (SPECIAL.has(frame.functionName) || frame.url === "") return frame.functionName || "(anonymous)";
  return `${frame.functionName || "(anonymous)"} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

function originOf(frame: { functionName: string; url: string }): string {
  if (frame.url === "") return frame.functionName.startsWith("(") ? frame.functionName : "(native)";
  if (frame.url.startsWith("node:")) return frame.url;
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(frame.url);
  if (modules?.[1]) return modules[1];
  const dist = /\/dist\/(.+)$/.exec(frame.url);
  if (dist?.[1]) return `certgate ${dist[1]}`;
  return shortUrl(frame.url);
}

function shortUrl(url: string): string {
  return url
    .replace(/^file:\/\//, "")
    .replace(/^.*node_modules\//, "")
    .replace(/^.*\/dist\//, "dist/");
}
