/**
 * Group commit on SQLite (store/sqlite/index.ts `SqliteBatch`, used by the store's worker thread:
 * store/sqlite/worker.ts): completions run inside one transaction, each in a savepoint of its own,
 * on a real file, read back through a second connection as another process would. What a batch
 * commits is all or nothing; a completion that fails inside it is rolled back alone; and a
 * completion never commits on its own behind the batch's back.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CompletionResult, Store } from "../../src/core/store.js";
import { createKeyring } from "../../src/store/crypto.js";
import { type SqliteBatch, sqliteStoreWithBatches } from "../../src/store/sqlite/index.js";
import { makeIdentity, makeVerification, NOW, uid, verified } from "./fixtures.js";

const keyring = createKeyring({ secret: "sqlite-batch-test-secret-0000000000000000" });

let dir: string;
let database: BetterSqlite3.Database;
let store: Store;
let batch: SqliteBatch;
/** A second connection to the same file: sees only what is committed. */
let other: BetterSqlite3.Database;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "certgate-batch-"));
  database = new BetterSqlite3(join(dir, "certgate.db"));
  ({ store, batch } = sqliteStoreWithBatches(database, keyring, 5000));
  await store.migrate();
  other = new BetterSqlite3(join(dir, "certgate.db"), { readonly: true });
});

afterEach(async () => {
  other.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const createPending = () => store.createVerification(makeVerification({ accountRef: uid("acct") }));

const complete = (verificationId: string, upstreamId = uid("imp")) =>
  store.completeVerification({ verificationId, upstreamId, decision: verified(makeIdentity()), now: NOW });

/**
 * A completion that fails after its first writes (the upstream id consumed, the person created):
 * its identity's phone, not a string, cannot be sealed when the outcome is written.
 */
const completeFailingMidway = (verificationId: string, upstreamId: string) =>
  store.completeVerification({
    verificationId,
    upstreamId,
    decision: verified(makeIdentity({ phone: 42 as unknown as string })),
    now: NOW,
  });

/** The status another connection reads: what is committed. */
const committedStatus = (id: string) =>
  (other.prepare("select status from verifications where id = ?").get(id) as { status: string }).status;

const consumed = (upstreamId: string) =>
  other.prepare("select 1 from consumed_ids where upstream_id = ?").get(upstreamId) !== undefined;

describe("SQLite batch (group commit)", () => {
  it("commits the completions of a batch together, each answered as it would be alone", async () => {
    const [a, b, c] = [await createPending(), await createPending(), await createPending()];
    const seen: string[] = [];
    const results = batch(() => {
      const inside = [
        complete(a.id),
        complete("ver_missing"),
        complete(b.id),
        complete(c.id),
        complete(a.id),
      ];
      // Inside the batch nothing is committed yet, whatever the calls' promises will say.
      seen.push(committedStatus(a.id), committedStatus(c.id));
      return inside;
    });
    expect(seen).toEqual(["pending", "pending"]);
    const kinds = (await Promise.all(results)).map((r: CompletionResult) => r.kind);
    // The second completion of `a` sees the first, as it would had the first committed alone.
    expect(kinds).toEqual(["finished", "not_found", "finished", "finished", "replayed"]);
    for (const v of [a, b, c]) expect(committedStatus(v.id)).toBe("verified");
    expect((await store.listAuditEvents()).filter((e) => e.type === "verification.completed")).toHaveLength(
      3,
    );
  });

  it("rolls a completion that fails inside the batch back alone, its upstream id included", async () => {
    const [a, b, c] = [await createPending(), await createPending(), await createPending()];
    const upstreamId = uid("imp");
    const results = batch(() => [complete(a.id), completeFailingMidway(b.id, upstreamId), complete(c.id)]);
    const [first, failed, last] = await Promise.allSettled(results);
    expect(first).toMatchObject({ status: "fulfilled", value: { kind: "finished" } });
    expect(failed?.status).toBe("rejected");
    expect(last).toMatchObject({ status: "fulfilled", value: { kind: "finished" } });
    expect([committedStatus(a.id), committedStatus(b.id), committedStatus(c.id)]).toEqual([
      "verified",
      "pending",
      "verified",
    ]);
    // Its savepoint took its first write with it: the same upstream id completes it now.
    expect(consumed(upstreamId)).toBe(false);
    expect((await complete(b.id, upstreamId)).kind).toBe("finished");
  });

  it("commits nothing when the batch throws", async () => {
    const a = await createPending();
    let inside: Promise<CompletionResult> | undefined;
    expect(() =>
      batch(() => {
        inside = complete(a.id);
        throw new Error("boom");
      }),
    ).toThrow("boom");
    // The call itself went through (in its savepoint), which is why a batch's caller answers only
    // once the batch has returned.
    expect((await inside)?.kind).toBe("finished");
    expect(committedStatus(a.id)).toBe("pending");
    expect((await complete(a.id)).kind).toBe("finished");
  });

  it("never lets a completion commit on its own once SQLite has rolled the batch back", async () => {
    const [a, b] = [await createPending(), await createPending()];
    let results: Promise<CompletionResult>[] = [];
    expect(() =>
      batch(() => {
        results.push(complete(a.id));
        // As SQLite does itself on some faults (a full disk, an I/O error): the whole transaction goes.
        database.exec("ROLLBACK");
        results.push(complete(b.id));
      }),
    ).toThrow();
    const [, after] = await Promise.allSettled(results);
    expect(after).toMatchObject({
      status: "rejected",
      reason: { message: expect.stringMatching(/rolled back/) },
    });
    expect([committedStatus(a.id), committedStatus(b.id)]).toEqual(["pending", "pending"]);
    expect(database.inTransaction).toBe(false);
    results = [complete(a.id), complete(b.id)];
    expect((await Promise.all(results)).map((r) => r.kind)).toEqual(["finished", "finished"]);
  });

  it("refuses to begin inside a transaction of the connection", async () => {
    const a = await createPending();
    database.exec("BEGIN");
    try {
      expect(() => batch(() => complete(a.id))).toThrow(/inside a transaction/);
    } finally {
      database.exec("ROLLBACK");
    }
    expect(committedStatus(a.id)).toBe("pending");
  });
});
