/**
 * The store's side of owed upstream deletions (CERTGATE_DELETE_UPSTREAM), on SQLite (on the calling
 * thread and on its worker thread) and PostgreSQL: the completion that consumes a record owes its
 * deletion in its own transaction — only that one, never a replay, another verification's record or
 * a completion not asked to — and the deletion is claimed under a lease, rescheduled and settled
 * with an `upstream.deleted` audit event, once; a claimer whose lease ran out reschedules nothing another
 * instance claimed since (nor, the same way, a recovery check).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Store } from "../../src/core/store.js";
import { createKeyring } from "../../src/store/crypto.js";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { adminQuery, makeIdentity, makeVerification, NOW, POSTGRES_URL, uid, verified } from "./fixtures.js";

const keyring = createKeyring({ secret: "upstream-deletions-secret-000000000000" });
const MINUTE = 60_000;
const later = (ms: number) => new Date(NOW.getTime() + ms);

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function sqlite(offloaded: boolean): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), "certgate-upstream-deletions-"));
  let ready = () => {};
  const started = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const store = await openSqliteStore({
    filename: join(dir, "certgate.db"),
    keyring,
    // Every write on the worker thread (store/sqlite/offload.ts): the input crosses to it.
    ...(offloaded
      ? { offload: { busy: () => true, onWorker: (e: { type: string }) => e.type === "ready" && ready() } }
      : {}),
  });
  cleanups.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  if (offloaded) {
    // The first busy write starts the worker, and runs here while it starts: wait for it, so the
    // writes below, their Dates included, cross to it.
    await store.createVerification(makeVerification());
    await started;
  }
  return store;
}

async function postgres(): Promise<Store> {
  const schema = `cg_deletions_${randomBytes(6).toString("hex")}`;
  await adminQuery(`create schema ${schema}`);
  const store = await openPostgresStore({
    connectionString: POSTGRES_URL,
    keyring,
    options: `-c search_path=${schema}`,
    max: 4,
  });
  cleanups.push(async () => {
    await store.close();
    await adminQuery(`drop schema if exists ${schema} cascade`);
  });
  return store;
}

describe.each([
  ["sqlite", () => sqlite(false)],
  ["sqlite on its worker thread", () => sqlite(true)],
  ["postgres", postgres],
] as const)("owed upstream deletions: %s", (_, open) => {
  /** A pending verification completed with `upstreamId`, owing its deletion when `dueAt` is given. */
  async function complete(store: Store, upstreamId: string, dueAt: Date | undefined) {
    const v = makeVerification();
    await store.createVerification(v);
    const result = await store.completeVerification({
      verificationId: v.id,
      upstreamId,
      decision: verified(makeIdentity()),
      now: NOW,
      upstreamDeletionDueAt: dueAt,
    });
    return { v, result };
  }
  const claim = (store: Store, at: Date, limit = 10) =>
    store.claimUpstreamDeletions({ now: at, limit, leaseUntil: new Date(at.getTime() + MINUTE) });

  it("owes a deletion only for a record this completion consumed, and only when asked", async () => {
    const store = await open();
    const upstreamId = uid("imp");
    const owed = await complete(store, upstreamId, later(MINUTE));
    expect(owed.result.kind).toBe("finished");
    const notAsked = await complete(store, uid("imp"), undefined);
    expect(notAsked.result.kind).toBe("finished");
    // The same record presented to another verification: refused, and owed by its first only.
    const reused = await complete(store, upstreamId, later(MINUTE));
    expect(reused.result).toMatchObject({ kind: "finished", verification: { reason: "already_used" } });
    // A replay of a finished verification writes nothing.
    const replay = await store.completeVerification({
      verificationId: notAsked.v.id,
      upstreamId: uid("imp"),
      decision: verified(makeIdentity()),
      now: NOW,
      upstreamDeletionDueAt: later(MINUTE),
    });
    expect(replay.kind).toBe("replayed");

    // Not due before its time; then the one owed, once.
    expect(await claim(store, later(MINUTE - 1))).toEqual([]);
    expect(await claim(store, later(MINUTE))).toEqual([
      { upstreamId, verificationId: owed.v.id, attempts: 1 },
    ]);
  });

  it("claims under a lease, reschedules, and settles once with an audit event", async () => {
    const store = await open();
    const upstreamId = uid("imp");
    const { v } = await complete(store, upstreamId, NOW);
    const [first] = await claim(store, NOW);
    expect(first).toEqual({ upstreamId, verificationId: v.id, attempts: 1 });
    // Leased for a minute: no one claims it meanwhile.
    expect(await claim(store, later(MINUTE - 1))).toEqual([]);
    // Failed: tried again when the store is told, not before.
    await store.scheduleUpstreamDeletion({ upstreamId, dueAt: later(5 * MINUTE), attempts: 1 });
    expect(await claim(store, later(2 * MINUTE))).toEqual([]);
    expect(await claim(store, later(5 * MINUTE))).toEqual([
      { upstreamId, verificationId: v.id, attempts: 2 },
    ]);

    expect(await store.upstreamDeletionBacklog()).toEqual({ owed: 1, oldestCreatedAt: NOW });
    expect(await store.markUpstreamDeleted(upstreamId, later(5 * MINUTE), "deleted")).toBe(true);
    expect(await store.upstreamDeletionBacklog()).toEqual({ owed: 0, oldestCreatedAt: undefined });
    expect(await store.markUpstreamDeleted(upstreamId, later(5 * MINUTE), "not_found")).toBe(false);
    expect(await claim(store, later(24 * 60 * MINUTE))).toEqual([]);
    const audit = (await store.listAuditEvents(v.id)).filter((e) => e.type === "upstream.deleted");
    expect(audit.map((e) => e.data)).toEqual([{ api_version: "v1", attempts: 2, upstream: "deleted" }]);
    expect(audit[0]?.createdAt).toEqual(later(5 * MINUTE));
  });

  it("a claimer whose lease ran out cannot reschedule what another claimed since", async () => {
    const store = await open();
    const upstreamId = uid("imp");
    await complete(store, upstreamId, NOW);
    const [slow] = await claim(store, NOW);
    // The slow claimer's lease ran out; another instance claims (attempt 2), leased until 3 min.
    const [fast] = await claim(store, later(2 * MINUTE));
    expect([slow?.attempts, fast?.attempts]).toEqual([1, 2]);
    // The slow one fails and would reschedule at 2 min 30 s: inside the other's lease.
    await store.scheduleUpstreamDeletion({ upstreamId, dueAt: later(2.5 * MINUTE), attempts: 1 });
    expect(await claim(store, later(2.5 * MINUTE))).toEqual([]);
    // The current claimer's reschedule holds.
    await store.scheduleUpstreamDeletion({ upstreamId, dueAt: later(10 * MINUTE), attempts: 2 });
    expect(await claim(store, later(9 * MINUTE))).toEqual([]);
    expect((await claim(store, later(10 * MINUTE))).map((c) => c.attempts)).toEqual([3]);
  });

  it("the same holds for recovery checks of pending V2 verifications", async () => {
    const store = await open();
    const v = makeVerification({ apiVersion: "v2", boundId: uid("idv") });
    await store.createVerification(v);
    const claimChecks = (at: Date) =>
      store.claimRecoveryChecks({
        now: at,
        limit: 10,
        leaseUntil: new Date(at.getTime() + MINUTE),
        createdBefore: at,
      });
    const [slow] = await claimChecks(NOW);
    const [fast] = await claimChecks(later(2 * MINUTE));
    expect([slow?.checks, fast?.checks]).toEqual([1, 2]);
    await store.scheduleRecoveryCheck({ verificationId: v.id, nextCheckAt: later(2.5 * MINUTE), checks: 1 });
    expect(await claimChecks(later(2.5 * MINUTE))).toEqual([]);
    await store.scheduleRecoveryCheck({ verificationId: v.id, nextCheckAt: later(5 * MINUTE), checks: 2 });
    expect(await claimChecks(later(4 * MINUTE))).toEqual([]);
    expect((await claimChecks(later(5 * MINUTE))).map((c) => c.checks)).toEqual([3]);
  });

  it("claims the longest due first, at most `limit`", async () => {
    const store = await open();
    const ids = [uid("imp"), uid("imp"), uid("imp")];
    for (const [i, id] of ids.entries()) await complete(store, id, later(-i * MINUTE));
    const claimed = await claim(store, NOW, 2);
    expect(claimed.map((c) => c.upstreamId).sort()).toEqual([ids[2], ids[1]].sort());
    expect((await claim(store, NOW, 2)).map((c) => c.upstreamId)).toEqual([ids[0]]);
  });
});
