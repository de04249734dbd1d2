/**
 * CERTGATE_DELETE_UPSTREAM: once the outcome is stored, PortOne's copy of the record is removed. The
 * completion owes the deletion in its own transaction; a deletion PortOne refuses, or one an
 * instance never got to make, is made by recovery (service/recovery.ts) on its backoff, on SQLite
 * and PostgreSQL, by whichever instance runs it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreError } from "../../src/core/errors.js";
import { TEST_MERCHANT } from "../../src/emulator/index.js";
import { createRecoveryJob } from "../../src/index.js";
import {
  complete,
  createVerification,
  DATABASES,
  type Harness,
  libraryService,
  startHarness,
} from "./harness.js";

/** The grace a completion's own deletion has before recovery may make it (service/verifications.ts). */
const GRACE_MS = 60_000;

/** A V1 access token of the emulator's merchant, from its API. */
async function tokenOf(h: Harness): Promise<string> {
  const res = await h.emulator.fetch("/users/getToken", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ imp_key: TEST_MERCHANT.impKey, imp_secret: TEST_MERCHANT.impSecret }),
  });
  return ((await res.json()) as { response: { access_token: string } }).response.access_token;
}

/** Whether PortOne (the emulator, over its API) still has record `impUid`. */
async function upstreamHas(h: Harness, impUid: string): Promise<boolean> {
  const res = await h.emulator.fetch(`/certifications/${impUid}`, {
    headers: { authorization: `Bearer ${await tokenOf(h)}` },
  });
  await res.body?.cancel();
  if (res.status !== 200 && res.status !== 404) throw new Error(`unexpected ${res.status}`);
  return res.status === 200;
}

const deletes = (h: Harness) => h.emulator.stats().requests.deleteCertification;

/** A consumed record of a new verification (a check: the one persona binds no account), answered. */
async function completed(h: Harness) {
  const v = await createVerification(h, {});
  const record = h.emulator.createCertification({ persona: "adult", merchant_uid: v.merchant_uid });
  expect((await complete(h, record.imp_uid, v.merchant_uid)).status).toBe(200);
  return { v, impUid: record.imp_uid };
}

