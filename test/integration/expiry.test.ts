/**
 * The expiry sweeper, on SQLite and PostgreSQL, V1 and V2: pending verifications past their expiry
 * are finished as `expired` with their audit row and `verification.expired` event, once — also with
 * two service instances sweeping one PostgreSQL database at the same moment.
 */
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_ADAPTERS, API_VERSIONS } from "./api-versions.js";
import { auth, DATABASES, type Harness, PG_URL, startHarness } from "./harness.js";

/** Sets a verification's api_version behind the store's back (a row it refuses to read). */
async function setApiVersion(h: Harness, id: string, apiVersion: string) {
  if (h.sqliteFile !== undefined) {
    const db = new BetterSqlite3(h.sqliteFile);
    try {
      db.prepare("update verifications set api_version = ? where id = ?").run(apiVersion, id);
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client(PG_URL);
  await client.connect();
  try {
    await client.query(`update ${h.pgSchema}.verifications set api_version = $1 where id = $2`, [
      apiVersion,
      id,
    ]);
  } finally {
    await client.end();
  }
}

async function statusOf(h: Harness, id: string) {
  const res = await h.api(`/api/verifications/${id}`, { headers: auth });
  return ((await res.json()) as { verification: { status: string; reason: string | null } }).verification;
}

/** Per verification: how many `verification.expired` outbox events and completion audit rows. */
async function expiryTrail(h: Harness, ids: readonly string[]) {
  const events = await h.store.listWebhookEvents({ since: new Date(0), limit: 10_000 });
  return Promise.all(
    ids.map(async (id) => ({
      events: events.filter((e) => e.verificationId === id).map((e) => e.type),
      audit: (await h.store.listAuditEvents(id)).filter((e) => e.type === "verification.completed").length,
    })),
  );
}

describe.each(DATABASES)("the expiry sweeper on %s", (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind, { emitEvents: true });
  });
  afterAll(async () => {
    await h?.close();
  });

  it.each(API_VERSIONS)(
    "%s: expires what is due, once, with its audit and event; the rest stays pending",
    async (version) => {
      const a = API_ADAPTERS[version];
      const due = await Promise.all([1, 2, 3].map(() => a.create(h, { expires_in_seconds: 60 })));
      const later = await a.create(h, { expires_in_seconds: 600 });
      h.emulator.clock.advance(60_000);
      // At its expiry exactly, a verification is still pending.
      await h.recovery.runOnce();
      for (const v of due) expect((await statusOf(h, v.id)).status).toBe("pending");
      h.emulator.clock.advance(1_000);
      expect((await h.recovery.runOnce()).expired).toBe(3);
      for (const v of due)
        expect(await statusOf(h, v.id)).toMatchObject({ status: "expired", reason: "expired" });
      expect((await statusOf(h, later.id)).status).toBe("pending");
      expect((await h.recovery.runOnce()).expired).toBe(0);
      expect(
        await expiryTrail(
          h,
          due.map((v) => v.id),
        ),
      ).toEqual(due.map(() => ({ events: ["verification.expired"], audit: 1 })));
      // The browser arriving afterwards is a replay.
      const late = a.record(h, due[0] ?? later, "adult");
      expect((await late.complete()).status).toBe(409);
    },
  );

  it("a verification it cannot finish is logged and skipped: the others expire, the run does not fail", async () => {
    const a = API_ADAPTERS.v1;
    const [bad, good] = await Promise.all([1, 2].map(() => a.create(h, { expires_in_seconds: 60 })));
    if (bad === undefined || good === undefined) throw new Error("not created");
    await setApiVersion(h, bad.id, "v9");
    h.emulator.clock.advance(61_000);
    try {
      const run = await h.recovery.runOnce();
      expect(run.expired).toBe(1);
      expect(await statusOf(h, good.id)).toMatchObject({ status: "expired" });
      const line = h.logs.find((l) => l.includes("expiry failed") && l.includes(bad.id));
      expect(line).toBeDefined();
      expect(JSON.parse(line ?? "{}")).toMatchObject({ level: 40, verification_id: bad.id });
    } finally {
      await setApiVersion(h, bad.id, "v1");
    }
  });
});

describe("two instances sweeping one PostgreSQL", () => {
  let first: Harness;
  let second: Harness;
  beforeAll(async () => {
    first = await startHarness("postgres", { emitEvents: true, recoveryIntervalMs: 5 });
    second = await startHarness("postgres", {
      emitEvents: true,
      recoveryIntervalMs: 5,
      databaseUrl: first.databaseUrl,
    });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it("expire each due verification exactly once", async () => {
    for (let round = 0; round < 3; round++) {
      const created = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          API_ADAPTERS[i % 2 === 0 ? "v1" : "v2"].create(i % 4 < 2 ? first : second, {
            expires_in_seconds: 60,
          }),
        ),
      );
      // Both instances' clocks pass the expiry; their loops (every 5 ms) and these runs race.
      first.emulator.clock.advance(61_000);
      second.emulator.clock.advance(61_000);
      const runs = await Promise.all(
        Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? first : second).recovery.runOnce()),
      );
      expect(runs.every((run) => run.expired >= 0)).toBe(true);
      // A run joined above may have started before the clocks moved: one more that cannot have.
      await first.recovery.runOnce();
      await Promise.all([first.recovery.runOnce(), second.recovery.runOnce()]);
      for (const v of created) expect((await statusOf(first, v.id)).status).toBe("expired");
      expect(
        await expiryTrail(
          first,
          created.map((v) => v.id),
        ),
      ).toEqual(created.map(() => ({ events: ["verification.expired"], audit: 1 })));
    }
    // No run failed on the way (a lock conflict, a unique violation): they only queued.
    expect([...first.logs, ...second.logs].join("\n")).not.toMatch(/recovery run failed|unhandled/);
  });
});
