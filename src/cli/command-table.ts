/**
 * The `certgate` command line as a table: each command (or subcommand, `keys rotate`) is one entry
 * with its flags, and this file parses argv against it with node:util `parseArgs` (strict), renders
 * `--help` from it, and turns flags that stand for an environment variable into that variable, so
 * a flag overrides the environment and is validated exactly as the variable is.
 */
import { parseArgs } from "node:util";

/** A mistake in the command line: printed with the command's usage line, exit status 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  /** The usage line of the command at fault, when one is known. */
  readonly usage: string | undefined;
  constructor(message: string, usage?: string) {
    super(message);
    this.usage = usage;
  }
}

export type Env = Record<string, string | undefined>;

/** One flag of a command. */
export interface Flag {
  type: "string" | "boolean";
  /** Placeholder of the value in usage and help (`N`, `URL`); string flags only. */
  value?: string;
  /** The environment variable this flag overrides (its value is validated as the variable's). */
  env?: string;
  help: string;
}

/** What a command's `run` receives. */
export interface Invocation {
  /** The environment with the flags that stand for a variable applied: hand this to `loadConfig`. */
  env: Env;
  /** Every flag given, by name (strings and booleans as parsed). */
  flags: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** One entry of the table. `name` is its words: `"serve"`, `"keys rotate"`, `"webhooks replay"`. */
export interface Command {
  name: string;
  /** Positional arguments in usage, e.g. `<imp_uid|identityVerificationId>`. */
  args?: string;
  /** How many positionals it takes (default 0 and 0). */
  positionals?: { min: number; max: number };
  /** One line for `certgate help`. */
  summary: string;
  /** The paragraph of `certgate <name> --help`. */
  description: string;
  flags?: Record<string, Flag>;
  /** Exit status, or -1 for a command that keeps serving until a signal. */
  run(invocation: Invocation): Promise<number>;
}

/** Flags every command takes. */
export const COMMON_FLAGS: Record<string, Flag> = {
  verbose: { type: "boolean", help: "on failure, print the stack and every cause after the one line" },
  help: { type: "boolean", help: "this help" },
};

export function usageLine(command: Command): string {
  const flags = Object.entries(command.flags ?? {}).map(([name, flag]) =>
    flag.type === "string" ? `[--${name} ${flag.value ?? "VALUE"}]` : `[--${name}]`,
  );
  return ["certgate", command.name, command.args, ...flags].filter(Boolean).join(" ");
}

export function commandHelp(command: Command): string {
  const flags = { ...command.flags, ...COMMON_FLAGS };
  const left = (name: string, flag: Flag) =>
    `--${name}${flag.type === "string" ? ` ${flag.value ?? "VALUE"}` : ""}${name === "help" ? ", -h" : ""}`;
  const width = Math.max(...Object.entries(flags).map(([n, f]) => left(n, f).length));
  const lines = Object.entries(flags).map(
    ([name, flag]) =>
      `  ${left(name, flag).padEnd(width)}  ${flag.help}${flag.env ? ` (overrides ${flag.env})` : ""}`,
  );
  return `usage: ${usageLine(command)}\n\n${command.description}\n\nFlags:\n${lines.join("\n")}`;
}

/** The subcommands of a group (`keys` → `keys rotate`); none for anything else. */
export function subcommands(table: readonly Command[], word: string | undefined): Command[] {
  return word === undefined ? [] : table.filter((c) => c.name.startsWith(`${word} `));
}

/**
 * The command `argv` names (the longest run of its leading words that is a command's name) and
 * the rest of argv.
 * @throws UsageError for an unknown command, naming the subcommands of a known group (`keys`).
 */
export function findCommand(table: readonly Command[], argv: string[]): { command: Command; rest: string[] } {
  let best: Command | undefined;
  for (const command of table) {
    const words = command.name.split(" ");
    if (words.every((word, i) => argv[i] === word) && words.length > (best?.name.split(" ").length ?? 0))
      best = command;
  }
  if (best) return { command: best, rest: argv.slice(best.name.split(" ").length) };
  const group = subcommands(table, argv[0]);
  if (group.length > 0) {
    throw new UsageError(
      `unknown ${argv[0]} subcommand${argv[1] === undefined ? " (none given)" : ` "${argv[1]}"`}`,
      group.map(usageLine).join("\n       "),
    );
  }
  throw new UsageError(`unknown command "${argv[0]}" (try: certgate help)`);
}

/**
 * Parses `rest` against `command`'s flags (strictly: an unknown flag or a missing value is a
 * UsageError) and applies the flags that stand for variables onto a copy of `env`.
 */
export function parseInvocation(command: Command, rest: string[], env: Env): Invocation {
  const flags = { ...command.flags, ...COMMON_FLAGS };
  const options = Object.fromEntries(
    Object.entries(flags).map(([name, flag]) => [
      name,
      name === "help" ? { type: flag.type, short: "h" } : { type: flag.type },
    ]),
  );
  const args = joinNegativeNumbers(rest, flags);
  const config = { args, options, strict: true, allowPositionals: true, tokens: true } as const;
  let parsed: ReturnType<typeof parseArgs<typeof config>>;
  try {
    parsed = parseArgs(config);
  } catch (error) {
    throw new UsageError(describeParseError(error), usageLine(command));
  }
  // Fail closed where parseArgs does not: a flag given twice (which one counts would be its
  // choice: the last) and a flag given an empty value (which would read as unset, so the default
  // or the environment's value would be used instead of the one the operator meant to give).
  const seen = new Set<string>();
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== "option") continue;
    if (seen.has(token.name))
      throw new UsageError(`--${token.name} is given more than once`, usageLine(command));
    seen.add(token.name);
    if (typeof token.value === "string" && token.value.trim() === "") {
      throw new UsageError(`--${token.name} needs a value`, usageLine(command));
    }
  }
  const { min, max } = command.positionals ?? { min: 0, max: 0 };
  const count = parsed.positionals.length;
  if (parsed.values.help !== true && (count < min || count > max)) {
    throw new UsageError(
      count < min
        ? `missing ${command.args ?? "argument"}`
        : `unexpected argument "${parsed.positionals[max]}"`,
      usageLine(command),
    );
  }
  const applied: Env = { ...env };
  for (const [name, flag] of Object.entries(flags)) {
    const value = parsed.values[name];
    if (flag.env !== undefined && typeof value === "string") applied[flag.env] = value;
  }
  // No flag is `multiple`: every value is one string or boolean.
  return {
    env: applied,
    flags: parsed.values as Record<string, string | boolean | undefined>,
    positionals: parsed.positionals,
  };
}

