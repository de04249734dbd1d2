import { Agent, request as httpRequest } from "node:http";
import { describe, expect, it } from "vitest";
import { createEmulator, serveEmulator, TEST_MERCHANT } from "../../src/emulator/index.js";

describe("serveEmulator", () => {
  it("listens on a random port of 127.0.0.1 by default", async () => {
    const served = await serveEmulator(createEmulator());
    try {
      expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${served.url}/users/getToken`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ imp_key: TEST_MERCHANT.impKey, imp_secret: TEST_MERCHANT.impSecret }),
      });
      expect(res.status).toBe(200);
    } finally {
      await served.close();
    }
  });

  it("serves two emulators side by side", async () => {
    const [a, b] = await Promise.all([serveEmulator(createEmulator()), serveEmulator(createEmulator())]);
    expect(a.url).not.toBe(b.url);
    await Promise.all([a.close(), b.close()]);
  });

  it("keeps connections alive, and close() ends idle and in-flight connections promptly", async () => {
    const emulator = createEmulator();
    const served = await serveEmulator(emulator);
    const agent = new Agent({ keepAlive: true });
    const get = () =>
      new Promise<{ status: number | undefined; connection: string | undefined }>((resolve, reject) => {
        const req = httpRequest(`${served.url}/certifications/imp_000000000000`, { agent }, (res) => {
          res.resume();
          res.on("end", () => resolve({ status: res.statusCode, connection: res.headers.connection }));
        });
        req.on("error", reject);
        req.end();
      });
    try {
      expect(await get()).toEqual({ status: 401, connection: "keep-alive" });
      emulator.setFault({ route: "getCertification", kind: "latency", latencyMs: 10_000 });
      const inFlight = get().catch((error: unknown) => error);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = performance.now();
      await served.close();
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(await inFlight).toBeInstanceOf(Error);
    } finally {
      agent.destroy();
    }
  });

  it("rejects when the port is taken", async () => {
    const first = await serveEmulator(createEmulator());
    const port = Number(new URL(first.url).port);
    await expect(serveEmulator(createEmulator(), { port })).rejects.toThrow(/EADDRINUSE/);
    await first.close();
  });
});
