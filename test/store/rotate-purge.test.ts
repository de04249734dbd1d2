/**
 * Key rotation and the purge at the same time, on SQLite and PostgreSQL. The rotation used to read
 * a batch outside its transaction and write the re-sealed fields back by id: a purge that committed
 * in between (`certgate purge`, or serve's purge on any instance) had its emptied fields written
 * back, under the new key, with `purged_at` set — personal data kept for good that no later purge
 * would look at again (it takes rows whose `purged_at` is empty). Now the rotation writes a row only
 * while its sealed fields are still the ones it read.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createKeyring } from "../../src/store/crypto.js";
import { completedVerification, NOW } from "./fixtures.js";
import { type Cleanups, reopenablePostgres, reopenableSqlite } from "./reopenable.js";

const OLD = "rotate-purge-old-secret-0000000000000000";
const NEW = "rotate-purge-new-secret-1111111111111111";
const ROWS = 1_200;
const KEPT = 50;

/** Rows purged that still hold a sealed field. */
const RESURRECTED =
  "select count(*) as n from verifications where purged_at is not null and (name_enc is not null or birth_date_enc is not null or phone_enc is not null)";

const cleanups: Cleanups = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe.each([
  ["sqlite", () => reopenableSqlite("rotate-purge", cleanups)],
  ["postgres", () => reopenablePostgres("rotate_purge", cleanups, 4)],
] as const)("key rotation during a purge: %s", (_, make) => {
  it("writes back no field the purge emptied", { timeout: 120_000 }, async () => {
    const open = make();
    const old = await open(createKeyring({ secret: OLD }));
    // ROWS completed at NOW, due for the purge; KEPT completed an hour later, which it leaves.
    const kept: string[] = [];
    try {
      for (let i = 0; i < ROWS; i++) await completedVerification(old);
      for (let i = 0; i < KEPT; i++)
        kept.push(await completedVerification(old, new Date(NOW.getTime() + 3_600_000)));
    } finally {
      await old.close();
    }
    const keyring = createKeyring({ secret: NEW, previousSecrets: [OLD] });
    // One store: its connections (PostgreSQL's pool of 4; SQLite's one, whose transactions take
    // turns) run both, as serve's purge and a request would.
    const rotating = await open(keyring);
    const purging = rotating;
    try {
      // Both at once: the purge commits between the rotation's reads and its writes.
      const [first, purged] = await Promise.all([
        rotating.rotateKeys(),
        purging.purgeIdentities({ completedBefore: new Date(NOW.getTime() + 1), now: NOW }),
      ]);
      expect(purged).toBe(ROWS);
      expect(await open.count(RESURRECTED)).toBe(0);
      // And the rotation still finishes: nothing is left under the old key, and no row was
      // counted twice (one skipped as changed is read and counted by a later batch).
      const second = await rotating.rotateKeys();
      expect(first.reencrypted + second.reencrypted).toBe(ROWS + KEPT);
      const oldKeyId = createKeyring({ secret: OLD }).currentKeyId;
      expect(
        await open.count(`select count(*) as n from verifications where enc_key_id = '${oldKeyId}'`),
      ).toBe(0);
    } finally {
      await rotating.close();
    }
    // The rows the purge left are readable under the new secret alone.
    const newOnly = await open(createKeyring({ secret: NEW }));
    try {
      for (const id of kept) expect((await newOnly.getVerification(id))?.identity?.name).toBe("김테스트");
    } finally {
      await newOnly.close();
    }
  });
});
