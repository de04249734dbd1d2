/** The `certgate` command as an operator runs it: exit codes and one clear line on error. */

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createEmulator, serveEmulator } from "../../src/emulator/index.js";
import { createKeyring } from "../../src/store/crypto.js";
import { openStore } from "../../src/store/index.js";
import { runCertgate } from "./run-certgate.js";
import { storeSealedVerification } from "./sealed-verification.js";

const dir = mkdtempSync(join(tmpdir(), "certgate-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The real command, awaited: a spawnSync would block this worker's event loop (and vitest's RPC with it). */
function certgate(args: string[], env: Record<string, string> = {}) {
  return runCertgate(args, { DATABASE_URL: join(dir, "cli.sqlite"), ...env });
}

describe("certgate command", async () => {
  it("help lists the commands", async () => {
    const { status, stdout } = await certgate(["help"]);
    expect(status).toBe(0);
    for (const command of ["serve", "emulator", "migrate", "purge"])
      expect(stdout).toContain(`certgate ${command}`);
  });

  it.each(["serve", "emulator", "migrate", "purge", "lookup", "keys"])(
    "%s --help explains the command",
    async (command) => {
      const { status, stdout } = await certgate([command, "--help"]);
      expect(status).toBe(0);
      expect(stdout).toContain(`certgate ${command}`);
    },
  );

  it("emulator serves PortOne V1 and V2 with the credentials it prints, until stopped; a bad port exits 2", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "emulator", "--port", "0"], {
      env: { PATH: process.env.PATH ?? "" },
    });
    try {
      const banner = await new Promise<RegExpExecArray>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (c: Buffer) => {
          out += String(c);
          const m =
            /PortOne emulator \(V1 and V2\) at (http:\/\/\S+)\n.*imp_key=(\S+) imp_secret=(\S+).*\n.*api secret=(\S+)/.exec(
              out,
            );
          if (m) resolve(m);
        });
        child.once("exit", () => reject(new Error("emulator exited")));
      });
      const [, url, impKey, impSecret, apiSecret] = banner;
      const v1 = await fetch(`${url}/users/getToken`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ imp_key: impKey, imp_secret: impSecret }),
      });
      expect(v1.status).toBe(200);
      const v2 = await fetch(`${url}/login/api-secret`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ apiSecret }),
      });
      expect(v2.status).toBe(200);
    } finally {
      child.kill("SIGTERM");
    }
    expect((await certgate(["emulator", "--port", "abc"])).status).toBe(2);
  });

  it("migrate and purge exit 1 with one line when the database is unreachable or the config bad", async () => {
    const migrate = await certgate(["migrate"], { DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" });
    expect(migrate.status).toBe(1);
    expect(migrate.stderr.trim().split("\n")).toHaveLength(1);
    const purge = await certgate(["purge"], { CERTGATE_RETENTION_DAYS: "forever" });
    expect(purge.status).toBe(1);
    expect(purge.stderr.trim()).toBe(
      "certgate: CERTGATE_RETENTION_DAYS: must be a whole number from 0 to 3650",
    );
  });

  it.each([
    ["--retention-days -1", ["purge", "--retention-days", "-1"], {}],
    ["--retention-days=-1", ["purge", "--retention-days=-1"], {}],
    ["CERTGATE_RETENTION_DAYS=-1", ["purge"], { CERTGATE_RETENTION_DAYS: "-1" }],
    ["--retention-days 3651", ["purge", "--retention-days", "3651"], {}],
  ])("purge %s says what the rule is, exit 1", async (_name, args, env) => {
    const { status, stderr } = await certgate(args, env);
    expect(status).toBe(1);
    expect(stderr).toBe("certgate: CERTGATE_RETENTION_DAYS: must be a whole number from 0 to 3650\n");
  });

  it("migrate applies the migrations and exits 0, twice", async () => {
    expect((await certgate(["migrate"])).status).toBe(0);
    const again = await certgate(["migrate"]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain("migrations applied");
  });

  it("purge reports how many identities it purged", async () => {
    const { status, stdout } = await certgate(["purge"]);
    expect(status).toBe(0);
    expect(stdout).toMatch(/"purged":0/);
  });

  it("an unknown command exits 2 with one line", async () => {
    const { status, stderr } = await certgate(["frobnicate"]);
    expect(status).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
  });

  it("bad configuration exits 1 naming the variable, never its value", async () => {
    const { status, stderr } = await certgate(["serve"], { PORTONE_API_KEY: "some-real-looking-key-123456" });
    expect(status).toBe(1);
    expect(stderr.trim()).toBe("certgate: CERTGATE_SECRET: is required in production mode");
    expect(stderr).not.toContain("some-real-looking-key");
  });

  it.each([
    ["PORTONE_API_KEY", "imp_apikey"],
    ["PORTONE_IMP_CODE", "imp10391932"],
  ])(
    "serve refuses PortOne's public test %s in production, naming it and never its value",
    async (variable, value) => {
      const { status, stderr } = await certgate(["serve"], {
        PORTONE_IMP_CODE: "imp00000000",
        PORTONE_API_KEY: "certgate_test_key",
        PORTONE_API_SECRET: "certgate_test_secret",
        CERTGATE_SECRET: "a-test-secret-that-is-long-enough-0000",
        CERTGATE_API_KEYS: "merchant_backend_key_0001",
        [variable]: value,
      });
      expect(status).toBe(1);
      expect(stderr.trim()).toMatch(
        new RegExp(
          `^certgate: ${variable}: is PortOne's public test [a-z ]+; it must not be used in production$`,
        ),
      );
      expect(stderr).not.toContain(value);
    },
  );

  describe("lookup", async () => {
    const emulator = createEmulator({ admin: true });
    let upstream: Awaited<ReturnType<typeof serveEmulator>>;
    beforeAll(async () => {
      upstream = await serveEmulator(emulator);
    });
    afterAll(() => upstream?.close());

    it("prints the V1 record with name, phone, birthday, CI and DI masked", async () => {
      const record = emulator.createCertification({ persona: "adult" });
      const { status, stdout } = await certgate(["lookup", record.imp_uid], {
        PORTONE_API_URL: upstream.url,
      });
      expect(status).toBe(0);
      const printed = JSON.parse(stdout) as Record<string, unknown>;
      expect(printed.imp_uid).toBe(record.imp_uid);
      expect(printed.certified).toBe(true);
      for (const secret of [
        record.name,
        record.phone,
        record.birthday,
        record.unique_key,
        record.unique_in_site,
      ]) {
        expect(secret).toBeTruthy();
        expect(stdout).not.toContain(String(secret));
      }
    });

    it.each(["19900115", "1990.01.15", "15 January 1990"])(
      "masks a birthday written %s",
      async (birthday) => {
        const record = emulator.createCertification({ persona: "adult", fields: { birthday } });
        const { status, stdout } = await certgate(["lookup", record.imp_uid], {
          PORTONE_API_URL: upstream.url,
        });
        expect(status).toBe(0);
        const printed = z.object({ birthday: z.string() }).parse(JSON.parse(stdout));
        // The year at most; neither the day nor the month.
        expect(printed.birthday).not.toMatch(/15|01|January/);
        expect(printed.birthday.length).toBe(birthday.length);
      },
    );

    it("exits 1 with one line for an unknown id, and 2 without one", async () => {
      const missing = await certgate(["lookup", "imp_000000000000"], { PORTONE_API_URL: upstream.url });
      expect(missing.status).toBe(1);
      expect(missing.stderr.trim().split("\n")).toHaveLength(1);
      expect(missing.stderr).toContain("not_found");
      expect((await certgate(["lookup"])).status).toBe(2);
    });
  });

  describe("keys rotate", async () => {
    const OLD = "the-old-secret-of-this-test-0000000000";
    const NEW = "the-new-secret-of-this-test-1111111111";
    const databaseUrl = join(dir, "rotate.sqlite");

    it("re-encrypts stored fields under the new secret, so the old one can go", async () => {
      const v = await storeSealedVerification(databaseUrl, OLD, "rotate");

      const { status, stdout } = await certgate(["keys", "rotate"], {
        DATABASE_URL: databaseUrl,
        CERTGATE_SECRET: NEW,
        CERTGATE_PREVIOUS_SECRETS: OLD,
      });
      expect(status).toBe(0);
      expect(stdout).toMatch(/"reencrypted":1/);
      expect(stdout).not.toContain(OLD);

      const fresh = await openStore({ databaseUrl, keyring: createKeyring({ secret: NEW }) });
      expect((await fresh.getVerification(v.id))?.identity?.name).toBe("김테스트");
      await fresh.close();
    });

    it.each([
      ["CERTGATE_SECRET", {}, "is required by keys rotate (the new secret)"],
      [
        "CERTGATE_PREVIOUS_SECRETS",
        { CERTGATE_SECRET: NEW },
        "is required by keys rotate (the old secret, to decrypt with)",
      ],
    ])(
      "a missing %s is a configuration failure: one line naming it, exit 1",
      async (variable, env, problem) => {
        const { status, stderr } = await certgate(["keys", "rotate"], { DATABASE_URL: databaseUrl, ...env });
        expect(status).toBe(1);
        expect(stderr).toBe(`certgate: ${variable}: ${problem}\n`);
      },
    );

    it("an unknown keys subcommand is a usage error, exit 2", async () => {
      expect((await certgate(["keys", "spin"])).status).toBe(2);
    });
  });
});
