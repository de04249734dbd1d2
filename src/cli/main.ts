#!/usr/bin/env node
/**
 * `certgate` — the command line. The only entry that reads the environment (and `.env`). The
 * commands are a table (commands.ts) parsed strictly per command (command-table.ts): an unknown
 * flag or a missing value is a usage line on stderr and exit status 2.
 */
import { existsSync, readFileSync } from "node:fs";
import { CertgateError } from "../core/errors.js";
import { formatStartupFailure } from "../startup-errors.js";
import {
  type Command,
  commandHelp,
  findCommand,
  parseInvocation,
  subcommands,
  UsageError,
} from "./command-table.js";
import { COMMANDS } from "./commands.js";
import { loadLogLevel } from "./config.js";
import { checkEnvFile } from "./variables.js";

/** The version of the installed package (package.json sits two levels above src/cli and dist/cli). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

function usage(table: readonly Command[]): string {
  const rows = table.map((c) => [`certgate ${[c.name, c.args].filter(Boolean).join(" ")}`, c.summary]);
  const width = Math.max(...rows.map(([left = ""]) => left.length));
  return `certgate ${packageVersion()} — Korean identity verification through PortOne, done right

Usage:
${rows.map(([left = "", right]) => `  ${left.padEnd(width)}  ${right}`).join("\n")}
  ${"certgate help".padEnd(width)}  this text (certgate <command> --help: that command's flags)
  ${"certgate --version".padEnd(width)}  the version

Flags given to a command override the environment variable they name in its --help. Every
command accepts --verbose: a failure then prints its stack and causes after the one-line cause (so
does LOG_LEVEL=debug). Configuration is read from the environment and from .env if present (every
variable is listed in .env.example).`;
}

/** The effective DATABASE_URL, for masking its password in a failure line. */
let databaseUrl = process.env.DATABASE_URL;

async function main(argv: string[]): Promise<number> {
  // `--verbose` is every command's (it only adds a failure's stack): not a word of help or --version.
  const [first = "help", ...others] = argv.filter((arg, i) => i === 0 || arg !== "--verbose");
  if (first === "help" || first === "--help" || first === "-h") {
    if (others.length === 0) {
      process.stdout.write(`${usage(COMMANDS)}\n`);
      return 0;
    }
    // `certgate help keys` or `help keys rotate`: that group's or command's help. Anything else
    // is an unknown command (exit 2), not the general help with exit 0.
    const group = others.length === 1 ? subcommands(COMMANDS, others[0]) : [];
    if (group.length > 0) {
      process.stdout.write(`${group.map(commandHelp).join("\n\n")}\n`);
      return 0;
    }
    const { command, rest } = findCommand(COMMANDS, others);
    if (rest.length > 0) throw new UsageError(`help takes a command's name only`, "certgate help [command]");
    process.stdout.write(`${commandHelp(command)}\n`);
    return 0;
  }
  if (first === "--version" || first === "-v" || first === "version") {
    if (others.length > 0) throw new UsageError(`${first} takes no arguments`, "certgate --version");
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const group = subcommands(COMMANDS, first);
  if (group.length > 0 && (argv[1] === "--help" || argv[1] === "-h")) {
    process.stdout.write(`${group.map(commandHelp).join("\n\n")}\n`);
    return 0;
  }
  const { command, rest } = findCommand(COMMANDS, argv);
  // .env fills what the environment leaves unset; the flags win over both.
  if (existsSync(".env")) {
    checkEnvFile(readFileSync(".env", "utf8"));
    process.loadEnvFile(".env");
  }
  const invocation = parseInvocation(command, rest, process.env);
  if (invocation.flags.help === true) {
    process.stdout.write(`${commandHelp(command)}\n`);
    return 0;
  }
  databaseUrl = invocation.env.DATABASE_URL;
  loadLogLevel(invocation.env); // a bad LOG_LEVEL stops every command before it does anything
  return command.run(invocation);
}

// A reader that left (`certgate purge | head -1`, a closed log pipe) makes stdout's writes fail
// with EPIPE, an 'error' event nobody handled: a stack trace and exit 1 after the work was done,
// which a cron job reads as a failed purge. What is left to print has no reader: it is dropped,
// and the command ends with its own status. Any other error of stdout still ends the process.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
});

const args = process.argv.slice(2);
/** `--verbose`, accepted by every command, adds the stack to a failure's one line. */
const verboseFlag = args.includes("--verbose");

main(args).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    // One clear line naming the variable or component and the cause (ConfigError never echoes a
    // value; StartupError masks the password of DATABASE_URL), the stack only when asked for; a
    // usage error adds the command's usage line.
    const logLevel = process.env.LOG_LEVEL?.trim().toLowerCase();
    process.stderr.write(
      formatStartupFailure(error, {
        verbose: verboseFlag || logLevel === "debug" || logLevel === "trace",
        databaseUrl,
        printable: error instanceof CertgateError || error instanceof UsageError,
      }),
    );
    if (error instanceof UsageError && error.usage !== undefined)
      process.stderr.write(`usage: ${error.usage}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  },
);