/**
 * `--retention-days -1` as `--retention-days=-1`. parseArgs (strict) takes a value that starts
 * with "-" after a space for a forgotten value; a negative number is a value, and it must reach the
 * flag's own check to be refused for what it is ("must be a whole number from 0 to 3650"), as the
 * variable the flag overrides is. Anything else after a flag (`--database --verbose`) is left to
 * parseArgs; nothing after `--` is touched.
 */
function joinNegativeNumbers(args: string[], flags: Record<string, Flag>): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] ?? "";
    if (arg === "--") return [...joined, ...args.slice(i)];
    const next = args[i + 1];
    const flag = arg.startsWith("--") ? flags[arg.slice(2)] : undefined;
    if (flag?.type === "string" && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i += 1;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

/** parseArgs' own messages, cut to what an operator needs (they name the flag, never a value of ours). */
function describeParseError(error: unknown): string {
  const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";
  const message = error instanceof Error ? error.message : "";
  const flag = /'(-{1,2}[^'\s]+)/.exec(message)?.[1];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return `unknown flag ${flag ?? ""}`.trim();
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    return /does not take an argument/.test(message)
      ? `${flag ?? "a flag"} takes no value`
      : `${flag ?? "a flag"} needs a value`;
  }
  return "invalid arguments";
}
