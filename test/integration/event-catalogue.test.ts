/**
 * Every event of the catalogue (core/webhook-event.ts), on SQLite and PostgreSQL: each state
 * change writes its event — `verification.completed` (V1 and V2), `verification.expired`,
 * `account.unbound`, `identity.purged` — which is delivered with a valid signature, carries ids
 * and decisions only, and is listed and replayed by the real `certgate webhooks` command.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { WEBHOOK_EVENT_TYPES } from "../../src/core/webhook-event.js";
import { createWebhookDispatcher, verifyWebhookSignature } from "../../src/service/webhooks.js";
import { runCertgate } from "../cli/run-certgate.js";
import { API_ADAPTERS } from "./api-versions.js";
import { auth, DATABASES, expectAbsent, type Harness, START, startHarness } from "./harness.js";

const SECRET = "whsec_ZXZlbnQtY2F0YWxvZ3VlLXRlc3Qtc2VjcmV0";

/** The catalogue's payloads, strictly: a field more (personal data, say) fails the parse. */
const outcomeData = {
  verification_id: z.string(),
  api_version: z.enum(["v1", "v2"]),
  purpose: z.enum(["signup", "reverify", "check"]),
  mismatched_fields: z.array(z.enum(["name", "birth_date", "phone"])).nullable(),
  account_ref: z.string().nullable(),
  existing_account_ref: z.string().nullable(),
};
const envelope = { id: z.string().startsWith("evt_"), timestamp: z.iso.datetime() };
const eventSchema = z.discriminatedUnion("type", [
  z.strictObject({
    ...envelope,
    type: z.literal("verification.completed"),
    data: z.strictObject({
      ...outcomeData,
      status: z.enum(["verified", "rejected"]),
      reason: z.string().nullable(),
    }),
  }),
  z.strictObject({
    ...envelope,
    type: z.literal("verification.expired"),
    data: z.strictObject({ ...outcomeData, status: z.literal("expired"), reason: z.literal("expired") }),
  }),
  z.strictObject({
    ...envelope,
    type: z.literal("account.unbound"),
    data: z.strictObject({ account_ref: z.string(), verification_id: z.string() }),
  }),
  z.strictObject({
    ...envelope,
    type: z.literal("identity.purged"),
    data: z.strictObject({ verification_id: z.string(), purged_at: z.iso.datetime() }),
  }),
]);

