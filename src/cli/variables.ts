/**
 * The environment's own faults, checked before its values are read (config.ts `loadConfig`): a
 * `CERTGATE_` variable certgate does not read, and a `.env` line Node's reader would drop or misread.
 * Both would otherwise leave a setting at its default without a word.
 */
import { ConfigError } from "../core/errors.js";

type Env = Record<string, string | undefined>;

/**
 * Every `CERTGATE_` variable the configuration reads (test/cli/env-example.test.ts keeps this list
 * equal to the ones config.ts reads).
 */
export const CERTGATE_VARIABLES: readonly string[] = [
  "CERTGATE_API_KEYS",
  "CERTGATE_DATA_DIR",
  "CERTGATE_DELETE_UPSTREAM",
  "CERTGATE_DEMO",
  "CERTGATE_MODE",
  "CERTGATE_PREVIOUS_SECRETS",
  "CERTGATE_PUBLIC_URL",
  "CERTGATE_RECOVERY_INTERVAL_MS",
  "CERTGATE_RETENTION_DAYS",
  "CERTGATE_RETURN_ORIGINS",
  "CERTGATE_SECRET",
  "CERTGATE_WEBHOOK_SECRET",
  "CERTGATE_WEBHOOK_URL",
];

/**
 * `CERTGATE_` variables of certgate's other tools, which the service ignores: the walkthrough's
 * (scripts/walkthrough.ts), the build's (tsup.config.ts) and the test suite's (vitest.config.ts,
 * the reliability and fuzz suites). A shell that set one for them still starts the service.
 */
const OTHER_TOOLS_VARIABLES: readonly string[] = [
  "CERTGATE_BUILD",
  "CERTGATE_CHECK_PREPARED",
  "CERTGATE_FUZZ_PATH",
  "CERTGATE_FUZZ_SEED",
  "CERTGATE_SOAK",
  "CERTGATE_TEST_DATABASE_URL",
  "CERTGATE_URL",
];

/**
 * Refuses a `CERTGATE_` variable that is set (not empty) and that certgate does not read: a typo
 * (`CERTGATE_DELETE_UPSTREM=true`, `CERTGATE_API_KEY=…`) would otherwise leave its setting at the
 * default without a word, the same fail-open an unknown field is in a request. `CERTGATE_` is
 * certgate's own prefix, so nothing else has a claim to it. `PORTONE_` variables are not refused:
 * a merchant's environment may hold its own (its browser SDK's, its payment code's), and a typo in
 * one of certgate's leaves a half-given credential set, which {@link requirePortOneCredentials}
 * refuses. Only a name's leading letters, digits and _ are shown (the rest of an odd name may be a
 * value a malformed `.env` line ran into it); a value is never shown.
 */
export function refuseUnknownVariables(env: Env): void {
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith("CERTGATE_") || !env[name]?.trim()) continue;
    if (CERTGATE_VARIABLES.includes(name) || OTHER_TOOLS_VARIABLES.includes(name)) continue;
    if (!/^[A-Za-z0-9_]{1,64}$/.test(name)) {
      // Other characters in a name come from a line run together with the next (a malformed
      // .env): what follows its leading part may be a value, a secret even, so it is not shown.
      const lead = /^[A-Za-z0-9_]{1,64}/.exec(name)?.[0] ?? "CERTGATE_";
      throw new ConfigError(
        `${lead}…`,
        "a variable whose name holds other characters than letters, digits and _ (a malformed .env line?); correct or remove it",
      );
    }
    const near = closestName(name, CERTGATE_VARIABLES);
    throw new ConfigError(
      name,
      `is not a variable certgate reads${near === undefined ? "" : ` (did you mean ${near}?)`}; correct or remove it`,
    );
  }
}

/** The name of `names` within three edits of `name` (the closest), if any. */
function closestName(name: string, names: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of names) {
    const distance = editDistance(name, candidate);
    if (distance <= 3 && (best === undefined || distance < best.distance))
      best = { name: candidate, distance };
  }
  return best?.name;
}

/** Levenshtein distance (insertions, deletions, substitutions), over UTF-16 code units. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * Refuses what in a `.env` Node's `loadEnvFile` would drop or misread without a word, by line number
 * and never its content:
 * - a line that is not `NAME=value` (optionally `export NAME=value`), a comment or empty:
 *   `CERTGATE_RETENTION_DAYS 7` or `CERTGATE_DELETE_UPSTREAM: true` left the defaults in force;
 * - a line of only spaces or tabs, or a comment after spaces, when a variable follows: Node 20's
 *   parser then reads the next name with that line in front (`"\nPORT"`), and the variable is lost;
 * - a byte-order mark, which Node's parser makes part of the first name.
 * A value whose quote closes on a later line runs over lines, as Node reads it (only when the
 * closing quote comes later in the file; otherwise it is this line's text).
 * @throws ConfigError naming `.env` and the line.
 */
export function checkEnvFile(text: string): void {
  if (text.startsWith("\uFEFF")) {
    throw new ConfigError(
      ".env",
      "line 1 begins with a byte-order mark (save the file as UTF-8 without one)",
    );
  }
  const lines = text.split(/\r?\n/);
  const definesLater = (index: number) =>
    lines.slice(index + 1).some((line) => line.trim() !== "" && !line.trim().startsWith("#"));
  let quote: string | undefined;
  for (const [index, line] of lines.entries()) {
    if (quote !== undefined) {
      // Inside a quoted value that began on an earlier line: it ends at the line holding its quote.
      if (line.includes(quote)) quote = undefined;
      continue;
    }
    const trimmed = line.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (trimmed === "" || trimmed.startsWith("#")) {
      if (!definesLater(index)) continue;
      throw new ConfigError(
        ".env",
        `line ${index + 1} holds only spaces or a comment after spaces, which loses the next variable (remove the spaces)`,
      );
    }
    const definition = /^(?:export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*=\s*(.*)$/.exec(trimmed);
    if (definition === null) {
      throw new ConfigError(".env", `line ${index + 1} is not NAME=value, a comment or blank`);
    }
    const value = definition[1] ?? "";
    const opening = value[0];
    // Node's reader ends an unquoted value at its first `#`, space before it or not: a key or
    // secret holding one was cut short without a word (and a shorter key authenticated). A `#`
    // after a space reads as the comment it looks like; one inside the value is refused.
    if (opening !== '"' && opening !== "'" && opening !== "`" && /[^\s#]#/.test(value)) {
      throw new ConfigError(
        ".env",
        `line ${index + 1} has a # inside an unquoted value, where Node's parser drops the rest as a comment (quote the value)`,
      );
    }
    if (
      (opening === '"' || opening === "'" || opening === "`") &&
      !value.slice(1).includes(opening) &&
      lines.slice(index + 1).some((later) => later.includes(opening))
    ) {
      quote = opening;
    }
  }
}
