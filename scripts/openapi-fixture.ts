/**
 * Regenerates `test/conformance/portone-openapi.fixture.json`: the STRUCTURE of the PortOne
 * operations the emulator serves (paths, methods, parameters, statuses, schemas, enums, required
 * fields, types, formats), taken from PortOne's published OpenAPI files, with every prose field
 * (`description`, `summary`, `title`, `x-portone-*`, examples) and every unreferenced schema left out.
 *
 * Sources: portone-io/developers.portone.io `src/schema/v1.openapi.json` (Swagger 2.0) and
 * `src/schema/v2.openapi.json` (OpenAPI 3.0.3).
 *
 * Usage (either form):
 *   npx tsx scripts/openapi-fixture.ts --git <bare or working repo of developers.portone.io> [--rev HEAD]
 *   npx tsx scripts/openapi-fixture.ts --v1 v1.openapi.json --v2 v2.openapi.json --commit <sha>
 * Output: the fixture path, or `--out <path>`.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

/** The operations the emulator serves, by the operationId PortOne gives them. */
export const V1_OPERATIONS = [
  "getToken",
  "getCertification",
  "deleteCertification",
  "requestOTP",
  "confirmOTP",
];
export const V2_OPERATIONS = [
  "loginViaApiSecret",
  "refreshToken",
  "getIdentityVerification",
  "getIdentityVerifications",
  "sendIdentityVerification",
  "confirmIdentityVerification",
  "resendIdentityVerification",
];

const REPOSITORY = "portone-io/developers.portone.io";
const V1_PATH = "src/schema/v1.openapi.json";
const V2_PATH = "src/schema/v2.openapi.json";
const DEFAULT_OUT = "test/conformance/portone-openapi.fixture.json";

/** Keywords that carry prose or samples, never structure. */
const PROSE_KEYS = new Set([
  "description",
  "summary",
  "title",
  "example",
  "examples",
  "externalDocs",
  "tags",
]);
/** Keys whose value is a map from names (property names, statuses, media types) to nodes. */
const NAME_MAPS = new Set(["properties", "definitions", "schemas", "responses", "content", "mapping"]);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** `node` without prose, recursively; names inside {@link NAME_MAPS} are kept as they are. */
export function stripProse(node: Json, namesOnly = false): Json {
  if (Array.isArray(node)) return node.map((item) => stripProse(item));
  if (node === null || typeof node !== "object") return node;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(node)) {
    if (!namesOnly && (PROSE_KEYS.has(key) || key.startsWith("x-"))) continue;
    // `mapping` maps names to $ref strings; the others map names to nodes.
    out[key] = namesOnly ? stripProse(value) : stripProse(value, NAME_MAPS.has(key));
  }
  return out;
}

/** Every `$ref` string under `node`. */
function refsOf(node: Json, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(node)) for (const item of node) refsOf(item, into);
  else if (node !== null && typeof node === "object")
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string") into.add(value);
      else refsOf(value, into);
    }
  return into;
}

interface Spec {
  paths: Record<string, Record<string, Json & { operationId?: string }>>;
  [key: string]: unknown;
}

/** The chosen operations of `spec` and the schemas they reference, transitively, without prose. */
export function selectOperations(
  spec: Spec,
  operationIds: readonly string[],
  refPrefix: string,
  schemas: Record<string, Json>,
): { paths: Record<string, Record<string, Json>>; schemas: Record<string, Json> } {
  const paths: Record<string, Record<string, Json>> = {};
  const found = new Set<string>();
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const id = (operation as { operationId?: unknown }).operationId;
      if (typeof id !== "string" || !operationIds.includes(id)) continue;
      found.add(id);
      paths[path] = { ...paths[path], [method]: stripProse(operation) };
    }
  }
  const missing = operationIds.filter((id) => !found.has(id));
  if (missing.length > 0) throw new Error(`operations not in the schema: ${missing.join(", ")}`);

  const selected: Record<string, Json> = {};
  const queue = [...refsOf(paths)];
  while (queue.length > 0) {
    const ref = queue.pop() as string;
    if (!ref.startsWith(refPrefix)) throw new Error(`unexpected $ref ${ref}`);
    const name = ref.slice(refPrefix.length);
    if (name in selected) continue;
    const schema = schemas[name];
    if (schema === undefined) throw new Error(`dangling $ref ${ref}`);
    selected[name] = stripProse(schema);
    queue.push(...refsOf(selected[name]));
  }
  const sorted = Object.fromEntries(Object.entries(selected).sort(([a], [b]) => a.localeCompare(b)));
  return { paths, schemas: sorted };
}

/** The fixture built from the two published files. */
export function buildFixture(v1Text: string, v2Text: string, commit: string) {
  const v1 = JSON.parse(v1Text) as Spec & { swagger: string; definitions: Record<string, Json> };
  const v2 = JSON.parse(v2Text) as Spec & {
    openapi: string;
    info: { version: string };
    components: { schemas: Record<string, Json>; securitySchemes?: Json };
  };
  const v1Selected = selectOperations(v1, V1_OPERATIONS, "#/definitions/", v1.definitions);
  const v2Selected = selectOperations(v2, V2_OPERATIONS, "#/components/schemas/", v2.components.schemas);
  return {
    source: {
      repository: REPOSITORY,
      commit,
      files: { v1: V1_PATH, v2: V2_PATH },
      regenerate: "npx tsx scripts/openapi-fixture.ts --git <clone of the repository> --rev <commit>",
    },
    v1: { swagger: v1.swagger, paths: v1Selected.paths, definitions: v1Selected.schemas },
    v2: {
      openapi: v2.openapi,
      version: v2.info.version,
      paths: v2Selected.paths,
      components: { schemas: v2Selected.schemas },
    },
  };
}

function main() {
  const { values } = parseArgs({
    options: {
      git: { type: "string" },
      rev: { type: "string", default: "HEAD" },
      v1: { type: "string" },
      v2: { type: "string" },
      commit: { type: "string" },
      out: { type: "string", default: DEFAULT_OUT },
    },
  });
  let v1Text: string;
  let v2Text: string;
  let commit: string;
  if (values.git) {
    const git = (...args: string[]) =>
      execFileSync("git", ["-C", values.git as string, ...args], { encoding: "utf8", maxBuffer: 1 << 26 });
    commit = git("rev-parse", `${values.rev}^{commit}`).trim();
    v1Text = git("show", `${commit}:${V1_PATH}`);
    v2Text = git("show", `${commit}:${V2_PATH}`);
  } else if (values.v1 && values.v2 && values.commit) {
    v1Text = readFileSync(values.v1, "utf8");
    v2Text = readFileSync(values.v2, "utf8");
    commit = values.commit;
  } else {
    throw new Error("give --git <repo> [--rev <rev>], or --v1 <file> --v2 <file> --commit <sha>");
  }
  const fixture = buildFixture(v1Text, v2Text, commit);
  writeFileSync(values.out, `${JSON.stringify(fixture, null, 2)}\n`);
  // The repository's formatter decides the layout, so a regeneration diffs only where PortOne changed.
  execFileSync("npx", ["biome", "format", "--write", values.out], { stdio: "inherit" });
  process.stdout.write(`${values.out}: ${REPOSITORY}@${commit}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
