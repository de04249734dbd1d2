/**
 * Store.unknownSealedKeyId, what `certgate` checks its keyring against when it opens a database
 * (startup-errors.ts): a key id under which some stored identity is sealed and that the caller does
 * not know, wherever in the table that row is (a rotation interrupted between its batches leaves
 * the first rows under the new key and later ones under the old), and nothing for a purged row,
 * which keeps its key id but holds nothing to decrypt; a person hashed under such a key counts
 * (purged or not) until Store.forgetPersonHashes lets it go. SQLite and PostgreSQL.
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
  it("finds a row under an unknown key after rows under known ones, and its person once it is purged", async () => {
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
      // Purged: the row keeps its key id, but there is nothing left to decrypt under it. Its
      // person's hash still needs the old key (it recognises a returning person): still unknown.
      expect(await store.purgeIdentities({ completedBefore: new Date(NOW.getTime() + 1), now: NOW })).toBe(3);
      expect(await store.unknownSealedKeyId?.([NEW.currentKeyId])).toBe(OLD.currentKeyId);
      expect(await store.unknownSealedKeyId?.([NEW.currentKeyId, OLD.currentKeyId])).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it("counts a person under an unknown key when no sealed field is left, until it is forgotten", async () => {
    const open = database();
    await sealOne(open, NEW);
    await sealOne(open, OLD);
    const store = await open(NEW);
    try {
      // Every identity purged: only the persons' hashes say which secrets the data was made with.
      expect(await store.purgeIdentities({ completedBefore: new Date(NOW.getTime() + 1), now: NOW })).toBe(2);
      expect(await store.unknownSealedKeyId?.([NEW.currentKeyId])).toBe(OLD.currentKeyId);
      expect((await store.rotateKeys()).remainingPersonHashes).toBe(1);
      // Forgotten on purpose: no longer counted, neither as unknown nor as left to rotate, and
      // only the person under the forgotten key was touched.
      expect(await store.forgetPersonHashes?.([NEW.currentKeyId])).toBe(1);
      expect(await store.forgetPersonHashes?.([NEW.currentKeyId])).toBe(0);
      expect(await store.unknownSealedKeyId?.([NEW.currentKeyId])).toBeUndefined();
      expect((await store.rotateKeys()).remainingPersonHashes).toBe(0);
      expect(await store.unknownSealedKeyId?.([OLD.currentKeyId])).toBe(NEW.currentKeyId);
    } finally {
      await store.close();
    }
  });
});
