/**
 * A start that fails after the port is bound leaves nothing behind: startCertgate given a
 * configuration with neither PortOne client (a ConfigError from the service) rejects, and the port
 * it had bound is closed again and the database closed. (The background loops now start only after
 * the wiring, so no failure of it can leave one running; this trigger fails before they would
 * start in either order, so it does not show that part.)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/cli/config.js";
import { createLogger } from "../../src/cli/logger.js";
import { ConfigError } from "../../src/core/errors.js";
import { startCertgate } from "../../src/server.js";
import { createKeyring } from "../../src/store/crypto.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";

const dir = mkdtempSync(join(tmpdir(), "certgate-start-failure-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SECRET = "start-failure-test-secret-not-real-0000";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/healthz" }, (res) => {
      res.resume();
      resolve(false);
    });
    req.on("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
    req.end();
  });
}

describe("startCertgate failing after it listens", () => {
  it("rejects with the ConfigError and closes the port and the database", async () => {
    const port = await freePort();
    const databaseUrl = join(dir, "certgate.sqlite");
    const config = loadConfig({
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: databaseUrl,
      CERTGATE_SECRET: SECRET,
      CERTGATE_API_KEYS: "start_failure_api_key_0001",
      PORTONE_V2_API_SECRET: "v2-secret-for-a-start-that-fails",
      PORTONE_STORE_ID: "store-start-failure",
      PORTONE_V2_API_URL: "http://127.0.0.1:1",
    });
    // The configuration loader insists on a PortOne client; a library caller may not.
    const broken = { ...config, portone: { ...config.portone, v2ApiSecret: undefined } };
    const logger = createLogger(new Writable({ write: (_chunk, _enc, done) => done() }));
    await expect(startCertgate(broken, { logger })).rejects.toBeInstanceOf(ConfigError);
    expect(await refused(port)).toBe(true);
    // Closed, not held: the file opens again and migrates.
    const store = await openSqliteStore({
      filename: databaseUrl,
      keyring: createKeyring({ secret: SECRET }),
    });
    await store.ping();
    await store.close();
  });
});
