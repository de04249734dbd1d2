/**
 * kill -9 of the real `certgate serve` while completions are in flight, on SQLite and on PostgreSQL,
 * webhooks on. Each cycle prepares a batch of verifications (fresh adults, minors, pairs of one person,
 * persons returning from an earlier cycle), fires every completion at once with upstream latencies
 * spread so some are waiting on PortOne, some inside their transaction and some answered, SIGKILLs the
 * process after a random number of answers, and restarts it on the same database. Then:
 * - the database opens cleanly: SQLite's integrity_check says ok on the files as the kill left them,
 *   and serve starts on them and migrates again (each migration still applied once);
 * - every completion answered before the kill reads as answered (durability);
 * - the invariants of `checkInvariants` hold (one account per person, one consumption per imp_uid,
 *   one audit and one outbox event per finished verification, none for a pending one);
 * - every unanswered completion, retried, reaches a final state (pending was retriable), answered
 *   replays stay 409, each person ends with exactly one verified verification and its other ones
 *   rejected duplicate_account naming that account, and the invariants still hold.
 * At the end every outbox event reaches the webhook receiver and the service stops cleanly.
 */
import { randomInt } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { DATABASES, type DatabaseKind } from "../integration/harness.js";
import { RELIABILITY_TIMEOUT_MS, scaled } from "./scale.js";
import {
  type Answer,
  checkInvariants,
  completionBody,
  createTestDatabase,
  createVerification,
  getVerification,
  inBatches,
  killAllServices,
  outboxIds,
  postJson,
  readVerifications,
  type ServiceProcess,
  serviceEnv,
  startService,
  startUpstream,
  startWebhookReceiver,
  type TestDatabase,
  undeliveredEvents,
  waitFor,
} from "./service-process.js";

const CYCLES = scaled(2, 10);
const PER_CYCLE = scaled(60, 300);
/** Upstream latency of each completion: uniform in [1, MAX_LATENCY_MS]. */
const MAX_LATENCY_MS = 150;

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  killAllServices();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

/** One completion of the batch and whom it is for. */
interface Slot {
  id: string;
  merchantUid: string;
  impUid: string;
  accountRef: string;
  /** The test's name for the person; the same label is the same CI. */
  person: string;
  minor: boolean;
}

/** The person's label → the account that won it (known once one of its verifications is verified). */
type Winners = Map<string, string>;

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

