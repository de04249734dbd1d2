/**
 * Webhooks on SQLite and PostgreSQL: the event is written with the outcome, delivered signed, and
 * retried with backoff until the receiver takes it.
 */
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { verifyWebhook } from "../../src/portone/webhook.js";
import { createWebhookDispatcher, verifyWebhookSignature } from "../../src/service/webhooks.js";
import { complete, createVerification, DATABASES, type Harness, startHarness } from "./harness.js";

const SECRET = "whsec_dGVzdC13ZWJob29rLXNlY3JldC1ub3QtcmVhbA==";

interface Delivery {
  headers: Record<string, string | string[] | undefined>;
  body: string;
  answered: number;
}

/**
 * A real receiver on 127.0.0.1 that answers 500 to its first `failures` deliveries, after
 * `beforeAnswer` (what happens while the attempt is in flight) when given.
 */
async function startReceiver(failures: number, beforeAnswer?: (delivery: Delivery) => Promise<void>) {
  const deliveries: Delivery[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", async () => {
      const answered = deliveries.length < failures ? 500 : 204;
      const delivery = { headers: req.headers, body, answered };
      deliveries.push(delivery);
      await beforeAnswer?.(delivery);
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/hooks`;
  return { url, deliveries, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe.each(DATABASES)("webhooks on %s", (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind, { emitEvents: true });
  });
  afterAll(async () => {
    await h?.close();
  });

  /** A dispatcher to `url` on the harness's store and the emulator's clock. */
  const dispatcherTo = (url: string) =>
    createWebhookDispatcher({
      store: h.store,
      url,
      secret: SECRET,
      now: () => new Date(h.emulator.clock.now()),
    });

  it("a receiver that fails twice gets the event on the third try, with a valid signature", async () => {
    const receiver = await startReceiver(2);
    const now = () => new Date(h.emulator.clock.now());
    const dispatcher = createWebhookDispatcher({
      store: h.store,
      url: receiver.url,
      secret: SECRET,
      now,
      baseDelayMs: 1_000,
    });
    try {
      const v = await createVerification(h, { account_ref: `hook-${kind}` });
      const { imp_uid } = h.emulator.createCertification({ persona: "adult", merchant_uid: v.merchant_uid });
      expect((await complete(h, imp_uid, v.merchant_uid)).status).toBe(200);

      expect(await dispatcher.runOnce()).toBe(0); // 500
      expect(await dispatcher.runOnce()).toBe(0); // not due yet: backoff 1 s
      h.emulator.clock.advance(1_000);
      expect(await dispatcher.runOnce()).toBe(0); // 500
      h.emulator.clock.advance(2_000);
      expect(await dispatcher.runOnce()).toBe(1); // 204
      h.emulator.clock.advance(60_000);
      expect(await dispatcher.runOnce()).toBe(0); // delivered once, never again

      expect(receiver.deliveries.map((d) => d.answered)).toEqual([500, 500, 204]);
      const last = receiver.deliveries[2];
      if (!last) throw new Error("no third delivery");
      expect(new Set(receiver.deliveries.map((d) => d.headers["webhook-id"])).size).toBe(1);
      expect(
        verifyWebhookSignature({ body: last.body, headers: last.headers, secret: SECRET, now: now() }),
      ).toBe(true);
      expect(
        verifyWebhookSignature({ body: `${last.body} `, headers: last.headers, secret: SECRET, now: now() }),
      ).toBe(false);
      expect(
        verifyWebhookSignature({
          body: last.body,
          headers: last.headers,
          secret: "whsec_YW5vdGhlci1yZWNlaXZlcnMtc2VjcmV0LTAwMDA=",
          now: now(),
        }),
      ).toBe(false);
      const event = z
        .object({
          type: z.literal("verification.completed"),
          data: z.object({ verification_id: z.string(), status: z.string() }),
        })
        .parse(JSON.parse(last.body));
      expect(event.data).toMatchObject({ verification_id: v.id, status: "verified" });
      // What a receiver using certgate/portone gets from the same delivery: the typed event.
      const verified = await verifyWebhook({
        body: last.body,
        headers: last.headers,
        secret: SECRET,
        now: now(),
      });
      expect(verified).toMatchObject({
        id: last.headers["webhook-id"],
        type: "verification.completed",
        data: { verification_id: v.id, status: "verified", reason: null, account_ref: `hook-${kind}` },
      });
      // Ids and decisions only.
      expect(last.body).not.toMatch(/김|010\d{8}|\d{4}-\d{2}-\d{2}"/);
    } finally {
      await receiver.close();
    }
  });

  it("a replay while an attempt is in flight is not undone by it: the event is sent again", async () => {
    let replays = 0;
    // `certgate webhooks replay --id` run while the first attempt waits for its answer.
    const receiver = await startReceiver(0, async (delivery) => {
      if (replays++ === 0) await h.store.requeueWebhookEvents({ id: String(delivery.headers["webhook-id"]) });
    });
    const dispatcher = dispatcherTo(receiver.url);
    try {
      const v = await createVerification(h, { account_ref: `hook-replay-${kind}` });
      const { imp_uid } = h.emulator.createCertification({
        persona: "foreigner",
        merchant_uid: v.merchant_uid,
      });
      expect((await complete(h, imp_uid, v.merchant_uid)).status).toBe(200);
      await dispatcher.runOnce();
      expect(receiver.deliveries).toHaveLength(1);
      // Due again at once (the replay), not marked delivered by the attempt it overtook.
      await dispatcher.runOnce();
      expect(receiver.deliveries).toHaveLength(2);
      h.emulator.clock.advance(60_000);
      expect(await dispatcher.runOnce()).toBe(0);
      expect(receiver.deliveries).toHaveLength(2);
      expect(new Set(receiver.deliveries.map((d) => d.headers["webhook-id"])).size).toBe(1);
    } finally {
      await receiver.close();
    }
  });

  it("an outcome and its event are never one without the other", async () => {
    const receiver = await startReceiver(0);
    const dispatcher = dispatcherTo(receiver.url);
    try {
      const finished = await createVerification(h, { account_ref: `hook-both-${kind}` });
      const rec = h.emulator.createCertification({ persona: "minor", merchant_uid: finished.merchant_uid });
      const pending = await createVerification(h, {});
      const rec2 = h.emulator.createCertification({ persona: "adult", merchant_uid: pending.merchant_uid });
      expect((await complete(h, rec.imp_uid, finished.merchant_uid)).status).toBe(200);
      h.emulator.setFault({ route: "getCertification", kind: "status", status: 503 });
      expect((await complete(h, rec2.imp_uid, pending.merchant_uid)).status).toBe(503);
      h.emulator.clearFaults();
      await dispatcher.runOnce();
      const ids = receiver.deliveries.map(
        (d) =>
          z.object({ data: z.object({ verification_id: z.string() }) }).parse(JSON.parse(d.body)).data
            .verification_id,
      );
      expect(ids).toContain(finished.id);
      expect(ids).not.toContain(pending.id);
    } finally {
      await receiver.close();
    }
  });
});
