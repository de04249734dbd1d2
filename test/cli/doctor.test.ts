/**
 * `certgate doctor`, through the real command against the emulator over a socket: ok for each check
 * when everything is in place, and for each fault the failing check with what to fix; exit 0 only
 * when all pass; no secret in its output.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmulator, serveEmulator, TEST_MERCHANT } from "../../src/emulator/index.js";
import { freePort } from "../reliability/own-postgres.js";
import { runCertgate } from "./run-certgate.js";

const dir = mkdtempSync(join(tmpdir(), "certgate-doctor-"));
const SECRET = "doctor-test-secret-that-is-long-enough-0000";
const API_KEY = "doctor_test_api_key_0001";
let upstream: Awaited<ReturnType<typeof serveEmulator>>;
const emulator = createEmulator({ admin: true, realTime: true });

beforeAll(async () => {
  upstream = await serveEmulator(emulator);
});
afterAll(async () => {
  await upstream?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Production against the emulator: V1 and V2 credentials of its test merchant. */
function production(overrides: Record<string, string> = {}) {
  return {
    DATABASE_URL: join(dir, "doctor.sqlite"),
    CERTGATE_SECRET: SECRET,
    CERTGATE_API_KEYS: API_KEY,
    PORTONE_IMP_CODE: TEST_MERCHANT.impCode,
    PORTONE_API_KEY: TEST_MERCHANT.impKey,
    PORTONE_API_SECRET: TEST_MERCHANT.impSecret,
    PORTONE_API_URL: upstream.url,
    PORTONE_V2_API_SECRET: TEST_MERCHANT.v2ApiSecret,
    PORTONE_STORE_ID: TEST_MERCHANT.storeId,
    PORTONE_V2_API_URL: upstream.url,
    ...overrides,
  };
}

/** The status word of each check, by name. */
function checks(stdout: string): Record<string, string> {
  return Object.fromEntries(
    [...stdout.matchAll(/^(ok|fail)\s+(configuration|database|portone v1|portone v2|clock)\s/gm)].map((m) => [
      m[2],
      m[1],
    ]),
  );
}

function expectNoSecret(output: string) {
  for (const secret of [SECRET, API_KEY, TEST_MERCHANT.impSecret, TEST_MERCHANT.v2ApiSecret, "hunter2"])
    expect(output).not.toContain(secret);
}

// Each test spawns the real command through tsx: seconds each on a loaded machine, not 30 s.
describe("certgate doctor", { timeout: 120_000 }, () => {
  it("passes every check against a running PortOne (the emulator) and a good database: exit 0", async () => {
    const { status, stdout, stderr } = await runCertgate(["doctor"], production());
    expect(stderr).toBe("");
    expect(checks(stdout)).toEqual({
      configuration: "ok",
      database: "ok",
      "portone v1": "ok",
      clock: "ok",
      "portone v2": "ok",
    });
    expect(stdout).toContain(`getToken at ${upstream.url} answered in`);
    expect(stdout).not.toContain("fix:");
    expect(status).toBe(0);
    expectNoSecret(stdout);
  });

  it("passes in sandbox mode against the embedded emulator", async () => {
    const { status, stdout } = await runCertgate(["doctor"], { CERTGATE_DATA_DIR: dir });
    expect(stdout).toContain("sandbox mode");
    expect(Object.values(checks(stdout))).toEqual(["ok", "ok", "ok", "ok", "ok"]);
    expect(status).toBe(0);
  });

  it("PortOne on a dead port: the PortOne checks fail with the fix, exit 1", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const { status, stdout } = await runCertgate(
      ["doctor", "--api-url", dead, "--v2-api-url", dead],
      production(),
    );
    expect(status).toBe(1);
    expect(checks(stdout)).toMatchObject({ configuration: "ok", database: "ok", "portone v1": "fail" });
    expect(stdout).toContain(`cannot reach ${dead} (ECONNREFUSED)`);
    expect(stdout).toMatch(/fix: check PORTONE_API_URL/);
    expect(stdout).toMatch(/fix: check PORTONE_V2_API_URL/);
    expect(stdout).not.toMatch(/^(ok|fail)\s+clock/m); // no answer, no clock to compare
  });

  it("wrong credentials: PortOne refuses, and the fix names the variables", async () => {
    const { status, stdout } = await runCertgate(
      ["doctor"],
      production({ PORTONE_API_SECRET: "hunter2-wrong-secret", PORTONE_V2_API_SECRET: "hunter2-wrong-v2" }),
    );
    expect(status).toBe(1);
    expect(checks(stdout)).toMatchObject({ "portone v1": "fail", "portone v2": "fail" });
    expect(stdout).toContain("fix: check PORTONE_API_KEY and PORTONE_API_SECRET");
    expect(stdout).toContain("fix: check PORTONE_V2_API_SECRET");
    expectNoSecret(stdout);
  });

  it("a bad database: the database check fails with the fix, its password masked", async () => {
    const port = await freePort();
    const { status, stdout } = await runCertgate(
      ["doctor", "--database", `postgres://app:hunter2@127.0.0.1:${port}/certgate`],
      production(),
    );
    expect(status).toBe(1);
    expect(checks(stdout)).toMatchObject({ database: "fail", "portone v1": "ok" });
    expect(stdout).toContain(`DATABASE_URL: cannot connect to 127.0.0.1:${port} (ECONNREFUSED)`);
    expect(stdout).toContain("fix: start the database, or correct the host and port in DATABASE_URL");
    expectNoSecret(stdout);
  });

  it("PortOne's clock 10 minutes away from ours: the clock check fails with the fix", async () => {
    await fetch(`${upstream.url}/__admin/clock`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ advance_seconds: 600 }),
    });
    try {
      const { status, stdout } = await runCertgate(["doctor"], production());
      expect(status).toBe(1);
      expect(checks(stdout)).toMatchObject({ "portone v1": "ok", clock: "fail" });
      expect(stdout).toMatch(/clock\s+\d{3}\.\d s behind PortOne's clock \(more than 30 s\)/);
      expect(stdout).toContain("fix: synchronise this machine's clock");
    } finally {
      await fetch(`${upstream.url}/__admin/clock`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ advance_seconds: -600 }),
      });
    }
  });

  it("a bad configuration fails first, naming the variable, and checks nothing else", async () => {
    const { status, stdout } = await runCertgate(["doctor"], production({ CERTGATE_SECRET: "short" }));
    expect(status).toBe(1);
    expect(checks(stdout)).toEqual({ configuration: "fail" });
    expect(stdout).toContain("CERTGATE_SECRET: must be at least 32 characters");
    expect(stdout).toContain("fix: correct that variable");
  });
});
