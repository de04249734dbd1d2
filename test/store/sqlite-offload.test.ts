/**
 * The SQLite store with its worker thread (store/sqlite/offload.ts), on a real file and real
 * threads: writes go to the worker while `busy()` holds and stay on the calling thread otherwise;
 * the two connections' transactions wait for each other instead of failing; a worker that dies in
 * the middle of a call fails that call as a `StoreError` "unavailable", loses nothing committed,
 * and the next write starts a new worker. The whole store contract also runs with every write on
 * the worker (store-contract.test.ts).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { StoreError } from "../../src/core/errors.js";
import type { Store } from "../../src/core/store.js";
import { createKeyring, keyringOptionsOf } from "../../src/store/crypto.js";
import { openSqliteStore, type WorkerEvent } from "../../src/store/sqlite/index.js";
import { offloadingStore } from "../../src/store/sqlite/offload.js";
import { makeIdentity, makeVerification, NOW, uid, verified } from "./fixtures.js";

const keyring = createKeyring({ secret: "sqlite-offload-test-secret-000000000000" });

let dir: string;
let store: Store;
/** What the store's `busy()` answers: flipped by the tests to send writes to one thread or the other. */
let busy = true;
/** What the store told of its worker, in order. */
let events: WorkerEvent["type"][];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "certgate-offload-"));
  busy = true;
  events = [];
  let ready = () => {};
  const started = new Promise<void>((resolve) => {
    ready = resolve;
  });
  store = await openSqliteStore({
    filename: join(dir, "certgate.db"),
    keyring,
    offload: {
      busy: () => busy,
      onWorker(event) {
        events.push(event.type);
        if (event.type === "ready") ready();
      },
    },
  });
  // The first busy write starts the worker (and runs here while it starts).
  await createPending();
  await started;
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A pending verification with an account: a completion creates its person and binds it. */
const newVerification = () => makeVerification({ accountRef: uid("acct") });

const createPending = () => store.createVerification(newVerification());

function complete(verificationId: string, person = makeIdentity(), upstreamId = uid("imp")) {
  return store.completeVerification({ verificationId, upstreamId, decision: verified(person), now: NOW });
}

