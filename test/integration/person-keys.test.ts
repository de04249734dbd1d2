/**
 * A CI or DI that is not in PortOne's format (CI 88 characters, DI 64) is no person key: two
 * strangers whose records carry the same placeholder ("0", "null") are two people, never one
 * person's second account, and neither is shown the other's account. Over HTTP, on both databases.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { complete, createVerification, DATABASES, type Harness, startHarness } from "./harness.js";

const answer = z.object({
  verification: z.object({
    status: z.string(),
    reason: z.string().optional(),
    existing_account_ref: z.string().optional(),
  }),
});

describe.each(DATABASES)("malformed person keys on %s", (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  async function signUp(account: string, persona: "adult" | "foreigner", requirePersonKey: boolean) {
    const v = await createVerification(h, {
      account_ref: account,
      policy: { require_person_key: requirePersonKey },
    });
    const record = h.emulator.createCertification({
      merchant_uid: v.merchant_uid,
      persona,
      fields: { unique_key: "0", unique_in_site: "null" },
    });
    const res = await complete(h, record.imp_uid, v.merchant_uid);
    return { status: res.status, body: answer.parse(await res.json()).verification };
  }

  it("two strangers with a placeholder CI and DI are not one person: no_person_key, no one's account shown", async () => {
    const first = await signUp(`pk-a-${kind}`, "adult", true);
    const second = await signUp(`pk-b-${kind}`, "foreigner", true);
    for (const { status, body } of [first, second]) {
      expect(status).toBe(422);
      expect(body).toMatchObject({ status: "rejected", reason: "no_person_key" });
      expect(body.existing_account_ref).toBeUndefined();
    }
  });

  it("without the key required, both sign up: the placeholder binds neither to the other", async () => {
    const first = await signUp(`pk-c-${kind}`, "adult", false);
    const second = await signUp(`pk-d-${kind}`, "foreigner", false);
    expect([first.status, first.body.status]).toEqual([200, "verified"]);
    expect([second.status, second.body.status]).toEqual([200, "verified"]);
    expect(second.body.existing_account_ref).toBeUndefined();
  });
});
