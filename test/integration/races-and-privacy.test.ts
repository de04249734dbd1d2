import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  complete,
  createVerification,
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

describe.each(DATABASES)("races on %s", (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind, { timeoutMs: 10_000 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("50 parallel completions with the same imp_uid: exactly 1 verified, 49 already_used, no 5xx", async () => {
    const v = await createVerification(h, { account_ref: `race-imp-${kind}` });
    const { imp_uid } = h.emulator.createCertification({ persona: "adult", merchant_uid: v.merchant_uid });
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => complete(h, imp_uid, v.merchant_uid)),
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
        const v = await createVerification(h, { account_ref: `race-person-${kind}-${i}` });
        const { imp_uid } = h.emulator.createCertification({
          persona: "no_gender",
          merchant_uid: v.merchant_uid,
        });
        return { ...v, imp_uid };
      }),
    );
    const responses = await Promise.all(prepared.map((v) => complete(h, v.imp_uid, v.merchant_uid)));
    const bodies = await Promise.all(responses.map(codeOf));
    expect(responses.filter((r) => r.status >= 500)).toEqual([]);
    expect(bodies.filter((b) => b.verification.status === "verified")).toHaveLength(1);
    expect(bodies.filter((b) => b.error?.code === "duplicate_account")).toHaveLength(19);
  });
});

describe.each(DATABASES)("privacy on %s", (kind) => {
  let h: Harness;
  const person = {
    name: "박비밀가명",
    birthday: "1987-11-23",
    phone: "01099887766",
    gender: "female" as const,
  };
  let secrets: string[];

  beforeAll(async () => {
    h = await startHarness(kind);
    const v = await createVerification(h, { account_ref: `privacy-${kind}`, policy: { min_age: 19 } });
    const record = h.emulator.createCertification({ person, merchant_uid: v.merchant_uid });
    secrets = [
      person.name,
      person.birthday,
      person.phone,
      record.unique_key ?? "",
      record.unique_in_site ?? "",
    ];
    expect(secrets.every((s) => s.length > 0)).toBe(true);
    const res = await complete(h, record.imp_uid, v.merchant_uid);
    expect(res.status).toBe(200);
    // A replay and a fault also log.
    await complete(h, record.imp_uid, v.merchant_uid);
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
    expect(text).toContain("privacy-");
    expectAbsent(text, secrets);
  });
});