describe.each(DATABASES)("kill -9 during completions on %s", (kind: DatabaseKind) => {
  it(`${CYCLES} kill cycles of ${PER_CYCLE} completions keep every guarantee`, {
    timeout: RELIABILITY_TIMEOUT_MS,
  }, async () => {
    const upstream = await startUpstream();
    cleanups.push(upstream.close);
    const receiver = await startWebhookReceiver();
    cleanups.push(receiver.close);
    const db: TestDatabase = await createTestDatabase(kind);
    cleanups.push(db.drop);
    const env = serviceEnv({ databaseUrl: db.url, upstreamUrl: upstream.url, webhookUrl: receiver.url });
    const processes: ServiceProcess[] = [];
    const start = async () => {
      const service = await startService(env);
      processes.push(service);
      return service;
    };

    const run = randomInt(1e9).toString(36);
    const persons: string[] = [];
    const slots: Slot[] = [];
    const winners: Winners = new Map();
    const totals = { sent: 0, answered: 0, network: 0, committedUnanswered: 0, retried: 0 };
    let service = await start();

    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      // --- prepare: whose completions this batch carries ---
      const plan: { person: string; minor: boolean }[] = [];
      const returning = shuffle([...persons]).slice(0, cycle === 1 ? 0 : Math.ceil(PER_CYCLE / 12));
      for (const person of returning) plan.push({ person, minor: false });
      while (plan.length < PER_CYCLE) {
        const person = `${run}-${cycle}-${plan.length}`;
        const roll = randomInt(100);
        if (roll < 10) plan.push({ person, minor: true });
        else if (roll < 25 && plan.length + 2 <= PER_CYCLE) {
          plan.push({ person, minor: false }, { person, minor: false });
          persons.push(person);
        } else {
          plan.push({ person, minor: false });
          persons.push(person);
        }
      }
      const batch = await inBatches(plan, 10, async ({ person, minor }, index) => {
        const accountRef = `acct-${run}-${cycle}-${person}-${randomInt(1e9)}`;
        const v = await createVerification(service.url, {
          account_ref: accountRef,
          policy: { min_age: 19 },
        });
        const record = upstream.emulator.createCertification({
          person: {
            name: `Crash Tester ${index}`,
            birthday: minor ? "2015-03-14" : "1990-07-21",
            seed: `crash-${person}`,
          },
          merchant_uid: v.merchant_uid,
        });
        const slot: Slot = {
          id: v.id,
          merchantUid: v.merchant_uid,
          impUid: record.imp_uid,
          accountRef,
          person,
          minor,
        };
        return slot;
      });
      slots.push(...batch);
      shuffle(batch);

      // --- fire every completion, kill -9 after a random number of answers ---
      for (let i = 0; i < batch.length; i++) {
        upstream.emulator.setFault({
          route: "getCertification",
          kind: "latency",
          latencyMs: 1 + randomInt(MAX_LATENCY_MS),
          times: 1,
        });
      }
      const killAfter = Math.ceil(batch.length * 0.2) + randomInt(Math.ceil(batch.length * 0.4));
      let answers = 0;
      const victim = service;
      const first: Answer[] = await Promise.all(
        batch.map((slot) =>
          postJson(`${victim.url}/certifications`, {
            imp_uid: slot.impUid,
            merchant_uid: slot.merchantUid,
          }).then((answer) => {
            if (answer.kind === "answered" && ++answers === killAfter) victim.kill("SIGKILL");
            return answer;
          }),
        ),
      );
      if (answers < killAfter) victim.kill("SIGKILL"); // never left hanging; the checks below fail
      expect((await victim.exited).signal).toBe("SIGKILL");
      upstream.emulator.clearFaults();

      const answered = first.filter((a) => a.kind === "answered");
      const network = first.filter((a) => a.kind === "network");
      // The kill landed while completions were in flight: some answered, some cut off.
      expect(answered.length).toBeGreaterThanOrEqual(killAfter);
      expect(network.length).toBeGreaterThan(0);
      // Each completion was sent once: 200 verified or 422 rejected, never a replay, never a 5xx.
      expect(answered.map((a) => a.status).filter((s) => s !== 200 && s !== 422)).toEqual([]);

      // --- the files as the kill left them are sound; restarted on them, the service serves ---
      if (kind === "sqlite") expect(db.integrityCheck()).toEqual(["ok"]);
      service = await start();
      const afterKill = await checkInvariants(db, true);
      expect(afterKill.violations).toEqual([]);
      const rows = await readVerifications(db);
      const unanswered: Slot[] = [];
      batch.forEach((slot, i) => {
        const answer = first[i];
        const row = rows.get(slot.id);
        if (answer?.kind !== "answered") {
          unanswered.push(slot);
          return;
        }
        const body = completionBody.parse(answer.body);
        expect({ id: slot.id, status: row?.status, reason: row?.reason ?? undefined }).toEqual({
          id: slot.id,
          status: answer.status === 200 ? "verified" : "rejected",
          reason: answer.status === 200 ? undefined : body.error?.code,
        });
      });

      // The merchant API reads each verified one back after the restart, identity decrypted.
      const verifiedBeforeKill = batch.filter((_, i) => {
        const answer = first[i];
        return answer?.kind === "answered" && answer.status === 200;
      });
      for (const slot of verifiedBeforeKill) {
        const read = await getVerification(service.url, slot.id);
        expect({ id: slot.id, status: read.status, provider: read.identity?.provider }).toEqual({
          id: slot.id,
          status: "verified",
          provider: "danal",
        });
      }

      // --- replays of answered completions stay 409; unanswered ones, retried, finish ---
      const replays = await inBatches(
        batch.filter((_, i) => first[i]?.kind === "answered").slice(0, 10),
        10,
        (slot) =>
          postJson(`${service.url}/certifications`, { imp_uid: slot.impUid, merchant_uid: slot.merchantUid }),
      );
      expect(replays.map((a) => (a.kind === "answered" ? a.status : a.cause))).toEqual(
        replays.map(() => 409),
      );
      const retries = await Promise.all(
        unanswered.map((slot) =>
          postJson(`${service.url}/certifications`, { imp_uid: slot.impUid, merchant_uid: slot.merchantUid }),
        ),
      );
      const retryStatuses = retries.map((a) => (a.kind === "answered" ? a.status : a.cause));
      expect(retryStatuses.filter((s) => s !== 200 && s !== 409 && s !== 422)).toEqual([]);
      const committedUnanswered = retryStatuses.filter((s) => s === 409).length;

      // --- every verification of the run is final, each person has one winner ---
      const final = await checkInvariants(db, true);
      expect(final.violations).toEqual([]);
      expect(final.statuses.pending ?? 0).toBe(0);
      const finalRows = await readVerifications(db);
      for (const slot of slots) {
        const row = finalRows.get(slot.id);
        if (slot.minor) {
          expect({ id: slot.id, status: row?.status, reason: row?.reason }).toEqual({
            id: slot.id,
            status: "rejected",
            reason: "underage",
          });
        } else if (row?.status === "verified") {
          expect({ person: slot.person, winner: winners.get(slot.person) ?? slot.accountRef }).toEqual({
            person: slot.person,
            winner: slot.accountRef,
          });
          winners.set(slot.person, slot.accountRef);
        }
      }
      for (const slot of slots) {
        if (slot.minor) continue;
        const row = finalRows.get(slot.id);
        const winner = winners.get(slot.person);
        expect(winner, `person ${slot.person} has a verified verification`).toBeDefined();
        if (row?.status !== "verified") {
          expect({
            id: slot.id,
            status: row?.status,
            reason: row?.reason,
            existing: row?.existing_account_ref,
          }).toEqual({ id: slot.id, status: "rejected", reason: "duplicate_account", existing: winner });
        }
      }

      totals.sent += batch.length;
      totals.answered += answered.length;
      totals.network += network.length;
      totals.committedUnanswered += committedUnanswered;
      totals.retried += unanswered.length;
      console.log(
        JSON.stringify({
          test: "crash",
          db: kind,
          cycle,
          sent: batch.length,
          kill_after_answers: killAfter,
          answered_before_kill: answered.length,
          network_errors: network.length,
          network_causes: [...new Set(network.map((a) => a.cause))],
          retried: unanswered.length,
          retry_committed_before_kill_409: committedUnanswered,
          retry_finished_now: unanswered.length - committedUnanswered,
          final: final.statuses,
        }),
      );
    }

    // --- every outbox event reaches the receiver, signed; then a clean stop ---
    const ids = await outboxIds(db);
    await waitFor(
      "every webhook to be delivered",
      async () => (await undeliveredEvents(db)) === 0 && ids.every((id) => receiver.ids.has(id)),
      scaled(60_000, 600_000),
    );
    expect(receiver.badSignatures()).toBe(0);
    expect(await service.stop()).toBe(0);
    if (kind === "sqlite") expect(db.integrityCheck()).toEqual(["ok"]);
    expect((await checkInvariants(db, true)).violations).toEqual([]);
    expect(processes.flatMap((p) => p.errorLines)).toEqual([]);
    console.log(
      JSON.stringify({
        test: "crash",
        db: kind,
        cycles: CYCLES,
        completions_sent: totals.sent,
        answered_before_kill: totals.answered,
        network_errors: totals.network,
        retried: totals.retried,
        retry_committed_before_kill_409: totals.committedUnanswered,
        persons: winners.size,
        webhook_events: ids.length,
        webhook_deliveries: receiver.deliveries(),
      }),
    );
  });
});
