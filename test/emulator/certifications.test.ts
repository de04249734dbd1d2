import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  deriveCi,
  deriveDi,
  OTHER_MERCHANT,
  PERSONA_IDS,
  PERSONAS,
  TEST_MERCHANT,
} from "../../src/emulator/index.js";
import { type Harness, NOT_FOUND_BODY, readEnvelope, START_S, startHarness, TRANSPORTS } from "./harness.js";

describe.each(TRANSPORTS)("V1 certifications (%s)", (transport) => {
  let h: Harness;
  let token: string;
  let otherToken: string;
  beforeEach(async () => {
    h = await startHarness(transport);
    token = (await h.getToken(TEST_MERCHANT)).access_token;
    otherToken = (await h.getToken(OTHER_MERCHANT)).access_token;
  });
  afterEach(() => h.close());

  const record = async (impUid: string, bearer = token) =>
    (await readEnvelope(await h.getCertification(impUid, bearer))).response;

  describe("GET /certifications/{imp_uid}", () => {
    it("answers every V1 field of the record in the envelope", async () => {
      const created = h.emulator.createCertification({ persona: "adult", merchant_uid: "order-1" });
      const res = await h.getCertification(created.imp_uid, token);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      const adult = PERSONAS.adult;
      expect(await res.json()).toEqual({
        code: 0,
        message: null,
        response: {
          imp_uid: created.imp_uid,
          merchant_uid: "order-1",
          pg_tid: expect.any(String),
          pg_provider: "danal",
          name: adult.name,
          gender: "male",
          birthday: "1990-01-15",
          birth: Date.UTC(1990, 0, 15) / 1000 - 9 * 3600,
          foreigner: false,
          foreigner_v2: false,
          phone: adult.phone,
          carrier: adult.carrier,
          certified: true,
          certified_at: START_S,
          unique_key: deriveCi(adult.personSeed),
          unique_in_site: deriveDi(adult.personSeed, TEST_MERCHANT.impCode, "danal"),
          origin: expect.stringMatching(/^https:\/\//),
        },
      });
    });

    it("gives imp_uid as imp_ + 12 digits, unique per record", () => {
      const ids = Array.from({ length: 200 }, () => h.emulator.createCertification().imp_uid);
      for (const id of ids) expect(id).toMatch(/^imp_\d{12}$/);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it("gives a CI of exactly 88 and a DI of exactly 64 characters", async () => {
      const { imp_uid } = h.emulator.createCertification();
      const body = await record(imp_uid);
      expect(body).toMatchObject({
        unique_key: expect.stringMatching(/^[A-Za-z0-9+/]{86}==$/),
        unique_in_site: expect.stringMatching(/^[A-Za-z0-9+/]{64}$/),
      });
    });

    it("gives one persona the same CI under every merchant and a different DI per merchant", async () => {
      const mine = h.emulator.createCertification({ persona: "adult" });
      const theirs = h.emulator.createCertification({
        persona: "adult",
        merchantCode: OTHER_MERCHANT.impCode,
      });
      const [a, b] = [await record(mine.imp_uid), await record(theirs.imp_uid, otherToken)];
      expect(a).toMatchObject({ unique_key: mine.unique_key });
      expect(b).toMatchObject({ unique_key: mine.unique_key });
      expect(mine.unique_in_site).not.toBe(theirs.unique_in_site);
    });

    it("gives one persona the same DI for two records of one merchant and provider", () => {
      const first = h.emulator.createCertification({ persona: "minor" });
      const second = h.emulator.createCertification({ persona: "minor" });
      expect(second.unique_in_site).toBe(first.unique_in_site);
      expect(second.imp_uid).not.toBe(first.imp_uid);
    });

    it("gives a different DI for another provider of the same merchant", () => {
      const danal = h.emulator.createCertification({ persona: "adult" });
      const kcp = h.emulator.createCertification({ persona: "adult", fields: { pg_provider: "kcp_v2" } });
      expect(kcp.unique_key).toBe(danal.unique_key);
      expect(kcp.unique_in_site).toHaveLength(64);
      expect(kcp.unique_in_site).not.toBe(danal.unique_in_site);
    });

    it("gives different people different CIs", () => {
      const cis = PERSONA_IDS.map((id) => deriveCi(PERSONAS[id].personSeed));
      expect(new Set(cis).size).toBe(cis.length);
    });

    it.each(["imp_000000000000", "imp_999999999999", "not-an-imp-uid", "%20"])(
      "answers 404 with code -1 for an unknown imp_uid (%s)",
      async (impUid) => {
        const res = await h.getCertification(impUid, token);
        expect(res.status).toBe(404);
        expect(await res.json()).toEqual(NOT_FOUND_BODY);
      },
    );

    it("answers the same 404 to another merchant's token", async () => {
      const { imp_uid } = h.emulator.createCertification({ persona: "adult" });
      const res = await h.getCertification(imp_uid, otherToken);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual(NOT_FOUND_BODY);
    });

    it("checks the token before looking the record up (401 beats 404)", async () => {
      const res = await h.getCertification("imp_000000000000", "0".repeat(40));
      expect(res.status).toBe(401);
    });
  });

  describe("DELETE /certifications/{imp_uid}", () => {
    const del = (impUid: string, bearer: string) =>
      h.call(`/certifications/${impUid}`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${bearer}` },
      });

    it("answers the deleted record, after which GET answers 404", async () => {
      const created = h.emulator.createCertification({ persona: "adult" });
      const res = await del(created.imp_uid, token);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ code: 0, message: null, response: created });
      const after = await h.getCertification(created.imp_uid, token);
      expect(after.status).toBe(404);
      expect(await after.json()).toEqual(NOT_FOUND_BODY);
    });

    it("answers 404 the second time", async () => {
      const { imp_uid } = h.emulator.createCertification();
      await del(imp_uid, token);
      const res = await del(imp_uid, token);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual(NOT_FOUND_BODY);
    });

    it("answers 404 to another merchant and leaves the record in place", async () => {
      const { imp_uid } = h.emulator.createCertification();
      expect((await del(imp_uid, otherToken)).status).toBe(404);
      expect((await h.getCertification(imp_uid, token)).status).toBe(200);
    });

    it("answers 401 without a valid token", async () => {
      const { imp_uid } = h.emulator.createCertification();
      expect((await del(imp_uid, "f".repeat(40))).status).toBe(401);
      expect((await h.getCertification(imp_uid, token)).status).toBe(200);
    });
  });

  it("answers 404 with a V1 envelope for an unknown path", async () => {
    const res = await h.call("/payments/imp_000000000000");
    expect(res.status).toBe(404);
    expect(await readEnvelope(res)).toMatchObject({ code: -1, response: null });
  });
});
