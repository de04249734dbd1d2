/**
 * A lock another session holds bounds a request's wait (store/postgres/index.ts LOCK_TIMEOUT_MS):
 * past it the store answers `StoreError` `busy` (a 503 `store_busy` with Retry-After over HTTP),
 * where the request used to wait for as long as that session lived. Nothing is half-written, and the
 * same completion succeeds once the lock is gone. On the real PostgreSQL of 127.0.0.1:5432, in a
 * fresh schema; the migrations, on their own connection, are not bounded by it.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreError } from "../../src/core/errors.js";
import type { Store } from "../../src/core/store.js";
import { createKeyring } from "../../src/store/crypto.js";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import { makeIdentity, makeVerification, NOW, uid, verified } from "./fixtures.js";

const URL = process.env.CERTGATE_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = `cg_lock_${randomBytes(6).toString("hex")}`;
const LOCK_TIMEOUT_MS = 300;
const keyring = createKeyring({ secret: "lock-timeout-test-secret-not-a-real-one-0000" });

describe("a PostgreSQL lock held by another session", () => {
  const admin = new pg.Client({ connectionString: URL });
  let store: Store;
  const open = () =>
    openPostgresStore({
      connectionString: URL,
      options: `-c search_path=${schema}`,
      keyring,
      lockTimeoutMs: LOCK_TIMEOUT_MS,
    });

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    store = await open();
  });
  afterAll(async () => {
    await store?.close();
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
  });

  /** Runs `work` while another session holds `sql`'s locks in an open transaction. */
  async function whileLocked<T>(sql: string, values: unknown[], work: () => Promise<T>): Promise<T> {
    const holder = new pg.Client({ connectionString: URL, options: `-c search_path=${schema}` });
    await holder.connect();
    try {
      await holder.query("begin");
      await holder.query(sql, values);
      return await work();
    } finally {
      await holder.query("rollback");
      await holder.end();
    }
  }

  it("a completion waiting on the verification's row lock is answered busy, then completes once it is free", async () => {
    const verification = await store.createVerification(makeVerification());
    const input = {
      verificationId: verification.id,
      upstreamId: uid("imp"),
      decision: verified(makeIdentity()),
      now: NOW,
    };
    const started = Date.now();
    const error = await whileLocked(
      "select id from verifications where id = $1 for update",
      [verification.id],
      () =>
        store.completeVerification(input).then(
          () => undefined,
          (e: unknown) => e,
        ),
    );
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: "busy" });
    // Bounded by the lock timeout (plus a round trip or two), not by the holder's transaction.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await store.getVerification(verification.id))?.status).toBe("pending");
    const result = await store.completeVerification(input);
    expect(result.kind).toBe("finished");
    expect((await store.getVerification(verification.id))?.status).toBe("verified");
  });

  it("a second store opens (and migrates) while another instance holds the migration lock longer than the timeout", async () => {
    // Kysely's PostgreSQL migrator takes this advisory lock; a first instance migrating holds it.
    const MIGRATION_LOCK_ID = "3853314791062309107";
    const holder = new pg.Client({ connectionString: URL });
    await holder.connect();
    await holder.query(`select pg_advisory_lock(${MIGRATION_LOCK_ID})`);
    let settled = false;
    const opening = open().finally(() => {
      settled = true;
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, LOCK_TIMEOUT_MS * 3));
      expect(settled).toBe(false); // still waiting, not refused after the 300 ms lock timeout
    } finally {
      await holder.query(`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`);
      await holder.end();
    }
    const second = await opening;
    await second.close();
  });
});
