/** `serve` purges personal fields past the retention period by itself; derived facts stay. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/cli/config.js";
import { createLogger } from "../../src/cli/logger.js";
import { resolvePolicy } from "../../src/core/policy.js";
import { startCertgate } from "../../src/server.js";
import { createKeyring } from "../../src/store/crypto.js";
import { openStore } from "../../src/store/index.js";

const SECRET = "retention-test-secret-not-a-real-one-00";
const DAY = 86_400_000;

describe("retention in serve", () => {
  const dir = mkdtempSync(join(tmpdir(), "certgate-retention-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function seed(id: string, completedDaysAgo: number) {
    const store = await openStore({
      databaseUrl: join(dir, "certgate.sqlite"),
      keyring: createKeyring({ secret: SECRET }),
    });
    const at = new Date(Date.now() - completedDaysAgo * DAY);
    await store.createVerification({
      id,
      apiVersion: "v1",
      boundId: `mid_${id}`,
      policy: resolvePolicy({}, { creatingAccount: false }),
      createdAt: at,
      expiresAt: new Date(at.getTime() + 60_000),
    });
    await store.completeVerification({
      verificationId: id,
      upstreamId: `imp_${id}`,
      decision: {
        ok: true,
        identity: { name: "김테스트", phone: "01000000001", provider: "danal", source: "v1" },
        personKey: undefined,
      },
      now: at,
    });
    await store.close();
  }

  it("purges identities older than CERTGATE_RETENTION_DAYS at startup and keeps the outcome", async () => {
    await seed("ver_old", 31);
    await seed("ver_recent", 1);
    const config = loadConfig({
      PORT: "0",
      CERTGATE_DATA_DIR: dir,
      CERTGATE_SECRET: SECRET,
      CERTGATE_RETENTION_DAYS: "30",
    });
    const logger = createLogger(new Writable({ write: (_c, _e, done) => done() }));
    const certgate = await startCertgate(config, { logger });
    try {
      await expect
        .poll(async () => (await certgate.store.getVerification("ver_old"))?.purgedAt, { timeout: 5_000 })
        .toBeInstanceOf(Date);
      const old = await certgate.store.getVerification("ver_old");
      expect(old).toMatchObject({ status: "verified" });
      expect(old?.identity?.name).toBeUndefined();
      expect((await certgate.store.getVerification("ver_recent"))?.identity?.name).toBe("김테스트");
    } finally {
      await certgate.close();
    }
  });
});
