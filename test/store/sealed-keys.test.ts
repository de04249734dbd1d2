/**
 * Store.unknownSealedKeyId, what `certgate` checks its keyring against when it opens a database
 * (startup-errors.ts): a key id under which some stored identity is sealed and that the caller does
 * not know, wherever in the table that row is (a rotation interrupted between its batches leaves
 * the first rows under the new key and later ones under the old), and nothing for a purged row,
 * which keeps its key id but holds nothing to decrypt. SQLite and PostgreSQL.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createKeyring, type Keyring } from "../../src/store/crypto.js";
import { completedVerification, NOW } from "./fixtures.js";
import { type Cleanups, type Reopen, reopenablePostgres, reopenableSqlite } from "./reopenable.js";

const NEW = createKeyring({ secret: "sealed-keys-new-secret-00000000000000" });
const OLD = createKeyring({ secret: "sealed-keys-old-secret-11111111111111" });

const cleanups: Cleanups = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const sqlite = () => reopenableSqlite("sealed", cleanups);
const postgres = () => reopenablePostgres("sealed", cleanups, 2);

/** One verified verification, its identity sealed under `keyring`'s current key. */
async function sealOne(open: Reopen, keyring: Keyring): Promise<string> {
  const store = await open(keyring);
  try {
    return await completedVerification(store);
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
