/**
 * Retention destroys a backlog in batches (store/retention.ts PURGE_BATCH): one more verification
 * than a batch holds is purged whole by one call, in two transactions, each with its audit event and
 * the webhook events of its verifications; nothing is purged twice. On SQLite and on the real
 * PostgreSQL of 127.0.0.1:5432 (a fresh schema).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../../src/core/store.js";
import { createKeyring } from "../../src/store/crypto.js";
import { openStore } from "../../src/store/index.js";
import { PURGE_BATCH } from "../../src/store/retention.js";
import { makeIdentity, makeVerification, NOW, uid, verified } from "./fixtures.js";

const PG_URL = process.env.CERTGATE_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const keyring = createKeyring({ secret: "purge-batches-test-secret-not-a-real-one-0" });

describe.each(["sqlite", "postgres"] as const)("a retention backlog on %s", (kind) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    if (kind === "sqlite") {
      const dir = mkdtempSync(join(tmpdir(), "certgate-purge-"));
      store = await openStore({ databaseUrl: join(dir, "certgate.db"), keyring });
      cleanup = async () => rmSync(dir, { recursive: true, force: true });
    } else {
      const schema = `cg_purge_${randomBytes(6).toString("hex")}`;
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`create schema ${schema}`);
      const url = `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
      store = await openStore({ databaseUrl: url, keyring });
      cleanup = async () => {
        await admin.query(`drop schema if exists ${schema} cascade`);
        await admin.end();
      };
    }
  });
  afterAll(async () => {
    await store?.close();
    await cleanup?.();
  });

  it(`purges ${PURGE_BATCH + 1} verifications in one call, in batches, each with its events`, async () => {
    const ids: string[] = [];
    for (let i = 0; i < PURGE_BATCH + 1; i++) {
      const verification = await store.createVerification(makeVerification());
      await store.completeVerification({
        verificationId: verification.id,
        upstreamId: uid("imp"),
        decision: verified(makeIdentity()),
        now: NOW,
      });
      ids.push(verification.id);
    }
    const far = new Date(NOW.getTime() + 86_400_000 * 365);
    // The completions' own events out of the way: what is left to claim is the purge's.
    for (const event of await store.claimWebhookEvents({ now: far, limit: 100_000, leaseUntil: far }))
      await store.markWebhookDelivered(event.id, far);

    const purgedAt = new Date(NOW.getTime() + 86_400_000);
    const count = await store.purgeIdentities({
      completedBefore: new Date(NOW.getTime() + 1),
      now: purgedAt,
      emitEvents: true,
    });
    expect(count).toBe(PURGE_BATCH + 1);
    for (const id of [ids[0], ids[PURGE_BATCH]]) {
      const purged = await store.getVerification(id ?? "");
      expect(purged?.purgedAt).toEqual(purgedAt);
      expect(purged?.identity?.name).toBeUndefined();
    }
    const audits = (await store.listAuditEvents()).filter((e) => e.type === "identities.purged");
    expect(audits.map((e) => e.data.count).sort()).toEqual([1, PURGE_BATCH].sort());
    const events = await store.claimWebhookEvents({ now: far, limit: 100_000, leaseUntil: far });
    expect(events.filter((e) => e.type === "identity.purged")).toHaveLength(PURGE_BATCH + 1);
    expect(new Set(events.map((e) => e.verificationId)).size).toBe(PURGE_BATCH + 1);
    // Nothing is left, and a second call purges nothing.
    expect(await store.purgeIdentities({ completedBefore: new Date(NOW.getTime() + 1), now: far })).toBe(0);
  }, 120_000);
});
