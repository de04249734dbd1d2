/**
 * The contract every store meets, run against SQLite (a temp file) and PostgreSQL (a fresh schema of
 * the test database). No mocks: each backend is the real database.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DuplicateIdError } from "../../src/core/errors.js";
import type { PersonKey, VerifiedIdentity } from "../../src/core/identity.js";
import { resolvePolicy } from "../../src/core/policy.js";
import type { OutboxEvent, Store } from "../../src/core/store.js";
import type { CompletionDecision, NewVerification } from "../../src/core/verification.js";
import { createKeyring, type Keyring } from "../../src/store/crypto.js";
import type { DialectName } from "../../src/store/dialect.js";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";

const POSTGRES_URL = process.env.CERTGATE_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const SECRET = "store-contract-secret-0000000000000000";
const OLD_SECRET = "store-contract-old-secret-000000000000";
const NOW = new Date("2026-03-01T03:00:00Z");

interface PersonRow {
  id: string;
  key_id: string;
}

/** A database under test: opens stores on it and lets the test look at what was persisted. */
interface Backend {
  open(keyring: Keyring): Promise<Store>;
  /** Everything the backend persisted, as bytes (files) or row text. */
  persisted(): Promise<Buffer[]>;
  person(id: string): Promise<PersonRow | undefined>;
  dispose(): Promise<void>;
}

/**
 * SQLite on a temp file. `offloaded`: with its worker thread, every write handed to it
 * (store/sqlite/offload.ts: `busy` always true), so the whole contract holds there too.
 */
