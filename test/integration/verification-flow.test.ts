/**
 * The verification flow through HTTP against the emulator, on SQLite and a real PostgreSQL:
 * success, every rejection reason, the guide's routes, upstream faults and bad input.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  auth,
  complete,
  createVerification,
  DATABASES,
  type Harness,
  RETURN_ORIGIN,
  startHarness,
} from "./harness.js";

const completionBody = z.object({
  verification: z.object({
    id: z.string(),
    status: z.enum(["pending", "verified", "rejected", "expired"]),
    reason: z.string().optional(),
    existing_account_ref: z.string().optional(),
    name_masked: z.string().optional(),
  }),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
const errorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

describe.each(DATABASES)("verification flow on %s", (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind);
  });
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(() => {
    h.emulator.clearFaults();
  });

  async function outcome(res: Response) {
    return completionBody.parse(await res.json());
  }
  async function merchantOutcome(id: string) {
    const res = await h.api(`/api/verifications/${id}`, { headers: auth });
    expect(res.status).toBe(200);
    return z
      .object({
        verification: z.object({
          status: z.string(),
          reason: z.string().nullable(),
          existing_account_ref: z.string().nullable(),
          identity: z.object({ name: z.string().nullable(), birth_date: z.string().nullable() }).nullable(),
        }),
      })
      .parse(await res.json()).verification;
  }
  /** Creates a verification and an emulator record bound to it. */
  async function prepare(
    body: Record<string, unknown>,
    record: Parameters<Harness["emulator"]["createCertification"]>[0] = { persona: "adult" },
  ) {
    const created = await createVerification(h, body);
    const stored = h.emulator.createCertification({ merchant_uid: created.merchant_uid, ...record });
    return { ...created, impUid: stored.imp_uid };
  }

  describe("success", () => {
    it("verifies an adult for sign-up and keeps the identity for the merchant backend", async () => {
      const v = await prepare({ account_ref: `ok-${kind}`, policy: { min_age: 19, age_rule: "year" } });
      const res = await complete(h, v.impUid, v.merchant_uid);
      expect(res.status).toBe(200);
      const body = await outcome(res);
      expect(body.verification).toMatchObject({ id: v.id, status: "verified" });
      // The browser sees a masked name and nothing else personal.
      expect(Object.keys(body.verification).sort()).toEqual(["id", "name_masked", "status"]);
      const merchant = await merchantOutcome(v.id);
      expect(merchant.status).toBe("verified");
      expect(merchant.identity?.birth_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      const audit = await h.store.listAuditEvents(v.id);
      expect(audit.map((e) => e.type)).toContain("verification.completed");
    });

    it("accepts year age 19 / international age 18 under the year rule and refuses it under the international rule", async () => {
      const year = await prepare(
        { policy: { min_age: 19, age_rule: "year" } },
        { persona: "adult_year_only" },
      );
      expect((await complete(h, year.impUid, year.merchant_uid)).status).toBe(200);
      const intl = await prepare(
        { policy: { min_age: 19, age_rule: "international" } },
        { persona: "adult_year_only" },
      );
      const res = await complete(h, intl.impUid, intl.merchant_uid);
      expect(res.status).toBe(422);
      expect((await outcome(res)).verification.reason).toBe("underage");
    });
  });

  describe("each rejection reason", () => {
    async function expectRejected(v: { id: string; impUid: string; merchant_uid: string }, reason: string) {
      const res = await complete(h, v.impUid, v.merchant_uid);
      expect(res.status).toBe(422);
      const body = await outcome(res);
      expect(body.error?.code).toBe(reason);
      expect(body.verification.reason).toBe(reason);
      expect((await merchantOutcome(v.id)).reason).toBe(reason);
    }

    it("not_certified: the OTP was never confirmed", async () => {
      await expectRejected(await prepare({}, { persona: "uncertified" }), "not_certified");
    });

    /** Not this verification's own result: 422 with the reason, but it stays pending (attempts.test.ts). */
    async function expectFailedAttempt(
      v: { id: string; impUid: string; merchant_uid: string },
      reason: string,
    ) {
      const res = await complete(h, v.impUid, v.merchant_uid);
      expect(res.status).toBe(422);
      const body = await outcome(res);
      expect(body.error?.code).toBe(reason);
      expect(body.verification.status).toBe("pending");
      expect(await merchantOutcome(v.id)).toMatchObject({ status: "pending", reason: null });
    }

    it("merchant_uid_mismatch: someone else's imp_uid is a failed attempt, and stays usable by its owner", async () => {
      const victim = await prepare({});
      const attacker = await createVerification(h, {});
      await expectFailedAttempt(
        { id: attacker.id, impUid: victim.impUid, merchant_uid: attacker.merchant_uid },
        "merchant_uid_mismatch",
      );
      expect((await complete(h, victim.impUid, victim.merchant_uid)).status).toBe(200);
    });

    it("already_used: a second completion of a finished verification", async () => {
      const v = await prepare({});
      expect((await complete(h, v.impUid, v.merchant_uid)).status).toBe(200);
      const again = await complete(h, v.impUid, v.merchant_uid);
      expect(again.status).toBe(409);
      expect((await outcome(again)).error?.code).toBe("already_used");
      expect((await merchantOutcome(v.id)).status).toBe("verified");
    });

    it("expired: completed after the verification's expiry", async () => {
      const v = await prepare({ expires_in_seconds: 60 });
      h.emulator.clock.advance(61_000);
      const res = await complete(h, v.impUid, v.merchant_uid);
      expect(res.status).toBe(422);
      expect((await outcome(res)).verification).toMatchObject({ status: "expired", reason: "expired" });
    });

    it("stale_certification: certified longer ago than the freshness window", async () => {
      const created = await createVerification(h, { policy: { freshness_seconds: 600 } });
      const stored = h.emulator.createCertification({
        persona: "adult",
        merchant_uid: created.merchant_uid,
        certified_at: Math.floor(h.emulator.clock.now() / 1000) - 601,
      });
      await expectRejected({ ...created, impUid: stored.imp_uid }, "stale_certification");
    });

    it("underage: a minor at an adult gate", async () => {
      await expectRejected(
        await prepare({ policy: { min_age: 19, age_rule: "year" } }, { persona: "minor" }),
        "underage",
      );
    });

    it("overage: an adult at a youth-only service", async () => {
      await expectRejected(await prepare({ policy: { max_age: 18 } }, { persona: "adult" }), "overage");
    });

    it("duplicate_account: the second sign-up of one person", async () => {
      const first = await prepare({ account_ref: `first-${kind}` }, { persona: "leap_day" });
      expect((await complete(h, first.impUid, first.merchant_uid)).status).toBe(200);
      const second = await prepare({ account_ref: `second-${kind}` }, { persona: "leap_day" });
      const res = await complete(h, second.impUid, second.merchant_uid);
      expect(res.status).toBe(422);
      const body = await outcome(res);
      expect(body.verification).toMatchObject({
        reason: "duplicate_account",
        existing_account_ref: `first-${kind}`,
      });
    });

    it("no_person_key: neither CI nor DI at sign-up", async () => {
      await expectRejected(
        await prepare(
          { account_ref: `nokey-${kind}` },
          { persona: "adult", fields: { unique_key: null, unique_in_site: null } },
        ),
        "no_person_key",
      );
    });

    it("not_found: PortOne has no such imp_uid, a failed attempt", async () => {
      const created = await createVerification(h, {});
      await expectFailedAttempt({ ...created, impUid: "imp_000000000000" }, "not_found");
    });

    it("an unknown merchant_uid is a 404 and writes nothing", async () => {
      const res = await complete(h, "imp_000000000001", "mid_unknown");
      expect(res.status).toBe(404);
      expect(errorBody.parse(await res.json()).error.code).toBe("not_found");
    });
  });

  describe("the guide's redirect route", () => {
    it("answers 303 to the return_url with verification_id and status", async () => {
      const v = await prepare({ return_url: `${RETURN_ORIGIN}/after?x=1` });
      const res = await h.api(
        `/certifications/redirect?imp_uid=${v.impUid}&merchant_uid=${v.merchant_uid}&success=true`,
      );
      expect(res.status).toBe(303);
      const location = new URL(res.headers.get("location") ?? "");
      expect(location.origin).toBe(RETURN_ORIGIN);
      expect(location.searchParams.get("x")).toBe("1");
      expect(location.searchParams.get("verification_id")).toBe(v.id);
      expect(location.searchParams.get("status")).toBe("verified");
    });

    it("success=true in a hand-edited URL with someone else's imp_uid verifies nothing", async () => {
      const victim = await prepare({});
      const attacker = await createVerification(h, { return_url: `${RETURN_ORIGIN}/done` });
      const res = await h.api(
        `/certifications/redirect?imp_uid=${victim.impUid}&merchant_uid=${attacker.merchant_uid}&success=true`,
      );
      expect(res.status).toBe(303);
      const location = new URL(res.headers.get("location") ?? "");
      // A failed attempt: the attacker's verification stays pending (attempts.test.ts).
      expect(location.searchParams.get("status")).toBe("pending");
      expect(location.searchParams.get("reason")).toBe("merchant_uid_mismatch");
    });

    it("refuses a return_url outside the configured origins (no open redirect)", async () => {
      const res = await h.api("/api/verifications", {
        method: "POST",
        headers: auth,
        body: { return_url: "https://evil.example/phish" },
      });
      expect(res.status).toBe(400);
      expect(errorBody.parse(await res.json()).error.code).toBe("return_url_not_allowed");
    });
  });

  describe("upstream faults leave the verification pending and retryable", () => {
    const faults = [
      {
        name: "timeout",
        fault: { kind: "latency", latencyMs: 5_000 },
        status: 504,
        code: "upstream_timeout",
      },
      { name: "503", fault: { kind: "status", status: 503 }, status: 503, code: "upstream_unavailable" },
      {
        name: "malformed body",
        fault: { kind: "malformed" },
        status: 502,
        code: "upstream_invalid_response",
      },
      { name: "dropped connection", fault: { kind: "drop" }, status: 503, code: "upstream_unavailable" },
    ] as const;

    it.each(faults)("$name → $status $code, then a retry succeeds", async ({ fault, status, code }) => {
      const v = await prepare({ account_ref: `fault-${fault.kind}-${kind}` }, { persona: "foreigner" });
      // Make the person new for each case so the retry's success is not a duplicate.
      h.emulator.setFault({ route: "getCertification", ...fault });
      const res = await complete(h, v.impUid, v.merchant_uid);
      expect(res.status).toBe(status);
      expect(errorBody.parse(await res.json()).error.code).toBe(code);
      expect((await merchantOutcome(v.id)).status).toBe("pending");
      expect(await h.store.listAuditEvents(v.id)).toEqual([]);
      h.emulator.clearFaults();
      const retry = await complete(h, v.impUid, v.merchant_uid);
      expect(retry.status).toBe(200);
      // The person is freed for the next case.
      expect(
        (await h.api(`/api/accounts/fault-${fault.kind}-${kind}`, { method: "DELETE", headers: auth }))
          .status,
      ).toBe(200);
    });
  });
});
