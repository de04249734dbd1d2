/**
 * The PortOne V2 flow through HTTP against the emulator, on SQLite and a real PostgreSQL: the twin of
 * verification-flow.test.ts. Success, every rejection reason that applies to V2, READY and unknown
 * statuses staying pending, the redirect route, upstream faults, and one person across V1 and V2.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { type CreateIdentityVerificationInput, TEST_MERCHANT } from "../../src/emulator/index.js";
import {
  auth,
  complete,
  completeV2,
  createV2Verification,
  createVerification,
  DATABASES,
  type Harness,
  RETURN_ORIGIN,
  startHarness,
  V2_CHANNEL_KEY,
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

type V2Record = Omit<CreateIdentityVerificationInput, "identityVerificationId">;

/** RFC 3339 in UTC, as PortOne writes `verifiedAt`. */
const iso = (ms: number) => new Date(ms).toISOString();

describe.each(DATABASES)("V2 verification flow on %s", (kind) => {
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
          api_version: z.literal("v2"),
          merchant_uid: z.null(),
          identity_verification_id: z.string(),
          status: z.string(),
          reason: z.string().nullable(),
          existing_account_ref: z.string().nullable(),
          identity: z
            .object({
              name: z.string().nullable(),
              birth_date: z.string().nullable(),
              gender: z.string().nullable(),
              carrier: z.string().nullable(),
            })
            .nullable(),
        }),
      })
      .parse(await res.json()).verification;
  }
  /** Creates a V2 verification and an emulator record under the id certgate issued. */
  async function prepare(body: Record<string, unknown>, record: V2Record = { persona: "adult" }) {
    const created = await createV2Verification(h, body);
    h.emulator.createIdentityVerification({
      identityVerificationId: created.identity_verification_id,
      ...record,
    });
    return created;
  }
  async function expectRejected(v: { id: string; identity_verification_id: string }, reason: string) {
    const res = await completeV2(h, v.identity_verification_id);
    expect(res.status).toBe(422);
    const body = await outcome(res);
    expect(body.error?.code).toBe(reason);
    expect(body.verification.reason).toBe(reason);
    expect((await merchantOutcome(v.id)).reason).toBe(reason);
  }
  /** Not this verification's own result: 422 with the reason, but it stays pending (attempts.test.ts). */
  async function expectFailedAttempt(v: { id: string; identity_verification_id: string }, reason: string) {
    const res = await completeV2(h, v.identity_verification_id);
    expect(res.status).toBe(422);
    const body = await outcome(res);
    expect(body.error?.code).toBe(reason);
    expect(body.verification.status).toBe("pending");
    expect(await merchantOutcome(v.id)).toMatchObject({ status: "pending", reason: null });
  }
  /** Pending, with nothing written: no outcome, no consumed id, no audit event. */
  async function expectUntouched(id: string) {
    expect((await merchantOutcome(id)).status).toBe("pending");
    expect((await h.store.getVerification(id))?.upstreamId).toBeUndefined();
    expect(await h.store.listAuditEvents(id)).toEqual([]);
  }

  describe("creation", () => {
    it("issues an unguessable identityVerificationId and the parameters of PortOne.requestIdentityVerification", async () => {
      const res = await h.api("/api/verifications", {
        method: "POST",
        headers: auth,
        body: { api_version: "v2", policy: { min_age: 19 } },
      });
      expect(res.status).toBe(201);
      const body = z
        .object({
          id: z.string(),
          api_version: z.literal("v2"),
          merchant_uid: z.null(),
          identity_verification_id: z.string(),
          status: z.literal("pending"),
          expires_at: z.string(),
          sdk: z.object({ identity_verification: z.record(z.string(), z.unknown()) }),
        })
        .parse(await res.json());
      expect(body.identity_verification_id).toMatch(/^idv_[A-Za-z0-9_-]{24}$/);
      expect(body.sdk.identity_verification).toEqual({
        storeId: TEST_MERCHANT.storeId,
        identityVerificationId: body.identity_verification_id,
        channelKey: V2_CHANNEL_KEY,
        redirectUrl: "https://certgate.example/identity-verifications/redirect",
        windowType: { pc: "POPUP", mobile: "REDIRECTION" },
      });
      const other = await createV2Verification(h);
      expect(other.identity_verification_id).not.toBe(body.identity_verification_id);
    });

    it("defaults to V1 when api_version is absent, and refuses an unknown one", async () => {
      const v1 = await createVerification(h);
      expect(v1.merchant_uid).toMatch(/^mid_/);
      const res = await h.api("/api/verifications", {
        method: "POST",
        headers: auth,
        body: { api_version: "v3" },
      });
      expect(res.status).toBe(400);
      expect(errorBody.parse(await res.json()).error.code).toBe("invalid_request");
    });
  });

  describe("success", () => {
    it("verifies an adult for sign-up and keeps the identity for the merchant backend", async () => {
      const v = await prepare({ account_ref: `v2-ok-${kind}`, policy: { min_age: 19, age_rule: "year" } });
      const res = await completeV2(h, v.identity_verification_id);
      expect(res.status).toBe(200);
      const body = await outcome(res);
      expect(body.verification).toMatchObject({ id: v.id, status: "verified" });
      // The browser sees a masked name and nothing else personal.
      expect(Object.keys(body.verification).sort()).toEqual(["id", "name_masked", "status"]);
      const merchant = await merchantOutcome(v.id);
      expect(merchant).toMatchObject({
        status: "verified",
        identity_verification_id: v.identity_verification_id,
      });
      // V2's MALE and SKT map onto the same model as V1's.
      expect(merchant.identity).toMatchObject({ birth_date: "1990-01-15", gender: "male", carrier: "SKT" });
      const audit = await h.store.listAuditEvents(v.id);
      expect(audit.map((e) => e.type)).toContain("verification.completed");
    });

    it("accepts year age 19 / international age 18 under the year rule and refuses it under the international rule", async () => {
      const year = await prepare(
        { policy: { min_age: 19, age_rule: "year" } },
        { persona: "adult_year_only" },
      );
      expect((await completeV2(h, year.identity_verification_id)).status).toBe(200);
      const intl = await prepare(
        { policy: { min_age: 19, age_rule: "international" } },
        { persona: "adult_year_only" },
      );
      const res = await completeV2(h, intl.identity_verification_id);
      expect(res.status).toBe(422);
      expect((await outcome(res)).verification.reason).toBe("underage");
    });
  });

  describe("a record that is not finished stays pending (202), writes nothing and can be retried", () => {
    it("READY: the person has not completed the verification yet", async () => {
      const v = await prepare(
        { account_ref: `v2-ready-${kind}` },
        { persona: "adult_year_only", status: "READY" },
      );
      const res = await completeV2(h, v.identity_verification_id);
      expect(res.status).toBe(202);
      expect((await outcome(res)).verification).toEqual({ id: v.id, status: "pending" });
      await expectUntouched(v.id);
      // The person finishes (a new attempt under the same id), and the same call now succeeds.
      h.emulator.createIdentityVerification({
        identityVerificationId: v.identity_verification_id,
        persona: "adult_year_only",
      });
      expect((await completeV2(h, v.identity_verification_id)).status).toBe(200);
    });

    it("a status certgate does not know is never verified (nor a final rejection)", async () => {
      const v = await prepare(
        {},
        { persona: "adult", status: "READY", fields: { status: "PENDING_REVIEW" } },
      );
      const res = await completeV2(h, v.identity_verification_id);
      expect(res.status).toBe(202);
      expect((await outcome(res)).verification.status).toBe("pending");
      await expectUntouched(v.id);
      h.emulator.createIdentityVerification({
        identityVerificationId: v.identity_verification_id,
        persona: "adult",
      });
      expect((await completeV2(h, v.identity_verification_id)).status).toBe(200);
    });
  });

  describe("each rejection reason", () => {
    it("not_certified: PortOne reports the verification FAILED", async () => {
      await expectRejected(await prepare({}, { persona: "adult", status: "FAILED" }), "not_certified");
    });

    it("merchant_uid_mismatch: PortOne answers with a record under another id, which is not consumed nor finishes it", async () => {
      // V2 has no merchant_uid: certgate looks the record up by the id it issued, so the only way to
      // a mismatch is an upstream answer about another verification. It must still not verify.
      // It is not this verification's own result: a failed attempt, and it stays pending (attempts.test.ts).
      const v = await prepare({}, { persona: "adult", fields: { id: "idv_someone_else" } });
      await expectFailedAttempt(v, "merchant_uid_mismatch");
      expect((await h.store.getVerification(v.id))?.upstreamId).toBeUndefined();
    });

    it("already_used: a second completion of a finished verification", async () => {
      const v = await prepare({});
      expect((await completeV2(h, v.identity_verification_id)).status).toBe(200);
      const again = await completeV2(h, v.identity_verification_id);
      expect(again.status).toBe(409);
      expect((await outcome(again)).error?.code).toBe("already_used");
      expect((await merchantOutcome(v.id)).status).toBe("verified");
    });

    it("expired: completed after the verification's expiry", async () => {
      const v = await prepare({ expires_in_seconds: 60 });
      h.emulator.clock.advance(61_000);
      const res = await completeV2(h, v.identity_verification_id);
      expect(res.status).toBe(422);
      expect((await outcome(res)).verification).toMatchObject({ status: "expired", reason: "expired" });
    });

    it("stale_certification: verified longer ago than the freshness window", async () => {
      const v = await prepare(
        { policy: { freshness_seconds: 600 } },
        { persona: "adult", verifiedAt: iso(h.emulator.clock.now() - 601_000) },
      );
      await expectRejected(v, "stale_certification");
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
      const first = await prepare({ account_ref: `v2-first-${kind}` }, { persona: "leap_day" });
      expect((await completeV2(h, first.identity_verification_id)).status).toBe(200);
      const second = await prepare({ account_ref: `v2-second-${kind}` }, { persona: "leap_day" });
      const res = await completeV2(h, second.identity_verification_id);
      expect(res.status).toBe(422);
      expect((await outcome(res)).verification).toMatchObject({
        reason: "duplicate_account",
        existing_account_ref: `v2-first-${kind}`,
      });
    });

    it("no_person_key: neither CI nor DI at sign-up", async () => {
      await expectRejected(
        await prepare(
          { account_ref: `v2-nokey-${kind}` },
          {
            persona: "adult",
            fields: { verifiedCustomer: { name: "김테스트", birthDate: "1990-01-15", gender: "MALE" } },
          },
        ),
        "no_person_key",
      );
    });

    it("not_found: PortOne has no identity verification under the issued id, a failed attempt", async () => {
      await expectFailedAttempt(await createV2Verification(h), "not_found");
    });

    it("an identityVerificationId certgate never issued is a 404 and writes nothing", async () => {
      const res = await completeV2(h, "idv_unknown");
      expect(res.status).toBe(404);
      expect(errorBody.parse(await res.json()).error.code).toBe("not_found");
    });

    it("the V1 and V2 routes do not complete each other's verifications", async () => {
      const v1 = await createVerification(h);
      expect((await completeV2(h, v1.merchant_uid)).status).toBe(404);
      const v2 = await prepare({});
      expect((await complete(h, "imp_000000000001", v2.identity_verification_id)).status).toBe(404);
      expect((await merchantOutcome(v2.id)).status).toBe("pending");
    });
  });

  describe("one person across V1 and V2", () => {
    it("a V1 sign-up then a V2 sign-up of the same persona ends in duplicate_account (same CI)", async () => {
      const first = await createVerification(h, { account_ref: `cross-v1-${kind}` });
      const { imp_uid } = h.emulator.createCertification({
        persona: "no_di",
        merchant_uid: first.merchant_uid,
      });
      expect((await complete(h, imp_uid, first.merchant_uid)).status).toBe(200);

      const second = await prepare({ account_ref: `cross-v2-${kind}` }, { persona: "no_di" });
      const res = await completeV2(h, second.identity_verification_id);
      expect(res.status).toBe(422);
      expect((await outcome(res)).verification).toMatchObject({
        status: "rejected",
        reason: "duplicate_account",
        existing_account_ref: `cross-v1-${kind}`,
      });
    });
  });

  describe("the V2 redirect route (REDIRECTION window type)", () => {
    async function redirect(query: string) {
      const res = await h.api(`/identity-verifications/redirect?${query}`);
      expect(res.status).toBe(303);
      return new URL(res.headers.get("location") ?? "");
    }

    it("answers 303 to the return_url with verification_id and status", async () => {
      const v = await prepare({ return_url: `${RETURN_ORIGIN}/after?x=1` });
      const location = await redirect(`identityVerificationId=${v.identity_verification_id}`);
      expect(location.origin).toBe(RETURN_ORIGIN);
      expect(location.searchParams.get("x")).toBe("1");
      expect(location.searchParams.get("verification_id")).toBe(v.id);
      expect(location.searchParams.get("status")).toBe("verified");
    });

    it("the code and message PortOne adds are hints only: certgate's own lookup decides", async () => {
      const failed = await prepare(
        { return_url: `${RETURN_ORIGIN}/done` },
        { persona: "adult", status: "FAILED" },
      );
      const location = await redirect(
        `identityVerificationId=${failed.identity_verification_id}&code=FAILURE_TYPE_PG&message=x`,
      );
      expect(location.searchParams.get("status")).toBe("rejected");
      expect(location.searchParams.get("reason")).toBe("not_certified");
    });

    it("a READY record redirects with status pending", async () => {
      const v = await prepare({ return_url: `${RETURN_ORIGIN}/done` }, { persona: "adult", status: "READY" });
      const location = await redirect(`identityVerificationId=${v.identity_verification_id}`);
      expect(location.searchParams.get("status")).toBe("pending");
      expect(location.searchParams.get("reason")).toBeNull();
    });

    it("without a return_url it answers JSON as the popup route does", async () => {
      const v = await prepare({});
      const res = await h.api(
        `/identity-verifications/redirect?identityVerificationId=${v.identity_verification_id}`,
      );
      expect(res.status).toBe(200);
      expect((await outcome(res)).verification.status).toBe("verified");
    });

    it("a missing identityVerificationId is a 400", async () => {
      const res = await h.api("/identity-verifications/redirect?code=x");
      expect(res.status).toBe(400);
      expect(errorBody.parse(await res.json()).error.code).toBe("invalid_request");
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
      const ref = `v2-fault-${fault.kind}-${kind}`;
      const v = await prepare({ account_ref: ref }, { persona: "foreigner" });
      h.emulator.setFault({ route: "getIdentityVerification", ...fault });
      const res = await completeV2(h, v.identity_verification_id);
      expect(res.status).toBe(status);
      expect(errorBody.parse(await res.json()).error.code).toBe(code);
      await expectUntouched(v.id);
      h.emulator.clearFaults();
      expect((await completeV2(h, v.identity_verification_id)).status).toBe(200);
      // The person is freed for the next case.
      expect((await h.api(`/api/accounts/${ref}`, { method: "DELETE", headers: auth })).status).toBe(200);
    });
  });
});
