/**
 * `.env.example` lists every variable certgate reads, and nothing it does not: a newcomer copies it
 * to `.env` and sees the whole configuration. Copied as it is (everything commented out), it is the
 * sandbox configuration.
 */
import { readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/cli/config.js";
import { CERTGATE_VARIABLES } from "../../src/cli/variables.js";

const example = readFileSync(new URL("../../.env.example", import.meta.url), "utf8");

/** The variables the configuration and the logger read, found in their source. */
function variablesRead(): string[] {
  const config = readFileSync(new URL("../../src/cli/config.ts", import.meta.url), "utf8");
  const logger = readFileSync(new URL("../../src/cli/logger.ts", import.meta.url), "utf8");
  const names = [...config.matchAll(/\b(?:get|list)\("([A-Z][A-Z0-9_]*)"\)/g)].map((m) => m[1] ?? "");
  const env = [...logger.matchAll(/process\.env\.([A-Z][A-Z0-9_]*)/g)].map((m) => m[1] ?? "");
  return [...new Set([...names, ...env])].sort();
}

describe(".env.example", () => {
  it("names every variable certgate reads, and no other", () => {
    const listed = [...example.matchAll(/^# ([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] ?? "").sort();
    expect(variablesRead().length).toBeGreaterThan(20);
    expect(listed).toEqual(variablesRead());
  });

  it("the CERTGATE_ variables the configuration refuses others than are the ones it reads", () => {
    expect([...CERTGATE_VARIABLES].sort()).toEqual(
      variablesRead().filter((name) => name.startsWith("CERTGATE_")),
    );
  });

  it("is the sandbox configuration when copied as it is", () => {
    const env = parseEnv(example);
    expect(Object.keys(env)).toEqual([]);
    expect(loadConfig(env).mode).toBe("sandbox");
  });
});
