/**
 * Unknown fields are refused, never dropped: a misspelt key that is silently ignored switches a
 * check off (`{ minage: 19 }` would let a minor through). TypeScript's excess-property check does not
 * reach JavaScript callers or objects built elsewhere, so the library API checks at runtime too; the
 * HTTP layer reports zod's `unrecognized_keys` issues through the same {@link unknownFieldError}.
 */
import { ConfigError, RequestError } from "./errors.js";

/**
 * The own keys of `value` (when it is a plain object) that `known` does not have, each prefixed with
 * `prefix` (a dotted parent path such as "policy."). Anything but a plain object has no unknown keys:
 * its type is for the validator to judge.
 *
 * @param known an object whose own keys are the accepted ones, e.g. a `Record<keyof T, true>`, so the
 *   compiler keeps the list in step with the type.
 */
export function unknownKeys(value: unknown, known: Readonly<Record<string, unknown>>, prefix = ""): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [];
  return Object.keys(value)
    .filter((key) => !Object.hasOwn(known, key))
    .map((key) => `${prefix}${key}`);
}

/**
 * Refuses the options of a library factory when they hold a key the factory does not know: a
 * misspelt `deleteUpstreamAfterCompletion` or `lockTimeoutMs` would otherwise leave the default in
 * force without a word. Options that are not a plain object are left to the factory to judge.
 *
 * @param what how the message names the options, e.g. "createVerificationService options"
 * @param known every accepted key, e.g. a `Record<keyof Options, true>` the compiler keeps in step
 * @throws ConfigError naming the first unknown key (`what.key`), the others and the accepted ones in its message.
 * @example checkOptionKeys("openStore options", options, OPEN_STORE_KEYS);
 */
export function checkOptionKeys(
  what: string,
  options: unknown,
  known: Readonly<Record<string, unknown>>,
): void {
  const unknown = unknownKeys(options, known);
  if (unknown.length === 0) return;
  const listed = unknown.slice(0, QUOTED_NAMES_MAX).map(quoteName).join(", ");
  const more = unknown.length > QUOTED_NAMES_MAX ? ` and ${unknown.length - QUOTED_NAMES_MAX} more` : "";
  throw new ConfigError(
    `${what}.${quoteName(unknown[0] ?? "").slice(1, -1)}`,
    `unknown option${unknown.length === 1 ? "" : "s"} ${listed}${more} (known: ${Object.keys(known).join(", ")})`,
  );
}

/** Longest field name a message quotes in full; `details` always carries the names exactly. */
const QUOTED_NAME_MAX = 60;
/** How many names a message lists; `details.fields` has all of them. */
const QUOTED_NAMES_MAX = 3;

/**
 * The `unknown_field` error for `fields` (dotted paths in the caller's spelling, at least one):
 * `details.field` is the first, `details.fields` all of them; the message quotes them, bounded.
 *
 * @example unknownFieldError(["policy.minAge"]).message // 'unknown field "policy.minAge"'
 */
export function unknownFieldError(fields: readonly string[]): RequestError {
  const listed = fields.slice(0, QUOTED_NAMES_MAX).map(quoteName).join(", ");
  const more = fields.length > QUOTED_NAMES_MAX ? ` and ${fields.length - QUOTED_NAMES_MAX} more` : "";
  const noun = fields.length === 1 ? "field" : "fields";
  return new RequestError("unknown_field", `unknown ${noun} ${listed}${more}`, {
    field: fields[0],
    fields: [...fields],
  });
}

/**
 * A caller-chosen name for a message: JSON-quoted (control characters and lone surrogates escaped)
 * and cut at {@link QUOTED_NAME_MAX} characters, so a hostile key cannot flood or forge the message.
 */
export function quoteName(name: string): string {
  const quoted = JSON.stringify(name);
  return quoted.length <= QUOTED_NAME_MAX + 2 ? quoted : `${quoted.slice(0, QUOTED_NAME_MAX + 1)}…"`;
}
