/**
 * Two real `certgate serve` processes on one PostgreSQL schema, webhooks on:
 * - started at the same moment, both migrate at startup: the test holds Kysely's migration lock (a
 *   PostgreSQL advisory lock) until both wait on it, so they are certain to race for it; both must
 *   serve, with each migration applied once;
 * - the same completion (imp_uid + merchant_uid) sent many times to both at once: exactly one 200
 *   verified, every other copy 409 already_used, no 5xx;
 * - one person on many verifications completed at once across both: exactly one 200 verified, every
 *   other 422 duplicate_account naming the winner's account_ref, no 5xx;
 * - then every database invariant of `checkInvariants` holds, every outbox event is delivered, and
 *   both stop cleanly.
 */
import { randomInt } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PG_URL } from "../integration/harness.js";
import { RELIABILITY_TIMEOUT_MS, scaled } from "./scale.js";
import {
  type Answer,
  checkInvariants,
  completionBody,
  createTestDatabase,
  createVerification,
  inBatches,
  killAllServices,
  MIGRATION_NAMES,
  outboxIds,
  postJson,
  type ServiceProcess,
  serviceEnv,
  startService,
  startUpstream,
  startWebhookReceiver,
  type TestDatabase,
  undeliveredEvents,
  waitFor,
} from "./service-process.js";

/** Kysely's PostgreSQL migration lock (PostgresAdapter's LOCK_ID), taken with pg_advisory_lock. */
const KYSELY_MIGRATION_LOCK_ID = "3853314791062309107";

const STARTUP_ROUNDS = scaled(1, 4);
const RACE_ROUNDS = scaled(1, 6);
/** Same imp_uid: verifications per round, copies of each completion sent to each instance. */
const SAME_UID_VERIFICATIONS = scaled(6, 20);
const COPIES_PER_INSTANCE = scaled(8, 12);
/** Same person: persons per round, verifications per person. */
const SAME_PERSON_PERSONS = scaled(3, 8);
const VERIFICATIONS_PER_PERSON = scaled(8, 16);

let upstream: Awaited<ReturnType<typeof startUpstream>>;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
const databases: TestDatabase[] = [];
const processes: ServiceProcess[] = [];
let db: TestDatabase | undefined;
let pair: [ServiceProcess, ServiceProcess] | undefined;
const run = randomInt(1e9).toString(36);

beforeAll(async () => {
  upstream = await startUpstream();
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  killAllServices();
  for (const d of databases) await d.drop().catch(() => {});
  await receiver?.close();
  await upstream?.close();
});

/**
 * Starts two services on `database` so that both are inside the migration step at once: the lock is
 * held here until both wait on it (seen in pg_stat_activity by their application_name), then freed.
 */
async function startPairRacingMigrations(database: TestDatabase): Promise<[ServiceProcess, ServiceProcess]> {
  const names = [`${database.schema}_a`, `${database.schema}_b`] as const;
  const gate = new pg.Client(PG_URL);
  await gate.connect();
  try {
    await gate.query(`select pg_advisory_lock(${KYSELY_MIGRATION_LOCK_ID})`);
    let failed: unknown;
    const starting = names.map((name) =>
      startService(
        serviceEnv({
          databaseUrl: `${database.url}&application_name=${name}`,
          upstreamUrl: upstream.url,
          webhookUrl: receiver.url,
        }),
      ).then(
        (service) => {
          processes.push(service);
          return service;
        },
        (error: unknown) => {
          failed = error;
          throw error;
        },
      ),
    );
    for (const p of starting) p.catch(() => {}); // observed through `failed` and awaited below
    await waitFor(
      "both instances to wait on the migration lock",
      async () => {
        if (failed !== undefined) return true;
        const { rows } = await gate.query<{ n: number }>(
          `select cast(count(distinct application_name) as integer) as n from pg_stat_activity
           where application_name = any($1) and wait_event_type = 'Lock' and wait_event = 'advisory'`,
          [names],
        );
        return rows[0]?.n === 2;
      },
      60_000,
    );
    await gate.query(`select pg_advisory_unlock(${KYSELY_MIGRATION_LOCK_ID})`);
    const [a, b] = await Promise.all(starting);
    if (!a || !b) throw new Error("two instances expected");
    return [a, b];
  } finally {
    await gate.end();
  }
}

