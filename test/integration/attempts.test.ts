/**
 * Failed attempts, through HTTP over real sockets, on SQLite and PostgreSQL, V1 and V2: the bound id
 * is public (it travels in the browser and in `m_redirect_url`), so an attempt that is not this
 * verification's own result — an upstream 404, a record bound to another verification — counts a
 * failed attempt and leaves it pending; the owner's own result still verifies; the attempt after
 * the last allowed one rejects it as `too_many_attempts`, with its audit and outbox events.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
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
} from "./harness.js";

const completionBody = z.object({
  verification: z.object({
    id: z.string(),
    status: z.enum(["pending", "verified", "rejected", "expired"]),
    reason: z.string().optional(),
    attempts_remaining: z.number().optional(),
    existing_account_ref: z.string().optional(),
    name_masked: z.string().optional(),
  }),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
const merchantBody = z.object({
  verification: z.object({
    status: z.string(),
    reason: z.string().nullable(),
    failed_attempts: z.number(),
    max_attempts: z.number(),
    identity: z.object({ name: z.string().nullable() }).nullable(),
  }),
});

/** One verification under test, whatever its API version. */
interface Subject {
  id: string;
  /** V1 merchant_uid, V2 identityVerificationId. */
  boundId: string;
  /** Presents a bogus id: V1 an imp_uid PortOne never issued, V2 the issued id before PortOne knows it. */
  bogus(): Promise<Response>;
  /** Presents someone else's record: V1 another verification's imp_uid, V2 PortOne answering with another record. */
  foreign(): Promise<Response>;
  /** Presents the owner's own, certified result. */
  own(): Promise<Response>;
  /** The bogus attempt through the redirect route. */
  bogusRedirect(): Promise<Response>;
}

const API_VERSIONS = ["v1", "v2"] as const;