function sqliteBackend(offloaded = false): Backend {
  const dir = mkdtempSync(join(tmpdir(), "certgate-store-"));
  // A nested path: opening creates the parent directory.
  const filename = join(dir, "nested", "certgate.db");
  const raw = <T>(read: (db: BetterSqlite3.Database) => T): T => {
    const db = new BetterSqlite3(filename, { readonly: true });
    try {
      return read(db);
    } finally {
      db.close();
    }
  };
  return {
    open: (keyring) =>
      openSqliteStore({ filename, keyring, ...(offloaded ? { offload: { busy: () => true } } : {}) }),
    async persisted() {
      return [filename, `${filename}-wal`]
        .filter((file) => existsSync(file))
        .map((file) => readFileSync(file));
    },
    async person(id) {
      return raw((db) => {
        const row: unknown = db.prepare("select id, key_id from persons where id = ?").get(id);
        return row === undefined ? undefined : personRow(row);
      });
    },
    async dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresBackend(): Backend {
  const schema = `cg_test_${randomBytes(6).toString("hex")}`;
  const options = `-c search_path=${schema}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  let connected: Promise<void> | undefined;
  const query = async (text: string, values: unknown[] = []) => {
    connected ??= admin
      .connect()
      .then(() => admin.query(`create schema if not exists ${schema}`).then(() => {}));
    await connected;
    return admin.query(text, values);
  };
  return {
    async open(keyring) {
      await query("select 1");
      return openPostgresStore({ connectionString: POSTGRES_URL, keyring, options, max: 10 });
    },
    async persisted() {
      const tables = await query("select table_name from information_schema.tables where table_schema = $1", [
        schema,
      ]);
      const texts: Buffer[] = [];
      for (const { table_name } of tables.rows) {
        const rows = await query(`select t::text as row from ${schema}."${String(table_name)}" t`);
        for (const { row } of rows.rows) texts.push(Buffer.from(String(row)));
      }
      return texts;
    },
    async person(id) {
      const result = await query(`select id, key_id from ${schema}.persons where id = $1`, [id]);
      const row: unknown = result.rows[0];
      return row === undefined ? undefined : personRow(row);
    },
    async dispose() {
      await query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    },
  };
}

function personRow(row: unknown): PersonRow {
  if (typeof row === "object" && row !== null && "id" in row && "key_id" in row) {
    return { id: String(row.id), key_id: String(row.key_id) };
  }
  throw new Error("unexpected persons row");
}

/* ---------- fixture builders ---------- */

function uid(prefix: string): string {
  return `${prefix}_${randomBytes(8).toString("hex")}`;
}

function makeVerification(overrides: Partial<NewVerification> = {}): NewVerification {
  return {
    id: uid("ver"),
    apiVersion: "v1",
    boundId: uid("mid"),
    policy: resolvePolicy(
      { minAge: { age: 19, rule: "year" } },
      { creatingAccount: overrides.accountRef !== undefined },
    ),
    createdAt: NOW,
    expiresAt: new Date(NOW.getTime() + 15 * 60_000),
    ...overrides,
  };
}

/** An obviously synthetic person with a unique CI and DI. */
function makeIdentity(overrides: Partial<VerifiedIdentity> = {}): VerifiedIdentity {
  const n = randomBytes(6).toString("hex");
  return {
    name: "김테스트",
    birthDate: { year: 1990, month: 1, day: 1 },
    gender: "female",
    foreigner: false,
    phone: "01000000001",
    carrier: "SKT",
    ci: `TEST-CI-${n}`.padEnd(88, "0"),
    di: `TEST-DI-${n}`.padEnd(64, "0"),
    provider: "danal",
    verifiedAt: new Date(NOW.getTime() - 60_000),
    source: "v1",
    ...overrides,
  };
}

function verified(identity: VerifiedIdentity, personKey?: PersonKey | null): CompletionDecision {
  const key = personKey === null ? undefined : (personKey ?? ciOf(identity));
  return { ok: true, identity, personKey: key };
}

function ciOf(identity: VerifiedIdentity): PersonKey {
  return { kind: "ci", value: identity.ci ?? "" };
}

const backends: [string, DialectName, () => Backend][] = [
  ["sqlite", "sqlite", () => sqliteBackend()],
  ["sqlite, writes on its worker thread", "sqlite", () => sqliteBackend(true)],
  ["postgres", "postgres", postgresBackend],
];

describe.each(backends)("store contract: %s", (_name, dialect, makeBackend) => {
  let backend: Backend;
  let store: Store;
  const keyring = createKeyring({ secret: SECRET });

  beforeAll(async () => {
    backend = makeBackend();
    store = await backend.open(keyring);
  });
  afterAll(async () => {
    await store?.close();
    await backend?.dispose();
  });

  /** Creates a verification and completes it with `decision`, consuming a fresh upstream id. */
  async function createAndComplete(
    decision: CompletionDecision,
    overrides: Partial<NewVerification> = {},
    upstreamId: string | undefined = uid("imp"),
  ) {
    const verification = await store.createVerification(makeVerification(overrides));
    return store.completeVerification({ verificationId: verification.id, upstreamId, decision, now: NOW });
  }

  describe("opening", () => {
    it(`reports its dialect, answers ping and migrates idempotently`, async () => {
      expect(store.dialect).toBe(dialect);
      await store.ping();
      await store.migrate();
    });
  });

  describe("creating and reading verifications", () => {
    it("creates a pending verification readable by id and by bound id", async () => {
      const input = makeVerification({ accountRef: uid("acct"), returnUrl: "https://merchant.example/done" });
      const created = await store.createVerification(input);
      expect(created).toEqual({
        id: input.id,
        apiVersion: "v1",
        boundId: input.boundId,
        status: "pending",
        reason: undefined,
        policy: input.policy,
        purpose: "signup",
        accountRef: input.accountRef,
        returnUrl: input.returnUrl,
        upstreamId: undefined,
        personId: undefined,
        existingAccountRef: undefined,
        createdAt: NOW,
        expiresAt: input.expiresAt,
        completedAt: undefined,
        identity: undefined,
        purgedAt: undefined,
        failedAttempts: 0,
        maxAttempts: 5,
      });
      expect(await store.getVerification(input.id)).toEqual(created);
      expect(await store.findVerificationByBoundId(input.boundId)).toEqual(created);
    });

    it("answers undefined for unknown ids", async () => {
      expect(await store.getVerification("ver_unknown")).toBeUndefined();
      expect(await store.findVerificationByBoundId("mid_unknown")).toBeUndefined();
    });

    it.each([
      ["bound id", (first: NewVerification) => makeVerification({ boundId: first.boundId })],
      ["id", (first: NewVerification) => makeVerification({ id: first.id })],
    ])("refuses a second verification with the same %s as a conflict", async (_field, second) => {
      const first = makeVerification();
      await store.createVerification(first);
      const error = await store.createVerification(second(first)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DuplicateIdError);
      expect(error).toMatchObject({ code: "duplicate_id" });
    });
  });

  describe("completing as verified", () => {
    it("stores the identity encrypted, reads it back decrypted, consumes the id and audits", async () => {
      const identity = makeIdentity({ gender: "male", foreigner: true, carrier: "KT_MVNO" });
      const upstreamId = uid("imp");
      const result = await createAndComplete(verified(identity), { apiVersion: "v2" }, upstreamId);
      expect(result.kind).toBe("finished");
      if (result.kind !== "finished") return;
      const record = result.verification;
      expect(record).toMatchObject({ status: "verified", reason: undefined, upstreamId, completedAt: NOW });
      expect(record.personId).toMatch(/^prs_/);
      expect(record.identity).toEqual({
        name: "김테스트",
        birthDate: "1990-01-01",
        phone: "01000000001",
        gender: "male",
        foreigner: true,
        carrier: "KT_MVNO",
        provider: "danal",
        verifiedAt: identity.verifiedAt,
      });
      expect(await store.getVerification(record.id)).toEqual(record);
      const events = await store.listAuditEvents(record.id);
      expect(events).toEqual([
        {
          id: expect.any(Number),
          verificationId: record.id,
          type: "verification.completed",
          data: { status: "verified", reason: null, api_version: "v2", purpose: "check" },
          createdAt: NOW,
        },
      ]);
    });

    it("answers the record a re-read answers, also for an identity without name, birthday or phone", async () => {
      const identity = makeIdentity({
        name: undefined,
        birthDate: undefined,
        phone: undefined,
        carrier: undefined,
      });
      const result = await createAndComplete(verified(identity), { accountRef: uid("acct") });
      if (result.kind !== "finished") throw new Error(result.kind);
      const record = result.verification;
      expect(record.identity).toEqual({
        name: undefined,
        birthDate: undefined,
        phone: undefined,
        gender: "female",
        foreigner: false,
        carrier: undefined,
        provider: "danal",
        verifiedAt: identity.verifiedAt,
      });
      expect(await store.getVerification(record.id)).toEqual(record);
    });

    it("verifies a person without a key when the policy allows it, binding no person", async () => {
      const identity = makeIdentity({ ci: undefined, di: undefined });
      const result = await createAndComplete(verified(identity, null), { accountRef: uid("acct") });
      expect(result).toMatchObject({
        kind: "finished",
        verification: { status: "verified", personId: undefined },
      });
    });

    it("reports the account the person already holds when no account is being created", async () => {
      const identity = makeIdentity();
      const accountRef = uid("acct");
      await createAndComplete(verified(identity), { accountRef });
      const result = await createAndComplete(verified(identity));
      expect(result).toMatchObject({
        kind: "finished",
        verification: { status: "verified", existingAccountRef: accountRef },
      });
    });
  });

  describe("completing once", () => {
    it("answers not_pending to a second completion and writes nothing", async () => {
      const identity = makeIdentity();
      const first = await createAndComplete(verified(identity));
      if (first.kind !== "finished") throw new Error("expected finished");
      const before = await store.listAuditEvents(first.verification.id);
      const second = await store.completeVerification({
        verificationId: first.verification.id,
        upstreamId: uid("imp"),
        decision: { ok: false, reason: "underage" },
        now: new Date(NOW.getTime() + 1000),
      });
      expect(second).toEqual({ kind: "replayed", verification: first.verification });
      expect(await store.listAuditEvents(first.verification.id)).toEqual(before);
    });

    // A completion reads its verification by bound id first; PostgreSQL's store keeps that row as
    // a guess for the completion's locked read (store/context.ts RecentRows). The row as it is
    // decides, whatever changed since it was read.
    it("completes on the row as it is when it changed after the completion read it by bound id", async () => {
      const input = makeVerification({ accountRef: uid("acct") });
      const v = await store.createVerification(input);
      expect((await store.findVerificationByBoundId(input.boundId))?.failedAttempts).toBe(0);
      const counted = await store.recordFailedAttempt({
        verificationId: v.id,
        reason: "not_found",
        upstreamId: uid("imp"),
        now: NOW,
      });
      expect(counted.kind).toBe("attempt_failed");
      const done = await store.completeVerification({
        verificationId: v.id,
        upstreamId: uid("imp"),
        decision: verified(makeIdentity()),
        now: NOW,
      });
      expect(done.kind).toBe("finished");
      expect(done.kind === "finished" && done.verification.failedAttempts).toBe(1);
      expect((await store.getVerification(v.id))?.failedAttempts).toBe(1);
    });

    it("replays a completion whose verification another instance finished after it was read", async () => {
      const other = await backend.open(keyring);
      try {
        const input = makeVerification({ accountRef: uid("acct") });
        const v = await store.createVerification(input);
        expect((await store.findVerificationByBoundId(input.boundId))?.status).toBe("pending");
        const first = await other.completeVerification({
          verificationId: v.id,
          upstreamId: uid("imp"),
          decision: verified(makeIdentity()),
          now: NOW,
        });
        if (first.kind !== "finished") throw new Error("expected finished");
        const second = await store.completeVerification({
          verificationId: v.id,
          upstreamId: uid("imp"),
          decision: verified(makeIdentity()),
          now: NOW,
        });
        expect(second).toEqual({ kind: "replayed", verification: first.verification });
        expect(await store.listAuditEvents(v.id)).toHaveLength(1);
      } finally {
        await other.close();
      }
    });

    it("answers not_found for an unknown verification", async () => {
      const result = await store.completeVerification({
        verificationId: "ver_unknown",
        decision: { ok: false, reason: "not_found" },
        now: NOW,
      });
      expect(result).toEqual({ kind: "not_found" });
    });

    it("leaves the upstream id of a completion answered replayed or not_found unconsumed", async () => {
      const first = await createAndComplete(verified(makeIdentity()));
      if (first.kind !== "finished") throw new Error("expected finished");
      const replayedWith = uid("imp");
      const replay = await store.completeVerification({
        verificationId: first.verification.id,
        upstreamId: replayedWith,
        decision: verified(makeIdentity()),
        now: NOW,
      });
      expect(replay.kind).toBe("replayed");
      const unknownWith = uid("imp");
      const unknown = await store.completeVerification({
        verificationId: "ver_unknown",
        upstreamId: unknownWith,
        decision: verified(makeIdentity()),
        now: NOW,
      });
      expect(unknown).toEqual({ kind: "not_found" });
      // Neither upstream id was kept: each still completes another verification.
      for (const upstreamId of [replayedWith, unknownWith]) {
        const next = await createAndComplete(verified(makeIdentity()), {}, upstreamId);
        expect(next).toMatchObject({ kind: "finished", verification: { status: "verified", upstreamId } });
      }
    });

    it("rejects already_used when another verification consumed the upstream id", async () => {
      const upstreamId = uid("imp");
      await createAndComplete(verified(makeIdentity()), {}, upstreamId);
      const result = await createAndComplete(verified(makeIdentity()), {}, upstreamId);
      expect(result).toMatchObject({
        kind: "finished",
        verification: {
          status: "rejected",
          reason: "already_used",
          upstreamId: undefined,
          identity: undefined,
        },
      });
    });
  });

  describe("rejections decided before the store", () => {
    it.each([
      ["expired", "expired"],
      ["underage", "rejected"],
      ["merchant_uid_mismatch", "rejected"],
    ] as const)("%s becomes status %s with no identity", async (reason, status) => {
      const result = await createAndComplete({ ok: false, reason }, {}, undefined);
      expect(result).toMatchObject({
        kind: "finished",
        verification: { status, reason, identity: undefined },
      });
      if (result.kind !== "finished") return;
      const [event] = await store.listAuditEvents(result.verification.id);
      expect(event?.data).toEqual({ status, reason, api_version: "v1", purpose: "check" });
    });
  });

  describe("failed attempts", () => {
    /** Every outbox event of `verificationId` (claimed far in the future, so all are due). */
    async function outbox(verificationId: string) {
      const far = new Date(NOW.getTime() + 365 * 86_400_000);
      const events = await store.claimWebhookEvents({ now: far, limit: 10_000, leaseUntil: far });
      return events.filter((e) => e.verificationId === verificationId);
    }
    const attempt = (verificationId: string, reason: "not_found" | "merchant_uid_mismatch" = "not_found") =>
      store.recordFailedAttempt({
        verificationId,
        reason,
        upstreamId: uid("imp"),
        now: NOW,
        emitEvent: true,
      });

    it("keeps the maxAttempts it was created with (default 5)", async () => {
      const custom = await store.createVerification(makeVerification({ maxAttempts: 3 }));
      expect(custom).toMatchObject({ failedAttempts: 0, maxAttempts: 3 });
      expect(await store.getVerification(custom.id)).toMatchObject({ maxAttempts: 3 });
    });

    it("counts a failed attempt with its audit event; the verification stays pending and consumes nothing", async () => {
      const v = await store.createVerification(makeVerification());
      const upstreamId = uid("imp");
      const result = await store.recordFailedAttempt({
        verificationId: v.id,
        reason: "merchant_uid_mismatch",
        upstreamId,
        now: NOW,
        emitEvent: true,
      });
      expect(result).toEqual({ kind: "attempt_failed", verification: { ...v, failedAttempts: 1 } });
      expect((await store.listAuditEvents(v.id)).map((e) => [e.type, e.data])).toEqual([
        [
          "verification.attempt_failed",
          {
            reason: "merchant_uid_mismatch",
            upstream_id: upstreamId,
            failed_attempts: 1,
            max_attempts: 5,
            api_version: "v1",
          },
        ],
      ]);
      expect(await outbox(v.id)).toEqual([]);
      // The presented id is not consumed: its owner can still complete with it.
      const owner = await createAndComplete(verified(makeIdentity()), {}, upstreamId);
      expect(owner).toMatchObject({ kind: "finished", verification: { status: "verified", upstreamId } });
    });

    it("allows maxAttempts failed attempts; the next rejects too_many_attempts in one transaction with its audit and outbox events", async () => {
      const v = await store.createVerification(makeVerification({ maxAttempts: 2 }));
      expect(await attempt(v.id)).toMatchObject({
        kind: "attempt_failed",
        verification: { failedAttempts: 1 },
      });
      expect(await attempt(v.id, "merchant_uid_mismatch")).toMatchObject({
        kind: "attempt_failed",
        verification: { status: "pending", failedAttempts: 2 },
      });
      const last = await attempt(v.id);
      expect(last).toMatchObject({
        kind: "finished",
        verification: {
          status: "rejected",
          reason: "too_many_attempts",
          failedAttempts: 3,
          maxAttempts: 2,
          upstreamId: undefined,
          completedAt: NOW,
        },
      });
      const audit = await store.listAuditEvents(v.id);
      expect(audit.map((e) => e.type)).toEqual([
        "verification.attempt_failed",
        "verification.attempt_failed",
        "verification.attempt_failed",
        "verification.completed",
      ]);
      expect(audit.at(-1)?.data).toEqual({
        status: "rejected",
        reason: "too_many_attempts",
        api_version: "v1",
        purpose: "check",
      });
      const events = await outbox(v.id);
      expect(events.map((e) => JSON.parse(e.payload).data)).toMatchObject([
        { verification_id: v.id, status: "rejected", reason: "too_many_attempts" },
      ]);
    });

    it("answers not_pending to an attempt on a finished verification and writes nothing", async () => {
      const done = await createAndComplete(verified(makeIdentity()));
      if (done.kind !== "finished") throw new Error("expected finished");
      const before = await store.listAuditEvents(done.verification.id);
      expect(await attempt(done.verification.id)).toEqual({
        kind: "replayed",
        verification: done.verification,
      });
      expect(await store.listAuditEvents(done.verification.id)).toEqual(before);
    });

    it("answers not_found for an unknown verification", async () => {
      expect(await attempt("ver_unknown")).toEqual({ kind: "not_found" });
    });

    it("under 30 parallel failed attempts with maxAttempts 5: five counted, exactly one finish, the rest not_pending", async () => {
      const v = await store.createVerification(makeVerification({ maxAttempts: 5 }));
      const results = await Promise.all(Array.from({ length: 30 }, () => attempt(v.id)));
      const counted = results.flatMap((r) =>
        r.kind === "attempt_failed" ? [r.verification.failedAttempts] : [],
      );
      expect(counted.sort()).toEqual([1, 2, 3, 4, 5]);
      expect(results.filter((r) => r.kind === "finished")).toHaveLength(1);
      expect(results.filter((r) => r.kind === "replayed")).toHaveLength(24);
      expect(await store.getVerification(v.id)).toMatchObject({
        status: "rejected",
        reason: "too_many_attempts",
        failedAttempts: 6,
      });
      const audit = await store.listAuditEvents(v.id);
      expect(audit.filter((e) => e.type === "verification.attempt_failed")).toHaveLength(6);
      expect(audit.filter((e) => e.type === "verification.completed")).toHaveLength(1);
      expect(await outbox(v.id)).toHaveLength(1);
    });

    it("finishes once when the owner's completion races failed attempts", async () => {
      const v = await store.createVerification(makeVerification({ maxAttempts: 5 }));
      const identity = makeIdentity();
      const results = await Promise.all([
        ...Array.from({ length: 10 }, () => attempt(v.id)),
        store.completeVerification({
          verificationId: v.id,
          upstreamId: uid("imp"),
          decision: verified(identity),
          now: NOW,
        }),
      ]);
      expect(results.filter((r) => r.kind === "finished")).toHaveLength(1);
      const final = await store.getVerification(v.id);
      expect(final?.status === "verified" || final?.reason === "too_many_attempts").toBe(true);
      expect(final?.failedAttempts).toBeLessThanOrEqual(6);
      const audit = await store.listAuditEvents(v.id);
      expect(audit.filter((e) => e.type === "verification.attempt_failed")).toHaveLength(
        final?.failedAttempts ?? -1,
      );
      expect(audit.filter((e) => e.type === "verification.completed")).toHaveLength(1);
      // Only the too_many_attempts finish asked for an event (and claiming it keeps the outbox tests' view clean).
      expect(await outbox(v.id)).toHaveLength(final?.status === "rejected" ? 1 : 0);
    });
  });

  describe("one account per person", () => {
    it("rejects duplicate_account with the account the person already holds", async () => {
      const identity = makeIdentity();
      const first = uid("acct");
      expect(await createAndComplete(verified(identity), { accountRef: first })).toMatchObject({
        verification: { status: "verified" },
      });
      const result = await createAndComplete(verified(identity), { accountRef: uid("acct") });
      expect(result).toMatchObject({
        kind: "finished",
        verification: {
          status: "rejected",
          reason: "duplicate_account",
          existingAccountRef: first,
          identity: undefined,
        },
      });
    });

    it("rejects duplicate_account when the account ref already belongs to another person", async () => {
      const accountRef = uid("acct");
      await createAndComplete(verified(makeIdentity()), { accountRef });
      const result = await createAndComplete(verified(makeIdentity()), { accountRef });
      expect(result).toMatchObject({
        verification: { status: "rejected", reason: "duplicate_account", existingAccountRef: undefined },
      });
    });

    it("verifies the same person again for the account they already hold", async () => {
      const identity = makeIdentity();
      const accountRef = uid("acct");
      await createAndComplete(verified(identity), { accountRef });
      expect(await createAndComplete(verified(identity), { accountRef })).toMatchObject({
        verification: { status: "verified" },
      });
    });

    it("scopes a DI by provider: the same DI under two providers is two persons", async () => {
      const identity = makeIdentity({ ci: undefined });
      const di = identity.di ?? "";
      const danal = await createAndComplete(
        verified(identity, { kind: "di", provider: "danal", value: di }),
        {
          accountRef: uid("acct"),
        },
      );
      const inicis = await createAndComplete(
        verified(
          { ...identity, provider: "inicis_unified" },
          { kind: "di", provider: "inicis_unified", value: di },
        ),
        { accountRef: uid("acct") },
      );
      expect(danal).toMatchObject({ verification: { status: "verified" } });
      expect(inicis).toMatchObject({ verification: { status: "verified" } });
      if (danal.kind !== "finished" || inicis.kind !== "finished") return;
      expect(inicis.verification.personId).not.toBe(danal.verification.personId);
    });

    it("lets the person bind a new account after the old one is unbound", async () => {
      const identity = makeIdentity();
      const old = uid("acct");
      const first = await createAndComplete(verified(identity), { accountRef: old });
      expect(await store.unbindAccount(old, NOW)).toBe(true);
      expect(await store.unbindAccount(old, NOW)).toBe(false);
      const result = await createAndComplete(verified(identity), { accountRef: uid("acct") });
      expect(result).toMatchObject({ verification: { status: "verified", existingAccountRef: undefined } });
      if (first.kind !== "finished") return;
      const events = await store.listAuditEvents(first.verification.id);
      expect(events.map((event) => event.type)).toEqual(["verification.completed", "account.unbound"]);
      expect(events[1]?.data).toEqual({ account_ref: old, person_id: first.verification.personId ?? null });
    });
  });

  describe("races", () => {
    it("completes one verification exactly once under 50 parallel completions", async () => {
      const verification = await store.createVerification(makeVerification({ accountRef: uid("acct") }));
      const identity = makeIdentity();
      const results = await Promise.all(
        Array.from({ length: 50 }, () =>
          store.completeVerification({
            verificationId: verification.id,
            upstreamId: uid("imp"),
            decision: verified(identity),
            now: NOW,
          }),
        ),
      );
      expect(results.filter((r) => r.kind === "finished")).toHaveLength(1);
      expect(results.filter((r) => r.kind === "replayed")).toHaveLength(49);
      expect(await store.listAuditEvents(verification.id)).toHaveLength(1);
    });

    it("binds one account when 20 verifications of one person complete in parallel", async () => {
      const identity = makeIdentity();
      const verifications = await Promise.all(
        Array.from({ length: 20 }, () =>
          store.createVerification(makeVerification({ accountRef: uid("acct") })),
        ),
      );
      const results = await Promise.all(
        verifications.map((v) =>
          store.completeVerification({
            verificationId: v.id,
            upstreamId: uid("imp"),
            decision: verified(identity),
            now: NOW,
          }),
        ),
      );
      const outcomes = results.map((r) => (r.kind === "finished" ? r.verification : undefined));
      const winners = outcomes.filter((v) => v?.status === "verified");
      const losers = outcomes.filter((v) => v?.reason === "duplicate_account");
      expect(winners).toHaveLength(1);
      expect(losers).toHaveLength(19);
      expect(new Set(outcomes.map((v) => v?.personId)).size).toBe(1);
      for (const loser of losers) expect(loser?.existingAccountRef).toBe(winners[0]?.accountRef);
    });
  });

  describe("key rotation", () => {
    it("finds a person hashed under the previous secret and rewrites the row to the current key", async () => {
      const oldKeyring = createKeyring({ secret: OLD_SECRET });
      const oldStore = await backend.open(oldKeyring);
      const identity = makeIdentity();
      const accountRef = uid("acct");
      let personId: string | undefined;
      try {
        const first = await oldStore.createVerification(makeVerification({ accountRef }));
        const done = await oldStore.completeVerification({
          verificationId: first.id,
          upstreamId: uid("imp"),
          decision: verified(identity),
          now: NOW,
        });
        personId = done.kind === "finished" ? done.verification.personId : undefined;
      } finally {
        await oldStore.close();
      }
      expect((await backend.person(personId ?? ""))?.key_id).toBe(oldKeyring.currentKeyId);

      const rotated = await backend.open(createKeyring({ secret: SECRET, previousSecrets: [OLD_SECRET] }));
      try {
        const result = await rotated
          .createVerification(makeVerification({ accountRef: uid("acct") }))
          .then((v) =>
            rotated.completeVerification({
              verificationId: v.id,
              upstreamId: uid("imp"),
              decision: verified(identity),
              now: NOW,
            }),
          );
        expect(result).toMatchObject({
          verification: {
            status: "rejected",
            reason: "duplicate_account",
            personId,
            existingAccountRef: accountRef,
          },
        });
      } finally {
        await rotated.close();
      }
      expect(await backend.person(personId ?? "")).toEqual({ id: personId, key_id: keyring.currentKeyId });
    });
  });

  describe("privacy", () => {
    it("persists no name, phone, birthday, CI or DI in the clear, in any table or file", async () => {
      const identity = makeIdentity({
        name: "박비밀테스트",
        phone: "01099990123",
        birthDate: { year: 1987, month: 6, day: 5 },
        ci: `PRIVACY-CI-${randomBytes(8).toString("hex")}`.padEnd(88, "Q"),
        di: `PRIVACY-DI-${randomBytes(8).toString("hex")}`.padEnd(64, "Q"),
      });
      const result = await createAndComplete(verified(identity), { accountRef: uid("acct") });
      expect(result).toMatchObject({
        verification: { status: "verified", identity: { name: "박비밀테스트" } },
      });
      const diOnly = await createAndComplete(
        verified({ ...identity, ci: undefined }, { kind: "di", provider: "danal", value: identity.di ?? "" }),
      );
      expect(diOnly).toMatchObject({ verification: { status: "verified" } });

      const persisted = await backend.persisted();
      // Positive control: what was written is visible to this scan.
      const recordId = result.kind === "finished" ? result.verification.id : "missing";
      expect(persisted.some((bytes) => bytes.includes(Buffer.from(recordId)))).toBe(true);
      const secrets = [
        "박비밀테스트",
        "01099990123",
        "1987-06-05",
        "19870605",
        identity.ci,
        identity.di,
        SECRET,
      ];
      for (const value of secrets) {
        const needle = Buffer.from(value ?? "");
        expect(
          persisted.some((bytes) => bytes.includes(needle)),
          `found ${value} persisted`,
        ).toBe(false);
      }
      const audit = JSON.stringify(await store.listAuditEvents());
      for (const value of secrets) expect(audit).not.toContain(value);
    });
  });

  describe("key rotation", () => {
    it("re-encrypts personal fields under the new key; person hashes wait for the next verification", async () => {
      const oldStore = await backend.open(createKeyring({ secret: OLD_SECRET }));
      let id = "";
      try {
        const v = await oldStore.createVerification(makeVerification({ accountRef: uid("acct") }));
        id = v.id;
        await oldStore.completeVerification({
          verificationId: v.id,
          upstreamId: uid("imp"),
          decision: verified(makeIdentity()),
          now: NOW,
        });
      } finally {
        await oldStore.close();
      }
      // Without the old secret, the fields cannot be read.
      const newOnly = createKeyring({ secret: SECRET });
      const before = await backend.open(newOnly);
      await expect(before.getVerification(id)).rejects.toThrow();
      await before.close();

      const rotating = await backend.open(createKeyring({ secret: SECRET, previousSecrets: [OLD_SECRET] }));
      try {
        const result = await rotating.rotateKeys();
        expect(result.reencrypted).toBeGreaterThanOrEqual(1);
        expect(result.remainingPersonHashes).toBeGreaterThanOrEqual(1);
        expect(await rotating.rotateKeys()).toMatchObject({ reencrypted: 0 });
      } finally {
        await rotating.close();
      }
      const after = await backend.open(newOnly);
      try {
        expect((await after.getVerification(id))?.identity?.name).toBe("김테스트");
      } finally {
        await after.close();
      }
    });
  });

  describe("idempotent creation", () => {
    const DAY_MS = 86_400_000;
    /** A creation under `key` at `at`, where keys claimed more than a day before `at` have expired. */
    const claim = (key: string, options: { scope?: string; fingerprint?: string; at?: Date } = {}) => {
      const at = options.at ?? NOW;
      return {
        verification: makeVerification({ createdAt: at, expiresAt: new Date(at.getTime() + 900_000) }),
        scope: options.scope ?? "scope-a",
        key,
        fingerprint: options.fingerprint ?? "fp-1",
        expiredBefore: new Date(at.getTime() - DAY_MS),
      };
    };

    it("creates on a key's first use and replays that verification on the same key and fingerprint", async () => {
      const key = uid("idem");
      const first = await store.createIdempotentVerification(claim(key));
      expect(first.kind).toBe("created");
      if (first.kind !== "created") return;
      expect(first.verification.status).toBe("pending");
      const again = claim(key);
      expect(await store.createIdempotentVerification(again)).toEqual({
        kind: "replayed",
        verification: first.verification,
      });
      expect(await store.getVerification(again.verification.id)).toBeUndefined();
    });

    it("answers conflict for the same key with another fingerprint and writes nothing", async () => {
      const key = uid("idem");
      await store.createIdempotentVerification(claim(key));
      const other = claim(key, { fingerprint: "fp-2" });
      expect(await store.createIdempotentVerification(other)).toEqual({ kind: "conflict" });
      expect(await store.getVerification(other.verification.id)).toBeUndefined();
    });

    it("scopes keys: the same key under another scope creates its own verification", async () => {
      const key = uid("idem");
      const a = await store.createIdempotentVerification(claim(key));
      const b = await store.createIdempotentVerification(
        claim(key, { scope: "scope-b", fingerprint: "fp-2" }),
      );
      expect([a.kind, b.kind]).toEqual(["created", "created"]);
    });

    it("treats a key older than its expiry as new, and replays the new verification after", async () => {
      const key = uid("idem");
      const first = await store.createIdempotentVerification(claim(key));
      const later = new Date(NOW.getTime() + DAY_MS + 1);
      const renewed = await store.createIdempotentVerification(
        claim(key, { fingerprint: "fp-2", at: later }),
      );
      expect(renewed.kind).toBe("created");
      if (first.kind !== "created" || renewed.kind !== "created") return;
      expect(renewed.verification.id).not.toBe(first.verification.id);
      const replay = await store.createIdempotentVerification(claim(key, { fingerprint: "fp-2", at: later }));
      expect(replay).toEqual({ kind: "replayed", verification: renewed.verification });
      // The key's first verification stays what it was.
      expect(await store.getVerification(first.verification.id)).toEqual(first.verification);
    });

    it("creates one verification for 20 parallel creations with one key (PostgreSQL: through two stores)", async () => {
      // SQLite is one instance's database: a second store in this process would block the event loop
      // on the file lock (better-sqlite3 is synchronous) while the first waits on it to commit.
      const other = dialect === "postgres" ? await backend.open(keyring) : store;
      try {
        const key = uid("idem");
        const claims = Array.from({ length: 20 }, () => claim(key));
        const results = await Promise.all(
          claims.map((c, i) => (i % 2 === 0 ? store : other).createIdempotentVerification(c)),
        );
        const created = results.filter((r) => r.kind === "created");
        expect(created).toHaveLength(1);
        expect(results.filter((r) => r.kind === "replayed")).toHaveLength(19);
        const ids = new Set(results.map((r) => (r.kind === "conflict" ? "conflict" : r.verification.id)));
        expect([...ids]).toEqual([created[0]?.verification.id]);
        const stored = await Promise.all(claims.map((c) => store.getVerification(c.verification.id)));
        expect(stored.filter((v) => v !== undefined)).toHaveLength(1);
      } finally {
        if (other !== store) await other.close();
      }
    });

    it("purges keys claimed before the cut-off; a purged key is new again", async () => {
      const old = uid("idem");
      const fresh = uid("idem");
      await store.createIdempotentVerification(claim(old, { at: new Date(NOW.getTime() - 2 * DAY_MS) }));
      await store.createIdempotentVerification(claim(fresh));
      const purged = await store.purgeIdempotencyKeys({ createdBefore: new Date(NOW.getTime() - DAY_MS) });
      expect(purged).toBeGreaterThanOrEqual(1);
      expect((await store.createIdempotentVerification(claim(fresh))).kind).toBe("replayed");
      // Created under a cut-off that would still count it as live: only the purge made it new.
      const reused = claim(old, { fingerprint: "fp-2" });
      reused.expiredBefore = new Date(0);
      expect((await store.createIdempotentVerification(reused)).kind).toBe("created");
    });
  });

  /** A verification completed with its outbox event; its id. */
  const completedWithEvent = async () => {
    const verification = await store.createVerification(makeVerification());
    await store.completeVerification({
      verificationId: verification.id,
      upstreamId: uid("imp"),
      decision: verified(makeIdentity()),
      now: NOW,
      emitEvent: true,
    });
    return verification.id;
  };

  describe("webhook outbox", () => {
    it("lets two stores on one database claim each due event once, until its lease ends", async () => {
      const ids = new Set<string>();
      for (let i = 0; i < 30; i++) ids.add(await completedWithEvent());
      // A second instance: its own connection(s) to the same database.
      const other = await backend.open(keyring);
      const leaseUntil = new Date(NOW.getTime() + 60_000);
      const claimed: string[] = [];
      try {
        for (;;) {
          const batches = await Promise.all(
            [store, other, store, other].map((s) => s.claimWebhookEvents({ now: NOW, limit: 4, leaseUntil })),
          );
          const events = batches.flat().filter((e) => ids.has(e.verificationId));
          if (events.length === 0) break;
          claimed.push(...events.map((e) => e.verificationId));
        }
      } finally {
        await other.close();
      }
      expect(claimed).toHaveLength(30);
      expect(new Set(claimed)).toEqual(ids);

      // Leased: not due before the lease ends; due again after (a dispatcher that died mid-batch).
      const justBefore = new Date(leaseUntil.getTime() - 1);
      expect(await store.claimWebhookEvents({ now: justBefore, limit: 100, leaseUntil })).toEqual([]);
      const again = await store.claimWebhookEvents({
        now: leaseUntil,
        limit: 100,
        leaseUntil: new Date(leaseUntil.getTime() + 60_000),
      });
      expect(new Set(again.map((e) => e.verificationId))).toEqual(ids);

      // Delivered events are never claimed again.
      for (const event of again) await store.markWebhookDelivered(event.id, leaseUntil);
      const farFuture = new Date(NOW.getTime() + 86_400_000);
      expect(await store.claimWebhookEvents({ now: farFuture, limit: 100, leaseUntil: farFuture })).toEqual(
        [],
      );
    });

    it("marks an attempt only under its own lease: a replay meanwhile, or a later claim, wins", async () => {
      const mine = new Set([await completedWithEvent(), await completedWithEvent()]);
      const lease = new Date(NOW.getTime() + 10_000);
      const claimed = (await store.claimWebhookEvents({ now: NOW, limit: 100, leaseUntil: lease })).filter(
        (e) => mine.has(e.verificationId),
      );
      expect(claimed).toHaveLength(2);
      const [delivered, failed] = claimed as [OutboxEvent, OutboxEvent];
      // `webhooks replay` while both attempts are in flight: both due again, as new.
      expect(await store.requeueWebhookEvents({ id: delivered.id })).toBe(1);
      expect(await store.requeueWebhookEvents({ id: failed.id })).toBe(1);
      // The attempts end: one answered 2xx, the other 500. Neither may undo the replay.
      await store.markWebhookDelivered(delivered.id, NOW, lease);
      const later = new Date(NOW.getTime() + 3_600_000);
      await store.markWebhookFailed(failed.id, {
        now: NOW,
        nextAttemptAt: later,
        status: 500,
        leaseUntil: lease,
      });
      const listed = (await store.listWebhookEvents({ since: NOW, limit: 1_000 })).filter((e) =>
        mine.has(e.verificationId),
      );
      expect(listed.map((e) => [e.deliveredAt, e.attempts, e.lastStatus])).toEqual([
        [undefined, 0, undefined],
        [undefined, 0, undefined],
      ]);
      // Due now, not an hour later: claimed again under a new lease, and marked under it.
      const second = new Date(NOW.getTime() + 20_000);
      const again = (await store.claimWebhookEvents({ now: NOW, limit: 100, leaseUntil: second })).filter(
        (e) => mine.has(e.verificationId),
      );
      expect(again.map((e) => e.id).sort()).toEqual([delivered.id, failed.id].sort());
      // The first lease's late mark is ignored; the second's counts.
      await store.markWebhookDelivered(delivered.id, NOW, lease);
      await store.markWebhookDelivered(delivered.id, NOW, second);
      const marked = (await store.listWebhookEvents({ since: NOW, limit: 1_000 })).find(
        (e) => e.id === delivered.id,
      );
      expect(marked?.deliveredAt).toEqual(NOW);
      expect(marked?.attempts).toBe(1);
    });
  });

  describe("webhook backlog", () => {
    it("counts the undelivered events and dates the oldest, for the metrics", async () => {
      const far = new Date(NOW.getTime() + 86_400_000 * 365);
      for (const event of await store.claimWebhookEvents({ now: far, limit: 100_000, leaseUntil: far }))
        await store.markWebhookDelivered(event.id, far);
      expect(await store.webhookBacklog()).toEqual({ pending: 0, oldestCreatedAt: undefined });
      for (let i = 0; i < 2; i++) await completedWithEvent();
      expect(await store.webhookBacklog()).toEqual({ pending: 2, oldestCreatedAt: NOW });
      const [first] = await store.claimWebhookEvents({ now: far, limit: 1, leaseUntil: far });
      await store.markWebhookDelivered(first?.id ?? "", far);
      expect((await store.webhookBacklog()).pending).toBe(1);
    });
  });

  describe("retention", () => {
    it("purges the personal fields of verifications completed before the cut-off and keeps the rest", async () => {
      const later = new Date(NOW.getTime() + 86_400_000);
      const old = await createAndComplete(verified(makeIdentity()));
      const recent = await store.createVerification(makeVerification());
      await store.completeVerification({
        verificationId: recent.id,
        upstreamId: uid("imp"),
        decision: verified(makeIdentity()),
        now: later,
      });
      if (old.kind !== "finished") throw new Error("setup failed");

      const purgedAt = new Date(later.getTime() + 1000);
      const count = await store.purgeIdentities({
        completedBefore: new Date(NOW.getTime() + 1),
        now: purgedAt,
      });
      expect(count).toBeGreaterThanOrEqual(1);

      const purged = await store.getVerification(old.verification.id);
      expect(purged).toMatchObject({ status: "verified", personId: old.verification.personId, purgedAt });
      expect(purged?.identity?.name).toBeUndefined();
      expect(purged?.identity?.birthDate).toBeUndefined();
      expect(purged?.identity?.phone).toBeUndefined();
      expect(purged?.identity?.provider).toBe("danal");
      expect((await store.getVerification(recent.id))?.identity?.name).toBe("김테스트");

      // Idempotent: nothing is left to purge before the same cut-off.
      expect(
        await store.purgeIdentities({ completedBefore: new Date(NOW.getTime() + 1), now: purgedAt }),
      ).toBe(0);
      const audit = await store.listAuditEvents();
      expect(audit.filter((e) => e.type === "identities.purged")).toHaveLength(1);
    });
  });
});
