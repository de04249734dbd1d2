import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { createEmulator, OTHER_MERCHANT, PERSONAS, TEST_MERCHANT } from "../../src/emulator/index.js";
import {
  type Harness,
  jsonBody,
  NOT_FOUND_BODY,
  readEnvelope,
  START_S,
  startHarness,
  TRANSPORTS,
} from "./harness.js";

const createdSchema = z.object({
  imp_uid: z.string(),
  certification: z.record(z.string(), z.unknown()),
});

describe("admin API disabled (the default)", () => {
  it.each<[string, string]>([
    ["GET", "/__admin/stats"],
    ["GET", "/__admin/certifications"],
    ["POST", "/__admin/certifications"],
    ["POST", "/__admin/reset"],
    ["POST", "/__admin/clock"],
    ["POST", "/__admin/faults"],
  ])("%s %s answers 404", async (method, path) => {
    const emulator = createEmulator();
    const res = await emulator.fetch(path, method === "POST" ? jsonBody({}) : {});
    expect(res.status).toBe(404);
  });
});

describe.each(TRANSPORTS)("admin API (%s)", (transport) => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness(transport, { admin: true });
  });
  afterEach(() => h.close());

  const admin = (path: string, body?: unknown, method = body === undefined ? "GET" : "POST") =>
    h.call(`/__admin${path}`, body === undefined ? { method } : jsonBody(body, method));
  const create = async (body: unknown) => {
    const res = await admin("/certifications", body);
    expect(res.status).toBe(201);
    return createdSchema.parse(await res.json());
  };

  describe("POST /__admin/certifications", () => {
    it("creates the adult persona for the first merchant by default", async () => {
      const { imp_uid, certification } = await create({});
      expect(certification).toMatchObject({ imp_uid, name: PERSONAS.adult.name, certified_at: START_S });
      const { access_token } = await h.getToken(TEST_MERCHANT);
      expect((await readEnvelope(await h.getCertification(imp_uid, access_token))).response).toEqual(
        certification,
      );
    });

    it("creates a persona under another merchant, with merchant_uid, certified_at and fields", async () => {
      const { imp_uid, certification } = await create({
        persona: "minor",
        merchant_code: OTHER_MERCHANT.impCode,
        merchant_uid: "order-77",
        certified_at: 1_700_000_000,
        fields: { phone: null, carrier: null, origin: "data:text/html;base64,AA==" },
      });
      expect(certification).toMatchObject({
        name: PERSONAS.minor.name,
        merchant_uid: "order-77",
        certified_at: 1_700_000_000,
        phone: null,
        carrier: null,
        origin: "data:text/html;base64,AA==",
      });
      const mine = (await h.getToken(TEST_MERCHANT)).access_token;
      const theirs = (await h.getToken(OTHER_MERCHANT)).access_token;
      expect(await (await h.getCertification(imp_uid, mine)).json()).toEqual(NOT_FOUND_BODY);
      expect((await h.getCertification(imp_uid, theirs)).status).toBe(200);
    });

    it("creates a custom person", async () => {
      const { certification } = await create({
        person: {
          name: "서테스트",
          birthday: "2001-10-10",
          gender: "female",
          phone: "01000000077",
          carrier: "LGT",
        },
      });
      expect(certification).toMatchObject({
        name: "서테스트",
        birthday: "2001-10-10",
        gender: "female",
        phone: "01000000077",
        carrier: "LGT",
      });
    });

    it.each<[string, string | Uint8Array]>([
      ["an unknown persona", JSON.stringify({ persona: "celebrity" })],
      [
        "persona and person",
        JSON.stringify({ persona: "adult", person: { name: "a", birthday: "2000-01-01" } }),
      ],
      ["an unknown merchant", JSON.stringify({ merchant_code: "imp99999999" })],
      ["a camelCase merchantCode", JSON.stringify({ merchantCode: TEST_MERCHANT.impCode })],
      ["a YYYYMMDD birthday", JSON.stringify({ person: { name: "a", birthday: "20000101" } })],
      ["a mistyped field", JSON.stringify({ fields: { certified_at: "soon" } })],
      ["a body that is not JSON", "persona=adult"],
      // JSON.parse keeps the last: a minor's record where the sender may have meant an adult's.
      ["a name given twice", '{"persona":"adult","persona":"minor"}'],
      // Read leniently, the byte became U+FFFD inside a name the record kept.
      [
        "bytes that are not UTF-8",
        Buffer.from([
          ...Buffer.from('{"person":{"name":"'),
          0xff,
          ...Buffer.from('","birthday":"2000-01-01"}}'),
        ]),
      ],
    ])("answers 400 with a JSON error for %s", async (_, body) => {
      const res = await h.call("/__admin/certifications", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: body as BodyInit,
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        error: { code: expect.stringMatching(/^invalid_(request|json)$/), message: expect.any(String) },
      });
      // And nothing was created.
      expect(await (await admin("/certifications")).json()).toEqual({ certifications: [] });
    });
  });

  describe("POST /__admin/certifications/batch", () => {
    const listed = async () =>
      z
        .object({ certifications: z.array(z.object({ certification: z.object({ imp_uid: z.string() }) })) })
        .parse(await (await admin("/certifications")).json())
        .certifications.map((entry) => entry.certification.imp_uid);

    it("creates every record in order, each as the single route would", async () => {
      const res = await admin("/certifications/batch", {
        certifications: [
          { persona: "adult", merchant_uid: "order-1" },
          { person: { name: "서테스트", birthday: "2001-10-10" }, merchant_uid: "order-2" },
          { persona: "minor", merchant_code: OTHER_MERCHANT.impCode },
        ],
      });
      expect(res.status).toBe(201);
      const { imp_uids } = z.object({ imp_uids: z.array(z.string()) }).parse(await res.json());
      expect(imp_uids).toHaveLength(3);
      expect(new Set(imp_uids).size).toBe(3);
      expect(await listed()).toEqual(imp_uids);
      const mine = (await h.getToken(TEST_MERCHANT)).access_token;
      const theirs = (await h.getToken(OTHER_MERCHANT)).access_token;
      const [first, second, third] = imp_uids as [string, string, string];
      expect((await readEnvelope(await h.getCertification(first, mine))).response).toMatchObject({
        name: PERSONAS.adult.name,
        merchant_uid: "order-1",
      });
      expect((await readEnvelope(await h.getCertification(second, mine))).response).toMatchObject({
        name: "서테스트",
        merchant_uid: "order-2",
      });
      expect((await h.getCertification(third, theirs)).status).toBe(200);
    });

    it.each<[string, unknown]>([
      ["no records", { certifications: [] }],
      ["more than 1,000 records", { certifications: Array.from({ length: 1_001 }, () => ({})) }],
      ["a bad record after good ones", { certifications: [{}, {}, { persona: "celebrity" }] }],
      ["an unknown merchant after a good record", { certifications: [{}, { merchant_code: "imp99999999" }] }],
      [
        "one imp_uid twice",
        {
          certifications: [
            { fields: { imp_uid: "imp_000000000042" } },
            { fields: { imp_uid: "imp_000000000042" } },
          ],
        },
      ],
      ["an unknown field", { certifications: [{}], dry_run: true }],
      ["a single record's body", { persona: "adult" }],
    ])("answers 400 and creates nothing for %s", async (_, body) => {
      const before = await listed();
      const res = await admin("/certifications/batch", body);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        error: { code: "invalid_request", message: expect.any(String) },
      });
      expect(await listed()).toEqual(before);
    });
  });

  it("GET /__admin/certifications lists every record with its merchant and OTP state", async () => {
    const a = await create({ persona: "adult" });
    const b = await create({ persona: "uncertified", merchant_code: OTHER_MERCHANT.impCode });
    expect(await (await admin("/certifications")).json()).toEqual({
      certifications: [
        { merchant_code: TEST_MERCHANT.impCode, otp_pending: false, certification: a.certification },
        { merchant_code: OTHER_MERCHANT.impCode, otp_pending: true, certification: b.certification },
      ],
    });
  });

  describe("POST /__admin/clock", () => {
    it("advances by seconds and sets to a unix time, answering { now }", async () => {
      expect(await (await admin("/clock", { advance_seconds: 90 })).json()).toEqual({ now: START_S + 90 });
      expect(await (await admin("/clock", { now: 1_800_000_000 })).json()).toEqual({ now: 1_800_000_000 });
      expect(await (await admin("/clock", {})).json()).toEqual({ now: 1_800_000_000 });
      expect(h.emulator.clock.now()).toBe(1_800_000_000_000);
    });

    it("expires tokens", async () => {
      const { access_token } = await h.getToken();
      const { imp_uid } = await create({});
      await admin("/clock", { advance_seconds: 1800 });
      expect((await h.getCertification(imp_uid, access_token)).status).toBe(401);
    });

    it.each([{ advance_seconds: 1, now: 2 }, { advance_seconds: "1" }, { later: true }])(
      "answers 400 for %o",
      async (body) => {
        expect((await admin("/clock", body)).status).toBe(400);
      },
    );
  });

  it("POST /__admin/tokens/revoke answers { revoked } and the tokens stop working", async () => {
    const mine = (await h.getToken(TEST_MERCHANT)).access_token;
    await h.getToken(OTHER_MERCHANT);
    const { imp_uid } = await create({});
    expect(await (await admin("/tokens/revoke", {})).json()).toEqual({ revoked: 2 });
    expect((await h.getCertification(imp_uid, mine)).status).toBe(401);
  });

  describe("faults", () => {
    it("POST /__admin/faults arms a fault (201) and DELETE clears them", async () => {
      const res = await admin("/faults", { route: "getToken", kind: "status", status: 503, times: 1 });
      expect(res.status).toBe(201);
      await admin("/faults", { route: "*", kind: "latency", latency_ms: 1 });
      expect(await (await admin("/faults")).json()).toEqual({
        faults: [
          { route: "getToken", kind: "status", status: 503, times: 1 },
          { route: "*", kind: "latency", latencyMs: 1 },
        ],
      });
      expect((await h.call("/users/getToken", jsonBody({}))).status).toBe(503);
      expect(await (await admin("/faults", undefined, "DELETE")).json()).toEqual({ cleared: 1 });
      expect((await h.call("/users/getToken", jsonBody({}))).status).toBe(400);
    });

    it.each([
      { route: "getToken", kind: "latency" },
      { route: "nope", kind: "drop" },
      { route: "getToken", kind: "status", status: 404 },
      { route: "getToken", kind: "drop", times: -1 },
      { route: "getToken", kind: "drop", latencyMs: 5 },
    ])("answers 400 for %o", async (body) => {
      const res = await admin("/faults", body);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_request" } });
    });
  });

  it("GET /__admin/stats counts every arriving request per route, and issued tokens", async () => {
    const { access_token } = await h.getToken();
    await h.getToken();
    await h.call("/users/getToken", jsonBody({}));
    await h.getCertification("imp_000000000000", access_token);
    await h.getCertification("imp_000000000000", "bad");
    await h.call("/certifications/imp_000000000000", { method: "DELETE" });
    await h.call("/certifications/otp/request", jsonBody({}));
    await h.call("/certifications/otp/confirm/imp_000000000000", jsonBody({}));
    expect(await (await admin("/stats")).json()).toEqual({
      requests: { getToken: 3, getCertification: 2, deleteCertification: 1, otpRequest: 1, otpConfirm: 1 },
      tokens_issued: 1,
    });
  });

  it("POST /__admin/reset forgets records, tokens, faults and stats, and keeps the clock", async () => {
    const { access_token } = await h.getToken();
    const { imp_uid } = await create({});
    await admin("/clock", { advance_seconds: 60 });
    await admin("/faults", { route: "otpRequest", kind: "drop" });
    expect(await (await admin("/reset", {})).json()).toEqual({ reset: true });

    expect(await (await admin("/stats")).json()).toEqual({
      requests: { getToken: 0, getCertification: 0, deleteCertification: 0, otpRequest: 0, otpConfirm: 0 },
      tokens_issued: 0,
    });
    expect(await (await admin("/faults")).json()).toEqual({ faults: [] });
    expect((await h.getCertification(imp_uid, access_token)).status).toBe(401);
    const fresh = await h.getToken();
    expect(fresh.now).toBe(START_S + 60);
    expect(await (await h.getCertification(imp_uid, fresh.access_token)).json()).toEqual(NOT_FOUND_BODY);
  });

  describe("input a route would not read is refused, never ignored", () => {
    it.each<[string, string, string, unknown?]>([
      ["a query parameter on a route that takes none", "GET", "/faults?route=getToken"],
      ["a misspelt merchant_code", "DELETE", "/identity-verifications/idv_x?merchantcode=imp00000000"],
      ["merchant_code twice", "DELETE", "/identity-verifications/idv_x?merchant_code=a&merchant_code=b"],
      ["a body on DELETE /faults", "DELETE", "/faults", { route: "getToken" }],
      ["a body on POST /reset", "POST", "/reset", { keep_clock: false }],
      ["a body that is not {} on POST /tokens/revoke", "POST", "/tokens/revoke", []],
    ])("%s: 400 invalid_request, nothing done", async (_name, method, path, body) => {
      await admin("/faults", { route: "otpRequest", kind: "drop" });
      const res = await h.call(`/__admin${path}`, body === undefined ? { method } : jsonBody(body, method));
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_request" } });
      expect(await (await admin("/faults")).json()).toMatchObject({ faults: [{ route: "otpRequest" }] });
    });
  });
});
