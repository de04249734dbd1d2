/**
 * fast-check building blocks shared by the fuzz suites: hostile values (edge numbers, odd strings,
 * arbitrary JSON), near-valid objects, raw bodies, headers, path segments, query strings, mutations
 * of a valid upstream body, and the run parameters (numRuns from scale.ts, an optional fixed seed).
 *
 * Reproducing a failure: fast-check prints `seed` and `path`; rerun the failing test alone (vitest
 * `-t`) with CERTGATE_FUZZ_SEED=<seed>, and CERTGATE_FUZZ_PATH=<path> to jump straight to the
 * counterexample. The suites keep state between cases (a store, an emulator), so a replay reaches
 * the same code paths but not necessarily byte-identical ids.
 */
import { Writable } from "node:stream";
import fc from "fast-check";
import { createLogger } from "../../src/cli/logger.js";
import type { UpstreamErrorCode } from "../../src/core/errors.js";

/** fc.assert parameters: the run count, plus the seed/path pinned by the environment if any. */
export function fuzzParameters(numRuns: number): fc.Parameters<unknown> {
  const seed = process.env.CERTGATE_FUZZ_SEED;
  const path = process.env.CERTGATE_FUZZ_PATH;
  return {
    numRuns,
    ...(seed === undefined ? {} : { seed: Number(seed) }),
    ...(path === undefined ? {} : { path }),
  };
}

/** Resolves with `work`'s value, or rejects when it takes longer than `ms` (a hang fails the property). */
export async function withinBound<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, bound]);
  } finally {
    clearTimeout(timer);
  }
}

// --- values --------------------------------------------------------------------------------------

/** Numbers at the edges of every check a schema might make (integer, range, safe, sign, size). */
const edgeNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    1,
    -1,
    0.5,
    -0.5,
    59,
    60,
    61,
    149,
    150,
    151,
    3_600,
    3_601,
    86_400,
    86_401,
    2 ** 31 - 1,
    2 ** 31,
    2 ** 32,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER + 2,
    -Number.MAX_SAFE_INTEGER - 2,
    1e21,
    1e308,
    -1e308,
    Number.MIN_VALUE,
    Number.EPSILON,
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Strings that have broken parsers, databases and URL builders before. */
export const EDGE_STRINGS: readonly string[] = [
  "",
  " ",
  "\t\n",
  "\u0000",
  "a\u0000b",
  "\u0007\u001b[31m",
  "\u007f",
  "\ud800",
  "\udfff\ud800",
  "\ufeff",
  "\u202e",
  "𝕏😀👩‍👩‍👧",
  "김테스트",
  "null",
  "undefined",
  "true",
  "0",
  "-1",
  "1e309",
  "NaN",
  "[]",
  "{}",
  '{"a":',
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  ".",
  "..",
  "../../etc/passwd",
  "/",
  "//",
  "\\",
  "%",
  "%00",
  "%E0%A4%A",
  "%zz",
  "?",
  "#",
  "&",
  "=",
  "+",
  "a b",
  "'; DROP TABLE verifications; --",
  "' OR '1'='1",
  '"',
  "<script>alert(1)</script>",
  "$\u007bprocess.env}", // a template placeholder, as text
  "javascript:alert(1)",
  "data:text/html,x",
  "https://shop.example",
  "https://shop.example/",
  "https://shop.example.evil.test/",
  "https://evil.test/?https://shop.example",
  "http://shop.example/",
  "https://shop.example:443/ok",
  "https://shop.example@evil.test/",
  "//evil.test",
  "HTTPS://SHOP.EXAMPLE/x",
  "imp_000000000000",
  "mid_",
  "idv_",
  "ver_",
];

/**
 * Characters that break things: NUL (which PostgreSQL refuses in text), C0, DEL, C1, U+2028, and lone
 * surrogates (not text at all: encodeURIComponent throws on them, TextEncoder replaces them).
 */
const HOSTILE_CHARACTERS = [
  "\u0000",
  "\u0001",
  "\t",
  "\n",
  "\r",
  "\u001f",
  "\u007f",
  "\u0085",
  "\u2028",
  "\ud800",
  "\udfff",
];

/** Any string: short random ones in every unit, the edge strings, and long or huge ones. */
export const weirdString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...EDGE_STRINGS) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.string({ unit: "grapheme-ascii", maxLength: 8 }),
        fc.constantFrom(...HOSTILE_CHARACTERS),
        fc.string({ unit: "grapheme-ascii", maxLength: 8 }),
      )
      .map((parts) => parts.join("")),
  },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme" }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary" }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary-ascii" }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 60, maxLength: 300 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom("x", "가", "😀", "\u0000", "%"), fc.integer({ min: 100, max: 5_000 }))
      .map(([unit, n]) => unit.repeat(n)),
  },
);

