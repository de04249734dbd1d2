/**
 * How the SQLite store's worker runs the calls it is handed (store/sqlite/calls.ts), on a real file
 * and a real MessageChannel, in this thread: the completions queued together commit as ONE
 * transaction (counted in the WAL's own commit records), each answered only once another
 * connection reads it committed; a batch whose BEGIN meets another connection's lock past the busy
 * timeout is answered with that fault at once, not run again. The worker thread itself, with
 * offload.ts around it: sqlite-offload.test.ts.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MessageChannel, Worker } from "node:worker_threads";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Store } from "../../src/core/store.js";
import { createKeyring } from "../../src/store/crypto.js";
import { createCallHandler } from "../../src/store/sqlite/calls.js";
import { sqliteStoreWithBatches } from "../../src/store/sqlite/index.js";
import type { WorkerMessage, WorkerRequest } from "../../src/store/sqlite/wire.js";
import { makeIdentity, makeVerification, NOW, uid, verified } from "./fixtures.js";

const keyring = createKeyring({ secret: "sqlite-calls-test-secret-0000000000000000" });
/** The store connection's busy timeout here, ms. */
const BUSY_MS = 200;

let dir: string;
let file: string;
let store: Store;
let other: BetterSqlite3.Database;
let channel: MessageChannel;
let ended: number;
/** The status another connection read for each verification the moment its answer arrived. */
let committedOnAnswer: Map<number, string>;
const waiting = new Map<number, (message: WorkerMessage) => void>();
const verificationOf = new Map<number, string>();
let nextId = 1;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "certgate-calls-"));
  file = join(dir, "certgate.db");
  const database = new BetterSqlite3(file);
  const opened = sqliteStoreWithBatches(database, keyring, BUSY_MS);
  store = opened.store;
  await store.migrate();
  // No automatic checkpoint: the WAL keeps every commit record for the tests to count.
  database.pragma("wal_autocheckpoint = 0");
  other = new BetterSqlite3(file, { readonly: true });
  ended = 0;
  committedOnAnswer = new Map();
  channel = new MessageChannel();
  channel.port1.on(
    "message",
    createCallHandler({ port: channel.port1, ...opened, database, end: () => ended++ }),
  );
  channel.port2.on("message", (message: WorkerMessage) => {
    if (!("id" in message)) return;
    const verificationId = verificationOf.get(message.id);
    if (verificationId !== undefined) committedOnAnswer.set(message.id, committed(verificationId));
    waiting.get(message.id)?.(message);
  });
});

afterEach(async () => {
  channel.port1.close();
  channel.port2.close();
  other.close();
  await store.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

const committed = (id: string) =>
  (other.prepare("select status from verifications where id = ?").get(id) as { status: string }).status;

/** Posts a request as offload.ts does; resolves with its answer. */
function send(request: Omit<WorkerRequest, "id">): { id: number; answer: Promise<WorkerMessage> } {
  const id = nextId++;
  const answer = new Promise<WorkerMessage>((resolve) => waiting.set(id, resolve));
  channel.port2.postMessage({ id, ...request });
  return { id, answer };
}

function sendCompletion(verificationId: string) {
  const sent = send({
    method: "completeVerification",
    args: [{ verificationId, upstreamId: uid("imp"), decision: verified(makeIdentity()), now: NOW }],
  });
  verificationOf.set(sent.id, verificationId);
  return sent;
}

const createPending = () => store.createVerification(makeVerification({ accountRef: uid("acct") }));

/** Commit records in the WAL: frames of the current WAL whose header gives the database's size. */
function commitsInWal(): number {
  const wal = readFileSync(`${file}-wal`);
  if (wal.length < 32) return 0;
  const pageSize = wal.readUInt32BE(8);
  const [salt1, salt2] = [wal.readUInt32BE(16), wal.readUInt32BE(20)];
  let commits = 0;
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    if (wal.readUInt32BE(at + 8) !== salt1 || wal.readUInt32BE(at + 12) !== salt2) break;
    if (wal.readUInt32BE(at + 4) !== 0) commits++;
  }
  return commits;
}

describe("the SQLite store worker's calls", () => {
  it("commits completions queued together as one transaction, answering each once it is committed", async () => {
    const pendings = await Promise.all(Array.from({ length: 24 }, () => createPending()));
    const before = commitsInWal();
    // Posted in one go, as offload.ts does while the worker is busy: all queued behind the first.
    const sent = pendings.map((v) => sendCompletion(v.id));
    const answers = await Promise.all(sent.map((s) => s.answer));
    expect(commitsInWal() - before).toBe(1);
    for (const [i, answer] of answers.entries()) {
      expect(answer).toMatchObject({ ok: true, value: { kind: "finished" } });
      expect(committedOnAnswer.get(sent[i]?.id ?? 0)).toBe("verified");
    }
    // One alone commits alone, at once.
    const single = await createPending();
    const beforeSingle = commitsInWal();
    expect(await sendCompletion(single.id).answer).toMatchObject({ ok: true });
    expect(commitsInWal() - beforeSingle).toBe(1);
  });

  it("answers a batch whose BEGIN met another connection's lock with that fault, and runs none of it again", async () => {
    const pendings = await Promise.all(Array.from({ length: 6 }, () => createPending()));
    // Another thread's connection holds the write lock for the busy timeout and 300 ms more. Run
    // again one by one, the completions would wait past its release and the later ones commit.
    const locker = new Worker(
      `const { parentPort, workerData } = require("node:worker_threads");
       const db = new (require(workerData.module))(workerData.file);
       db.exec("BEGIN IMMEDIATE");
       parentPort.postMessage("locked");
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.holdMs);
       db.exec("COMMIT");
       db.close();`,
      {
        eval: true,
        workerData: {
          module: createRequire(import.meta.url).resolve("better-sqlite3"),
          file,
          holdMs: BUSY_MS + 300,
        },
      },
    );
    const exited = new Promise((resolve) => locker.once("exit", resolve));
    await new Promise((resolve) => locker.once("message", resolve));
    const answers = await Promise.all(pendings.map((v) => sendCompletion(v.id).answer));
    for (const answer of answers) {
      expect(answer).toMatchObject({ ok: false, error: { name: "StoreError", code: "busy" } });
    }
    await exited;
    for (const v of pendings) expect(committed(v.id)).toBe("pending");
    expect(ended).toBe(0);
  });
});
