/**
 * The README walkthrough runs as pasted: its shell block (the fenced `sh` block under its heading),
 * extracted from README.md and run with bash against a real sandbox, and `npm run walkthrough`,
 * against a running sandbox and on its own. Each must verify user-1 and refuse user-2 as a
 * duplicate_account of user-1.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../reliability/own-postgres.js";
import { type RunningCertgate, startCertgateProcess } from "./run-certgate.js";

const run = promisify(execFile);
const HEADING = "### Walkthrough: a sign-up, then the same person again";
const dir = mkdtempSync(join(tmpdir(), "certgate-walkthrough-"));
let sandbox: RunningCertgate;
let port: number;

beforeAll(async () => {
  port = await freePort();
  sandbox = await startCertgateProcess(["serve", "--port", String(port)], { CERTGATE_DATA_DIR: dir });
});
afterAll(async () => {
  await sandbox?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The first fenced `sh` block after the walkthrough's heading in `file`. */
function walkthroughBlock(file: string): string {
  const text = readFileSync(file, "utf8");
  const start = text.indexOf(HEADING);
  expect(start, `${file} has the heading "${HEADING}"`).toBeGreaterThanOrEqual(0);
  const block = /```sh\n([\s\S]*?)\n```/.exec(text.slice(start))?.[1];
  expect(block, `${file} has a sh block under the heading`).toBeDefined();
  return block ?? "";
}

function expectVerifiedThenDuplicate(output: string) {
  const verified = output.indexOf('"status":"verified"');
  const duplicate = output.indexOf('"reason":"duplicate_account","existing_account_ref":"user-1"');
  expect(verified).toBeGreaterThanOrEqual(0);
  expect(duplicate).toBeGreaterThan(verified);
}

// README.md is the lead's: until the walkthrough text of README-walkthrough.txt is pasted in, its
// block still holds the `mid_…` placeholders, and the text file is what runs.
const readmeHasPlaceholders = readFileSync("README.md", "utf8").includes('"merchant_uid":"mid_…"}');
const sources = [
  ...(readmeHasPlaceholders ? [] : ["README.md"]),
  ...(existsSync("README-walkthrough.txt") ? ["README-walkthrough.txt"] : []),
];

// Each test spawns the real command through tsx: seconds each on a loaded machine, not 30 s.
describe("the README walkthrough", { timeout: 120_000 }, () => {
  it("has a source to run", () => {
    expect(sources.length).toBeGreaterThan(0);
  });

  it.each(sources)("the shell block of %s runs as pasted against a sandbox", async (file) => {
    const { stdout } = await run("bash", ["-eo", "pipefail", "-c", walkthroughBlock(file)], {
      env: { PATH: process.env.PATH ?? "", PORT: String(port) },
    });
    expect(stdout).not.toContain("mid_…");
    expect(stdout.match(/^HTTP \d+$/gm)).toEqual(["HTTP 200", "HTTP 422"]);
    expectVerifiedThenDuplicate(stdout);
  });

  it("npm run walkthrough talks to the running sandbox at PORT", async () => {
    const { stdout } = await run("npm", ["run", "-s", "walkthrough"], {
      env: { ...process.env, PORT: String(port) },
    });
    expect(stdout).toContain(`Walkthrough against the certgate at http://127.0.0.1:${port}`);
    expectVerifiedThenDuplicate(stdout);
    expect(stdout).toContain("user-1 is verified; the same person as user-2 is refused as duplicate_account");
  });

  it("npm run walkthrough starts a sandbox of its own when nothing answers at PORT", async () => {
    const { stdout } = await run("npm", ["run", "-s", "walkthrough"], {
      env: { ...process.env, PORT: String(await freePort()) },
    });
    expect(stdout).toMatch(/started a sandbox of its own at http:\/\/127\.0\.0\.1:\d+/);
    expectVerifiedThenDuplicate(stdout);
  });

  it("npm run certgate -- <command> runs the CLI inside the repository (npx certgate cannot)", async () => {
    const { stdout } = await run("npm", ["run", "-s", "certgate", "--", "--version"], { env: process.env });
    expect(stdout.trim()).toBe(
      (JSON.parse(readFileSync("package.json", "utf8")) as { version: string }).version,
    );
  });
});
