/** CERTGATE_DELETE_UPSTREAM: once the outcome is stored, PortOne's copy of the record is removed. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { complete, createVerification, type Harness, startHarness } from "./harness.js";

describe("deleting the upstream record after completion", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("sqlite", { deleteUpstream: true });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("deletes a consumed record, and never someone else's", async () => {
    const v = await createVerification(h, { account_ref: "delete-1" });
    const mine = h.emulator.createCertification({ persona: "adult", merchant_uid: v.merchant_uid });
    expect((await complete(h, mine.imp_uid, v.merchant_uid)).status).toBe(200);
    expect(h.emulator.stats().requests.deleteCertification).toBe(1);
    const listed = await (
      await fetch(`${h.url}/api/verifications/${v.id}`, {
        headers: { authorization: "Bearer integration_test_api_key_0001" },
      })
    ).json();
    expect(listed).toMatchObject({ verification: { status: "verified" } });

    // A mismatched record is not this verification's: it is neither consumed nor deleted.
    const other = await createVerification(h, {});
    const victim = h.emulator.createCertification({ persona: "minor", merchant_uid: "mid_someone_else" });
    expect((await complete(h, victim.imp_uid, other.merchant_uid)).status).toBe(422);
    expect(h.emulator.stats().requests.deleteCertification).toBe(1);
  });
});
