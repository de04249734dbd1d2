/**
 * Recovery of V2 results on SQLite and PostgreSQL, over real sockets: PortOne sends no
 * identity-verification webhook, so certgate asks it about pending V2 verifications itself (the
 * background job, and `POST /api/verifications/:id/refresh` on demand), through the V2
 * completion's own steps and transaction. The emulator finishes verifications on its side (its
 * admin API) without certgate's browser routes ever being called.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { Harness } from "./harness.js";
import {
  auth,
  completeV2,
  createV2Verification,
  createVerification,
  DATABASES,
  startHarness,
} from "./harness.js";

const view = z.object({
  verification: z.object({
    id: z.string(),
    status: z.enum(["pending", "verified", "rejected", "expired"]),
    reason: z.string().nullable(),
    failed_attempts: z.number(),
    identity: z.object({ name: z.string().nullable() }).nullable(),
  }),
});
const errorBody = z.object({ error: z.object({ code: z.string() }) });

/** The recovery's first check is due 15 s after creation (core/recovery.ts). */
const FIRST_CHECK_MS = 15_000;

function refresh(h: Harness, id: string, init: { body?: unknown; query?: string } = {}) {
  return h.api(`/api/verifications/${id}/refresh${init.query ?? ""}`, {
    method: "POST",
    headers: auth,
    ...(init.body === undefined ? {} : { body: init.body }),
  });
}

async function getView(h: Harness, id: string) {
  const res = await h.api(`/api/verifications/${id}`, { headers: auth });
  expect(res.status).toBe(200);
  return view.parse(await res.json()).verification;
}

/** The outbox events of `verificationId` (type only), read through the operator's listing. */
async function eventTypesOf(h: Harness, verificationId: string): Promise<string[]> {
  const events = await h.store.listWebhookEvents({ since: new Date(0), limit: 10_000 });
  return events.filter((e) => e.verificationId === verificationId).map((e) => e.type);
}

