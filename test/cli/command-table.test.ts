/** Parsing a command line against a command's flags (command-table.ts), in process. */
import { describe, expect, it } from "vitest";
import { type Command, parseInvocation, UsageError } from "../../src/cli/command-table.js";

const purge: Command = {
  name: "purge",
  summary: "",
  description: "",
  flags: {
    database: { type: "string", value: "URL", env: "DATABASE_URL", help: "" },
    "retention-days": { type: "string", value: "N", env: "CERTGATE_RETENTION_DAYS", help: "" },
  },
  run: async () => 0,
};

function usageErrorOf(args: string[]): UsageError {
  try {
    parseInvocation(purge, args, {});
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error(`${args.join(" ")} parsed`);
}

describe("a flag's value", () => {
  it.each([
    [["--retention-days", "-1"], "-1"],
    [["--retention-days=-1"], "-1"],
    [["--retention-days", "-0"], "-0"],
    [["--retention-days", "7"], "7"],
  ])("%j reaches the variable as %j, to be judged as the variable is", (args, value) => {
    expect(parseInvocation(purge, args, {}).env.CERTGATE_RETENTION_DAYS).toBe(value);
  });

  it.each([
    [["--database", "--verbose"], "--database needs a value"],
    [["--database", "-x.sqlite"], "--database needs a value"],
    [["--retention-days"], "--retention-days needs a value"],
  ])("%j is still a usage error: %s", (args, message) => {
    expect(usageErrorOf(args).message).toBe(message);
  });

  it("after --, a negative number is a positional, not a flag's value", () => {
    expect(usageErrorOf(["--", "--retention-days", "-1"]).message).toBe(
      'unexpected argument "--retention-days"',
    );
  });
});
