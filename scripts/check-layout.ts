/**
 * The import rules of the layout, checked: `src/core` imports nothing outside itself, no file under
 * `src/` imports from a layer above its own, and there is no import cycle in `src/` or `bench/`.
 * It also holds the layout to one concern per file: no file under `src/` over {@link MAX_LINES} lines
 * unless its header says why ("Longer than 400 lines …"). Run by `npm run check:layout` (part of
 * `npm test`); prints each violation and exits 1.
 *
 * Type-only imports count too: a cycle of types is still a cycle a reader has to hold in mind.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), "..");

/**
 * Layers from the bottom up. A file may import its own layer and the layers below it. Folders not
 * listed (e.g. `emulator/`) are checked for cycles only.
 */
const LAYERS: readonly (readonly string[])[] = [
  ["core"],
  ["portone", "store", "observability", "util"],
  ["service"],
  ["http"],
  ["server.ts", "index.ts", "config.ts", "startup-errors.ts"],
  ["cli"],
];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return /\.ts$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s(?:[^'"]*?\sfrom\s)?["'](\.{1,2}\/[^"']+)["']/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(IMPORT)].map((m) => resolve(dirname(file), (m[1] ?? "").replace(/\.js$/, ".ts")));
}

function layerOf(file: string): number | undefined {
  const rel = relative(join(ROOT, "src"), file);
  if (rel.startsWith("..")) return undefined;
  const top = rel.split("/")[0] ?? "";
  const i = LAYERS.findIndex((names) => names.includes(top));
  return i === -1 ? undefined : i;
}

/** Strongly connected components of more than one file (or a file importing itself): Tarjan. */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const stack: string[] = [];
  const onStack = new Set<string>();
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const found: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, idx.get(w) ?? 0));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const component: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop();
        if (w === undefined) break;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component);
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

/** Longest a source file may be without saying why in its header. */
const MAX_LINES = 400;

export function checkImports(): string[] {
  const problems: string[] = [];
  for (const file of files(join(ROOT, "src"))) {
    const text = readFileSync(file, "utf8");
    const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    const header = text.slice(0, text.indexOf("*/") + 2);
    if (lines > MAX_LINES && !/Longer than 400 lines/.test(header)) {
      problems.push(`${relative(ROOT, file)}: ${lines} lines, and its header does not say why`);
    }
  }
  const all = [...files(join(ROOT, "src")), ...files(join(ROOT, "bench"))];
  const graph = new Map(all.map((f) => [f, importsOf(f)]));
  const rel = (f: string) => relative(ROOT, f);
  for (const [file, targets] of graph) {
    const from = layerOf(file);
    for (const target of targets) {
      const to = layerOf(target);
      const fromCore = rel(file).startsWith("src/core/");
      if (fromCore && !rel(target).startsWith("src/core/")) {
        problems.push(`${rel(file)} → ${rel(target)}: src/core imports nothing outside itself`);
      } else if (from !== undefined && to !== undefined && to > from) {
        problems.push(`${rel(file)} → ${rel(target)}: imports from a layer above its own`);
      }
    }
  }
  for (const component of cycles(graph)) {
    problems.push(`import cycle: ${component.map(rel).sort().join(" ↔ ")}`);
  }
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const problems = checkImports();
  for (const p of problems) console.error(p);
  console.log(problems.length === 0 ? "layout: ok" : `layout: ${problems.length} problem(s)`);
  process.exit(problems.length === 0 ? 0 : 1);
}