describe.each(DATABASES)("recovery of V2 results on %s", (kind) => {
  describe("the background job", () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness(kind, { emitEvents: true, recoveryIntervalMs: 20 });
    });
    afterAll(async () => {
      await h?.close();
    });

    it("finishes a verification whose browser never returns, within its expiry, with one event", async () => {
      const v = await createV2Verification(h, { account_ref: `recovered-${kind}` });
      // The person finished at PortOne; the browser's return to certgate is lost.
      h.emulator.createIdentityVerification({ identityVerificationId: v.identity_verification_id });
      h.emulator.clock.advance(FIRST_CHECK_MS);
      let seen = await getView(h, v.id);
      for (let i = 0; i < 200 && seen.status === "pending"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        seen = await getView(h, v.id);
      }
      expect(seen).toMatchObject({ status: "verified", reason: null, failed_attempts: 0 });
      const res = await h.api(`/api/verifications/${v.id}`, { headers: auth });
      const { expires_at, completed_at } = z
        .object({ verification: z.object({ expires_at: z.string(), completed_at: z.string() }) })
        .parse(await res.json()).verification;
      expect(Date.parse(completed_at)).toBeLessThan(Date.parse(expires_at));
      expect(await eventTypesOf(h, v.id)).toEqual(["verification.completed"]);
      // The browser coming back late is a replay.
      expect((await completeV2(h, v.identity_verification_id)).status).toBe(409);
    });
  });

  describe("checks and refresh", () => {
    let h: Harness;
    beforeAll(async () => {
      // A generous upstream timeout: the race sends 16 lookups at once, on a loaded machine too.
      h = await startHarness(kind, { emitEvents: true, timeoutMs: 10_000 });
    });
    afterAll(async () => {
      await h?.close();
    });

    const lookups = () => h.emulator.stats().v2.requests.getIdentityVerification;

    it("asks nothing before the first check is due, then backs off while PortOne says READY", async () => {
      const v = await createV2Verification(h, {});
      h.emulator.createIdentityVerification({
        identityVerificationId: v.identity_verification_id,
        status: "READY",
      });
      const before = lookups();
      h.emulator.clock.advance(FIRST_CHECK_MS - 1_000);
      await h.recovery.runOnce();
      expect(lookups()).toBe(before);
      h.emulator.clock.advance(1_000);
      expect(await h.recovery.runOnce()).toMatchObject({ checked: 1, finished: 0 });
      expect(lookups()).toBe(before + 1);
      // The next check is 15 s later, then 30 s: not earlier.
      h.emulator.clock.advance(14_000);
      expect((await h.recovery.runOnce()).checked).toBe(0);
      h.emulator.clock.advance(1_000);
      expect((await h.recovery.runOnce()).checked).toBe(1);
      h.emulator.clock.advance(29_000);
      expect((await h.recovery.runOnce()).checked).toBe(0);
      // The person finishes: the next due check recovers it.
      h.emulator.createIdentityVerification({ identityVerificationId: v.identity_verification_id });
      h.emulator.clock.advance(1_000);
      expect(await h.recovery.runOnce()).toMatchObject({ checked: 1, finished: 1 });
      expect((await getView(h, v.id)).status).toBe("verified");
      expect(lookups()).toBe(before + 3);
    });

    it("FAILED then VERIFIED under one id: recovery waits, the person's retry verifies", async () => {
      const v = await createV2Verification(h, {});
      h.emulator.createIdentityVerification({
        identityVerificationId: v.identity_verification_id,
        status: "FAILED",
      });
      h.emulator.clock.advance(FIRST_CHECK_MS);
      expect(await h.recovery.runOnce()).toMatchObject({ finished: 0 });
      expect((await getView(h, v.id)).status).toBe("pending");
      h.emulator.createIdentityVerification({ identityVerificationId: v.identity_verification_id });
      const res = await completeV2(h, v.identity_verification_id);
      expect(res.status).toBe(200);
      expect((await getView(h, v.id)).status).toBe("verified");
    });

    it("a lookup that PortOne answers 404 is no failed attempt: the verification stays pending", async () => {
      const v = await createV2Verification(h, { max_attempts: 1 });
      h.emulator.clock.advance(FIRST_CHECK_MS);
      expect((await h.recovery.runOnce()).checked).toBeGreaterThanOrEqual(1);
      expect(await getView(h, v.id)).toMatchObject({ status: "pending", failed_attempts: 0 });
    });

    it("leaves V1 verifications alone (V1 has no lookup by merchant_uid)", async () => {
      const v = await createVerification(h, {});
      const before = h.emulator.stats().requests.getCertification;
      h.emulator.clock.advance(FIRST_CHECK_MS);
      await h.recovery.runOnce();
      expect(h.emulator.stats().requests.getCertification).toBe(before);
      expect((await getView(h, v.id)).status).toBe("pending");
    });

    it("racing a browser completion of the same verification: exactly one completion event, every time", async () => {
      for (let round = 0; round < 5; round++) {
        const created = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            createV2Verification(h, { account_ref: `race-${kind}-${round}-${i}` }),
          ),
        );
        for (const [i, v] of created.entries()) {
          h.emulator.createIdentityVerification({
            identityVerificationId: v.identity_verification_id,
            person: {
              name: `Race Person ${i}`,
              birthday: `1990-04-0${i + 1}`,
              seed: `rc-${kind}-${round}-${i}`,
            },
          });
        }
        h.emulator.clock.advance(FIRST_CHECK_MS);
        // The recovery job, the browser and the merchant's refresh, all at once.
        const [, browser, refreshed] = await Promise.all([
          h.recovery.runOnce(),
          Promise.all(created.map((v) => completeV2(h, v.identity_verification_id))),
          Promise.all(created.map((v) => refresh(h, v.id))),
        ]);
        const statuses = browser.map((r) => r.status);
        expect(
          statuses.every((status) => status === 200 || status === 409),
          statuses.join(","),
        ).toBe(true);
        expect(refreshed.map((r) => r.status)).toEqual(created.map(() => 200));
        for (const v of created) {
          expect((await getView(h, v.id)).status).toBe("verified");
          expect(await eventTypesOf(h, v.id)).toEqual(["verification.completed"]);
          const audit = await h.store.listAuditEvents(v.id);
          expect(audit.filter((e) => e.type === "verification.completed")).toHaveLength(1);
        }
      }
    });
  });

  describe("POST /api/verifications/:id/refresh", () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness(kind, { emitEvents: true });
    });
    afterAll(async () => {
      await h?.close();
    });

    it("V2 with nothing at PortOne yet: 200, still pending, no failed attempt", async () => {
      const v = await createV2Verification(h, {});
      const res = await refresh(h, v.id);
      expect(res.status).toBe(200);
      expect(view.parse(await res.json()).verification).toMatchObject({
        id: v.id,
        status: "pending",
        failed_attempts: 0,
      });
    });

    it("V2 READY at PortOne: 200, still pending", async () => {
      const v = await createV2Verification(h, {});
      h.emulator.createIdentityVerification({
        identityVerificationId: v.identity_verification_id,
        status: "READY",
      });
      const res = await refresh(h, v.id, { body: {} });
      expect(res.status).toBe(200);
      expect(view.parse(await res.json()).verification.status).toBe("pending");
    });

    it("V2 VERIFIED at PortOne: 200 verified with the identity, its event written", async () => {
      const v = await createV2Verification(h, { account_ref: `refresh-ok-${kind}` });
      h.emulator.createIdentityVerification({ identityVerificationId: v.identity_verification_id });
      const res = await refresh(h, v.id);
      expect(res.status).toBe(200);
      const seen = view.parse(await res.json()).verification;
      expect(seen).toMatchObject({ status: "verified", reason: null });
      expect(seen.identity?.name).toBeTruthy();
      expect(await eventTypesOf(h, v.id)).toEqual(["verification.completed"]);
      // Finished: answered unchanged, PortOne not asked again.
      const before = h.emulator.stats().v2.requests.getIdentityVerification;
      const again = await refresh(h, v.id);
      expect(again.status).toBe(200);
      expect(view.parse(await again.json()).verification.status).toBe("verified");
      expect(h.emulator.stats().v2.requests.getIdentityVerification).toBe(before);
      expect(await eventTypesOf(h, v.id)).toEqual(["verification.completed"]);
    });

    it("V2 FAILED at PortOne: 200 still pending, no attempt counted; the person's next attempt finishes it", async () => {
      // PortOne lets the person try again under the same id (a cancel leaves it FAILED until then).
      const v = await createV2Verification(h, { max_attempts: 1 });
      h.emulator.createIdentityVerification({
        identityVerificationId: v.identity_verification_id,
        status: "FAILED",
      });
      const res = await refresh(h, v.id);
      expect(res.status).toBe(200);
      expect(view.parse(await res.json()).verification).toMatchObject({ status: "pending", reason: null });
      expect(await getView(h, v.id)).toMatchObject({ status: "pending", failed_attempts: 0 });
      h.emulator.createIdentityVerification({ identityVerificationId: v.identity_verification_id });
      const again = await refresh(h, v.id);
      expect(view.parse(await again.json()).verification).toMatchObject({ status: "verified", reason: null });
    });

    it("V2 past its expiry: 200 expired, without asking PortOne", async () => {
      const v = await createV2Verification(h, { expires_in_seconds: 60 });
      h.emulator.createIdentityVerification({ identityVerificationId: v.identity_verification_id });
      h.emulator.clock.advance(61_000);
      const before = h.emulator.stats().v2.requests.getIdentityVerification;
      const res = await refresh(h, v.id);
      expect(view.parse(await res.json()).verification).toMatchObject({
        status: "expired",
        reason: "expired",
      });
      expect(h.emulator.stats().v2.requests.getIdentityVerification).toBe(before);
      expect(await eventTypesOf(h, v.id)).toEqual(["verification.expired"]);
    });

    it("V2 while PortOne is down: 503, still pending", async () => {
      const v = await createV2Verification(h, {});
      h.emulator.setFault({ route: "getIdentityVerification", kind: "status", status: 503 });
      try {
        const res = await refresh(h, v.id);
        expect(res.status).toBe(503);
        expect((await getView(h, v.id)).status).toBe("pending");
      } finally {
        h.emulator.clearFaults();
      }
    });

    it("V1: 409 refresh_unsupported", async () => {
      const v = await createVerification(h, {});
      const res = await refresh(h, v.id);
      expect(res.status).toBe(409);
      expect(errorBody.parse(await res.json()).error.code).toBe("refresh_unsupported");
      expect((await getView(h, v.id)).status).toBe("pending");
    });

    it("an unknown id is 404, a body or a query key 400, no API key 401", async () => {
      const v = await createV2Verification(h, {});
      const unknown = await refresh(h, "ver_unknown");
      expect(unknown.status).toBe(404);
      const body = await refresh(h, v.id, { body: { force: true } });
      expect(body.status).toBe(400);
      expect(errorBody.parse(await body.json()).error.code).toBe("unknown_field");
      const query = await refresh(h, v.id, { query: "?force=1" });
      expect(query.status).toBe(400);
      expect(errorBody.parse(await query.json()).error.code).toBe("unknown_field");
      const text = await refresh(h, v.id, { body: "force" });
      expect(text.status).toBe(415);
      const anonymous = await h.api(`/api/verifications/${v.id}/refresh`, { method: "POST" });
      expect(anonymous.status).toBe(401);
    });
  });
});