/** Any JSON value, its strings drawn from {@link weirdString}. */
export const anyJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", maxDepth: 4 },
    fc.constant(null),
    fc.boolean(),
    edgeNumber,
    weirdString,
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(weirdString, tie("value"), { maxKeys: 5 }),
  ),
})).value;

/** A value of a random type for a field (its right type included, but usually not its right value). */
const anyFieldValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  edgeNumber,
  weirdString,
  anyJson,
);

/**
 * An object made of a route's real fields — each present or absent, with a valid value or one of
 * a random type — plus extra keys now and then.
 */
export function nearValid(
  fields: Record<string, fc.Arbitrary<unknown>>,
): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, valid] of Object.entries(fields)) {
    model[key] = fc.oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: anyFieldValue });
  }
  return fc
    .tuple(
      // Mostly every field present (so the checks behind the first one run), else any subset.
      fc.oneof(
        { weight: 2, arbitrary: fc.record(model) },
        { weight: 1, arbitrary: fc.record(model, { requiredKeys: [] }) },
      ),
      fc.option(fc.dictionary(weirdString, anyFieldValue, { maxKeys: 3 }), { nil: undefined, freq: 4 }),
    )
    .map(([known, extra]) => (extra === undefined ? known : { ...extra, ...known }));
}

// --- HTTP requests -------------------------------------------------------------------------------

/** What a request body is made of, before it reaches the wire. */
export type RawBody = string | Uint8Array<ArrayBuffer>;

/**
 * A request body for a JSON route: mostly the near-valid object as JSON, else arbitrary JSON, raw
 * text, truncated JSON, binary, empty, or over the 16 KB limit.
 */
export function jsonBody(object: fc.Arbitrary<unknown>): fc.Arbitrary<RawBody> {
  return fc.oneof(
    { weight: 8, arbitrary: object.map((value) => JSON.stringify(value) ?? "null") },
    { weight: 2, arbitrary: anyJson.map((value) => JSON.stringify(value) ?? "null") },
    { weight: 1, arbitrary: fc.string({ unit: "grapheme" }) },
    {
      weight: 1,
      arbitrary: fc.tuple(object, fc.nat()).map(([value, cut]) => {
        const text = JSON.stringify(value) ?? "";
        return text.slice(0, text.length === 0 ? 0 : cut % text.length);
      }),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    { weight: 1, arbitrary: fc.constant("") },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 16 * 1024 - 64, max: 40 * 1024 })
        .map((n) => JSON.stringify({ imp_uid: "x".repeat(n), merchant_uid: "y" })),
    },
  );
}

/** A header value fetch accepts: latin-1 without NUL, CR or LF. */
export const headerValue: fc.Arbitrary<string> = fc
  .string({ unit: "binary-ascii", maxLength: 80 })
  .map((s) => s.replace(/[\0\r\n]/g, ""));

/** Content types: the right one in its spellings, near misses, wrong ones, junk, or none. */
export const contentType: fc.Arbitrary<string | undefined> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      "application/json",
      "application/json; charset=utf-8",
      "APPLICATION/JSON",
      "application/merge-patch+json",
    ),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      undefined,
      "",
      "text/plain",
      "text/html; charset=utf-8",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/jsonx",
      "application/json-seq",
      "json",
      "application/",
      "application/+json",
    ),
  },
  { weight: 1, arbitrary: headerValue },
);

/** Authorization headers: the valid key (in its accepted spellings), none, wrong keys, wrong schemes. */
export function authorization(validKey: string): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom(`Bearer ${validKey}`, `bearer ${validKey}`, `BEARER   ${validKey}`),
    },
    { weight: 2, arbitrary: fc.constant(undefined) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        "",
        "Bearer",
        "Bearer ",
        `Bearer ${validKey}x`,
        `Bearer ${validKey.slice(1)}`,
        `Bearer ${validKey} extra`,
        `Basic ${Buffer.from(`${validKey}:`).toString("base64")}`,
        validKey,
        `Token ${validKey}`,
      ),
    },
    { weight: 1, arbitrary: headerValue.map((v) => `Bearer ${v}`) },
    { weight: 1, arbitrary: headerValue },
  );
}

