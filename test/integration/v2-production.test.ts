/**
 * Production mode with only PortOne V2 credentials: the server wires the V2 client from
 * PORTONE_V2_API_SECRET / PORTONE_STORE_ID / PORTONE_V2_API_URL (here an emulator over a socket),
 * V2 is the default API version, and V1 is refused rather than half-configured.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { loadConfig } from "../../src/cli/config.js";
import { createLogger } from "../../src/cli/logger.js";
import {
  createEmulator,
  type ServedEmulator,
  serveEmulator,
  TEST_MERCHANT,
} from "../../src/emulator/index.js";
import { type Certgate, startCertgate } from "../../src/server.js";

const API_KEY = "v2_only_merchant_key_0001";

describe("production mode with V2 credentials only", () => {
  let dir: string;
  let upstream: ServedEmulator;
  let certgate: Certgate;
  const emulator = createEmulator({ admin: true });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "certgate-v2-only-"));
    upstream = await serveEmulator(emulator, { port: 0 });
    const config = loadConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      DATABASE_URL: join(dir, "certgate.sqlite"),
      CERTGATE_SECRET: "v2-only-test-secret-not-a-real-one-0000",
      CERTGATE_API_KEYS: API_KEY,
      PORTONE_V2_API_SECRET: TEST_MERCHANT.v2ApiSecret,
      PORTONE_STORE_ID: TEST_MERCHANT.storeId,
      PORTONE_V2_API_URL: upstream.url,
      PORTONE_CHANNEL_KEY: "channel-key-production-test",
    });
    expect(config.mode).toBe("production");
    const logger = createLogger(new Writable({ write: (_chunk, _enc, done) => done() }));
    certgate = await startCertgate(config, { logger });
  });
  afterAll(async () => {
    await certgate?.close();
    await upstream?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const create = (body: Record<string, unknown>) =>
    fetch(`${certgate.url}/api/verifications`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  it("creates V2 verifications by default and completes them through the configured V2 API", async () => {
    const res = await create({ account_ref: "v2-only-1" });
    expect(res.status).toBe(201);
    const created = z
      .object({
        id: z.string(),
        identity_verification_id: z.string(),
        sdk: z.object({
          identity_verification: z.object({ storeId: z.string(), channelKey: z.string() }),
        }),
      })
      .parse(await res.json());
    expect(created.sdk.identity_verification).toMatchObject({
      storeId: TEST_MERCHANT.storeId,
      channelKey: "channel-key-production-test",
    });
    emulator.createIdentityVerification({
      identityVerificationId: created.identity_verification_id,
      persona: "adult",
    });
    const done = await fetch(`${certgate.url}/identity-verifications`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ identityVerificationId: created.identity_verification_id }),
    });
    expect(done.status).toBe(200);
  });

  it("refuses a V1 verification when V1 is not configured", async () => {
    const res = await create({ api_version: "v1" });
    expect(res.status).toBe(400);
    expect(z.object({ error: z.object({ code: z.string() }) }).parse(await res.json()).error.code).toBe(
      "invalid_request",
    );
  });
});
