/**
 * `serve` on an IPv6 address prints and logs a URL that is one (`http://[::1]:PORT`, never
 * `http://::1:PORT`), its sandbox banner's commands work as printed, and that origin is among the
 * sandbox's return origins. Through the real command when this machine has IPv6 loopback; the URL
 * builder itself always.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { listenUrl, SANDBOX_API_KEY } from "../../src/server.js";
import { startCertgateProcess } from "./run-certgate.js";

const dir = mkdtempSync(join(tmpdir(), "certgate-ipv6-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Whether this machine can listen on ::1 (a container without IPv6 cannot). */
const hasIpv6Loopback = await new Promise<boolean>((resolve) => {
  const probe = createServer();
  probe.once("error", () => resolve(false));
  probe.listen(0, "::1", () => probe.close(() => resolve(true)));
});

describe("listenUrl", () => {
  it.each([
    ["::1", "http://[::1]:3000"],
    ["fe80::1", "http://[fe80::1]:3000"],
    ["::ffff:127.0.0.1", "http://[::ffff:127.0.0.1]:3000"],
    ["::", "http://localhost:3000"],
    ["0.0.0.0", "http://localhost:3000"],
    ["127.0.0.1", "http://127.0.0.1:3000"],
    ["localhost", "http://localhost:3000"],
  ])("%s → %s, a URL that parses back to that host and port", (host, expected) => {
    const url = listenUrl(host, 3000);
    expect(url).toBe(expected);
    expect(new URL(url).port).toBe("3000");
  });
});

describe.runIf(hasIpv6Loopback)("certgate serve with HOST=::1", { timeout: 120_000 }, () => {
  it("prints and logs http://[::1]:PORT, and its origin is a sandbox return origin", async () => {
    const serve = await startCertgateProcess(["serve"], {
      HOST: "::1",
      PORT: "0",
      CERTGATE_DATA_DIR: dir,
    });
    try {
      expect(serve.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
      const port = new URL(serve.url).port;
      const logLine = serve
        .stdout()
        .split("\n")
        .find((line) => line.includes("certgate is serving"));
      expect(JSON.parse(logLine ?? "{}")).toMatchObject({ url: `http://[::1]:${port}` });
      expect(serve.stdout()).not.toContain("http://::1");

      // Step 1 of the banner as printed, with a return_url on the address it serves at.
      const step1 = /^ {2}1\. curl -s -X POST (\S+) /m.exec(serve.stdout())?.[1];
      expect(step1).toBe(`${serve.url}/api/verifications`);
      const created = await fetch(step1 ?? "", {
        method: "POST",
        headers: { authorization: `Bearer ${SANDBOX_API_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({
          account_ref: "user-ipv6",
          policy: { min_age: 19, age_rule: "year" },
          return_url: `${serve.url}/done`,
        }),
      });
      expect(created.status).toBe(201);
      expect(await created.json()).toMatchObject({ status: "pending" });

      // curl (when installed) takes the bracketed literal as printed: no glob of [::1].
      const curl = await promisify(execFile)("curl", [
        "-s",
        "-w",
        "%{http_code}",
        `${serve.url}/healthz`,
      ]).catch((error: NodeJS.ErrnoException & { stdout?: string }) =>
        error.code === "ENOENT" ? undefined : { stdout: `curl failed: ${error.message}` },
      );
      if (curl !== undefined) expect(curl.stdout).toBe('{"status":"ok"}200');
    } finally {
      await serve.stop();
    }
  });
});
