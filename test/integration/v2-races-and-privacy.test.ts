import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  completeV2,
  createV2Verification,
  DATABASES,
  expectAbsent,
  type Harness,
  startHarness,
  storedText,
} from "./harness.js";

const codeOf = async (res: Response) =>
  z
    .object({
      error: z.object({ code: z.string() }).optional(),
      verification: z.object({ status: z.string() }),
    })
    .parse(await res.json());

describe.each(DATABASES)("V2 races on %s", (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind, { timeoutMs: 10_000 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("50 parallel completions of one identityVerificationId: exactly 1 verified, 49 already_used, no 5xx", async () => {
    const v = await createV2Verification(h, { account_ref: `v2-race-id-${kind}` });
    h.emulator.createIdentityVerification({
      identityVerificationId: v.identity_verification_id,
      persona: "adult",
    });
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => completeV2(h, v.identity_verification_id)),
    );
    const bodies = await Promise.all(responses.map(codeOf));
    expect(responses.filter((r) => r.status >= 500)).toEqual([]);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    expect(bodies.filter((b) => b.error?.code === "already_used")).toHaveLength(49);
    const audit = await h.store.listAuditEvents(v.id);
    expect(audit.filter((e) => e.type === "verification.completed")).toHaveLength(1);
  });

  it("20 verifications of one person with different account_refs in parallel: 1 verified, 19 duplicate_account", async () => {
    const prepared = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const v = await createV2Verification(h, { account_ref: `v2-race-person-${kind}-${i}` });
        h.emulator.createIdentityVerification({
          identityVerificationId: v.identity_verification_id,
          persona: "no_gender",
        });
        return v;
      }),
    );
    const responses = await Promise.all(prepared.map((v) => completeV2(h, v.identity_verification_id)));
    const bodies = await Promise.all(responses.map(codeOf));
    expect(responses.filter((r) => r.status >= 500)).toEqual([]);
    expect(bodies.filter((b) => b.verification.status === "verified")).toHaveLength(1);
    expect(bodies.filter((b) => b.error?.code === "duplicate_account")).toHaveLength(19);
  });
});

describe.each(DATABASES)("V2 privacy on %s", (kind) => {
  let h: Harness;
  const person = {
    name: "최비밀가명",
    birthday: "1986-10-22",
    phone: "01088776655",
    gender: "female" as const,
  };
  let secrets: string[];

  beforeAll(async () => {
    h = await startHarness(kind);
    const v = await createV2Verification(h, { account_ref: `v2-privacy-${kind}`, policy: { min_age: 19 } });
    const record = h.emulator.createIdentityVerification({
      identityVerificationId: v.identity_verification_id,
      person,
    });
    if (record.status !== "VERIFIED") throw new Error("the emulator did not verify the person");
    const customer = record.verifiedCustomer;
    secrets = [person.name, person.birthday, person.phone, customer.ci ?? "", customer.di ?? ""];
    expect(secrets.every((s) => s.length > 0)).toBe(true);
    expect((await completeV2(h, v.identity_verification_id)).status).toBe(200);
    // A replay, a READY record, a fault and a refused key also log.
    await completeV2(h, v.identity_verification_id);
    const ready = await createV2Verification(h, {});
    h.emulator.createIdentityVerification({
      identityVerificationId: ready.identity_verification_id,
      person,
      status: "READY",
    });
    expect((await completeV2(h, ready.identity_verification_id)).status).toBe(202);
    h.emulator.setFault({ route: "getIdentityVerification", kind: "malformed" });
    expect((await completeV2(h, ready.identity_verification_id)).status).toBe(502);
    h.emulator.clearFaults();
    expect(
      (await h.api(`/api/verifications/${v.id}`, { headers: { authorization: "Bearer x" } })).status,
    ).toBe(401);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("no log line of the run carries the name, phone, birthday, CI or DI", () => {
    expect(h.logs.length).toBeGreaterThan(3);
    const all = h.logs.join("\n");
    for (const s of secrets) expect(all).not.toContain(s);
    expect(all).not.toContain(person.birthday.replaceAll("-", ""));
  });

  it("the database never holds them in clear", async () => {
    const text = await storedText(h);
    expect(text).toContain("v2-privacy-");
    expectAbsent(text, secrets);
  });
});
