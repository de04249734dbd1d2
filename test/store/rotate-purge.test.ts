/**
 * Key rotation and the purge at the same time, on SQLite and PostgreSQL. The rotation used to read
 * a batch outside its transaction and write the re-sealed fields back by id: a purge that committed
 * in between (`certgate purge`, or serve's purge on any instance) had its emptied fields written
 * back, under the new key, with `purged_at` set — personal data kept for good that no later purge
 * would look at again (it takes rows whose `purged_at` is empty). Now the rotation writes a row only
 * while its sealed fields are still the ones it read.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import type { Store } from "../../src/core/store.js";
import { createKeyring, type Keyring } from "../../src/store/crypto.js";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { adminQuery, makeIdentity, makeVerification, NOW, POSTGRES_URL, uid, verified } from "./fixtures.js";

const OLD = "rotate-purge-old-secret-0000000000000000";
const NEW = "rotate-purge-new-secret-1111111111111111";
const ROWS = 1_200;
const KEPT = 50;

/** Rows purged that still hold a sealed field. */
const RESURRECTED =
  "select count(*) as n from verifications where purged_at is not null and (name_enc is not null or birth_date_enc is not null or phone_enc is not null)";

interface Backend {
  open(keyring: Keyring): Promise<Store>;
  count(sql: string): Promise<number>;
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function sqlite(): Backend {
  const dir = mkdtempSync(join(tmpdir(), "certgate-rotate-purge-"));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const filename = join(dir, "certgate.db");
  return {
    open: (keyring) => openSqliteStore({ filename, keyring }),
    async count(sql) {
      const db = new Database(filename, { readonly: true });
      try {
        return Number((db.prepare(sql).get() as { n: number }).n);
      } finally {
        db.close();
      }
    },
  };
}

function postgres(): Backend {
  const schema = `cg_rotate_purge_${randomBytes(6).toString("hex")}`;
  let created: Promise<void> | undefined;
  cleanups.push(() => adminQuery(`drop schema if exists ${schema} cascade`));
  return {
    async open(keyring) {
      created ??= adminQuery(`create schema ${schema}`);
      await created;
      return openPostgresStore({
        connectionString: POSTGRES_URL,
        keyring,
        options: `-c search_path=${schema}`,
        max: 4,
      });
    },
    async count(sql) {
      const client = new pg.Client({ connectionString: POSTGRES_URL, options: `-c search_path=${schema}` });
      await client.connect();
      try {
        return Number((await client.query<{ n: string }>(sql)).rows[0]?.n);
      } finally {
        await client.end();
      }
    },
  };
}

describe.each([
  ["sqlite", sqlite],
  ["postgres", postgres],
] as const)("key rotation during a purge: %s", (_, make) => {
  it("writes back no field the purge emptied", { timeout: 120_000 }, async () => {
    const backend = make();
    const old = await backend.open(createKeyring({ secret: OLD }));
    // ROWS completed at NOW, due for the purge; KEPT completed an hour later, which it leaves.
    const kept: string[] = [];
    try {
      for (let i = 0; i < ROWS + KEPT; i++) {
        const v = await old.createVerification(makeVerification({ accountRef: uid("acct") }));
        await old.completeVerification({
          verificationId: v.id,
          upstreamId: uid("imp"),
          decision: verified(makeIdentity()),
          now: i < ROWS ? NOW : new Date(NOW.getTime() + 3_600_000),
        });
        if (i >= ROWS) kept.push(v.id);
      }
    } finally {
      await old.close();
    }
    const keyring = createKeyring({ secret: NEW, previousSecrets: [OLD] });
    // One store: its connections (PostgreSQL's pool of 4; SQLite's one, whose transactions take
    // turns) run both, as serve's purge and a request would.
    const rotating = await backend.open(keyring);
    const purging = rotating;
    try {
      // Both at once: the purge commits between the rotation's reads and its writes.
      const [first, purged] = await Promise.all([
        rotating.rotateKeys(),
        purging.purgeIdentities({ completedBefore: new Date(NOW.getTime() + 1), now: NOW }),
      ]);
      expect(purged).toBe(ROWS);
      expect(await backend.count(RESURRECTED)).toBe(0);
      // And the rotation still finishes: nothing is left under the old key, and no row was
      // counted twice (one skipped as changed is read and counted by a later batch).
      const second = await rotating.rotateKeys();
      expect(first.reencrypted + second.reencrypted).toBe(ROWS + KEPT);
      const oldKeyId = createKeyring({ secret: OLD }).currentKeyId;
      expect(
        await backend.count(`select count(*) as n from verifications where enc_key_id = '${oldKeyId}'`),
      ).toBe(0);
    } finally {
      await rotating.close();
    }
    // The rows the purge left are readable under the new secret alone.
    const newOnly = await backend.open(createKeyring({ secret: NEW }));
    try {
      for (const id of kept) expect((await newOnly.getVerification(id))?.identity?.name).toBe("김테스트");
    } finally {
      await newOnly.close();
    }
  });
});