/** A placeholder the route suite replaces with the id of a real verification before sending. */
export function marker(name: string): string {
  return `@@${name}@@`;
}

const percentEncodedBytes = fc
  .uint8Array({ minLength: 1, maxLength: 24 })
  .map((bytes) => Array.from(bytes, (b) => `%${b.toString(16).padStart(2, "0").toUpperCase()}`).join(""));

/**
 * One path segment: web-safe, percent-encoded junk (invalid UTF-8, NUL, encoded slashes and dots),
 * unicode, very long ids, or a marker for a real id (`markers`).
 */
export function pathSegment(markers: readonly string[]): fc.Arbitrary<string> {
  const segments: fc.WeightedArbitrary<string>[] = [
    { weight: 2, arbitrary: fc.webSegment() },
    { weight: 2, arbitrary: percentEncodedBytes },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        "%",
        "%%",
        "%zz",
        "%E0%A4%A",
        "%C0%AF",
        "%ED%A0%80",
        "%00",
        "a%00b",
        "%2F",
        "%2e%2e",
        "%5C",
        "%0D%0A",
        "id%0A",
        "%7F",
        "%C2%85",
        "%20",
        "%25",
        "__proto__",
        "constructor",
        "imp_000000000000",
      ),
    },
    {
      weight: 2,
      arbitrary: weirdString
        .filter((s) => s.length > 0)
        .map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, "x"))),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom("a", "%41", "가", "_"), fc.integer({ min: 60, max: 3_000 }))
        .map(([unit, n]) => unit.repeat(n)),
    },
  ];
  if (markers.length > 0) {
    segments.push({ weight: 3, arbitrary: fc.constantFrom(...markers).map(marker) });
  }
  return fc.oneof(...segments);
}

/** A query string (with its "?") built from the route's real keys, random keys and hostile values. */
export function queryString(keys: readonly string[], markers: readonly string[]): fc.Arbitrary<string> {
  const key = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom(...keys, "success", "code", "message", "__proto__", "constructor"),
    },
    { weight: 1, arbitrary: fc.webSegment() },
    { weight: 1, arbitrary: percentEncodedBytes },
  );
  const pair = fc.oneof(
    { weight: 6, arbitrary: fc.tuple(key, pathSegment(markers)).map(([k, v]) => `${k}=${v}`) },
    { weight: 1, arbitrary: key },
    { weight: 1, arbitrary: fc.constantFrom("=", "&", "==", "%", "+", "a=b=c") },
  );
  return fc.array(pair, { maxLength: 6 }).map((pairs) => (pairs.length === 0 ? "" : `?${pairs.join("&")}`));
}

// --- upstream bodies -----------------------------------------------------------------------------

/** One change to a valid body, at a path of its fields (dot-separated). */
export type Mutation =
  | { op: "remove"; path: string }
  | { op: "null"; path: string }
  | { op: "set"; path: string; value: unknown }
  | { op: "extra"; path: string; key: string; value: unknown }
  | { op: "giant"; path: string; length: number }
  | { op: "taint"; path: string; char: string }
  | { op: "deep"; path: string; depth: number; arrays: boolean };

