/**
 * A request body's JSON read as I-JSON (src/http/json.ts): a name given twice in one object, found
 * at any depth and however it is escaped, and never found where there is none; a lone surrogate.
 * The routes' answers to such bodies are in test/integration/strict-input.test.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RequestError } from "../../src/core/errors.js";
import { firstRepeatedName, parseJson } from "../../src/http/json.js";
import { fuzzParameters } from "../reliability/fuzz-arbitraries.js";
import { scaled } from "../reliability/scale.js";

const RUNS = scaled(300, 5_000);

/** Each character of `name` as a \u escape: the same name to JSON, another string to a scanner. */
const escapedName = (name: string) =>
  `"${[...name].map((char) => [...char].map((unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, "0")}`).join("")).join("")}"`;

type Json = null | boolean | number | string | Json[] | { [name: string]: Json };

/** Every non-empty object in `value` with its path as firstRepeatedName writes it. */
function objectsIn(value: Json, path: string[] = []): { path: string[]; names: string[] }[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => objectsIn(item, [...path, String(i)]));
  if (typeof value !== "object" || value === null) return [];
  const names = Object.keys(value);
  const here = names.length > 0 ? [{ path, names }] : [];
  return [...here, ...names.flatMap((name) => objectsIn(value[name] as Json, [...path, name]))];
}

/**
 * `value` as JSON text, with spaces between tokens, and with `extra` (a name's JSON and its value's)
 * appended to the object at `at`.
 */
function serialize(value: Json, at: string[] | undefined, extra: string, path: string[] = []): string {
  if (Array.isArray(value)) {
    return `[ ${value.map((item, i) => serialize(item, at, extra, [...path, String(i)])).join(" , ")} ]`;
  }
  if (typeof value !== "object" || value === null) return JSON.stringify(value);
  const entries = Object.entries(value).map(
    ([name, item]) => `${JSON.stringify(name)} : ${serialize(item, at, extra, [...path, name])}`,
  );
  const target = at !== undefined && at.length === path.length && at.every((p, i) => p === path[i]);
  return `{ ${[...entries, ...(target ? [extra] : [])].join(" , ")} }`;
}

describe("firstRepeatedName", () => {
  it.each([
    ['{"a":1,"a":2}', "a"],
    ['{"policy":{"min_age":19,"min_age":0}}', "policy.min_age"],
    ['{"policy":{"min_age":19},"policy":{}}', "policy"],
    ['{"account_ref":"u1","\\u0061ccount_ref":"u2"}', "account_ref"],
    ['[{"a":1},{"b":1,"c":[{"d":1,"d":1}]}]', "1.c.0.d"],
    ['{"a.b":1,"a.b":1}', "a.b"],
  ])("%s repeats %s", (text, path) => {
    expect(firstRepeatedName(text)).toBe(path);
  });

  it.each([
    ['{"a":1,"b":{"a":1}}'],
    ['[{"a":1},{"a":2}]'],
    ['{"a":"{\\"a\\":1,\\"a\\":2}","b":"\\\\"}'],
    ['{"a":"x,\\"a\\":1"}'],
    ['{"":1,"\\"":2,"\\\\":3}'],
    ["[]"],
    ['"a"'],
  ])("%s repeats nothing", (text) => {
    expect(firstRepeatedName(text)).toBeUndefined();
  });

  it("finds nothing in any JSON a serializer wrote", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(firstRepeatedName(JSON.stringify(value))).toBeUndefined();
        expect(firstRepeatedName(serialize(value as Json, undefined, ""))).toBeUndefined();
      }),
      fuzzParameters(RUNS),
    );
  });

  it("finds a name repeated in any object at any depth, plain or escaped, and names its path", () => {
    const withObject = fc.jsonValue().filter((value) => objectsIn(value as Json).length > 0);
    fc.assert(
      fc.property(
        withObject,
        fc.nat(),
        fc.nat(),
        fc.boolean(),
        fc.jsonValue(),
        (value, o, n, escaped, again) => {
          const objects = objectsIn(value as Json);
          const target = objects[o % objects.length];
          if (target === undefined) throw new Error("no object");
          const name = target.names[n % target.names.length] ?? "";
          const extra = `${escaped ? escapedName(name) : JSON.stringify(name)}:${JSON.stringify(again)}`;
          const text = serialize(value as Json, target.path, extra);
          expect(() => JSON.parse(text)).not.toThrow();
          expect(firstRepeatedName(text)).toBe([...target.path, name].join("."));
        },
      ),
      fuzzParameters(RUNS),
    );
  });
});

describe("parseJson", () => {
  const refusal = (text: string) => {
    try {
      parseJson(text);
    } catch (error) {
      return error;
    }
    throw new Error("parsed");
  };

  it("quotes a repeated name in its message, cut like an unknown field's; details keep it whole", () => {
    const name = `x\n${"y".repeat(500)}`;
    const error = refusal(`{${JSON.stringify(name)}:1,${JSON.stringify(name)}:2}`) as RequestError;
    expect(error.message.length).toBeLessThan(120);
    expect(error.message).not.toContain("\n");
    expect(error.details).toEqual({ field: name });
  });

  it("answers what JSON.parse answers to a body that repeats nothing", () => {
    expect(parseJson('{"imp_uid":"imp_1","merchant_uid":"mid_1"}')).toEqual({
      imp_uid: "imp_1",
      merchant_uid: "mid_1",
    });
    expect(parseJson('{"name":"\\ud55c\\uae00 \\ud83d\\ude00"}')).toEqual({ name: "한글 😀" });
  });

  it.each([
    ["not JSON", "{", undefined],
    ["a repeated name", '{"policy":{"min_age":19,"min_age":0}}', "policy.min_age"],
    ["a lone high surrogate", '{"expected":{"name":"\\ud800"}}', undefined],
    ["a lone low surrogate", '["\\udc00x"]', undefined],
    ["a lone surrogate in a name", '{"\\ud800":1}', undefined],
  ])("refuses %s with 400 invalid_json", (_, text, field) => {
    const error = refusal(text);
    expect(error).toBeInstanceOf(RequestError);
    expect(error).toMatchObject({ code: "invalid_json", ...(field ? { details: { field } } : {}) });
  });
});
