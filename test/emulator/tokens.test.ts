import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { OTHER_MERCHANT, TEST_MERCHANT } from "../../src/emulator/index.js";
import {
  formBody,
  type Harness,
  jsonBody,
  readEnvelope,
  START_S,
  startHarness,
  TRANSPORTS,
} from "./harness.js";

const MISSING_CREDENTIALS = {
  code: -1,
  message: "imp_key, imp_secret 파라메터가 누락되었습니다.",
  response: null,
};

describe.each(TRANSPORTS)("V1 tokens (%s)", (transport) => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness(transport);
  });
  afterEach(() => h.close());

  const advanceTo = (unixSeconds: number) => h.emulator.clock.set(unixSeconds * 1000);

  describe("POST /users/getToken", () => {
    it("issues a 40-hex token for 30 minutes from a JSON body, in the V1 envelope", async () => {
      const res = await h.call(
        "/users/getToken",
        jsonBody({ imp_key: TEST_MERCHANT.impKey, imp_secret: TEST_MERCHANT.impSecret }),
      );
      expect(res.status).toBe(200);
      const body = await readEnvelope(res);
      expect(body).toEqual({
        code: 0,
        message: null,
        response: {
          access_token: expect.stringMatching(/^[0-9a-f]{40}$/),
          now: START_S,
          expired_at: START_S + 1800,
        },
      });
    });

    it("accepts an application/x-www-form-urlencoded body", async () => {
      const res = await h.call(
        "/users/getToken",
        formBody({ imp_key: TEST_MERCHANT.impKey, imp_secret: TEST_MERCHANT.impSecret }),
      );
      expect(res.status).toBe(200);
      expect((await readEnvelope(res)).response).toMatchObject({ now: START_S, expired_at: START_S + 1800 });
    });

    it.each([
      ["wrong secret", { imp_key: TEST_MERCHANT.impKey, imp_secret: "not-the-secret" }],
      ["unknown key", { imp_key: "nobody", imp_secret: TEST_MERCHANT.impSecret }],
      ["another merchant's secret", { imp_key: TEST_MERCHANT.impKey, imp_secret: OTHER_MERCHANT.impSecret }],
    ])("answers 401 for a %s", async (_, credentials) => {
      const res = await h.call("/users/getToken", jsonBody(credentials));
      expect(res.status).toBe(401);
      expect(await readEnvelope(res)).toEqual({ code: -1, message: expect.any(String), response: null });
    });

    it.each<[string, RequestInit]>([
      ["an empty JSON object", jsonBody({})],
      ["no imp_secret", jsonBody({ imp_key: TEST_MERCHANT.impKey })],
      ["no imp_key", jsonBody({ imp_secret: TEST_MERCHANT.impSecret })],
      ["empty strings", jsonBody({ imp_key: "", imp_secret: "" })],
      ["numbers instead of strings", jsonBody({ imp_key: 1, imp_secret: 2 })],
      ["no body at all", { method: "POST" }],
      [
        "a body that is not JSON",
        { method: "POST", headers: { "content-type": "application/json" }, body: "{" },
      ],
      ["a JSON array", jsonBody([TEST_MERCHANT.impKey, TEST_MERCHANT.impSecret])],
      ["an incomplete form", formBody({ imp_key: TEST_MERCHANT.impKey })],
    ])("answers 400 for %s", async (_, init) => {
      const res = await h.call("/users/getToken", init);
      expect(res.status).toBe(400);
      expect(await readEnvelope(res)).toEqual(MISSING_CREDENTIALS);
    });
  });

  describe("token lifetime", () => {
    it("returns the same token and expiry while the token is valid, with the current now", async () => {
      const first = await h.getToken();
      advanceTo(START_S + 1000);
      const again = await h.getToken();
      expect(again).toEqual({
        access_token: first.access_token,
        now: START_S + 1000,
        expired_at: first.expired_at,
      });
      expect(h.emulator.stats().tokensIssued).toBe(1);
    });

    it("does not extend a token before its last minute (61 s left)", async () => {
      const first = await h.getToken();
      advanceTo(first.expired_at - 61);
      expect(await h.getToken()).toMatchObject({
        access_token: first.access_token,
        expired_at: first.expired_at,
      });
    });

    it.each([60, 30, 1])(
      "extends the same token by exactly 300 s when asked with %i s left",
      async (left) => {
        const first = await h.getToken();
        advanceTo(first.expired_at - left);
        const extended = await h.getToken();
        expect(extended).toEqual({
          access_token: first.access_token,
          now: first.expired_at - left,
          expired_at: first.expired_at + 300,
        });
      },
    );

    it("extends only once: asking again right after the extension changes nothing", async () => {
      const first = await h.getToken();
      advanceTo(first.expired_at - 10);
      const extended = await h.getToken();
      const again = await h.getToken();
      expect(again.expired_at).toBe(extended.expired_at);
      expect(again.expired_at).toBe(first.expired_at + 300);
    });

    it("keeps an extended token usable past its original expiry", async () => {
      const first = await h.getToken();
      const { imp_uid } = h.emulator.createCertification();
      advanceTo(first.expired_at - 30);
      await h.getToken();
      advanceTo(first.expired_at + 100);
      expect((await h.getCertification(imp_uid, first.access_token)).status).toBe(200);
    });

    it.each([0, 1, 3600])("issues a new token when asked %i s after expiry", async (after) => {
      const first = await h.getToken();
      advanceTo(first.expired_at + after);
      const next = await h.getToken();
      expect(next.access_token).toMatch(/^[0-9a-f]{40}$/);
      expect(next.access_token).not.toBe(first.access_token);
      expect(next).toMatchObject({
        now: first.expired_at + after,
        expired_at: first.expired_at + after + 1800,
      });
      expect(h.emulator.stats().tokensIssued).toBe(2);
    });

    it("gives each merchant its own token", async () => {
      const mine = await h.getToken(TEST_MERCHANT);
      const theirs = await h.getToken(OTHER_MERCHANT);
      expect(theirs.access_token).not.toBe(mine.access_token);
    });
  });

  describe("using a token", () => {
    let impUid: string;
    beforeEach(() => {
      impUid = h.emulator.createCertification().imp_uid;
    });

    it.each<[string, (token: string) => Record<string, string>]>([
      ["Authorization: Bearer <t>", (t) => ({ authorization: `Bearer ${t}` })],
      ["Authorization: bearer <t> (any case)", (t) => ({ authorization: `bearer ${t}` })],
      ["the bare Authorization: <t> of older docs", (t) => ({ authorization: t })],
      ["the legacy X-ImpTokenHeader", (t) => ({ "x-imptokenheader": t })],
      ["a Tier header next to the token", (t) => ({ authorization: `Bearer ${t}`, tier: "a01" })],
    ])("accepts %s", async (_, headers) => {
      const { access_token } = await h.getToken();
      const res = await h.call(`/certifications/${impUid}`, { headers: headers(access_token) });
      expect(res.status).toBe(200);
    });

    const UNAUTHORIZED = { code: -1, message: "Unauthorized", response: null };

    it("answers 401 once the token has expired (now == expired_at)", async () => {
      const { access_token, expired_at } = await h.getToken();
      advanceTo(expired_at - 1);
      expect((await h.getCertification(impUid, access_token)).status).toBe(200);
      advanceTo(expired_at);
      const res = await h.getCertification(impUid, access_token);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual(UNAUTHORIZED);
    });

    it("answers 401 for the old token after a new one was issued", async () => {
      const old = await h.getToken();
      advanceTo(old.expired_at + 5);
      const fresh = await h.getToken();
      expect((await h.getCertification(impUid, old.access_token)).status).toBe(401);
      expect((await h.getCertification(impUid, fresh.access_token)).status).toBe(200);
    });

    it.each<[string, Record<string, string>]>([
      ["an unknown token", { authorization: `Bearer ${"0".repeat(40)}` }],
      ["no Authorization header", {}],
      ["an empty Bearer", { authorization: "Bearer " }],
    ])("answers 401 for %s", async (_, headers) => {
      const res = await h.call(`/certifications/${impUid}`, { headers });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual(UNAUTHORIZED);
    });

    it("answers 401 for a revoked token, and issues a new one afterwards", async () => {
      const before = await h.getToken();
      h.emulator.revokeTokens();
      expect((await h.getCertification(impUid, before.access_token)).status).toBe(401);
      const after = await h.getToken();
      expect(after.access_token).not.toBe(before.access_token);
      expect((await h.getCertification(impUid, after.access_token)).status).toBe(200);
    });
  });
});