describe.each(DATABASES)("deleting the upstream record after completion (%s)", (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind, { deleteUpstream: true });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("deletes a consumed record, and never someone else's", async () => {
    const before = deletes(h);
    const { v, impUid } = await completed(h);
    expect(deletes(h)).toBe(before + 1);
    expect(await upstreamHas(h, impUid)).toBe(false);
    const listed = await (
      await fetch(`${h.url}/api/verifications/${v.id}`, {
        headers: { authorization: "Bearer integration_test_api_key_0001" },
      })
    ).json();
    expect(listed).toMatchObject({ verification: { status: "verified" } });
    // Settled at once: nothing is owed, so recovery has nothing to delete, now or later.
    expect((await h.store.listAuditEvents(v.id)).map((e) => e.type)).toContain("upstream.deleted");
    h.emulator.clock.advance(GRACE_MS);
    expect(await h.recovery.runOnce()).toMatchObject({ upstreamDeleted: 0 });
    expect(deletes(h)).toBe(before + 1);

    // A mismatched record is not this verification's: it is neither consumed nor deleted.
    const other = await createVerification(h, {});
    const victim = h.emulator.createCertification({ persona: "minor", merchant_uid: "mid_someone_else" });
    expect((await complete(h, victim.imp_uid, other.merchant_uid)).status).toBe(422);
    expect(deletes(h)).toBe(before + 1);
    expect(await upstreamHas(h, victim.imp_uid)).toBe(true);
  });

  it("the service's deleteUpstreamCopy deletes only a record one of its verifications consumed", async () => {
    h.emulator.setFault({ route: "deleteCertification", kind: "status", status: 503, times: 2 });
    const { v, impUid } = await completed(h);
    const stranger = h.emulator.createCertification({ persona: "adult", merchant_uid: "mid_not_ours" });
    const unused = await createVerification(h, {});
    const service = libraryService(h);
    const before = deletes(h);
    // A record no verification consumed, a real verification's id beside someone else's record,
    // and an id certgate never issued: each refused before PortOne is asked, and nothing settled.
    for (const deletion of [
      { upstreamId: stranger.imp_uid, verificationId: v.id },
      { upstreamId: stranger.imp_uid, verificationId: unused.id },
      { upstreamId: impUid, verificationId: unused.id },
      { upstreamId: impUid, verificationId: "ver_never_issued" },
    ]) {
      await expect(service.deleteUpstreamCopy(deletion)).rejects.toMatchObject({ code: "not_found" });
    }
    // A bare id (the earlier signature) or a misspelt key is bad input, not "delete this".
    await expect(service.deleteUpstreamCopy(impUid as never)).rejects.toMatchObject({
      code: "invalid_request",
    });
    await expect(
      service.deleteUpstreamCopy({ upstreamId: impUid, verificationId: v.id, force: true } as never),
    ).rejects.toMatchObject({ code: "unknown_field" });
    expect(deletes(h)).toBe(before);
    expect(await upstreamHas(h, stranger.imp_uid)).toBe(true);
    expect(await upstreamHas(h, impUid)).toBe(true);

    // The record this verification consumed is deleted, and the debt its completion owed settled.
    await service.deleteUpstreamCopy({ upstreamId: impUid, verificationId: v.id });
    expect(deletes(h)).toBe(before + 1);
    expect(await upstreamHas(h, impUid)).toBe(false);
    h.emulator.clock.advance(GRACE_MS);
    expect(await h.recovery.runOnce()).toMatchObject({ upstreamDeleted: 0 });
  });

  it("a deletion PortOne refuses stays owed, and recovery makes it once its grace is over", async () => {
    // The client tries twice (harness: retries 1): both refused.
    h.emulator.setFault({ route: "deleteCertification", kind: "status", status: 503, times: 2 });
    const before = deletes(h);
    const { v, impUid } = await completed(h);
    expect(deletes(h)).toBe(before + 2);
    expect(await upstreamHas(h, impUid)).toBe(true);
    expect(h.logs.join("")).toContain("could not delete the upstream record; the deletion stays owed");

    // Owed, and seen to be: /metrics counts it and ages it (on the store's clock: real time).
    const owed = await (await h.api("/metrics")).text();
    expect(owed).toMatch(/^certgate_upstream_deletions_owed 1$/m);
    expect(owed).toMatch(/^certgate_upstream_deletions_oldest_age_seconds [\d.e+-]+$/m);

    // Not yet due: the completion's own attempt had its grace.
    expect(await h.recovery.runOnce()).toMatchObject({ upstreamDeleted: 0 });
    expect(deletes(h)).toBe(before + 2);

    h.emulator.clock.advance(GRACE_MS);
    expect(await h.recovery.runOnce()).toMatchObject({ upstreamDeleted: 1 });
    expect(deletes(h)).toBe(before + 3);
    expect(await upstreamHas(h, impUid)).toBe(false);
    const audit = (await h.store.listAuditEvents(v.id)).filter((e) => e.type === "upstream.deleted");
    expect(audit).toHaveLength(1);
    expect(audit[0]?.data).toEqual({ api_version: "v1", attempts: 1, upstream: "deleted" });
    const drained = await (await h.api("/metrics")).text();
    expect(drained).toMatch(/^certgate_upstream_deletions_owed 0$/m);
    expect(drained).toMatch(/^certgate_upstream_deletions_oldest_age_seconds 0$/m);

    // Settled: never deleted again.
    h.emulator.clock.advance(24 * 60 * 60_000);
    expect(await h.recovery.runOnce()).toMatchObject({ upstreamDeleted: 0 });
    expect(deletes(h)).toBe(before + 3);
  });

  it("recovery backs off while PortOne refuses, and PortOne's 404 counts as deleted", async () => {
    h.emulator.setFault({ route: "deleteCertification", kind: "status", status: 503, times: 4 });
    const before = deletes(h);
    const { v, impUid } = await completed(h);
    expect(deletes(h)).toBe(before + 2);

    // First recovery attempt (two calls, both refused): the next is due a minute later.
    h.emulator.clock.advance(GRACE_MS);
    expect(await h.recovery.runOnce()).toMatchObject({ upstreamDeleted: 0 });
    expect(deletes(h)).toBe(before + 4);
    expect(h.logs.join("")).toContain("upstream deletion failed; tried again later");
    h.emulator.clock.advance(59_000);
    expect(await h.recovery.runOnce()).toMatchObject({ upstreamDeleted: 0 });
    expect(deletes(h)).toBe(before + 4);

    // Meanwhile PortOne's copy went (deleted by hand, say): its 404 settles the deletion owed.
    const byHand = await h.emulator.fetch(`/certifications/${impUid}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${await tokenOf(h)}` },
    });
    expect(byHand.status).toBe(200);
    const afterHand = deletes(h);
    h.emulator.clock.advance(1_000);
    expect(await h.recovery.runOnce()).toMatchObject({ upstreamDeleted: 1 });
    expect(deletes(h)).toBe(afterHand + 1);
    // Settled, and said to be settled by a 404, for an operator to check.
    const settled = (await h.store.listAuditEvents(v.id)).filter((e) => e.type === "upstream.deleted");
    expect(settled.map((e) => e.data.upstream)).toEqual(["not_found"]);
    expect(h.logs.join("")).toContain("upstream record already gone; its deletion is settled");
    h.emulator.clock.advance(24 * 60 * 60_000);
    expect(await h.recovery.runOnce()).toMatchObject({ upstreamDeleted: 0 });
  });

  it("an owed deletion outlives its instance: another instance on the database makes it", async () => {
    h.emulator.setFault({ route: "deleteCertification", kind: "drop", times: 2 });
    const { impUid } = await completed(h);
    expect(await upstreamHas(h, impUid)).toBe(true);
    // A second instance on the same database, with its own emulator: the first's copy is not its
    // PortOne, so its deletion is answered 404 there, which settles it as deleted. So this checks
    // that the debt is in the database, claimed once, by whichever instance comes.
    const second = await startHarness(kind, { deleteUpstream: true, databaseUrl: h.databaseUrl });
    try {
      h.emulator.clock.advance(GRACE_MS);
      // One time for both instances, as on one host.
      second.emulator.clock.set(h.emulator.clock.now());
      const claims = await second.store.claimUpstreamDeletions({
        now: new Date(second.emulator.clock.now()),
        limit: 10,
        leaseUntil: new Date(second.emulator.clock.now() + 60_000),
      });
      expect(claims.map((c) => c.upstreamId)).toEqual([impUid]);
      expect(claims[0]?.attempts).toBe(1);
      // Claimed: neither instance claims it again while the lease runs.
      expect(await h.recovery.runOnce()).toMatchObject({ upstreamDeleted: 0 });
      expect(await second.recovery.runOnce()).toMatchObject({ upstreamDeleted: 0 });
      h.emulator.clock.advance(60_000);
      second.emulator.clock.set(h.emulator.clock.now());
      expect(await second.recovery.runOnce()).toMatchObject({ upstreamDeleted: 1 });
      expect(await upstreamHas(h, impUid)).toBe(true); // the second's PortOne is not the first's
      expect(await h.recovery.runOnce()).toMatchObject({ upstreamDeleted: 0 });
      expect(second.emulator.stats().requests.deleteCertification).toBe(1);
    } finally {
      await second.close().catch(() => undefined);
    }
  });

  it("a recovery run whose V2 checks meet a database fault still makes the deletions owed", async () => {
    h.emulator.setFault({ route: "deleteCertification", kind: "status", status: 503, times: 2 });
    const { impUid } = await completed(h);
    h.emulator.clock.advance(GRACE_MS);
    // The harness's store with one step's table failing, and a service of both APIs over it.
    const store = {
      ...h.store,
      claimRecoveryChecks: () => Promise.reject(new StoreError("unavailable", { dialect: kind })),
    };
    const service = libraryService(h, store);
    const job = createRecoveryJob({ store, service, now: () => new Date(h.emulator.clock.now()) });
    // The run fails, with the fault it met, but only once every step has run.
    await expect(job.runOnce()).rejects.toBeInstanceOf(StoreError);
    expect(await upstreamHas(h, impUid)).toBe(false);
    expect(await h.recovery.runOnce()).toMatchObject({ upstreamDeleted: 0 });
  });
});