describe.each(DATABASES)("failed attempts on %s", (kind) => {
  let h: Harness;
  let n = 0;
  beforeAll(async () => {
    h = await startHarness(kind, { emitEvents: true });
  });
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(() => {
    h.emulator.clearFaults();
  });

  async function subject(version: "v1" | "v2", body: Record<string, unknown> = {}): Promise<Subject> {
    n += 1;
    const withReturn = { return_url: `${RETURN_ORIGIN}/done`, ...body };
    if (version === "v1") {
      const v = await createVerification(h, withReturn);
      const bogusImpUid = `imp_${String(900_000_000_000 + n)}`;
      return {
        id: v.id,
        boundId: v.merchant_uid,
        bogus: () => complete(h, bogusImpUid, v.merchant_uid),
        async foreign() {
          // Another person's certified record, bound to their own verification.
          const other = await createVerification(h, {});
          const { imp_uid } = h.emulator.createCertification({
            persona: "minor",
            merchant_uid: other.merchant_uid,
          });
          return complete(h, imp_uid, v.merchant_uid);
        },
        own() {
          const { imp_uid } = h.emulator.createCertification({
            persona: "adult",
            merchant_uid: v.merchant_uid,
          });
          return complete(h, imp_uid, v.merchant_uid);
        },
        bogusRedirect: () =>
          h.api(
            `/certifications/redirect?imp_uid=${bogusImpUid}&merchant_uid=${v.merchant_uid}&success=true`,
          ),
      };
    }
    const v = await createV2Verification(h, withReturn);
    const idv = v.identity_verification_id;
    return {
      id: v.id,
      boundId: idv,
      bogus() {
        // Nothing under the issued id: PortOne answers 404.
        h.emulator.deleteIdentityVerification(idv);
        return completeV2(h, idv);
      },
      foreign() {
        // PortOne answers the lookup of this id with another verification's certified record.
        h.emulator.deleteIdentityVerification(idv);
        h.emulator.createIdentityVerification({
          identityVerificationId: idv,
          persona: "minor",
          fields: { id: `idv_someone_else_${n}` },
        });
        return completeV2(h, idv);
      },
      own() {
        h.emulator.deleteIdentityVerification(idv);
        h.emulator.createIdentityVerification({ identityVerificationId: idv, persona: "adult" });
        return completeV2(h, idv);
      },
      bogusRedirect: () => h.api(`/identity-verifications/redirect?identityVerificationId=${idv}`),
    };
  }

  async function answer(res: Response) {
    return completionBody.parse(await res.json());
  }
  async function merchant(id: string) {
    const res = await h.api(`/api/verifications/${id}`, { headers: auth });
    expect(res.status).toBe(200);
    return merchantBody.parse(await res.json()).verification;
  }
  /** A failed attempt: 422 with the reason, the verification still pending with `remaining` left. */
  async function expectFailedAttempt(res: Response, reason: string, remaining: number) {
    expect(res.status).toBe(422);
    const body = await answer(res);
    expect(body.error?.code).toBe(reason);
    // Pending, how many attempts are left, and nothing about the record that was presented.
    expect(body.verification).toEqual({
      id: body.verification.id,
      status: "pending",
      attempts_remaining: remaining,
    });
  }
  async function expectTooManyAttempts(res: Response) {
    expect(res.status).toBe(422);
    const body = await answer(res);
    expect(body.error?.code).toBe("too_many_attempts");
    expect(body.verification).toMatchObject({ status: "rejected", reason: "too_many_attempts" });
  }
  async function outboxStatuses(verificationId: string) {
    const far = new Date(h.emulator.clock.now() + 365 * 86_400_000);
    const events = await h.store.claimWebhookEvents({ now: far, limit: 1_000, leaseUntil: far });
    return events
      .filter((e) => e.verificationId === verificationId)
      .map(
        (e) =>
          z
            .object({ data: z.object({ status: z.string(), reason: z.string().nullable() }) })
            .parse(JSON.parse(e.payload)).data,
      );
  }

  describe.each(API_VERSIONS)("%s", (version) => {
    it("a bogus id and another person's record leave it pending; the owner's own result then verifies", async () => {
      const s = await subject(version);
      await expectFailedAttempt(await s.bogus(), "not_found", 4);
      await expectFailedAttempt(await s.foreign(), "merchant_uid_mismatch", 3);
      expect(await merchant(s.id)).toMatchObject({
        status: "pending",
        reason: null,
        failed_attempts: 2,
        max_attempts: 5,
        identity: null,
      });

      const res = await s.own();
      expect(res.status).toBe(200);
      expect((await answer(res)).verification.status).toBe("verified");
      expect(await merchant(s.id)).toMatchObject({ status: "verified", failed_attempts: 2 });

      const audit = await h.store.listAuditEvents(s.id);
      expect(audit.map((e) => e.type)).toEqual([
        "verification.attempt_failed",
        "verification.attempt_failed",
        "verification.completed",
      ]);
      // Ids and reason only: never anything of the other person's record.
      for (const event of audit.slice(0, 2)) {
        expect(Object.keys(event.data).sort()).toEqual(
          ["api_version", "failed_attempts", "max_attempts", "reason", "upstream_id"].sort(),
        );
      }
      expect(audit.map((e) => e.data.reason)).toEqual(["not_found", "merchant_uid_mismatch", null]);
    });

    it("five failed attempts are allowed; the sixth rejects it as too_many_attempts, with its audit and outbox events", async () => {
      const s = await subject(version);
      // Bogus ids first: in V2 a foreign record, once PortOne holds it, answers every later lookup.
      for (let i = 0; i < 3; i += 1) await expectFailedAttempt(await s.bogus(), "not_found", 4 - i);
      for (let i = 3; i < 5; i += 1)
        await expectFailedAttempt(await s.foreign(), "merchant_uid_mismatch", 4 - i);
      await expectTooManyAttempts(await s.foreign());
      expect(await merchant(s.id)).toMatchObject({
        status: "rejected",
        reason: "too_many_attempts",
        failed_attempts: 6,
        max_attempts: 5,
      });

      const audit = await h.store.listAuditEvents(s.id);
      expect(audit.filter((e) => e.type === "verification.attempt_failed")).toHaveLength(6);
      const completed = audit.filter((e) => e.type === "verification.completed");
      expect(completed.map((e) => e.data)).toEqual([
        { status: "rejected", reason: "too_many_attempts", api_version: version, purpose: "check" },
      ]);
      expect(await outboxStatuses(s.id)).toEqual([{ status: "rejected", reason: "too_many_attempts" }]);

      // Finished for good: the owner's own result is now a replay and consumes nothing.
      const late = await s.own();
      expect(late.status).toBe(409);
      expect((await answer(late)).error?.code).toBe("already_used");
      expect((await h.store.getVerification(s.id))?.upstreamId).toBeUndefined();
    });

    it("honours a custom max_attempts", async () => {
      const s = await subject(version, { max_attempts: 2 });
      expect(await merchant(s.id)).toMatchObject({ failed_attempts: 0, max_attempts: 2 });
      await expectFailedAttempt(await s.bogus(), "not_found", 1);
      await expectFailedAttempt(await s.foreign(), "merchant_uid_mismatch", 0);
      await expectTooManyAttempts(await s.bogus());
      expect(await merchant(s.id)).toMatchObject({ reason: "too_many_attempts", failed_attempts: 3 });
    });

    it("max_attempts 1: one failed attempt, then the owner's result still verifies", async () => {
      const s = await subject(version, { max_attempts: 1 });
      await expectFailedAttempt(await s.bogus(), "not_found", 0);
      expect((await s.own()).status).toBe(200);
    });

    it("the redirect route answers a failed attempt with 303 status=pending and the reason", async () => {
      const s = await subject(version);
      const res = await s.bogusRedirect();
      expect(res.status).toBe(303);
      const location = new URL(res.headers.get("location") ?? "");
      expect(location.origin).toBe(RETURN_ORIGIN);
      expect(location.searchParams.get("verification_id")).toBe(s.id);
      expect(location.searchParams.get("status")).toBe("pending");
      expect(location.searchParams.get("reason")).toBe("not_found");
      expect((await s.own()).status).toBe(200);
    });

    it("ten concurrent bad attempts with max_attempts 5: five counted, exactly one finish, the rest replays", async () => {
      const s = await subject(version, { max_attempts: 5 });
      const answers = await Promise.all(
        Array.from({ length: 10 }, async () => {
          const res = await s.bogus();
          return { status: res.status, body: await answer(res) };
        }),
      );
      const pending = answers.filter((a) => a.status === 422 && a.body.verification.status === "pending");
      const finished = answers.filter((a) => a.body.error?.code === "too_many_attempts");
      const replays = answers.filter((a) => a.status === 409);
      expect(pending).toHaveLength(5);
      expect(finished).toHaveLength(1);
      expect(replays).toHaveLength(4);
      // Each counted attempt saw a distinct count: 4, 3, 2, 1, 0 remaining.
      expect(pending.map((a) => a.body.verification.attempts_remaining).sort()).toEqual([0, 1, 2, 3, 4]);

      expect(await merchant(s.id)).toMatchObject({
        status: "rejected",
        reason: "too_many_attempts",
        failed_attempts: 6,
      });
      const audit = await h.store.listAuditEvents(s.id);
      expect(audit.filter((e) => e.type === "verification.attempt_failed")).toHaveLength(6);
      expect(audit.filter((e) => e.type === "verification.completed")).toHaveLength(1);
      expect(await outboxStatuses(s.id)).toHaveLength(1);
    });
  });

  it("refuses a max_attempts outside 1..20", async () => {
    for (const max_attempts of [0, 21, 2.5, "5", -1]) {
      const res = await h.api("/api/verifications", {
        method: "POST",
        headers: auth,
        body: { max_attempts },
      });
      expect(res.status, String(max_attempts)).toBe(400);
      expect(z.object({ error: z.object({ code: z.string() }) }).parse(await res.json()).error.code).toBe(
        "invalid_request",
      );
    }
  });
});