/** 0–4 mutations (at least `minLength`) of a body whose field paths are `paths` ("" is the body itself). */
export function mutations(paths: readonly string[], minLength = 0): fc.Arbitrary<Mutation[]> {
  const path = fc.constantFrom(...paths);
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    { weight: 3, arbitrary: path.map((p): Mutation => ({ op: "remove", path: p })) },
    { weight: 2, arbitrary: path.map((p): Mutation => ({ op: "null", path: p })) },
    {
      weight: 4,
      arbitrary: fc.tuple(path, anyFieldValue).map(([p, value]): Mutation => ({ op: "set", path: p, value })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(path, weirdString, anyFieldValue)
        .map(([p, key, value]): Mutation => ({ op: "extra", path: p, key, value })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(path, fc.constantFrom(...HOSTILE_CHARACTERS, "\u0000"))
        .map(([p, char]): Mutation => ({ op: "taint", path: p, char })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(path, fc.integer({ min: 300, max: 100_000 }))
        .map(([p, length]): Mutation => ({ op: "giant", path: p, length })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(path, fc.integer({ min: 50, max: 50_000 }), fc.boolean())
        .map(([p, depth, arrays]): Mutation => ({ op: "deep", path: p, depth, arrays })),
    },
  );
  return fc.array(mutation, { minLength, maxLength: 4 });
}

/**
 * JSON text of a (mutated) body, with the nesting of "deep" mutations written out. Nesting is
 * written as text because JSON.stringify recurses and would overflow the stack first.
 */
export function jsonText(value: unknown): string {
  return (JSON.stringify(value) ?? "").replace(
    /"\\u0000deep:(\d+):([01])\\u0000"/g,
    (_, depth: string, arrays: string) => {
      const n = Number(depth);
      return arrays === "1"
        ? `${"[".repeat(n)}"bottom"${"]".repeat(n)}`
        : `${'{"a":'.repeat(n)}"bottom"${"}".repeat(n)}`;
    },
  );
}

/** `body` with `changes` applied (a deep copy: the original is untouched). */
export function applyMutations(body: unknown, changes: readonly Mutation[]): unknown {
  let root: unknown = structuredClone(body);
  for (const change of changes) {
    const keys = change.path === "" ? [] : change.path.split(".");
    const replace = (value: unknown) => {
      if (keys.length === 0) {
        root = value;
        return;
      }
      const parent = walk(root, keys.slice(0, -1));
      if (parent !== undefined) parent[keys[keys.length - 1] as string] = value;
    };
    switch (change.op) {
      case "remove": {
        if (keys.length === 0) root = undefined;
        const parent = walk(root, keys.slice(0, -1));
        if (parent !== undefined) delete parent[keys[keys.length - 1] as string];
        break;
      }
      case "null":
        replace(null);
        break;
      case "set":
        replace(change.value);
        break;
      case "deep":
        // A placeholder: the nesting is written by jsonText (JSON.stringify itself would overflow).
        replace(`\u0000deep:${change.depth}:${change.arrays ? 1 : 0}\u0000`);
        break;
      case "giant":
        replace(noise(change.length));
        break;
      case "taint": {
        // The field's own value with a control character in the middle (near-valid, not random).
        const parent = keys.length === 0 ? undefined : walk(root, keys.slice(0, -1));
        const current = keys.length === 0 ? root : parent?.[keys[keys.length - 1] as string];
        const text = typeof current === "string" ? current : JSON.stringify(current ?? "");
        const middle = text.length >> 1;
        replace(`${text.slice(0, middle)}${change.char}${text.slice(middle)}`);
        break;
      }
      case "extra": {
        const target = keys.length === 0 ? root : walk(root, keys);
        if (isRecord(target)) target[change.key] = change.value;
        break;
      }
    }
  }
  return root;
}

/**
 * `length` (≤ 100,000) characters of deterministic noise, ASCII and Hangul: incompressible, unlike a
 * repeated character, which PostgreSQL would compress under its index size limit.
 */
function noise(length: number): string {
  if (NOISE.length === 0) {
    const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-가나다라마바사";
    const chars: string[] = [];
    let state = 1;
    for (let i = 0; i < 100_000; i++) {
      state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
      chars.push(alphabet[(state >>> 16) % alphabet.length] as string);
    }
    NOISE = chars.join("");
  }
  return NOISE.slice(0, length);
}
let NOISE = "";

function walk(value: unknown, keys: readonly string[]): Record<string, unknown> | undefined {
  let current: unknown = value;
  for (const key of keys) {
    if (!isRecord(current)) return undefined;
    current = current[key];
  }
  return isRecord(current) ? current : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The dot paths of every field of a JSON object, nested ones included ("" for the root). */
export function fieldPaths(body: unknown, prefix = ""): string[] {
  const paths = prefix === "" ? [""] : [];
  if (!isRecord(body)) return paths;
  for (const [key, value] of Object.entries(body)) {
    const path = prefix === "" ? key : `${prefix}.${key}`;
    paths.push(path, ...fieldPaths(value, path).filter((p) => p !== ""));
  }
  return paths;
}

/**
 * A logger that keeps the lines logged at error level or above (pino 50/60): a fuzzed request that
 * logs one hit something unexpected, even when it answered a 4xx.
 */
export function errorCollectingLogger(): { logger: ReturnType<typeof createLogger>; errors: string[] } {
  const errors: string[] = [];
  const logger = createLogger(
    new Writable({
      write(chunk, _encoding, done) {
        const line = String(chunk);
        if (/"level":(50|60)/.test(line)) errors.push(line);
        done();
      },
    }),
  );
  return { logger, errors };
}

/** Every code of certgate's `UpstreamError` (src/core/errors.ts). */
export const UPSTREAM_CODES: readonly UpstreamErrorCode[] = [
  "unauthorized",
  "forbidden",
  "not_found",
  "bad_request",
  "timeout",
  "unavailable",
  "invalid_response",
  "api_error",
];
