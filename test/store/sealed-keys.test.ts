/**
 * Store.unknownSealedKeyId, what `certgate` checks its keyring against when it opens a database
 * (startup-errors.ts): a key id under which some stored identity is sealed and that the caller does
 * not know, wherever in the table that row is (a rotation interrupted between its batches leaves
 * the first rows under the new key and later ones under the old), and nothing for a purged row,
 * which keeps its key id but holds nothing to decrypt. SQLite and PostgreSQL.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Store } from "../../src/core/store.js";
import { createKeyring, type Keyring } from "../../src/store/crypto.js";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { adminQuery, makeIdentity, makeVerification, NOW, POSTGRES_URL, uid, verified } from "./fixtures.js";

const NEW = createKeyring({ secret: "sealed-keys-new-secret-00000000000000" });
const OLD = createKeyring({ secret: "sealed-keys-old-secret-11111111111111" });

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Opens the same database under `keyring`, as each instance or restart would. */
type Open = (keyring: Keyring) => Promise<Store>;

function sqlite(): Open {
  const dir = mkdtempSync(join(tmpdir(), "certgate-sealed-keys-"));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return (keyring) => openSqliteStore({ filename: join(dir, "certgate.db"), keyring });
}

function postgres(): Open {
  const schema = `cg_sealed_${randomBytes(6).toString("hex")}`;
  let created: Promise<unknown> | undefined;
  cleanups.push(async () => {
    await adminQuery(`drop schema if exists ${schema} cascade`);
  });
  return async (keyring) => {
    created ??= adminQuery(`create schema ${schema}`);
    await created;
    return openPostgresStore({
      connectionString: POSTGRES_URL,
      keyring,
      options: `-c search_path=${schema}`,
      max: 2,
    });
  };
}

/** One verified verification, its identity sealed under `keyring`'s current key. */
async function sealOne(open: Open, keyring: Keyring): Promise<string> {
  const store = await open(keyring);
  try {
    const v = makeVerification();
    await store.createVerification(v);
    await store.completeVerification({
      verificationId: v.id,
      upstreamId: uid("imp"),
      decision: verified(makeIdentity()),
      now: NOW,
    });
    return v.id;
  } finally {
    await store.close();
  }
}

describe.each([
  ["sqlite", sqlite],
  ["postgres", postgres],
] as const)("unknownSealedKeyId: %s", (_, database) => {
  it("finds a row under an unknown key after rows under known ones, and none once it is purged", async () => {
    const open = database();
    // First rows under the new key, a later one under the old: what an interrupted rotation leaves.
    await sealOne(open, NEW);
    await sealOne(open, NEW);
    await sealOne(open, OLD);
    const store = await open(NEW);
    try {
      expect(await store.unknownSealedKeyId?.([NEW.currentKeyId])).toBe(OLD.currentKeyId);
      expect(await store.unknownSealedKeyId?.([NEW.currentKeyId, OLD.currentKeyId])).toBeUndefined();
      expect(await store.unknownSealedKeyId?.([])).toEqual(expect.stringMatching(/^[0-9a-f]{12}$/));
      // Purged: the row keeps its key id, but there is nothing left to decrypt under it.
      expect(await store.purgeIdentities({ completedBefore: new Date(NOW.getTime() + 1), now: NOW })).toBe(3);
      expect(await store.unknownSealedKeyId?.([NEW.currentKeyId])).toBeUndefined();
      expect(await store.unknownSealedKeyId?.([])).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
