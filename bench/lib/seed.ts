/**
 * Seeds certgate's SQLite database with N persons, each holding an account, for the scale runs.
 *
 * The schema is certgate's own: `certgate migrate` creates it first, then rows go straight into
 * `persons` and `accounts` (src/store/schema.ts, src/store/migrations.ts) through prepared
 * statements, one transaction per 100,000 persons. `accounts.person_id` is the only foreign key
 * among them (`accounts.verification_id` is not one), so nothing else needs rows. Key hashes are
 * random 32-byte base64url strings under the current key id of the benchmark's secret, so they look
 * to certgate like persons hashed with its key (no rotation path runs) and never match a new person.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { createKeyring } from "../../src/store/crypto.js";
import { newPersonId } from "../../src/store/kysely-store.js";
import { BENCH_SECRET, certgateCommand, certgateEnv } from "./servers.js";

const BATCH = 100_000;

export interface SeedResult {
  persons: number;
  seconds: number;
  /** Database file size after seeding (without the WAL), bytes. */
  bytes: number;
}

/** Creates `databaseFile` with certgate's migrations and `persons` persons with accounts. */
export async function seedPersons(dir: string, databaseFile: string, persons: number): Promise<SeedResult> {
  const started = performance.now();
  await promisify(execFile)(process.execPath, certgateCommand("migrate"), {
    cwd: dir,
    // migrate opens only the database; the PortOne URL is never called.
    env: certgateEnv(dir, "http://127.0.0.1:9", databaseFile),
  });

  const keyId = createKeyring({ secret: BENCH_SECRET }).currentKeyId;
  const db = new Database(databaseFile);
  try {
    // Bulk load: no fsync per transaction, a page cache big enough for the growing indexes.
    db.pragma("synchronous = OFF");
    db.pragma("cache_size = -262144"); // 256 MiB
    const insertPerson = db.prepare(
      "INSERT INTO persons (id, key_kind, key_scope, key_hash, key_id, created_at) VALUES (?, 'ci', '', ?, ?, ?)",
    );
    const insertAccount = db.prepare(
      "INSERT INTO accounts (account_ref, person_id, verification_id, created_at) VALUES (?, ?, ?, ?)",
    );
    const insertBatch = db.transaction((from: number, to: number) => {
      const count = to - from;
      // One random buffer per batch: 32 bytes key hash, 18 bytes verification id.
      const random = randomBytes(count * 50);
      const now = Date.now();
      for (let i = 0; i < count; i++) {
        const at = i * 50;
        // Ids as certgate makes them, one millisecond apart, as if made over the past minutes.
        const personId = newPersonId(now - persons + from + i);
        insertPerson.run(personId, random.toString("base64url", at, at + 32), keyId, now);
        insertAccount.run(
          `seed-${from + i}`,
          personId,
          `ver_${random.toString("base64url", at + 32, at + 50)}`,
          now,
        );
      }
    });
    for (let from = 0; from < persons; from += BATCH) insertBatch(from, Math.min(persons, from + BATCH));
    db.pragma("wal_checkpoint(TRUNCATE)");
    const pages = Number(db.pragma("page_count", { simple: true }));
    const pageSize = Number(db.pragma("page_size", { simple: true }));
    return { persons, seconds: (performance.now() - started) / 1000, bytes: pages * pageSize };
  } finally {
    db.close();
  }
}