describe("two instances claiming recovery checks on one PostgreSQL", () => {
  let first: Harness;
  let second: Harness;
  beforeAll(async () => {
    first = await startHarness("postgres", {});
    second = await startHarness("postgres", { databaseUrl: first.databaseUrl });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it("never claim the same verification twice while a lease runs", async () => {
    const created = await Promise.all(Array.from({ length: 40 }, () => createV2Verification(first, {})));
    const now = new Date(first.emulator.clock.now() + FIRST_CHECK_MS);
    const claim = (h: Harness) =>
      h.store.claimRecoveryChecks({
        now,
        limit: 7,
        leaseUntil: new Date(now.getTime() + 60_000),
        createdBefore: new Date(now.getTime() - FIRST_CHECK_MS),
      });
    const claims = (
      await Promise.all(Array.from({ length: 10 }, (_, i) => claim(i % 2 ? first : second)))
    ).flat();
    // Concurrent claims may pass over rows another one took; what is left is claimed after.
    for (let rest = await claim(first); rest.length > 0; rest = await claim(second)) claims.push(...rest);
    const ids = claims.map((c) => c.verification.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(created.map((v) => v.id).sort());
    expect(claims.every((c) => c.checks === 1)).toBe(true);
    // Leased: nobody claims them again before the lease ends; after it, they are due again.
    expect(await claim(first)).toEqual([]);
    const later = new Date(now.getTime() + 60_000);
    const again = await first.store.claimRecoveryChecks({
      now: later,
      limit: 100,
      leaseUntil: new Date(later.getTime() + 60_000),
      createdBefore: later,
    });
    expect(again.map((c) => c.checks)).toEqual(created.map(() => 2));
  });
});