describe("SQLite store with its worker thread", () => {
  it("finishes what either thread wrote, and each thread reads what the other committed", async () => {
    busy = true;
    const onWorker = await createPending();
    busy = false;
    const here = await createPending();
    busy = true;
    expect((await complete(here.id)).kind).toBe("finished");
    busy = false;
    expect((await complete(onWorker.id)).kind).toBe("finished");
    for (const id of [onWorker.id, here.id]) {
      const read = await store.getVerification(id);
      expect(read?.status).toBe("verified");
      expect(read?.identity?.name).toBe("김테스트");
    }
    expect((await store.listAuditEvents()).filter((e) => e.type === "verification.completed")).toHaveLength(
      2,
    );
  });

  it("answers one completion of a verification and replays the others, sent to both threads", async () => {
    const pending = await createPending();
    const person = makeIdentity();
    // The first runs here (the worker has nothing in hand); the rest queue on the worker.
    busy = false;
    const first = complete(pending.id, person);
    busy = true;
    const rest = Array.from({ length: 9 }, () => complete(pending.id, person));
    const results = await Promise.all([first, ...rest]);
    expect(results.filter((r) => r.kind === "finished")).toHaveLength(1);
    expect(results.filter((r) => r.kind === "replayed")).toHaveLength(9);
  });

  it("has a completion on the worker wait for another connection's write, then read what it committed", async () => {
    const pending = await createPending();
    // Another connection (another process, or this thread's own) holds the write lock and commits
    // while the worker's completion is under way: begun IMMEDIATE, the completion waits for the
    // lock and then reads the new state; begun deferred, it would read first and fail with
    // SQLITE_BUSY_SNAPSHOT at its first write.
    const other = new BetterSqlite3(join(dir, "certgate.db"));
    try {
      other.exec("BEGIN IMMEDIATE");
      other
        .prepare(
          "insert into audit_events (verification_id, type, data_json, created_at) values (?, ?, ?, ?)",
        )
        .run(pending.id, "test.other_connection", "{}", NOW.getTime());
      busy = true;
      const completion = complete(pending.id);
      await new Promise((resolve) => setTimeout(resolve, 200));
      other.exec("COMMIT");
      expect((await completion).kind).toBe("finished");
    } finally {
      other.close();
    }
    const types = (await store.listAuditEvents(pending.id)).map((e) => e.type);
    expect(types).toEqual(["test.other_connection", "verification.completed"]);
  });

  it("lets a withdrawal's transaction here and completions on the worker wait for each other", async () => {
    const bound = await createPending();
    expect((await complete(bound.id)).kind).toBe("finished");
    const others = await Promise.all(Array.from({ length: 10 }, () => createPending()));
    busy = false;
    const withdrawal = store.unbindAccount(bound.accountRef ?? "", NOW);
    busy = true;
    const completions = others.map((v) => complete(v.id));
    expect(await withdrawal).toBe(true);
    const results = await Promise.all(completions);
    expect(results.map((r) => r.kind)).toEqual(others.map(() => "finished"));
    expect(await store.isAccountBound(bound.accountRef ?? "")).toBe(false);
    for (const v of others) expect(await store.isAccountBound(v.accountRef ?? "")).toBe(true);
  });

  it("commits a burst of completions on the worker, answering each only once it is committed, a failing one alone", async () => {
    busy = true;
    const pendings = await Promise.all(Array.from({ length: 24 }, () => createPending()));
    const failing = pendings[7]?.id ?? "";
    const upstreamId = uid("imp");
    const other = new BetterSqlite3(join(dir, "certgate.db"), { readonly: true });
    try {
      const committed = (id: string) =>
        (other.prepare("select status from verifications where id = ?").get(id) as { status: string }).status;
      // Sent in one burst: the worker finds them queued behind the first and commits them in
      // batches (store/sqlite/worker.ts), each in a savepoint of its own.
      const calls = pendings.map(({ id }) => {
        const call =
          id === failing
            ? store.completeVerification({
                verificationId: id,
                upstreamId,
                // Fails after its first writes: a phone that is no string cannot be sealed.
                decision: verified(makeIdentity({ phone: 42 as unknown as string })),
                now: NOW,
              })
            : complete(id);
        // What another connection reads the moment the answer arrives.
        return call.then((result) => ({ kind: result.kind, committed: committed(id) }));
      });
      const settled = await Promise.allSettled(calls);
      for (const [i, outcome] of settled.entries()) {
        if (pendings[i]?.id === failing) expect(outcome.status).toBe("rejected");
        else
          expect(outcome).toEqual({
            status: "fulfilled",
            value: { kind: "finished", committed: "verified" },
          });
      }
      expect(committed(failing)).toBe("pending");
    } finally {
      other.close();
    }
    // The failed one left nothing behind, its upstream id included: it completes with it now.
    expect((await complete(failing, makeIdentity(), upstreamId)).kind).toBe("finished");
    expect(events).toEqual(["ready"]);
  });

  it("fails a call whose arguments cannot cross to the worker, and nothing else", async () => {
    busy = true;
    const unclonable = { ...newVerification(), toJSON: () => "a function cannot be cloned" };
    await expect(store.createVerification(unclonable)).rejects.toMatchObject({ name: "DataCloneError" });
    // The worker is as it was: the next write goes to it and succeeds; nothing was left pending.
    const pending = await createPending();
    expect((await complete(pending.id)).kind).toBe("finished");
    expect(events).toEqual(["ready"]);
  });

  it("starts one worker, and tells when it is ready", async () => {
    busy = true;
    await Promise.all(Array.from({ length: 5 }, () => createPending()));
    expect(events).toEqual(["ready"]);
  });

  it("keeps a process that awaits close() with calls in flight alive until the worker has closed", async () => {
    // A process of its own: the event loop emptying under an awaited close() is what is tested.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "test/store/offload-workers/close-with-calls-in-flight.ts", join(dir, "child")],
      { timeout: 30_000 },
    );
    expect(stdout).toBe("closed\n");
  });
});