/** What one completion answer says, for the race assertions. */
function outcome(answer: Answer) {
  if (answer.kind === "network") return { status: answer.cause, code: undefined, existing: undefined };
  const body = completionBody.safeParse(answer.body);
  return {
    status: answer.status,
    code: body.success ? (body.data.error?.code ?? body.data.verification.status) : "unparsable",
    existing: body.success ? body.data.verification.existing_account_ref : undefined,
  };
}

/** The URL of instance `i % 2`. */
const urlOf = (instances: readonly [ServiceProcess, ServiceProcess], i: number) =>
  (i % 2 === 0 ? instances[0] : instances[1]).url;

const adult = (label: string, index: number) => ({
  name: `Race Tester ${index}`,
  birthday: "1988-11-03",
  seed: `race-${run}-${label}`,
});

describe("two instances on one PostgreSQL", () => {
  it("started at the same moment, both migrate safely and serve", {
    timeout: RELIABILITY_TIMEOUT_MS,
  }, async () => {
    for (let round = 1; round <= STARTUP_ROUNDS; round++) {
      const database = await createTestDatabase("postgres");
      databases.push(database);
      const started = await startPairRacingMigrations(database);
      const migrations = await database.query<{ name: string }>(
        "select name from kysely_migration order by name",
      );
      expect(migrations.map((m) => m.name)).toEqual(MIGRATION_NAMES);
      const tables = await database.query<{ table_name: string }>(
        `select table_name from information_schema.tables where table_schema = '${database.schema}'
           order by table_name`,
      );
      expect(tables.map((t) => t.table_name)).toEqual([
        "accounts",
        "audit_events",
        "consumed_ids",
        "idempotency_keys",
        "kysely_migration",
        "kysely_migration_lock",
        "persons",
        "upstream_deletions",
        "verifications",
        "webhook_outbox",
      ]);
      for (const service of started) {
        expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
      }
      if (round < STARTUP_ROUNDS) {
        expect(await Promise.all(started.map((s) => s.stop()))).toEqual([0, 0]);
      } else {
        db = database;
        pair = started;
      }
    }
    console.log(JSON.stringify({ test: "two-instances", startup_races: STARTUP_ROUNDS }));
  });

  it("the same imp_uid sent to both at once: one verified, every other copy already_used", {
    timeout: RELIABILITY_TIMEOUT_MS,
  }, async () => {
    if (!pair) throw new Error("the instances did not start");
    const instances = pair;
    upstream.emulator.setFault({ route: "getCertification", kind: "latency", latencyMs: 5 });
    let sent = 0;
    try {
      for (let round = 1; round <= RACE_ROUNDS; round++) {
        const prepared = await inBatches(
          Array.from({ length: SAME_UID_VERIFICATIONS }, (_, i) => i),
          10,
          async (i) => {
            const v = await createVerification(urlOf(instances, i), {
              account_ref: `uid-${run}-${round}-${i}`,
            });
            const record = upstream.emulator.createCertification({
              person: adult(`uid-${round}-${i}`, i),
              merchant_uid: v.merchant_uid,
            });
            return { ...v, imp_uid: record.imp_uid };
          },
        );
        const copies = prepared.flatMap((v) =>
          instances.flatMap((instance) =>
            Array.from({ length: COPIES_PER_INSTANCE }, () => ({ v, url: instance.url })),
          ),
        );
        const answers = await Promise.all(
          copies.map(({ v, url }) =>
            postJson(`${url}/certifications`, { imp_uid: v.imp_uid, merchant_uid: v.merchant_uid }).then(
              (answer) => ({ id: v.id, ...outcome(answer) }),
            ),
          ),
        );
        sent += answers.length;
        for (const v of prepared) {
          const mine = answers.filter((a) => a.id === v.id);
          const verified = mine.filter((a) => a.status === 200);
          expect({ id: v.id, verified: verified.map((a) => a.code) }).toEqual({
            id: v.id,
            verified: ["verified"],
          });
          expect(mine.filter((a) => a.status !== 200).map((a) => [a.status, a.code])).toEqual(
            Array(mine.length - 1).fill([409, "already_used"]),
          );
        }
      }
    } finally {
      upstream.emulator.clearFaults();
    }
    console.log(
      JSON.stringify({
        test: "two-instances",
        race: "same imp_uid",
        rounds: RACE_ROUNDS,
        verifications: RACE_ROUNDS * SAME_UID_VERIFICATIONS,
        completions_sent: sent,
      }),
    );
  });

  it("one person on many verifications across both: one verified, the others duplicate_account", {
    timeout: RELIABILITY_TIMEOUT_MS,
  }, async () => {
    if (!pair) throw new Error("the instances did not start");
    const instances = pair;
    upstream.emulator.setFault({ route: "getCertification", kind: "latency", latencyMs: 5 });
    let sent = 0;
    try {
      for (let round = 1; round <= RACE_ROUNDS; round++) {
        const slots = Array.from({ length: SAME_PERSON_PERSONS * VERIFICATIONS_PER_PERSON }, (_, i) => ({
          person: `person-${round}-${i % SAME_PERSON_PERSONS}`,
          i,
        }));
        const prepared = await inBatches(slots, 10, async ({ person, i }) => {
          const accountRef = `person-${run}-${round}-${i}`;
          const v = await createVerification(urlOf(instances, i), { account_ref: accountRef });
          const record = upstream.emulator.createCertification({
            person: adult(person, i),
            merchant_uid: v.merchant_uid,
          });
          return { ...v, imp_uid: record.imp_uid, person, accountRef, url: urlOf(instances, i + 1) };
        });
        const answers = await Promise.all(
          prepared.map((v) =>
            postJson(`${v.url}/certifications`, { imp_uid: v.imp_uid, merchant_uid: v.merchant_uid }).then(
              (answer) => ({ ...v, ...outcome(answer) }),
            ),
          ),
        );
        sent += answers.length;
        for (let p = 0; p < SAME_PERSON_PERSONS; p++) {
          const person = `person-${round}-${p}`;
          const mine = answers.filter((a) => a.person === person);
          const winners = mine.filter((a) => a.status === 200);
          expect({ person, verified: winners.map((a) => a.code) }).toEqual({
            person,
            verified: ["verified"],
          });
          const winner = winners[0]?.accountRef;
          expect(mine.filter((a) => a.status !== 200).map((a) => [a.status, a.code, a.existing])).toEqual(
            Array(mine.length - 1).fill([422, "duplicate_account", winner]),
          );
        }
      }
    } finally {
      upstream.emulator.clearFaults();
    }
    console.log(
      JSON.stringify({
        test: "two-instances",
        race: "same person",
        rounds: RACE_ROUNDS,
        persons: RACE_ROUNDS * SAME_PERSON_PERSONS,
        completions_sent: sent,
      }),
    );
  });

  it("afterwards every invariant holds, every webhook is delivered, both stop cleanly", {
    timeout: RELIABILITY_TIMEOUT_MS,
  }, async () => {
    if (!pair || !db) throw new Error("the instances did not start");
    const database = db;
    const report = await checkInvariants(database, true);
    expect(report.violations).toEqual([]);
    expect(report.statuses.pending ?? 0).toBe(0);
    const [persons] = await database.query<{ n: number }>(
      "select cast(count(*) as integer) as n from persons",
    );
    // One person row per distinct person of the races, never two for one key.
    expect(persons?.n).toBe(RACE_ROUNDS * (SAME_UID_VERIFICATIONS + SAME_PERSON_PERSONS));
    const ids = await outboxIds(database);
    await waitFor(
      "every webhook to be delivered",
      async () => (await undeliveredEvents(database)) === 0 && ids.every((id) => receiver.ids.has(id)),
      scaled(60_000, 300_000),
    );
    expect(receiver.badSignatures()).toBe(0);
    // Both dispatchers poll the same outbox; a claimed event is leased to one of them, so with a
    // receiver that always answers 204 and no crash each event goes out exactly once.
    expect(receiver.deliveries()).toBe(ids.length);
    expect(await Promise.all(pair.map((s) => s.stop()))).toEqual([0, 0]);
    expect(processes.flatMap((p) => p.errorLines)).toEqual([]);
    console.log(
      JSON.stringify({
        test: "two-instances",
        final: report.statuses,
        webhook_events: ids.length,
        webhook_deliveries: receiver.deliveries(),
      }),
    );
  });
});