async function startReceiver() {
  const deliveries: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      deliveries.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    deliveries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const listedLine = z.strictObject({
  id: z.string(),
  type: z.enum(WEBHOOK_EVENT_TYPES),
  verification_id: z.string(),
  created_at: z.string(),
  attempts: z.number(),
  delivered_at: z.string().nullable(),
  last_status: z.number().nullable(),
});

describe.each(DATABASES)("the event catalogue on %s", (kind) => {
  let h: Harness;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let dispatcher: ReturnType<typeof createWebhookDispatcher>;
  /** The personal values of the verified persons: never in an event, a listing or the outbox. */
  const secrets: string[] = [];
  const person = {
    name: "카탈로그 김",
    birthday: "1991-02-13",
    phone: "01055512345",
    seed: `catalogue-${kind}`,
  };

  /** The real command on this harness's database. */
  const certgate = (args: string[]) =>
    runCertgate(["webhooks", ...args], {
      DATABASE_URL: h.databaseUrl,
      CERTGATE_DATA_DIR: "/nonexistent-certgate-data",
    });

  beforeAll(async () => {
    h = await startHarness(kind, { emitEvents: true });
    receiver = await startReceiver();
    dispatcher = createWebhookDispatcher({
      store: h.store,
      url: receiver.url,
      secret: SECRET,
      now: () => new Date(h.emulator.clock.now()),
    });
  });
  afterAll(async () => {
    await receiver?.close();
    await h?.close();
  });

  it("writes every event type with its change, delivers each signed, with ids and decisions only", async () => {
    // verification.completed, V1 and V2, each binding an account.
    const completed = [];
    for (const version of ["v1", "v2"] as const) {
      const a = API_ADAPTERS[version];
      const v = a.record(h, await a.create(h, { account_ref: `catalogue-${kind}-${version}` }), {
        v1: { person: { ...person, seed: `${person.seed}-v1` } },
        v2: { person: { ...person, seed: `${person.seed}-v2` } },
      });
      secrets.push(...v.personKeys.filter((key) => key !== ""));
      expect((await v.complete()).status).toBe(200);
      completed.push(v);
    }
    secrets.push(person.name, person.birthday, person.phone);
    // verification.expired, by the sweeper.
    const expiring = await API_ADAPTERS.v2.create(h, { expires_in_seconds: 60 });
    h.emulator.clock.advance(61_000);
    expect((await h.recovery.runOnce()).expired).toBe(1);
    // account.unbound.
    const unbind = await h.api(`/api/accounts/catalogue-${kind}-v1`, { method: "DELETE", headers: auth });
    expect(unbind.status).toBe(200);
    // identity.purged, by retention (the store's purge, as `serve` and `certgate purge` run it).
    const at = new Date(h.emulator.clock.now());
    expect(await h.store.purgeIdentities({ completedBefore: at, now: at, emitEvents: true })).toBe(2);

    expect(await dispatcher.runOnce()).toBe(6);
    const events = receiver.deliveries.map((d) => {
      expect(verifyWebhookSignature({ body: d.body, headers: d.headers, secret: SECRET, now: at })).toBe(
        true,
      );
      const event = eventSchema.parse(JSON.parse(d.body));
      expect(d.headers["webhook-id"]).toBe(event.id);
      return event;
    });
    expect(events.map((e) => e.type).sort()).toEqual(
      [
        "account.unbound",
        "identity.purged",
        "identity.purged",
        "verification.completed",
        "verification.completed",
        "verification.expired",
      ].sort(),
    );
    const [v1, v2] = completed;
    expect(
      events
        .filter((e) => e.type === "identity.purged")
        .map((e) => e.data.verification_id)
        .sort(),
    ).toEqual([v1?.id, v2?.id].sort());
    expect(events.find((e) => e.type === "account.unbound")?.data).toEqual({
      account_ref: `catalogue-${kind}-v1`,
      verification_id: v1?.id,
    });
    expect(events.find((e) => e.type === "verification.expired")?.data.verification_id).toBe(expiring.id);
    expectAbsent(receiver.deliveries.map((d) => d.body).join("\n"), secrets);
  });

  it("`certgate webhooks list` lists them, with no personal data", { timeout: 60_000 }, async () => {
    const listed = await certgate(["list"]);
    expect(listed.stderr).toBe("");
    expect(listed.status).toBe(0);
    const lines = listed.stdout
      .trim()
      .split("\n")
      .map((line) => listedLine.parse(JSON.parse(line)));
    expect(lines).toHaveLength(6);
    expect(new Set(lines.map((l) => l.type))).toEqual(new Set(WEBHOOK_EVENT_TYPES));
    expect(lines.every((l) => l.delivered_at !== null && l.attempts === 1)).toBe(true);
    expectAbsent(listed.stdout, secrets);

    const [limited, future] = await Promise.all([
      certgate(["list", "--limit", "2", "--since", new Date(START).toISOString()]),
      certgate(["list", "--since", "2999-01-01T00:00:00Z"]),
    ]);
    expect(limited.stdout.trim().split("\n")).toHaveLength(2);
    expect(future.stdout).toBe("");
  });

  it("`certgate webhooks replay --id` delivers that event again under its id", {
    timeout: 60_000,
  }, async () => {
    const [first] = receiver.deliveries;
    if (!first) throw new Error("no delivery");
    const id = String(first.headers["webhook-id"]);
    const replayed = await certgate(["replay", "--id", id]);
    expect(replayed.status).toBe(0);
    expect(replayed.stdout).toBe("requeued 1 event\n");
    const before = receiver.deliveries.length;
    expect(await dispatcher.runOnce()).toBe(1);
    const again = receiver.deliveries.slice(before);
    expect(again.map((d) => d.headers["webhook-id"])).toEqual([id]);
    expect(again[0]?.body).toBe(first.body);
  });

  it("`certgate webhooks replay --id` of an id no event has is refused, exit 1", {
    timeout: 60_000,
  }, async () => {
    // A typo: "requeued 0 events", exit 0, looked like a replay done.
    const replayed = await certgate(["replay", "--id", "evt_no_such_event_0001"]);
    expect(replayed.status).toBe(1);
    expect(replayed.stdout).toBe("");
    expect(replayed.stderr).toBe(
      "certgate: no webhook event evt_no_such_event_0001 (see certgate webhooks list)\n",
    );
  });

  it("`certgate webhooks replay --since` requeues every event since then", { timeout: 60_000 }, async () => {
    const replayed = await certgate(["replay", "--since", new Date(START).toISOString()]);
    expect(replayed.stdout).toBe("requeued 6 events\n");
    const before = receiver.deliveries.length;
    expect(await dispatcher.runOnce()).toBe(6);
    for (const d of receiver.deliveries.slice(before)) {
      expect(
        verifyWebhookSignature({
          body: d.body,
          headers: d.headers,
          secret: SECRET,
          now: new Date(h.emulator.clock.now()),
        }),
      ).toBe(true);
    }
  });
});

describe("certgate webhooks: usage", () => {
  it.each([
    [["replay"], "certgate webhooks replay"],
    [["replay", "--since", "2026-01-01", "--id", "evt_x"], "certgate webhooks replay"],
    [["replay", "--since", "yesterday"], "certgate webhooks replay"],
    [["replay", "--since", "2026-02-31"], "certgate webhooks replay"],
    [["list", "--since", "2026-06-15T03:00"], "certgate webhooks list"],
    [["replay", "--id", "not-an-event"], "certgate webhooks replay"],
    [["list", "--limit", "0"], "certgate webhooks list"],
    [["list", "--nope"], "certgate webhooks list"],
    [["frobnicate"], "certgate webhooks list"],
  ])(
    "the real command refuses %j with its usage line and exit 2",
    { timeout: 120_000 },
    async (args, usage) => {
      const result = await runCertgate(["webhooks", ...args], {});
      expect(result.status).toBe(2);
      expect(result.stderr).toContain(`usage: ${usage}`);
    },
  );
});