describe("SQLite store with a worker that fails", () => {
  /**
   * The store of this test's file with its writes on a worker of module `entry` (offload-workers/),
   * once the worker has said `until` (after a first write, which starts it).
   */
  async function offloadedTo(entry: string, until: WorkerEvent["type"]): Promise<Store> {
    const filename = join(dir, "certgate.db");
    const keyringOptions = keyringOptionsOf(keyring);
    if (keyringOptions === undefined) throw new Error("the keyring cannot be handed over");
    let heard = () => {};
    const told = new Promise<void>((resolve) => {
      heard = resolve;
    });
    const offloaded = offloadingStore(await openSqliteStore({ filename, keyring }), {
      filename,
      keyringOptions,
      busyTimeoutMs: 5_000,
      autocheckpointPages: undefined,
      busy: () => true,
      onWorker(event) {
        events.push(event.type);
        if (event.type === until) heard();
      },
      entry: new URL(`./offload-workers/${entry}`, import.meta.url).href,
    });
    await offloaded.createVerification(newVerification());
    await told;
    return offloaded;
  }

  it("fails the call a dying worker had in hand as store unavailable, answers it again from what was stored, and goes on", async () => {
    events = [];
    const offloaded = await offloadedTo("dies-on-crash-call.ts", "ready");
    try {
      const complete = (verificationId: string, upstreamId: string) =>
        offloaded.completeVerification({
          verificationId,
          upstreamId,
          decision: verified(makeIdentity()),
          now: NOW,
        });
      const before = await offloaded.createVerification(newVerification());
      expect((await complete(before.id, uid("imp"))).kind).toBe("finished");
      const crashed = await offloaded.createVerification(newVerification());

      // The worker commits the completion, then dies before answering it.
      const failed = await complete(crashed.id, "imp_crash").catch((error: unknown) => error);
      expect(failed).toBeInstanceOf(StoreError);
      expect(failed).toMatchObject({ code: "unavailable", dialect: "sqlite", driverCode: "worker_exited" });
      // Committed whole: asked again, the completion is answered from what was stored.
      expect((await offloaded.getVerification(crashed.id))?.status).toBe("verified");
      const again = await complete(crashed.id, uid("imp"));
      expect(again).toMatchObject({ kind: "replayed", verification: { status: "verified" } });
      // And the store goes on: earlier work intact, new work done.
      expect((await offloaded.getVerification(before.id))?.status).toBe("verified");
      const after = await offloaded.createVerification(newVerification());
      expect((await complete(after.id, uid("imp"))).kind).toBe("finished");
      // The write after the crash started a new worker (running here while it started). From the
      // TypeScript source a worker compiles its modules as it starts: seconds on a loaded machine.
      await vi.waitFor(() => expect(events).toEqual(["ready", "exited", "ready"]), { timeout: 20_000 });
    } finally {
      await offloaded.close();
    }
  }, 60_000);

  it("runs every write on the calling thread when its worker cannot start", async () => {
    events = [];
    const offloaded = await offloadedTo("cannot-start.ts", "failed_to_start");
    try {
      const created = await Promise.all(
        Array.from({ length: 3 }, () => offloaded.createVerification(newVerification())),
      );
      const results = await Promise.all(
        created.map((v) =>
          offloaded.completeVerification({
            verificationId: v.id,
            upstreamId: uid("imp"),
            decision: verified(makeIdentity()),
            now: NOW,
          }),
        ),
      );
      expect(results.map((r) => r.kind)).toEqual(["finished", "finished", "finished"]);
      expect(events).toEqual(["failed_to_start"]);
    } finally {
      await offloaded.close();
    }
  });
});
