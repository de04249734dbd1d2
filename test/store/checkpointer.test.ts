/**
 * WAL checkpoints off the event loop (store/sqlite/checkpointer.ts), on a real SQLite file: the
 * database file takes the committed pages while the store's own connection, whose automatic
 * checkpoint is 10,000 pages away, has not checkpointed; closing stops the worker.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolvePolicy } from "../../src/core/policy.js";
import { createKeyring } from "../../src/store/crypto.js";
import {
  CHECKPOINT_INTERVAL_MS,
  FALLBACK_AUTOCHECKPOINT_PAGES,
} from "../../src/store/sqlite/checkpointer.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";

const dir = mkdtempSync(join(tmpdir(), "certgate-checkpoint-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const NOW = new Date("2026-03-01T03:00:00Z");

describe("WAL checkpoints", () => {
  it("are made by the worker, not by the commits: the database file grows while the WAL is far below the backstop", async () => {
    const filename = join(dir, "certgate.db");
    const store = await openSqliteStore({ filename, keyring: createKeyring({ secret: "c".repeat(40) }) });
    try {
      // Let the worker checkpoint what the migrations wrote, then measure from there.
      await new Promise((resolve) => setTimeout(resolve, 3 * CHECKPOINT_INTERVAL_MS));
      const before = statSync(filename).size;
      for (let i = 0; i < 100; i++) {
        await store.createVerification({
          id: `ver_checkpoint_${i}`,
          apiVersion: "v1",
          boundId: `mid_checkpoint_${i}`,
          policy: resolvePolicy({}, { creatingAccount: false }),
          createdAt: NOW,
          expiresAt: new Date(NOW.getTime() + 900_000),
        });
      }
      // Below SQLite's default automatic checkpoint (1,000 pages) as well as the backstop: had the
      // store's connection checkpointed, it would not have been for the size of its WAL.
      const walPages = statSync(`${filename}-wal`).size / 4096;
      expect(walPages).toBeLessThan(1_000);
      expect(walPages).toBeLessThan(FALLBACK_AUTOCHECKPOINT_PAGES);
      const deadline = Date.now() + 5_000;
      while (statSync(filename).size <= before && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(statSync(filename).size).toBeGreaterThan(before);
      expect(await store.getVerification("ver_checkpoint_99")).toMatchObject({ status: "pending" });
    } finally {
      await store.close();
    }
    // Closed with its worker: the file opens again with everything in it.
    const again = await openSqliteStore({ filename, keyring: createKeyring({ secret: "c".repeat(40) }) });
    try {
      expect(await again.getVerification("ver_checkpoint_0")).toMatchObject({ status: "pending" });
    } finally {
      await again.close();
    }
  });
});
