/**
 * The verification flow through HTTP against the emulator, for each PortOne API version on SQLite
 * and a real PostgreSQL: success, every rejection reason, upstream faults and bad input, then what
 * only one version has (V1's guide redirect route and imp_uid mismatch; V2's creation parameters,
 * READY and unknown statuses staying pending, its redirect route, and one person across V1 and V2).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { TEST_MERCHANT } from "../../src/emulator/index.js";
import {
  API_ADAPTERS,
  API_VERSIONS,
  type Created,
  type UpstreamInput,
  type V2Record,
} from "./api-versions.js";
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
const merchantBody = z.object({
  verification: z.object({
    api_version: z.enum(["v1", "v2"]),
    merchant_uid: z.string().nullable(),
    identity_verification_id: z.string().nullable(),
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
});

/** A record for the V2-only tests, which never run it as V1. */
const onlyV2 = (v2: V2Record): UpstreamInput => ({ v1: {}, v2 });

/** RFC 3339 in UTC, as PortOne V2 writes `verifiedAt`. */
const iso = (ms: number) => new Date(ms).toISOString();

describe.each(API_VERSIONS)("%s", (version) => {
  const a = API_ADAPTERS[version];

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
    /** The merchant backend's view; `ref` is the id of this version (merchant_uid or identity_verification_id). */
    async function merchantOutcome(id: string) {
      const res = await h.api(`/api/verifications/${id}`, { headers: auth });
      expect(res.status).toBe(200);
      const verification = merchantBody.parse(await res.json()).verification;
      expect(verification.api_version).toBe(version);
      // The other version's id is null.
      expect(version === "v1" ? verification.identity_verification_id : verification.merchant_uid).toBeNull();
      const ref = version === "v1" ? verification.merchant_uid : verification.identity_verification_id;
      expect(ref).toEqual(expect.any(String));
      return { ...verification, ref };
    }
    /** Creates a verification and an emulator record bound to it. */
    async function prepare(body: Record<string, unknown>, record: UpstreamInput = "adult") {
      return a.record(h, await a.create(h, body), record);
    }
    async function expectRejected(v: { id: string; complete(): Promise<Response> }, reason: string) {
      const res = await v.complete();
      expect(res.status).toBe(422);
      const body = await outcome(res);
      expect(body.error?.code).toBe(reason);
      expect(body.verification.reason).toBe(reason);
      expect((await merchantOutcome(v.id)).reason).toBe(reason);
    }
    /** Not this verification's own result: 422 with the reason, but it stays pending (attempts.test.ts). */
    async function expectFailedAttempt(res: Response, v: Created, reason: string) {
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

    describe("success", () => {
      it("verifies an adult for sign-up and keeps the identity for the merchant backend", async () => {
        const v = await prepare({
          account_ref: `${a.prefix}ok-${kind}`,
          policy: { min_age: 19, age_rule: "year" },
        });
        const res = await v.complete();
        expect(res.status).toBe(200);
        const body = await outcome(res);
        expect(body.verification).toMatchObject({ id: v.id, status: "verified" });
        // The browser sees a masked name and nothing else personal.
        expect(Object.keys(body.verification).sort()).toEqual(["id", "name_masked", "status"]);
        const merchant = await merchantOutcome(v.id);
        expect(merchant).toMatchObject({ status: "verified", ref: v.ref });
        expect(merchant.identity?.birth_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        // V2's MALE and SKT map onto the same model as V1's.
        expect(merchant.identity).toMatchObject({ birth_date: "1990-01-15", gender: "male", carrier: "SKT" });
        const audit = await h.store.listAuditEvents(v.id);
        expect(audit.map((e) => e.type)).toContain("verification.completed");
      });

      it("accepts year age 19 / international age 18 under the year rule and refuses it under the international rule", async () => {
        const year = await prepare({ policy: { min_age: 19, age_rule: "year" } }, "adult_year_only");
        expect((await year.complete()).status).toBe(200);
        const intl = await prepare({ policy: { min_age: 19, age_rule: "international" } }, "adult_year_only");
        const res = await intl.complete();
        expect(res.status).toBe(422);
        expect((await outcome(res)).verification.reason).toBe("underage");
      });
    });

    describe("each rejection reason", () => {
      it("not_certified (the OTP never confirmed in V1, FAILED in V2) is a failed attempt: the person's next attempt under the same id verifies", async () => {
        const created = await a.create(h, {});
        const failed = a.record(h, created, {
          v1: { persona: "uncertified" },
          v2: { persona: "adult", status: "FAILED" },
        });
        const first = await failed.complete();
        // The record is this verification's own; the message says so, not "bound elsewhere".
        expect((await outcome(first.clone())).error?.message).toBe(
          "the person did not finish the verification at PortOne; the verification is still pending",
        );
        await expectFailedAttempt(first, created, "not_certified");
        // PortOne lets the person try again under the same merchant_uid / identityVerificationId.
        const retried = a.record(h, created, "adult");
        const res = await retried.complete();
        expect(res.status).toBe(200);
        expect((await outcome(res)).verification.status).toBe("verified");
      });

      it("already_used: a second completion of a finished verification", async () => {
        const v = await prepare({});
        expect((await v.complete()).status).toBe(200);
        const again = await v.complete();
        expect(again.status).toBe(409);
        expect((await outcome(again)).error?.code).toBe("already_used");
        expect((await merchantOutcome(v.id)).status).toBe("verified");
      });

      it("expired: completed after the verification's expiry", async () => {
        const v = await prepare({ expires_in_seconds: 60 });
        h.emulator.clock.advance(61_000);
        const res = await v.complete();
        expect(res.status).toBe(422);
        expect((await outcome(res)).verification).toMatchObject({ status: "expired", reason: "expired" });
      });

      it("stale_certification: certified longer ago than the freshness window", async () => {
        const at = h.emulator.clock.now() - 601_000;
        const v = await prepare(
          { policy: { freshness_seconds: 600 } },
          {
            v1: { persona: "adult", certified_at: Math.floor(h.emulator.clock.now() / 1000) - 601 },
            v2: { persona: "adult", verifiedAt: iso(at) },
          },
        );
        await expectRejected(v, "stale_certification");
      });

      it("underage: a minor at an adult gate", async () => {
        await expectRejected(
          await prepare({ policy: { min_age: 19, age_rule: "year" } }, "minor"),
          "underage",
        );
      });

      it("overage: an adult at a youth-only service", async () => {
        await expectRejected(await prepare({ policy: { max_age: 18 } }, "adult"), "overage");
      });

      it("duplicate_account: the second sign-up of one person", async () => {
        const first = await prepare({ account_ref: `${a.prefix}first-${kind}` }, "leap_day");
        expect((await first.complete()).status).toBe(200);
        const second = await prepare({ account_ref: `${a.prefix}second-${kind}` }, "leap_day");
        const res = await second.complete();
        expect(res.status).toBe(422);
        const body = await outcome(res);
        expect(body.verification).toMatchObject({
          reason: "duplicate_account",
          existing_account_ref: `${a.prefix}first-${kind}`,
        });
      });

      it("no_person_key: neither CI nor DI at sign-up", async () => {
        await expectRejected(
          await prepare(
            { account_ref: `${a.prefix}nokey-${kind}` },
            {
              v1: { persona: "adult", fields: { unique_key: null, unique_in_site: null } },
              v2: {
                persona: "adult",
                fields: { verifiedCustomer: { name: "김테스트", birthDate: "1990-01-15", gender: "MALE" } },
              },
            },
          ),
          "no_person_key",
        );
      });

      it("not_found: PortOne has no record under the id, a failed attempt", async () => {
        const created = await a.create(h, {});
        await expectFailedAttempt(await a.completeWithoutRecord(h, created), created, "not_found");
      });

      it("a verification certgate never issued is a 404 and writes nothing", async () => {
        const res = await a.completeUnissued(h);
        expect(res.status).toBe(404);
        expect(errorBody.parse(await res.json()).error.code).toBe("not_found");
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
        // A new person for each case, so that the retry's success is not a duplicate.
        const ref = `${a.prefix}fault-${fault.kind}-${kind}`;
        const v = await prepare({ account_ref: ref }, "foreigner");
        h.emulator.setFault({ route: a.lookupRoute, ...fault });
        const res = await v.complete();
        expect(res.status).toBe(status);
        // A 503 says when to try again; a 502 or 504 does not.
        expect(res.headers.get("retry-after")).toBe(status === 503 ? "5" : null);
        expect(errorBody.parse(await res.json()).error.code).toBe(code);
        await expectUntouched(v.id);
        h.emulator.clearFaults();
        expect((await v.complete()).status).toBe(200);
        // The person is freed for the next case.
        expect((await h.api(`/api/accounts/${ref}`, { method: "DELETE", headers: auth })).status).toBe(200);
      });
    });

    if (version === "v1") {
      describe("V1 only: merchant_uid_mismatch", () => {
        it("someone else's imp_uid is a failed attempt, and stays usable by its owner", async () => {
          const victim = await prepare({});
          const attacker = await a.create(h, {});
          await expectFailedAttempt(
            await complete(h, victim.upstreamId, attacker.ref),
            attacker,
            "merchant_uid_mismatch",
          );
          expect((await victim.complete()).status).toBe(200);
        });
      });

      describe("V1 only: the guide's redirect route", () => {
        it("answers 303 to the return_url with verification_id and status", async () => {
          const v = await prepare({ return_url: `${RETURN_ORIGIN}/after?x=1` });
          const res = await h.api(
            `/certifications/redirect?imp_uid=${v.upstreamId}&merchant_uid=${v.ref}&success=true`,
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
          const attacker = await a.create(h, { return_url: `${RETURN_ORIGIN}/done` });
          const res = await h.api(
            `/certifications/redirect?imp_uid=${victim.upstreamId}&merchant_uid=${attacker.ref}&success=true`,
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
    }

    if (version === "v2") {
      describe("V2 only: creation", () => {
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

      describe("V2 only: a record that is not finished stays pending (202), writes nothing and can be retried", () => {
        it("READY: the person has not completed the verification yet", async () => {
          const v = await prepare(
            { account_ref: `v2-ready-${kind}` },
            onlyV2({ persona: "adult_year_only", status: "READY" }),
          );
          const res = await v.complete();
          expect(res.status).toBe(202);
          expect((await outcome(res)).verification).toEqual({ id: v.id, status: "pending" });
          await expectUntouched(v.id);
          // The person finishes (a new attempt under the same id), and the same call now succeeds.
          a.record(h, v, "adult_year_only");
          expect((await v.complete()).status).toBe(200);
        });

        it("a status certgate does not know is never verified (nor a final rejection)", async () => {
          const v = await prepare(
            {},
            onlyV2({ persona: "adult", status: "READY", fields: { status: "PENDING_REVIEW" } }),
          );
          const res = await v.complete();
          expect(res.status).toBe(202);
          expect((await outcome(res)).verification.status).toBe("pending");
          await expectUntouched(v.id);
          a.record(h, v, "adult");
          expect((await v.complete()).status).toBe(200);
        });
      });

      describe("V2 only: rejections", () => {
        it("merchant_uid_mismatch: PortOne answers with a record under another id, which is not consumed nor finishes it", async () => {
          // V2 has no merchant_uid: certgate looks the record up by the id it issued, so the only way to
          // a mismatch is an upstream answer about another verification. It must still not verify.
          // It is not this verification's own result: a failed attempt, and it stays pending (attempts.test.ts).
          const v = await prepare({}, onlyV2({ persona: "adult", fields: { id: "idv_someone_else" } }));
          await expectFailedAttempt(await v.complete(), v, "merchant_uid_mismatch");
          expect((await h.store.getVerification(v.id))?.upstreamId).toBeUndefined();
        });

        it("the V1 and V2 routes do not complete each other's verifications", async () => {
          const v1 = await createVerification(h);
          expect((await completeV2(h, v1.merchant_uid)).status).toBe(404);
          const v2 = await prepare({});
          expect((await complete(h, "imp_000000000001", v2.ref)).status).toBe(404);
          expect((await merchantOutcome(v2.id)).status).toBe("pending");
        });
      });

      describe("V2 only: one person across V1 and V2", () => {
        it("a V1 sign-up then a V2 sign-up of the same persona ends in duplicate_account (same CI)", async () => {
          const first = await API_ADAPTERS.v1.create(h, { account_ref: `cross-v1-${kind}` });
          expect((await API_ADAPTERS.v1.record(h, first, "no_di").complete()).status).toBe(200);

          const second = await prepare({ account_ref: `cross-v2-${kind}` }, "no_di");
          const res = await second.complete();
          expect(res.status).toBe(422);
          expect((await outcome(res)).verification).toMatchObject({
            status: "rejected",
            reason: "duplicate_account",
            existing_account_ref: `cross-v1-${kind}`,
          });
        });
      });

      describe("V2 only: the redirect route (REDIRECTION window type)", () => {
        async function redirect(query: string) {
          const res = await h.api(`/identity-verifications/redirect?${query}`);
          expect(res.status).toBe(303);
          return new URL(res.headers.get("location") ?? "");
        }

        it("answers 303 to the return_url with verification_id and status", async () => {
          const v = await prepare({ return_url: `${RETURN_ORIGIN}/after?x=1` });
          const location = await redirect(`identityVerificationId=${v.ref}`);
          expect(location.origin).toBe(RETURN_ORIGIN);
          expect(location.searchParams.get("x")).toBe("1");
          expect(location.searchParams.get("verification_id")).toBe(v.id);
          expect(location.searchParams.get("status")).toBe("verified");
        });

        it("the code and message PortOne adds are hints only: certgate's own lookup decides", async () => {
          const failed = await prepare(
            { return_url: `${RETURN_ORIGIN}/done` },
            onlyV2({ persona: "adult", status: "FAILED" }),
          );
          const location = await redirect(
            `identityVerificationId=${failed.ref}&code=FAILURE_TYPE_PG&message=x`,
          );
          // PortOne's FAILED: a failed attempt, the verification still pending for the next one.
          expect(location.searchParams.get("status")).toBe("pending");
          expect(location.searchParams.get("reason")).toBe("not_certified");
        });

        it("the return_url's own outcome parameters never reach the page: only certgate's", async () => {
          const v = await prepare({
            return_url: `${RETURN_ORIGIN}/after?x=1&reason=zz&existing_account_ref=someone&status=verified`,
          });
          const location = await redirect(`identityVerificationId=${v.ref}`);
          expect(location.searchParams.get("x")).toBe("1");
          expect(location.searchParams.get("status")).toBe("verified");
          // A verified outcome has no reason: a page reading it saw "zz". The existing account is
          // certgate's (this persona may hold one from an earlier test), never the URL's "someone".
          expect(location.searchParams.getAll("reason")).toEqual([]);
          expect(location.searchParams.getAll("existing_account_ref")).not.toContain("someone");
          expect(location.searchParams.getAll("existing_account_ref").length).toBeLessThanOrEqual(1);
          expect(location.searchParams.getAll("status")).toEqual(["verified"]);
        });

        it("a READY record redirects with status pending", async () => {
          const v = await prepare(
            { return_url: `${RETURN_ORIGIN}/done` },
            onlyV2({ persona: "adult", status: "READY" }),
          );
          const location = await redirect(`identityVerificationId=${v.ref}`);
          expect(location.searchParams.get("status")).toBe("pending");
          expect(location.searchParams.get("reason")).toBeNull();
        });

        it("without a return_url it answers JSON as the popup route does", async () => {
          const v = await prepare({});
          const res = await h.api(`/identity-verifications/redirect?identityVerificationId=${v.ref}`);
          expect(res.status).toBe(200);
          expect((await outcome(res)).verification.status).toBe("verified");
        });

        it("a missing identityVerificationId is a 400", async () => {
          const res = await h.api("/identity-verifications/redirect?code=x");
          expect(res.status).toBe(400);
          expect(errorBody.parse(await res.json()).error.code).toBe("invalid_request");
        });
      });
    }
  });
});
