/**
 * The emulated PortOne V2 API over raw HTTP, in process and over a real socket: tokens, the status
 * union, every error body, stores, the OTP flow, personas, faults and the admin API.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  createEmulator,
  EMULATOR_OTP_CODE,
  OTHER_MERCHANT,
  PERSONAS,
  TEST_MERCHANT,
} from "../../src/emulator/index.js";
import { type Harness, jsonBody, startHarness, TRANSPORTS } from "./harness.js";

const MINUTE = 60_000;
const secretAuth = (merchant = TEST_MERCHANT) => ({ authorization: `PortOne ${merchant.v2ApiSecret}` });
const errorBody = z.object({ type: z.string(), message: z.string() }).strict();
const tokenPair = z.object({ accessToken: z.string(), refreshToken: z.string() }).strict();
const record = z.looseObject({ id: z.string(), status: z.string() });

/** A send body for an obviously synthetic person; override any field. */
function makeSendBody(overrides: Record<string, unknown> = {}) {
  return {
    channelKey: "channel-key-emulator-danal",
    customer: {
      name: "김테스트",
      phoneNumber: "01000000001",
      identityNumber: "9001011",
      ipAddress: "127.0.0.1",
    },
    operator: "SKT",
    method: "SMS",
    ...overrides,
  };
}

