/**
 * Migration 0007: only pending verifications are indexed by status, so a completion removes its
 * row from one small index instead of moving it inside three. On both databases the old indexes
 * are gone and the new ones are partial; on SQLite the expiry sweeper's and the recovery claim's
 * statements, exactly as the store runs them, are planned on those indexes, not on a scan of every
 * verification ever made.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { resolvePolicy } from "../../src/core/policy.js";
import { createKeyring } from "../../src/store/crypto.js";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";

const POSTGRES_URL = process.env.CERTGATE_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const keyring = createKeyring({ secret: "pending-indexes-secret-000000000000000" });
const NOW = new Date("2026-03-01T03:00:00Z");
const PENDING = "verifications_pending_expires_at";
const PENDING_V2 = "verifications_pending_v2_expires_at";
const REMOVED = [
  "verifications_status_completed_at",
  "verifications_status_expires_at",
  "verifications_recovery_due",
];

const dir = mkdtempSync(join(tmpdir(), "certgate-pending-indexes-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("pending-only indexes (migration 0007)", () => {
  it("SQLite: the old status indexes are gone and the new ones are partial", async () => {
    const file = join(dir, "schema.db");
    await (await openSqliteStore({ filename: file, keyring })).close();
    const db = new Database(file, { readonly: true });
    const indexes = db.pragma("index_list(verifications)") as { name: string; partial: number }[];
    db.close();
    const names = indexes.map((i) => i.name);
    for (const name of REMOVED) expect(names).not.toContain(name);
    for (const name of [PENDING, PENDING_V2]) {
      expect(indexes.find((i) => i.name === name)).toMatchObject({ partial: 1 });
    }
  });

  it("SQLite: the sweeper and the recovery claim, as the store runs them, use the partial indexes", async () => {
    const file = join(dir, "plans.db");
    const statements: string[] = [];
    const database = new Database(file, { verbose: (sql) => statements.push(String(sql)) });
    const store = await openSqliteStore({ database, keyring });
    try {
      await store.createVerification({
        id: "ver_pending_index",
        apiVersion: "v2",
        boundId: "idv_pending_index",
        policy: resolvePolicy({}, { creatingAccount: false }),
        createdAt: NOW,
        expiresAt: new Date(NOW.getTime() + 900_000),
      });
      statements.length = 0;
      await store.listExpiredVerifications({ now: NOW, limit: 10 });
      const sweep = statements.find((s) => /^select/i.test(s) && /expires_at/.test(s));
      statements.length = 0;
      await store.claimRecoveryChecks({
        now: NOW,
        limit: 10,
        leaseUntil: new Date(NOW.getTime() + 60_000),
        createdBefore: NOW,
      });
      const claim = statements.find((s) => /^update/i.test(s) && /next_check_at/.test(s));
      expect(sweep).toBeDefined();
      expect(claim).toBeDefined();
      const plan = (sql: string) =>
        (database.prepare(`explain query plan ${sql}`).all() as { detail: string }[])
          .map((row) => row.detail)
          .join("\n");
      // Read through the pending rows' indexes; never a scan of every verification ever made.
      expect(plan(sweep ?? "")).toContain(`USING INDEX ${PENDING} `);
      expect(plan(claim ?? "")).toContain(`USING INDEX ${PENDING_V2} `);
      for (const sql of [sweep ?? "", claim ?? ""]) expect(plan(sql)).not.toMatch(/SCAN verifications/);
    } finally {
      await store.close();
    }
  });

  it("PostgreSQL: the old status indexes are gone and the new ones are partial", async () => {
    const schema = `cg_pending_${randomBytes(6).toString("hex")}`;
    const admin = new pg.Client(POSTGRES_URL);
    await admin.connect();
    try {
      await admin.query(`create schema ${schema}`);
      const store = await openPostgresStore({
        connectionString: POSTGRES_URL,
        keyring,
        options: `-c search_path=${schema}`,
      });
      await store.close();
      const { rows } = await admin.query<{ indexname: string; indexdef: string }>(
        "select indexname, indexdef from pg_indexes where schemaname = $1 and tablename = 'verifications'",
        [schema],
      );
      const names = rows.map((r) => r.indexname);
      for (const name of REMOVED) expect(names).not.toContain(name);
      expect(rows.find((r) => r.indexname === PENDING)?.indexdef).toMatch(/ WHERE .*status.* = 'pending'/);
      expect(rows.find((r) => r.indexname === PENDING_V2)?.indexdef).toMatch(
        / WHERE .*status.* = 'pending'.* AND .*api_version.* = 'v2'/,
      );
    } finally {
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    }
  });
});
