import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { EMULATOR_OTP_CODE, OTHER_MERCHANT, TEST_MERCHANT } from "../../src/emulator/index.js";
import {
  envelopeSchema,
  formBody,
  type Harness,
  jsonBody,
  NOT_FOUND_BODY,
  readEnvelope,
  START_S,
  startHarness,
  TRANSPORTS,
} from "./harness.js";

const otpRequestEnvelope = envelopeSchema.extend({ response: z.object({ imp_uid: z.string() }) });

/** A valid OTP request body; override any field. */
function makeOtpRequest(overrides: Record<string, unknown> = {}) {
  return {
    name: "김테스트",
    phone: "01000000101",
    birth: "900115",
    gender_digit: "1",
    carrier: "SKT",
    is_mvno: false,
    merchant_uid: "otp-order-1",
    channel_key: "channel-key-emulator-danal",
    ...overrides,
  };
}

describe.each(TRANSPORTS)("V1 OTP flow (%s)", (transport) => {
  let h: Harness;
  let token: string;
  beforeEach(async () => {
    h = await startHarness(transport);
    token = (await h.getToken()).access_token;
  });
  afterEach(() => h.close());

  const auth = (bearer = token) => ({ authorization: `Bearer ${bearer}` });
  const request = (body: unknown, bearer = token) =>
    h.call("/certifications/otp/request", {
      ...jsonBody(body),
      headers: { "content-type": "application/json", ...auth(bearer) },
    });
  const confirm = (impUid: string, body: unknown, bearer = token) =>
    h.call(`/certifications/otp/confirm/${impUid}`, {
      ...jsonBody(body),
      headers: { "content-type": "application/json", ...auth(bearer) },
    });
  const requestImpUid = async (overrides: Record<string, unknown> = {}) => {
    const res = await request(makeOtpRequest(overrides));
    expect(res.status).toBe(200);
    const { response } = otpRequestEnvelope.parse(await res.json());
    expect(response.imp_uid).toMatch(/^imp_\d{12}$/);
    return response.imp_uid;
  };

  describe("POST /certifications/otp/request", () => {
    it("answers { imp_uid } and creates an uncertified record without CI or DI", async () => {
      const impUid = await requestImpUid();
      const body = await readEnvelope(await h.getCertification(impUid, token));
      expect(body.response).toMatchObject({
        imp_uid: impUid,
        merchant_uid: "otp-order-1",
        name: "김테스트",
        phone: "01000000101",
        birthday: "1990-01-15",
        gender: "male",
        carrier: "SKT",
        foreigner: false,
        certified: false,
        certified_at: null,
        unique_key: null,
        unique_in_site: null,
      });
    });

    it.each([
      [
        { gender_digit: "2", birth: "900115" },
        { gender: "female", birthday: "1990-01-15", foreigner: false },
      ],
      [
        { gender_digit: "3", birth: "100228" },
        { gender: "male", birthday: "2010-02-28" },
      ],
      [
        { gender_digit: "4", birth: "040229" },
        { gender: "female", birthday: "2004-02-29" },
      ],
      [
        { gender_digit: "5", birth: "880707" },
        { gender: "male", birthday: "1988-07-07", foreigner: true },
      ],
      [
        { gender_digit: 8, birth: "050101" },
        { gender: "female", birthday: "2005-01-01", foreigner: true },
      ],
      [{ carrier: "KT", is_mvno: true }, { carrier: "KT_MVNO" }],
    ])("derives the record from %o", async (overrides, expected) => {
      const impUid = await requestImpUid(overrides);
      expect((await readEnvelope(await h.getCertification(impUid, token))).response).toMatchObject(expected);
    });

    it("accepts a form body (is_mvno as a string)", async () => {
      const fields = { ...makeOtpRequest(), is_mvno: "true", carrier: "LGT" };
      const res = await h.call("/certifications/otp/request", {
        ...formBody(Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)]))),
        headers: auth(),
      });
      expect(res.status).toBe(200);
    });

    it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
      ["a phone and birth with separators", { phone: "010-0000.0101", birth: "90-01.15" }, {}],
      ["no is_mvno (default false)", { is_mvno: undefined, carrier: "KT" }, { carrier: "KT" }],
      ["bypass as a JSON string", { bypass: '{"kcp":{"x":"y"}}' }, {}],
      ["a KCP channel", { channel_key: "channel-key-emulator-kcp-v2" }, { pg_provider: "kcp_v2" }],
    ])("accepts %s", async (_, overrides, expected) => {
      const impUid = await requestImpUid(overrides);
      const { response } = await readEnvelope(await h.getCertification(impUid, token));
      expect(response).toMatchObject({ phone: "01000000101", birthday: "1990-01-15", ...expected });
    });

    it.each<[string, Record<string, unknown>]>([
      ["no name", { name: undefined }],
      ["no channel_key", { channel_key: undefined }],
      ["bypass that is not a JSON object string", { bypass: "yes" }],
      ["bypass as a JSON boolean", { bypass: true }],
      ["an 8-digit birth", { birth: "19900115" }],
      ["an impossible birth date", { birth: "100229", gender_digit: "3" }],
      ["the browser SDK's KTF carrier", { carrier: "KTF" }],
      ["an MVNO carrier name", { carrier: "SKT_MVNO" }],
      ["a two-digit gender_digit", { gender_digit: "12" }],
    ])("answers 400 for %s", async (_, overrides) => {
      const res = await request(makeOtpRequest(overrides));
      expect(res.status).toBe(400);
      expect(await readEnvelope(res)).toMatchObject({
        code: -1,
        message: expect.any(String),
        response: null,
      });
    });

    it("answers 401 without a valid token", async () => {
      expect((await request(makeOtpRequest(), "0".repeat(40))).status).toBe(401);
    });
  });

  describe("POST /certifications/otp/confirm/{imp_uid}", () => {
    it("certifies the record with the emulator's code and answers the full certification", async () => {
      const impUid = await requestImpUid();
      h.emulator.clock.advance(42_000);
      const res = await confirm(impUid, { otp: EMULATOR_OTP_CODE });
      expect(res.status).toBe(200);
      const body = await readEnvelope(res);
      expect(body).toMatchObject({ code: 0, message: null });
      expect(body.response).toMatchObject({
        imp_uid: impUid,
        certified: true,
        certified_at: START_S + 42,
        unique_key: expect.stringMatching(/^.{88}$/),
        unique_in_site: expect.stringMatching(/^.{64}$/),
      });
      expect((await readEnvelope(await h.getCertification(impUid, token))).response).toEqual(body.response);
    });

    it("gives an OTP-verified person the same CI as the same person created directly", async () => {
      const impUid = await requestImpUid();
      const confirmed = (await readEnvelope(await confirm(impUid, { otp: EMULATOR_OTP_CODE }))).response;
      const direct = h.emulator.createCertification({
        person: { name: "김테스트", birthday: "1990-01-15", gender: "male" },
      });
      expect(confirmed).toMatchObject({
        unique_key: direct.unique_key,
        unique_in_site: direct.unique_in_site,
      });
    });

    it("answers 400 when confirmed again", async () => {
      const impUid = await requestImpUid();
      expect((await confirm(impUid, { otp: EMULATOR_OTP_CODE })).status).toBe(200);
      const res = await confirm(impUid, { otp: EMULATOR_OTP_CODE });
      expect(res.status).toBe(400);
      expect(await readEnvelope(res)).toMatchObject({ code: -1, response: null });
    });

    it.each<[string, unknown]>([
      ["an empty body", {}],
      ["an empty otp", { otp: "" }],
      ["a null otp", { otp: null }],
    ])("answers 400 for %s", async (_, body) => {
      const impUid = await requestImpUid();
      const res = await confirm(impUid, body);
      expect(res.status).toBe(400);
      expect(await readEnvelope(res)).toMatchObject({ code: -1, response: null });
    });

    it("answers 400 for a wrong code and leaves the record pending for another try", async () => {
      const impUid = await requestImpUid();
      const wrong = await confirm(impUid, { otp: "000000" });
      expect(wrong.status).toBe(400);
      expect(await readEnvelope(wrong)).toMatchObject({ code: -1, response: null });
      expect((await readEnvelope(await h.getCertification(impUid, token))).response).toMatchObject({
        certified: false,
      });
      expect((await confirm(impUid, { otp: EMULATOR_OTP_CODE })).status).toBe(200);
    });

    it("accepts the otp as a form field", async () => {
      const impUid = await requestImpUid();
      const res = await h.call(`/certifications/otp/confirm/${impUid}`, {
        ...formBody({ otp: EMULATOR_OTP_CODE }),
        headers: auth(),
      });
      expect(res.status).toBe(200);
    });

    it("answers 404 for an unknown imp_uid", async () => {
      const res = await confirm("imp_000000000000", { otp: EMULATOR_OTP_CODE });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual(NOT_FOUND_BODY);
    });

    it("answers 404 to another merchant", async () => {
      const impUid = await requestImpUid();
      const other = (await h.getToken(OTHER_MERCHANT)).access_token;
      const res = await confirm(impUid, { otp: EMULATOR_OTP_CODE }, other);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual(NOT_FOUND_BODY);
    });

    it("confirms the uncertified persona", async () => {
      const { imp_uid } = h.emulator.createCertification({ persona: "uncertified" });
      const res = await confirm(imp_uid, { otp: EMULATOR_OTP_CODE });
      expect(res.status).toBe(200);
      expect((await readEnvelope(res)).response).toMatchObject({ certified: true, certified_at: START_S });
    });

    it("answers 400 for a record that was certified without an OTP", async () => {
      const { imp_uid } = h.emulator.createCertification({ persona: "adult" });
      expect((await confirm(imp_uid, { otp: EMULATOR_OTP_CODE })).status).toBe(400);
    });
  });

  it("keeps OTP records per merchant", async () => {
    const impUid = await requestImpUid();
    expect(h.emulator.createCertification({ merchantCode: TEST_MERCHANT.impCode }).imp_uid).not.toBe(impUid);
    const other = (await h.getToken(OTHER_MERCHANT)).access_token;
    expect((await h.getCertification(impUid, other)).status).toBe(404);
  });
});