describe.each(TRANSPORTS)("V2 API (%s)", (transport) => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness(transport, { admin: true });
  });
  afterEach(() => h.close());

  const get = (id: string, headers: Record<string, string> = secretAuth(), query = "") =>
    h.call(`/identity-verifications/${encodeURIComponent(id)}${query}`, { headers });
  const post = (path: string, body: unknown, headers: Record<string, string> = secretAuth()) =>
    h.call(path, { ...jsonBody(body), headers: { ...jsonBody(body).headers, ...headers } });
  const expectError = async (res: Response, status: number, type: string) => {
    expect(res.status).toBe(status);
    expect(errorBody.parse(await res.json()).type).toBe(type);
  };
  const login = async (merchant = TEST_MERCHANT) => {
    const res = await post("/login/api-secret", { apiSecret: merchant.v2ApiSecret }, {});
    expect(res.status).toBe(200);
    return tokenPair.parse(await res.json());
  };

  describe("GET /identity-verifications/{id}", () => {
    it("serves a VERIFIED record with the full V2 shape", async () => {
      h.emulator.createIdentityVerification({ identityVerificationId: "iv-verified-1" });
      const res = await get("iv-verified-1", secretAuth(), `?storeId=${TEST_MERCHANT.storeId}`);
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body).toMatchObject({
        status: "VERIFIED",
        id: "iv-verified-1",
        version: "V2",
        channel: { type: "TEST", pgProvider: "DANAL" },
        verifiedCustomer: {
          name: PERSONAS.adult.name,
          operator: "SKT",
          phoneNumber: PERSONAS.adult.phone,
          birthDate: "1990-01-15",
          gender: "MALE",
          isForeigner: false,
          ci: expect.any(String),
          di: expect.any(String),
        },
        verifiedAt: "2025-06-01T00:00:00.000Z",
        pgTxId: expect.any(String),
        pgRawResponse: expect.any(String),
      });
      for (const field of ["requestedAt", "updatedAt", "statusChangedAt", "verifiedAt"])
        expect(Number.isFinite(Date.parse(body[field]))).toBe(true);
      expect(body.verifiedCustomer.ci).toHaveLength(88);
      expect(body.verifiedCustomer.di).toHaveLength(64);
    });

    it.each([
      ["READY", { status: "READY" }, ["verifiedCustomer", "failure"]],
      [
        "FAILED",
        { status: "FAILED", failure: { reason: expect.any(String), pgCode: expect.any(String) } },
        ["verifiedCustomer"],
      ],
    ] as const)("serves a %s record without identity data", async (status, expected, absent) => {
      h.emulator.createIdentityVerification({ identityVerificationId: "iv-1", status });
      const body = await (await get("iv-1")).json();
      expect(body).toMatchObject(expected);
      for (const field of absent) expect(field in body).toBe(false);
    });

    it("accepts a Bearer access token from the login", async () => {
      h.emulator.createIdentityVerification({ identityVerificationId: "iv-1" });
      const { accessToken } = await login();
      expect((await get("iv-1", { authorization: `Bearer ${accessToken}` })).status).toBe(200);
    });

    it.each([
      ["no header", {}],
      ["an unknown secret", { authorization: "PortOne certgate_wrong_secret" }],
      ["a V1 key as secret", { authorization: `PortOne ${TEST_MERCHANT.impSecret}` }],
      ["an unknown bearer token", { authorization: "Bearer not-a-token" }],
      ["another scheme", { authorization: `Basic ${TEST_MERCHANT.v2ApiSecret}` }],
    ])("answers 401 UNAUTHORIZED for %s", async (_, headers) => {
      h.emulator.createIdentityVerification({ identityVerificationId: "iv-1" });
      await expectError(await get("iv-1", headers), 401, "UNAUTHORIZED");
    });

    it("answers 401 for an access token past its 30 minutes", async () => {
      h.emulator.createIdentityVerification({ identityVerificationId: "iv-1" });
      const { accessToken } = await login();
      h.emulator.clock.advance(30 * MINUTE);
      await expectError(await get("iv-1", { authorization: `Bearer ${accessToken}` }), 401, "UNAUTHORIZED");
    });

    it("answers 404 IDENTITY_VERIFICATION_NOT_FOUND for an unknown id", async () => {
      await expectError(await get("iv-unknown"), 404, "IDENTITY_VERIFICATION_NOT_FOUND");
    });

    it("answers 404 for another merchant's id, exactly like a missing one", async () => {
      h.emulator.createIdentityVerification({
        identityVerificationId: "iv-other",
        merchantCode: OTHER_MERCHANT.impCode,
      });
      await expectError(await get("iv-other"), 404, "IDENTITY_VERIFICATION_NOT_FOUND");
      expect((await get("iv-other", secretAuth(OTHER_MERCHANT))).status).toBe(200);
    });

    it("answers 403 FORBIDDEN for another merchant's storeId", async () => {
      h.emulator.createIdentityVerification({ identityVerificationId: "iv-1" });
      await expectError(
        await get("iv-1", secretAuth(), `?storeId=${OTHER_MERCHANT.storeId}`),
        403,
        "FORBIDDEN",
      );
    });

    it("answers 400 INVALID_REQUEST for an empty storeId", async () => {
      await expectError(await get("iv-1", secretAuth(), "?storeId="), 400, "INVALID_REQUEST");
    });

    it("keeps two merchants' records of the same id apart", async () => {
      h.emulator.createIdentityVerification({ identityVerificationId: "iv-same", status: "FAILED" });
      h.emulator.createIdentityVerification({
        identityVerificationId: "iv-same",
        merchantCode: OTHER_MERCHANT.impCode,
      });
      expect(record.parse(await (await get("iv-same")).json()).status).toBe("FAILED");
      expect(record.parse(await (await get("iv-same", secretAuth(OTHER_MERCHANT))).json()).status).toBe(
        "VERIFIED",
      );
    });
  });

  describe("tokens", () => {
    it("login answers 401 UNAUTHORIZED for a wrong secret and 400 INVALID_REQUEST without one", async () => {
      await expectError(
        await post("/login/api-secret", { apiSecret: "certgate_wrong" }, {}),
        401,
        "UNAUTHORIZED",
      );
      await expectError(await post("/login/api-secret", {}, {}), 400, "INVALID_REQUEST");
    });

    it("refresh gives a new working pair and retires the old refresh token", async () => {
      h.emulator.createIdentityVerification({ identityVerificationId: "iv-1" });
      const first = await login();
      const res = await post("/token/refresh", { refreshToken: first.refreshToken }, {});
      const second = tokenPair.parse(await res.json());
      expect(second.accessToken).not.toBe(first.accessToken);
      expect((await get("iv-1", { authorization: `Bearer ${second.accessToken}` })).status).toBe(200);
      await expectError(
        await post("/token/refresh", { refreshToken: first.refreshToken }, {}),
        401,
        "UNAUTHORIZED",
      );
      await expectError(await post("/token/refresh", {}, {}), 400, "INVALID_REQUEST");
    });

    it("revokeTokens invalidates V2 tokens too", async () => {
      h.emulator.createIdentityVerification({ identityVerificationId: "iv-1" });
      const { accessToken } = await login();
      h.emulator.revokeTokens();
      await expectError(await get("iv-1", { authorization: `Bearer ${accessToken}` }), 401, "UNAUTHORIZED");
    });
  });

  describe("OTP flow", () => {
    it("send → READY with requestedCustomer, confirm → VERIFIED with the person's identity", async () => {
      expect((await post("/identity-verifications/iv-otp/send", makeSendBody())).status).toBe(200);
      const ready = await (await get("iv-otp")).json();
      expect(ready).toMatchObject({
        status: "READY",
        requestedCustomer: { name: "김테스트", phoneNumber: "01000000001" },
      });
      h.emulator.clock.advance(MINUTE);
      const res = await post("/identity-verifications/iv-otp/confirm", { otp: EMULATOR_OTP_CODE });
      expect(res.status).toBe(200);
      const { identityVerification } = z
        .object({ identityVerification: z.looseObject({}) })
        .parse(await res.json());
      expect(identityVerification).toMatchObject({
        status: "VERIFIED",
        id: "iv-otp",
        verifiedAt: "2025-06-01T00:01:00.000Z",
        verifiedCustomer: { name: "김테스트", birthDate: "1990-01-01", gender: "MALE", operator: "SKT" },
      });
      expect(await (await get("iv-otp")).json()).toEqual(identityVerification);
    });

    it("gives the same CI as the V1 OTP flow for the same person", async () => {
      await post("/identity-verifications/iv-otp/send", makeSendBody());
      const v2 = await (
        await post("/identity-verifications/iv-otp/confirm", { otp: EMULATOR_OTP_CODE })
      ).json();
      const { access_token } = await h.getToken();
      const v1Auth = { authorization: `Bearer ${access_token}` };
      const requested = await h.call("/certifications/otp/request", {
        ...jsonBody({
          name: "김테스트",
          phone: "01000000001",
          birth: "900101",
          gender_digit: "1",
          carrier: "SKT",
          is_mvno: false,
          channel_key: "channel-key-emulator-danal",
        }),
        headers: { "content-type": "application/json", ...v1Auth },
      });
      const impUid = z.object({ response: z.object({ imp_uid: z.string() }) }).parse(await requested.json())
        .response.imp_uid;
      const v1 = await (
        await h.call(`/certifications/otp/confirm/${impUid}`, {
          ...jsonBody({ otp: EMULATOR_OTP_CODE }),
          headers: { "content-type": "application/json", ...v1Auth },
        })
      ).json();
      expect(v2.identityVerification.verifiedCustomer.ci).toBe(v1.response.unique_key);
      expect(v2.identityVerification.verifiedCustomer.di).toBe(v1.response.unique_in_site);
    });

    it.each([
      ["a wrong code", { otp: "000000" }, 400, "INVALID_REQUEST"],
      ["no code", {}, 400, "INVALID_REQUEST"],
    ])("refuses %s and keeps the verification pending", async (_, body, status, type) => {
      await post("/identity-verifications/iv-otp/send", makeSendBody());
      await expectError(await post("/identity-verifications/iv-otp/confirm", body), status, type);
      expect((await post("/identity-verifications/iv-otp/confirm", { otp: EMULATOR_OTP_CODE })).status).toBe(
        200,
      );
    });

    it("answers 409 for a second send or confirm, and for resend after verification", async () => {
      await post("/identity-verifications/iv-otp/send", makeSendBody());
      await expectError(
        await post("/identity-verifications/iv-otp/send", makeSendBody()),
        409,
        "IDENTITY_VERIFICATION_ALREADY_SENT",
      );
      expect((await post("/identity-verifications/iv-otp/resend", {})).status).toBe(200);
      await post("/identity-verifications/iv-otp/confirm", { otp: EMULATOR_OTP_CODE });
      for (const action of ["send", "resend"]) {
        const body = action === "send" ? makeSendBody() : {};
        await expectError(
          await post(`/identity-verifications/iv-otp/${action}`, body),
          409,
          "IDENTITY_VERIFICATION_ALREADY_VERIFIED",
        );
      }
      await expectError(
        await post("/identity-verifications/iv-otp/confirm", { otp: EMULATOR_OTP_CODE }),
        409,
        "IDENTITY_VERIFICATION_ALREADY_VERIFIED",
      );
    });

    it("answers 404 NOT_SENT for resend or confirm of a verification never sent by API", async () => {
      h.emulator.createIdentityVerification({ identityVerificationId: "iv-failed", status: "FAILED" });
      await expectError(
        await post("/identity-verifications/iv-failed/resend", {}),
        404,
        "IDENTITY_VERIFICATION_NOT_SENT",
      );
      await expectError(
        await post("/identity-verifications/iv-failed/confirm", { otp: EMULATOR_OTP_CODE }),
        404,
        "IDENTITY_VERIFICATION_NOT_SENT",
      );
      await expectError(
        await post("/identity-verifications/iv-none/confirm", { otp: "1" }),
        404,
        "IDENTITY_VERIFICATION_NOT_FOUND",
      );
    });

    it.each([
      ["a missing customer", makeSendBody({ customer: undefined })],
      ["an unknown operator", makeSendBody({ operator: "LGT" })],
      [
        "an impossible birth date",
        makeSendBody({ customer: { ...makeSendBody().customer, identityNumber: "9002301" } }),
      ],
    ])("answers 400 INVALID_REQUEST for %s, naming no value", async (_, body) => {
      const res = await post("/identity-verifications/iv-otp/send", body);
      expect(res.status).toBe(400);
      const text = await res.text();
      expect(text).not.toContain("김테스트");
      expect(text).not.toContain("9002301");
    });

    it("answers 403 for a send to another merchant's store and 401 before reading the body", async () => {
      await expectError(
        await post("/identity-verifications/iv-otp/send", makeSendBody({ storeId: OTHER_MERCHANT.storeId })),
        403,
        "FORBIDDEN",
      );
      await expectError(
        await post("/identity-verifications/iv-otp/send", "not json", {}),
        401,
        "UNAUTHORIZED",
      );
    });

    it("answers IDENTITY_VERIFICATION_NOT_SENT to confirm an admin-created READY record never sent", async () => {
      h.emulator.createIdentityVerification({ identityVerificationId: "iv-ready", persona: "uncertified" });
      expect(record.parse(await (await get("iv-ready")).json()).status).toBe("READY");
      const res = await post("/identity-verifications/iv-ready/confirm", { otp: EMULATOR_OTP_CODE });
      await expectError(res, 404, "IDENTITY_VERIFICATION_NOT_SENT");
      expect(record.parse(await (await get("iv-ready")).json()).status).toBe("READY");
    });
  });

  describe("personas", () => {
    const verified = async (persona: keyof typeof PERSONAS, merchant = TEST_MERCHANT) => {
      const id = `iv-${persona}-${merchant.impCode}`;
      h.emulator.createIdentityVerification({
        identityVerificationId: id,
        persona,
        merchantCode: merchant.impCode,
      });
      return z
        .object({ verifiedCustomer: z.looseObject({ ci: z.string().optional(), di: z.string().optional() }) })
        .parse(await (await get(id, secretAuth(merchant))).json()).verifiedCustomer;
    };

    it("gives a persona the same CI as its V1 record, and the same DI for the same merchant", async () => {
      const v1 = h.emulator.createCertification({ persona: "adult" });
      const v2 = await verified("adult");
      expect(v2.ci).toBe(v1.unique_key);
      expect(v2.di).toBe(v1.unique_in_site);
    });

    it("gives one persona one CI but different DIs at two merchants", async () => {
      const here = await verified("adult");
      const there = await verified("adult", OTHER_MERCHANT);
      expect(there.ci).toBe(here.ci);
      expect(there.di).not.toBe(here.di);
    });

    it.each([
      ["no_di", "di"],
      ["no_ci", "ci"],
      ["no_gender", "gender"],
    ] as const)("leaves out what %s lacks", async (persona, field) => {
      expect(field in (await verified(persona))).toBe(false);
    });

    it("maps V1 carriers to V2 operators (LGT → LGU)", async () => {
      expect(await verified("minor")).toMatchObject({ operator: "LGU" });
      expect(await verified("leap_day")).toMatchObject({ operator: "SKT_MVNO" });
    });

    it("follows KG Inicis's rules for INICIS_UNIFIED: no operator, no DI, isForeigner always", async () => {
      const customer = await verified("no_di");
      expect(customer).toMatchObject({ isForeigner: false });
      expect("operator" in customer || "di" in customer).toBe(false);
    });
  });

  describe("faults", () => {
    it("answers a status fault with a V2 error body, then recovers", async () => {
      h.emulator.createIdentityVerification({ identityVerificationId: "iv-1" });
      h.emulator.setFault({ route: "getIdentityVerification", kind: "status", status: 503, times: 1 });
      await expectError(await get("iv-1"), 503, "UNKNOWN");
      expect((await get("iv-1")).status).toBe(200);
      expect(h.emulator.stats().v2.requests.getIdentityVerification).toBe(2);
    });

    it("does not touch V1 routes with a V2 fault, and '*' faults both", async () => {
      h.emulator.setFault({ route: "loginApiSecret", kind: "status", status: 502 });
      expect(
        (
          await h.call(
            "/users/getToken",
            jsonBody({ imp_key: TEST_MERCHANT.impKey, imp_secret: TEST_MERCHANT.impSecret }),
          )
        ).status,
      ).toBe(200);
      h.emulator.clearFaults();
      h.emulator.setFault({ route: "*", kind: "status", status: 504 });
      expect((await get("iv-1")).status).toBe(504);
      expect((await h.call("/users/getToken", jsonBody({}))).status).toBe(504);
    });

    it("answers wrong_types with the route's shape, mistyped", async () => {
      h.emulator.setFault({ route: "getIdentityVerification", kind: "wrong_types", times: 1 });
      expect(await (await get("iv-1")).json()).toMatchObject({ status: 1, id: 2 });
    });
  });

  describe("admin", () => {
    const admin = (path: string, body?: unknown) =>
      h.call(`/__admin${path}`, body === undefined ? {} : jsonBody(body));

    it("POST /__admin/identity-verifications creates a record the API serves", async () => {
      const res = await admin("/identity-verifications", {
        identityVerificationId: "iv-admin",
        persona: "minor",
        status: "VERIFIED",
        verifiedAt: "2025-05-31T23:00:00+09:00",
        customData: '{"order":1}',
      });
      expect(res.status).toBe(201);
      const created = z
        .object({ identityVerificationId: z.string(), identityVerification: z.looseObject({}) })
        .parse(await res.json());
      expect(created.identityVerificationId).toBe("iv-admin");
      expect(await (await get("iv-admin")).json()).toEqual(created.identityVerification);
      expect(created.identityVerification).toMatchObject({
        verifiedAt: "2025-05-31T23:00:00+09:00",
        customData: '{"order":1}',
      });
    });

    it("arms an error fault with a type the route documents, and refuses one it does not", async () => {
      const armed = await admin("/faults", {
        route: "sendIdentityVerification",
        kind: "error",
        error_type: "MAX_TRANSACTION_COUNT_REACHED",
        times: 1,
      });
      expect(armed.status).toBe(201);
      await expectError(
        await post("/identity-verifications/iv-max/send", makeSendBody()),
        400,
        "MAX_TRANSACTION_COUNT_REACHED",
      );
      expect((await post("/identity-verifications/iv-max/send", makeSendBody())).status).toBe(200);
      for (const refused of [
        { route: "getIdentityVerification", kind: "error", error_type: "CHANNEL_NOT_FOUND" },
        { route: "getCertification", kind: "error", error_type: "UNAUTHORIZED" },
        { route: "sendIdentityVerification", kind: "error" },
        { route: "sendIdentityVerification", kind: "status", status: 502, error_type: "PG_PROVIDER" },
      ])
        expect((await admin("/faults", refused)).status).toBe(400);
    });

    it("creates for another merchant with merchant_code, and lists with otp_pending", async () => {
      await admin("/identity-verifications", {
        identityVerificationId: "iv-o",
        merchant_code: OTHER_MERCHANT.impCode,
      });
      await admin("/identity-verifications", { identityVerificationId: "iv-r", status: "READY" });
      const list = await (await admin("/identity-verifications")).json();
      expect(list.identityVerifications).toMatchObject([
        { merchant_code: OTHER_MERCHANT.impCode, otp_pending: false, identityVerification: { id: "iv-o" } },
        {
          merchant_code: TEST_MERCHANT.impCode,
          otp_pending: true,
          identityVerification: { id: "iv-r", status: "READY" },
        },
      ]);
    });

    it.each([
      ["no id", {}],
      ["an unknown status", { identityVerificationId: "iv-x", status: "EXPIRED" }],
      [
        "verifiedAt on a FAILED record",
        { identityVerificationId: "iv-x", status: "FAILED", verifiedAt: "2025-06-01T00:00:00Z" },
      ],
      ["a verifiedAt without zone", { identityVerificationId: "iv-x", verifiedAt: "2025-06-01T00:00:00" }],
      ["an unknown merchant", { identityVerificationId: "iv-x", merchant_code: "imp99999999" }],
      [
        "persona and person",
        {
          identityVerificationId: "iv-x",
          persona: "adult",
          person: { name: "김테스트", birthday: "1990-01-01" },
        },
      ],
      ["an unknown field", { identityVerificationId: "iv-x", colour: "blue" }],
    ])("answers 400 for %s", async (_, body) => {
      const res = await admin("/identity-verifications", body);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_request" } });
    });

    it("replaces a READY or FAILED attempt, but never a VERIFIED one", async () => {
      await admin("/identity-verifications", { identityVerificationId: "iv-a", status: "FAILED" });
      expect((await admin("/identity-verifications", { identityVerificationId: "iv-a" })).status).toBe(201);
      expect((await admin("/identity-verifications", { identityVerificationId: "iv-a" })).status).toBe(400);
    });

    it("DELETE /__admin/identity-verifications/:id forgets a record, so another may take its VERIFIED id", async () => {
      await admin("/identity-verifications", { identityVerificationId: "iv-d", persona: "minor" });
      const del = (query = "") =>
        h.call(`/__admin/identity-verifications/iv-d${query}`, { method: "DELETE" });
      // Another merchant's record of that id is not this one.
      expect(await (await del(`?merchant_code=${OTHER_MERCHANT.impCode}`)).json()).toEqual({
        deleted: false,
      });
      expect((await get("iv-d")).status).toBe(200);
      expect(await (await del()).json()).toEqual({ deleted: true });
      await expectError(await get("iv-d"), 404, "IDENTITY_VERIFICATION_NOT_FOUND");
      expect(await (await del()).json()).toEqual({ deleted: false });
      expect((await admin("/identity-verifications", { identityVerificationId: "iv-d" })).status).toBe(201);
      expect((await get("iv-d")).status).toBe(200);
    });

    it("arms V2 faults through POST /__admin/faults and counts at GET /__admin/stats/v2", async () => {
      expect(
        (await admin("/faults", { route: "getIdentityVerification", kind: "status", status: 503, times: 1 }))
          .status,
      ).toBe(201);
      expect((await get("iv-1")).status).toBe(503);
      await get("iv-1");
      await login();
      expect(await (await admin("/stats/v2")).json()).toEqual({
        requests: {
          loginApiSecret: 1,
          refreshToken: 0,
          getIdentityVerification: 2,
          getIdentityVerifications: 0,
          sendIdentityVerification: 0,
          confirmIdentityVerification: 0,
          resendIdentityVerification: 0,
        },
        tokens_issued: 1,
      });
    });

    it("reset forgets V2 records and tokens", async () => {
      await admin("/identity-verifications", { identityVerificationId: "iv-1" });
      const { accessToken } = await login();
      await admin("/reset", {});
      await expectError(await get("iv-1"), 404, "IDENTITY_VERIFICATION_NOT_FOUND");
      await expectError(await get("iv-1", { authorization: `Bearer ${accessToken}` }), 401, "UNAUTHORIZED");
    });
  });
});

describe("V2 merchants", () => {
  it("answers 401 for every V2 call when no merchant has V2 credentials", async () => {
    const emulator = createEmulator({
      merchants: [{ impKey: "k", impSecret: "s", impCode: "imp00000009" }],
    });
    const res = await emulator.fetch("/identity-verifications/iv-1", {
      headers: { authorization: `PortOne ${TEST_MERCHANT.v2ApiSecret}` },
    });
    expect(res.status).toBe(401);
    expect(() => emulator.createIdentityVerification({ identityVerificationId: "iv-1" })).toThrow(
      /V2 credentials/,
    );
  });
});
