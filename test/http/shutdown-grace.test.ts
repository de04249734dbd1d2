/**
 * `close()` (what SIGTERM runs) lets in-flight requests finish, but not forever: a client that sent
 * half a request and went quiet used to keep the process alive as long as it liked, since
 * `server.close()` stops Node's request timeouts. Past `shutdownGraceMs` its connection is closed.
 * The real server on a real socket, in sandbox mode on SQLite.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/cli/config.js";
import { startCertgate } from "../../src/server.js";

const dir = mkdtempSync(join(tmpdir(), "certgate-shutdown-grace-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const logger = { info() {}, warn() {}, error() {} };

describe("shutdown grace", () => {
  it("closes a half-sent request's connection at the grace's end, and close() resolves", async () => {
    const config = loadConfig({ PORT: "0", HOST: "127.0.0.1", CERTGATE_DATA_DIR: dir });
    const certgate = await startCertgate(config, { logger, shutdownGraceMs: 300, recoveryIntervalMs: 0 });
    const { port } = new URL(certgate.url);
    const socket = connect(Number(port), "127.0.0.1");
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const socketClosed = new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now())));
    socket.on("error", () => {}); // a reset is what the client gets
    // 100 bytes announced, 3 sent: the request is in flight until the rest comes, which it never does.
    socket.write("POST /certifications HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n");
    socket.write('Content-Length: 100\r\n\r\n{"i');
    await new Promise((resolve) => setTimeout(resolve, 100));

    const started = Date.now();
    const outcome = await Promise.race([
      certgate.close().then(() => "closed"),
      new Promise((resolve) => setTimeout(() => resolve("still open after 10 s"), 10_000)),
    ]);
    expect(outcome).toBe("closed");
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250); // the grace was given
    expect(await socketClosed).toBeLessThan(started + 10_000);
  });

  it("refuses a grace that is not a whole number of ms, before it opens anything", async () => {
    const config = loadConfig({ PORT: "0", HOST: "127.0.0.1", CERTGATE_DATA_DIR: join(dir, "never") });
    await expect(startCertgate(config, { logger, shutdownGraceMs: 0.5 })).rejects.toMatchObject({
      variable: "startCertgate options.shutdownGraceMs",
    });
  });
});
