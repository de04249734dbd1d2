/**
 * A request body's JSON, read as I-JSON (RFC 7493): UTF-8, no name twice in one object, no string
 * that is not Unicode. `JSON.parse` alone keeps the last of two equal names and turns a lone `\uD800`
 * into a string no comparison will ever match; a body such as `{"policy":{"min_age":19,"min_age":0}}`
 * would pass a schema while meaning two things. Each is a 400 `invalid_json`, never a guess.
 */
import { RequestError } from "../core/errors.js";
import { quoteName } from "../core/unknown-fields.js";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** A lone surrogate: a high one not followed by a low one, or a low one not after a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** `text` parsed, or a 400 `invalid_json` saying what is wrong with it (never what it holds). */
export function parseJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RequestError("invalid_json", "the body is not valid JSON");
  }
  const repeated = firstRepeatedName(text);
  if (repeated !== undefined) {
    // Quoted and cut as unknown_field's names are: a hostile name cannot flood or forge the message.
    throw new RequestError("invalid_json", `the body gives ${quoteName(repeated)} more than once`, {
      field: repeated,
    });
  }
  // From UTF-8 bytes (decoded strictly) a lone surrogate can only come from a \u escape.
  if (text.includes("\\u") && holdsLoneSurrogate(value)) {
    throw new RequestError("invalid_json", "the body holds a string that is not valid Unicode");
  }
  return value;
}

interface Frame {
  /** The names seen so far in this object; undefined for an array. */
  names: Set<string> | undefined;
  /** Path of this object or array as sent ("policy", "items.0"); undefined for the top level. */
  path: string | undefined;
  /** The name whose value comes next (an object), or the index of the next element (an array). */
  at: string | number;
}

const join = (path: string | undefined, name: string | number) =>
  path === undefined ? String(name) : `${path}.${name}`;

/**
 * The path of the first name an object of `text` repeats (equal once unescaped), else undefined.
 * `text` is valid JSON (JSON.parse took it), so a scan of its structural characters is enough: a
 * string right after `{` or an object's `,` is a name.
 */
export function firstRepeatedName(text: string): string | undefined {
  if (!text.includes("{")) return undefined;
  const stack: Frame[] = [];
  let top: Frame | undefined;
  let nameNext = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char === QUOTE) {
      const start = i;
      let escaped = false;
      for (i++; text.charCodeAt(i) !== QUOTE; i++) {
        if (text.charCodeAt(i) === BACKSLASH) {
          escaped = true;
          i++;
        }
      }
      if (nameNext && top?.names) {
        const name = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : text.slice(start + 1, i);
        if (top.names.has(name)) return join(top.path, name);
        top.names.add(name);
        top.at = name;
        nameNext = false;
      }
    } else if (char === OPEN_OBJECT || char === OPEN_ARRAY) {
      const path = top === undefined ? undefined : join(top.path, top.at);
      top = { names: char === OPEN_OBJECT ? new Set() : undefined, path, at: 0 };
      stack.push(top);
      nameNext = char === OPEN_OBJECT;
    } else if (char === CLOSE_OBJECT || char === CLOSE_ARRAY) {
      stack.pop();
      top = stack[stack.length - 1];
      nameNext = false;
    } else if (char === COMMA && top !== undefined) {
      if (top.names) nameNext = true;
      else top.at = (top.at as number) + 1;
    }
  }
  return undefined;
}

function holdsLoneSurrogate(value: unknown): boolean {
  if (typeof value === "string") return LONE_SURROGATE.test(value);
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) return value.some(holdsLoneSurrogate);
  return Object.entries(value).some(([name, item]) => LONE_SURROGATE.test(name) || holdsLoneSurrogate(item));
}
