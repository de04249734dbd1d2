/**
 * The emulator against PortOne's published OpenAPI (the committed fixture, see
 * `scripts/openapi-fixture.ts`), over a real socket: every operation the emulator serves, through
 * its normal and error paths, with every status and body validated by ajv. At the end, every
 * documented status of every operation (and every documented V2 error type) must have been reached
 * and validated. Departures allowed: `exceptions.ts` only.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EMULATOR_OTP_CODE,
  type Emulator,
  OTHER_MERCHANT,
  PERSONA_IDS,
  TEST_MERCHANT,
} from "../../src/emulator/index.js";
import { type Harness, startHarness } from "../emulator/harness.js";
import { CONFORMANCE_EXCEPTIONS } from "./exceptions.js";
import {
  type Api,
  documentedErrorTypes,
  documentedStatuses,
  operationIds,
  requestProblems,
  responseProblems,
} from "./validator.js";

let h: Harness;
let v1Token = "";
const reached = new Map<string, Set<number>>();
const typesReached = new Map<string, Set<string>>();

/** Validates `res` against `operationId`'s documented answers and records what it reached. */
async function conforms(api: Api, operationId: string, res: Response, expectedStatus: number) {
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${operationId} ${res.status}: not JSON`);
  }
  expect({ status: res.status, body }).toMatchObject({ status: expectedStatus });
  expect(responseProblems(api, operationId, res.status, body)).toEqual([]);
  const key = `${api} ${operationId}`;
  reached.set(key, (reached.get(key) ?? new Set()).add(res.status));
  if (api === "v2" && res.status !== 200 && typeof body === "object" && body !== null && "type" in body)
    typesReached.set(operationId, (typesReached.get(operationId) ?? new Set()).add(String(body.type)));
  return body as Record<string, unknown>;
}

const json = (body: unknown, headers: Record<string, string> = {}, method = "POST"): RequestInit => ({
  method,
  headers: { "content-type": "application/json", ...headers },
  body: typeof body === "string" ? body : JSON.stringify(body),
});
const v1Auth = () => ({ authorization: `Bearer ${v1Token}` });
const v2Auth = (secret = TEST_MERCHANT.v2ApiSecret) => ({ authorization: `PortOne ${secret}` });
const fault = (f: Parameters<Emulator["setFault"]>[0]) => h.emulator.setFault({ times: 1, ...f });

beforeAll(async () => {
  h = await startHarness("socket", { admin: true });
  v1Token = (await h.getToken()).access_token;
});
afterAll(() => h.close());

describe("the validator", () => {
  const verified = {
    status: "VERIFIED",
    id: "iv-1",
    verifiedCustomer: { name: "김테스트", gender: "MALE" },
    requestedAt: "2025-06-01T00:00:00.000Z",
    updatedAt: "2025-06-01T00:00:00.000Z",
    statusChangedAt: "2025-06-01T00:00:00.000Z",
    verifiedAt: "2025-06-01T00:00:00.000Z",
    pgTxId: "tx",
    pgRawResponse: "{}",
    version: "V2",
  };
  const get = (body: unknown, status = 200) =>
    responseProblems("v2", "getIdentityVerification", status, body);

  it("accepts a conforming body", () => {
    expect(get(verified)).toEqual([]);
  });

  it.each<[string, unknown]>([
    ["a missing required field", { ...verified, verifiedAt: undefined }],
    ["a wrong enum value", { ...verified, verifiedCustomer: { name: "김테스트", gender: "X" } }],
    ["a wrong type", { ...verified, pgTxId: 1 }],
    ["a wrong format", { ...verified, verifiedAt: "yesterday" }],
    ["an undeclared field", { ...verified, requestedCustomer: {} }],
    ["an unknown status tag", { ...verified, status: "PENDING" }],
  ])("rejects %s", (_, body) => {
    expect(get(JSON.parse(JSON.stringify(body)))).not.toEqual([]);
  });

  it("rejects an undocumented status and an error type the route does not document", () => {
    expect(get({ type: "UNKNOWN" }, 500)).toEqual([
      "status 500 is not documented for getIdentityVerification",
    ]);
    expect(get({ type: "CHANNEL_NOT_FOUND" }, 404)).not.toEqual([]);
    expect(responseProblems("v2", "sendIdentityVerification", 502, { type: "PG_PROVIDER" })).not.toEqual([]);
  });

  it("rejects a V1 token without expired_at, and a V1 failure outside the envelope", () => {
    const token = { code: 0, message: null, response: { access_token: "a", now: 1 } };
    expect(responseProblems("v1", "getToken", 200, token)).not.toEqual([]);
    expect(responseProblems("v1", "getCertification", 404, { error: "not found" })).not.toEqual([]);
    expect(
      responseProblems("v1", "getCertification", 404, { code: 0, message: "", response: null }),
    ).not.toEqual([]);
  });

  it("checks requests too: V1 form parameters and V2 bodies", () => {
    expect(requestProblems("v1", "requestOTP", { name: "김테스트" })).not.toEqual([]);
    expect(requestProblems("v2", "sendIdentityVerification", { channelKey: "k" })).not.toEqual([]);
    expect(requestProblems("v2", "loginViaApiSecret", { apiSecret: "s" })).toEqual([]);
  });

  it("allows at most five documented exceptions, each with a reason", () => {
    expect(CONFORMANCE_EXCEPTIONS.length).toBeLessThanOrEqual(5);
    for (const exception of CONFORMANCE_EXCEPTIONS) expect(exception.reason.length).toBeGreaterThan(40);
  });
});

describe("V1 conformance", () => {
  it("POST /users/getToken: 200 (JSON and form), 401, 400", async () => {
    const body = { imp_key: TEST_MERCHANT.impKey, imp_secret: TEST_MERCHANT.impSecret };
    expect(requestProblems("v1", "getToken", body)).toEqual([]);
    await conforms("v1", "getToken", await h.call("/users/getToken", json(body)), 200);
    const form = { method: "POST", body: new URLSearchParams(body) };
    await conforms("v1", "getToken", await h.call("/users/getToken", form), 200);
    const wrong = { ...body, imp_secret: "wrong" };
    await conforms("v1", "getToken", await h.call("/users/getToken", json(wrong)), 401);
    // Exception v1-get-token-400.
    await conforms("v1", "getToken", await h.call("/users/getToken", json({ imp_key: body.imp_key })), 400);
  });

  it.each(PERSONA_IDS)("GET /certifications/{imp_uid}: persona %s", async (persona) => {
    const { imp_uid } = h.emulator.createCertification({ persona });
    await conforms("v1", "getCertification", await h.getCertification(imp_uid, v1Token), 200);
  });

  it("GET /certifications/{imp_uid}: 401, 404, another merchant's 404", async () => {
    const { imp_uid } = h.emulator.createCertification({});
    await conforms("v1", "getCertification", await h.getCertification(imp_uid, "0".repeat(40)), 401);
    await conforms("v1", "getCertification", await h.getCertification("imp_000000000000", v1Token), 404);
    const other = h.emulator.createCertification({ merchantCode: OTHER_MERCHANT.impCode });
    await conforms("v1", "getCertification", await h.getCertification(other.imp_uid, v1Token), 404);
  });

  it("DELETE /certifications/{imp_uid}: 200, then 404, 401, 500", async () => {
    const { imp_uid } = h.emulator.createCertification({});
    const del = (id: string, headers = v1Auth()) =>
      h.call(`/certifications/${id}`, { method: "DELETE", headers });
    await conforms("v1", "deleteCertification", await del(imp_uid), 200);
    await conforms("v1", "deleteCertification", await del(imp_uid), 404);
    await conforms("v1", "deleteCertification", await del(imp_uid, { authorization: "Bearer x" }), 401);
    fault({ route: "deleteCertification", kind: "status", status: 500 });
    await conforms("v1", "deleteCertification", await del(imp_uid), 500);
  });

  const otpRequest = (overrides: Record<string, unknown> = {}) => ({
    name: "김테스트",
    phone: "01000000101",
    birth: "900115",
    gender_digit: "1",
    carrier: "SKT",
    channel_key: "channel-key-emulator-danal",
    ...overrides,
  });
  const requestOtp = (body: unknown) => h.call("/certifications/otp/request", json(body, v1Auth()));

  it.each<[string, Record<string, unknown>]>([
    ["without the optional is_mvno", {}],
    ["with separators in phone and birth", { phone: "010-0000.0101", birth: "90.01-15" }],
    [
      "with bypass as a JSON string (KCP)",
      { channel_key: "channel-key-emulator-kcp-v2", bypass: '{"a":"b"}' },
    ],
    ["with verification_method APP", { verification_method: "APP", is_mvno: true }],
  ])("POST /certifications/otp/request %s: 200", async (_, overrides) => {
    const body = otpRequest(overrides);
    expect(requestProblems("v1", "requestOTP", body)).toEqual([]);
    const { response } = await conforms("v1", "requestOTP", await requestOtp(body), 200);
    const impUid = (response as { imp_uid: string }).imp_uid;
    const record = await conforms("v1", "getCertification", await h.getCertification(impUid, v1Token), 200);
    expect(record.response).toMatchObject({ phone: "01000000101", birthday: "1990-01-15", certified: false });
  });

  it.each<[string, Record<string, unknown>]>([
    ["without channel_key", { channel_key: undefined }],
    ["without name", { name: undefined }],
    ["with an unknown carrier", { carrier: "KTF" }],
  ])("POST /certifications/otp/request %s: 400", async (_, overrides) => {
    const body = JSON.parse(JSON.stringify(otpRequest(overrides)));
    expect(requestProblems("v1", "requestOTP", body)).not.toEqual([]);
    await conforms("v1", "requestOTP", await requestOtp(body), 400);
  });

  it("POST /certifications/otp/request: 400 for bypass that is no JSON string, 401, 500", async () => {
    await conforms("v1", "requestOTP", await requestOtp(otpRequest({ bypass: "not json" })), 400);
    const unauthorized = json(otpRequest(), { authorization: "Bearer x" });
    await conforms("v1", "requestOTP", await h.call("/certifications/otp/request", unauthorized), 401);
    fault({ route: "otpRequest", kind: "status", status: 500 });
    await conforms("v1", "requestOTP", await requestOtp(otpRequest()), 500);
  });

  it("POST /certifications/otp/confirm/{imp_uid}: 400, 200, 400 again, 404, 401, 500", async () => {
    const { response } = await conforms("v1", "requestOTP", await requestOtp(otpRequest()), 200);
    const impUid = (response as { imp_uid: string }).imp_uid;
    const confirm = (id: string, body: unknown, headers = v1Auth()) =>
      h.call(`/certifications/otp/confirm/${id}`, json(body, headers));
    await conforms("v1", "confirmOTP", await confirm(impUid, {}), 400);
    await conforms("v1", "confirmOTP", await confirm(impUid, { otp: "000000" }), 400);
    expect(requestProblems("v1", "confirmOTP", { otp: EMULATOR_OTP_CODE })).toEqual([]);
    await conforms("v1", "confirmOTP", await confirm(impUid, { otp: EMULATOR_OTP_CODE }), 200);
    await conforms("v1", "confirmOTP", await confirm(impUid, { otp: EMULATOR_OTP_CODE }), 400);
    await conforms("v1", "confirmOTP", await confirm("imp_000000000000", { otp: "1" }), 404);
    await conforms(
      "v1",
      "confirmOTP",
      await confirm(impUid, { otp: "1" }, { authorization: "Bearer x" }),
      401,
    );
    fault({ route: "otpConfirm", kind: "status", status: 500 });
    await conforms("v1", "confirmOTP", await confirm(impUid, { otp: "1" }), 500);
  });
});

describe("V2 conformance", () => {
  const sendBody = (overrides: Record<string, unknown> = {}) => ({
    storeId: TEST_MERCHANT.storeId,
    channelKey: "channel-key-emulator-danal",
    customer: {
      name: "김테스트",
      phoneNumber: "01000000001",
      identityNumber: "9001151",
      ipAddress: "127.0.0.1",
    },
    operator: "SKT",
    method: "SMS",
    ...overrides,
  });
  const post = (path: string, body: unknown, headers: Record<string, string> = v2Auth()) =>
    h.call(path, json(body, headers));
  const send = (id: string, body: unknown = sendBody(), headers = v2Auth()) =>
    post(`/identity-verifications/${id}/send`, body, headers);
  const confirm = (id: string, body: unknown, headers = v2Auth()) =>
    post(`/identity-verifications/${id}/confirm`, body, headers);
  const resend = (id: string, query = "", headers = v2Auth()) =>
    h.call(`/identity-verifications/${id}/resend${query}`, { method: "POST", headers });
  const getOne = (id: string, query = "", headers = v2Auth()) =>
    h.call(`/identity-verifications/${encodeURIComponent(id)}${query}`, { headers });
  const list = (body: unknown, headers = v2Auth()) =>
    h.call(`/identity-verifications?requestBody=${encodeURIComponent(JSON.stringify(body))}`, { headers });

  it("POST /login/api-secret and /token/refresh: 200, 400, 401; earlier refresh tokens expire", async () => {
    expect(requestProblems("v2", "loginViaApiSecret", { apiSecret: TEST_MERCHANT.v2ApiSecret })).toEqual([]);
    const login = () => post("/login/api-secret", { apiSecret: TEST_MERCHANT.v2ApiSecret }, {});
    const first = await conforms("v2", "loginViaApiSecret", await login(), 200);
    const second = await conforms("v2", "loginViaApiSecret", await login(), 200);
    await conforms("v2", "loginViaApiSecret", await post("/login/api-secret", {}, {}), 400);
    await conforms("v2", "loginViaApiSecret", await post("/login/api-secret", { apiSecret: "x" }, {}), 401);

    const refresh = (refreshToken: unknown) => post("/token/refresh", { refreshToken }, {});
    // The second login expired the first login's refresh token.
    await conforms("v2", "refreshToken", await refresh(first.refreshToken), 401);
    const third = await conforms("v2", "refreshToken", await refresh(second.refreshToken), 200);
    await conforms("v2", "refreshToken", await refresh(second.refreshToken), 401);
    await conforms("v2", "refreshToken", await refresh(third.refreshToken), 200);
    await conforms("v2", "refreshToken", await post("/token/refresh", {}, {}), 400);
  });

  it.each(PERSONA_IDS)("GET /identity-verifications/{id}: persona %s", async (persona) => {
    const id = `iv-persona-${persona}`;
    h.emulator.createIdentityVerification({ identityVerificationId: id, persona });
    await conforms("v2", "getIdentityVerification", await getOne(id), 200);
  });

  it.each<[string, Record<string, unknown>]>([
    ["READY", { status: "READY" }],
    ["FAILED", { status: "FAILED", customData: '{"order":1}' }],
    ["VERIFIED on a LIVE channel", { channelType: "LIVE" }],
    ["VERIFIED by a KCP persona", { persona: "kcp" }],
  ])("GET /identity-verifications/{id}: %s", async (name, input) => {
    const id = `iv-${name.replace(/\W+/g, "-")}`;
    h.emulator.createIdentityVerification({ identityVerificationId: id, ...input });
    const body = await conforms("v2", "getIdentityVerification", await getOne(id), 200);
    if (input.status === "FAILED") expect(body.pgTxId).toEqual(expect.any(String));
    if (input.channelType) expect(body.channel).toMatchObject({ type: "LIVE" });
  });

  it("GET /identity-verifications/{id}: 400, 401, 403, 404", async () => {
    h.emulator.createIdentityVerification({ identityVerificationId: "iv-errors" });
    await conforms("v2", "getIdentityVerification", await getOne("iv-errors", "?storeId="), 400);
    await conforms("v2", "getIdentityVerification", await getOne("iv-errors", "", v2Auth("x")), 401);
    const otherStore = `?storeId=${OTHER_MERCHANT.storeId}`;
    await conforms("v2", "getIdentityVerification", await getOne("iv-errors", otherStore), 403);
    await conforms("v2", "getIdentityVerification", await getOne("iv-missing"), 404);
    await conforms(
      "v2",
      "getIdentityVerification",
      await getOne("iv-errors", "", v2Auth(OTHER_MERCHANT.v2ApiSecret)),
      404,
    );
  });

  it("GET /identity-verifications: filters, sort and pages; 400, 401, 403", async () => {
    h.emulator.createIdentityVerification({ identityVerificationId: "iv-list-a", persona: "minor" });
    h.emulator.createIdentityVerification({ identityVerificationId: "iv-list-b", status: "FAILED" });
    const bodies = [
      {},
      { page: { number: 0, size: 2 }, sort: { by: "REQUESTED_AT", order: "ASC" } },
      {
        filter: {
          storeId: TEST_MERCHANT.storeId,
          statuses: ["FAILED"],
          pgProviders: ["DANAL"],
          isTest: true,
        },
      },
      { filter: { identityVerificationId: "iv-list-a", customer: { name: "박테스트" }, carriers: ["LGU"] } },
      {
        filter: {
          timeRangeField: "STATUS_UPDATED_AT",
          from: "2025-01-01T00:00:00Z",
          until: "2030-01-01T00:00:00Z",
        },
      },
    ];
    for (const body of bodies) {
      expect(requestProblems("v2", "getIdentityVerifications", body)).toEqual([]);
      const page = await conforms("v2", "getIdentityVerifications", await list(body), 200);
      expect(page.items).toEqual(expect.any(Array));
    }
    const failed = await conforms("v2", "getIdentityVerifications", await list(bodies[2]), 200);
    expect((failed.items as { status: string }[]).every((item) => item.status === "FAILED")).toBe(true);
    const one = await conforms("v2", "getIdentityVerifications", await list(bodies[3]), 200);
    expect(one).toMatchObject({ items: [{ id: "iv-list-a" }], page: { totalCount: 1 } });
    const paged = await conforms(
      "v2",
      "getIdentityVerifications",
      await list({ page: { number: 1, size: 1 } }),
      200,
    );
    expect(paged).toMatchObject({ page: { number: 1, size: 1 } });
    expect((paged.items as unknown[]).length).toBe(1);

    const raw = (query: string) => h.call(`/identity-verifications${query}`, { headers: v2Auth() });
    await conforms("v2", "getIdentityVerifications", await raw("?requestBody=not-json"), 400);
    await conforms("v2", "getIdentityVerifications", await list({ page: { size: 0 } }), 400);
    await conforms("v2", "getIdentityVerifications", await list({}, v2Auth("x")), 401);
    await conforms(
      "v2",
      "getIdentityVerifications",
      await list({ filter: { storeId: OTHER_MERCHANT.storeId } }),
      403,
    );
  });

  it("SMS: send 200 → READY with pgTxId and birth fields → resend 200 → confirm 400, 200 → VERIFIED", async () => {
    expect(requestProblems("v2", "sendIdentityVerification", sendBody())).toEqual([]);
    await conforms("v2", "sendIdentityVerification", await send("iv-sms"), 200);
    const ready = await conforms("v2", "getIdentityVerification", await getOne("iv-sms"), 200);
    expect(ready).toMatchObject({
      status: "READY",
      pgTxId: expect.any(String),
      requestedCustomer: { birthYear: "1990", birthMonth: "01", birthDay: "15" },
    });
    await conforms("v2", "resendIdentityVerification", await resend("iv-sms"), 200);
    await conforms("v2", "confirmIdentityVerification", await confirm("iv-sms", { otp: "000000" }), 400);
    await conforms("v2", "confirmIdentityVerification", await confirm("iv-sms", {}), 400);
    expect(requestProblems("v2", "confirmIdentityVerification", { otp: EMULATOR_OTP_CODE })).toEqual([]);
    const done = await conforms(
      "v2",
      "confirmIdentityVerification",
      await confirm("iv-sms", { otp: EMULATOR_OTP_CODE }),
      200,
    );
    expect(done.identityVerification).toMatchObject({ status: "VERIFIED", pgTxId: ready.pgTxId });
    await conforms("v2", "getIdentityVerification", await getOne("iv-sms"), 200);
    // Spent: send, confirm and resend of a VERIFIED id answer 409.
    await conforms("v2", "sendIdentityVerification", await send("iv-sms"), 409);
    await conforms(
      "v2",
      "confirmIdentityVerification",
      await confirm("iv-sms", { otp: EMULATOR_OTP_CODE }),
      409,
    );
    await conforms("v2", "resendIdentityVerification", await resend("iv-sms"), 409);
  });

  it("APP: send without identityNumber 200, confirm {} 200; SMS without it 400", async () => {
    const app = sendBody({
      method: "APP",
      channelKey: "channel-key-emulator-inicis-unified",
      customer: { name: "정테스트", phoneNumber: "01000000006", ipAddress: "127.0.0.1" },
    });
    expect(requestProblems("v2", "sendIdentityVerification", app)).toEqual([]);
    await conforms("v2", "sendIdentityVerification", await send("iv-app", app), 200);
    expect(requestProblems("v2", "confirmIdentityVerification", {})).toEqual([]);
    const done = await conforms("v2", "confirmIdentityVerification", await confirm("iv-app", {}), 200);
    const customer = (done.identityVerification as { verifiedCustomer: Record<string, unknown> })
      .verifiedCustomer;
    expect(customer).toMatchObject({ birthDate: "1992-03-03", isForeigner: false });
    expect("operator" in customer || "di" in customer).toBe(false);
    const sms = sendBody({
      customer: { name: "김테스트", phoneNumber: "01000000001", ipAddress: "127.0.0.1" },
    });
    await conforms("v2", "sendIdentityVerification", await send("iv-sms-no-id", sms), 400);
  });

  it("send: 401, 403, 409 ALREADY_SENT; faults for 400, 404 and 502 types", async () => {
    await conforms("v2", "sendIdentityVerification", await send("iv-s", sendBody(), v2Auth("x")), 401);
    const otherStore = sendBody({ storeId: OTHER_MERCHANT.storeId });
    await conforms("v2", "sendIdentityVerification", await send("iv-s", otherStore), 403);
    await conforms("v2", "sendIdentityVerification", await send("iv-s"), 200);
    await conforms("v2", "sendIdentityVerification", await send("iv-s"), 409);
    for (const errorType of [
      "MAX_TRANSACTION_COUNT_REACHED",
      "CHANNEL_NOT_FOUND",
      "IDENTITY_VERIFICATION_NOT_FOUND",
      "PG_PROVIDER",
    ]) {
      fault({ route: "sendIdentityVerification", kind: "error", errorType });
      const res = await send("iv-s-fault");
      expect(await conforms("v2", "sendIdentityVerification", res, res.status)).toMatchObject({
        type: errorType,
      });
    }
    fault({ route: "sendIdentityVerification", kind: "status", status: 502 });
    const pg = await conforms("v2", "sendIdentityVerification", await send("iv-s-fault"), 502);
    expect(pg).toMatchObject({
      type: "PG_PROVIDER",
      pgCode: expect.any(String),
      pgMessage: expect.any(String),
    });
  });

  it("confirm and resend: 400, 401, 403, 404 NOT_FOUND and NOT_SENT, 502", async () => {
    h.emulator.createIdentityVerification({ identityVerificationId: "iv-never-sent", status: "READY" });
    h.emulator.createIdentityVerification({ identityVerificationId: "iv-failed", status: "FAILED" });
    const badStore = { otp: EMULATOR_OTP_CODE, storeId: "" };
    await conforms("v2", "confirmIdentityVerification", await confirm("iv-never-sent", badStore), 400);
    await conforms("v2", "resendIdentityVerification", await resend("iv-never-sent", "?storeId="), 400);
    const other = { otp: EMULATOR_OTP_CODE, storeId: OTHER_MERCHANT.storeId };
    await conforms("v2", "confirmIdentityVerification", await confirm("iv-never-sent", other), 403);
    await conforms(
      "v2",
      "resendIdentityVerification",
      await resend("iv-never-sent", `?storeId=${OTHER_MERCHANT.storeId}`),
      403,
    );
    const bad = v2Auth("x");
    await conforms("v2", "confirmIdentityVerification", await confirm("iv-never-sent", {}, bad), 401);
    await conforms("v2", "resendIdentityVerification", await resend("iv-never-sent", "", bad), 401);
    for (const id of ["iv-never-sent", "iv-failed"]) {
      const notSent = await conforms(
        "v2",
        "confirmIdentityVerification",
        await confirm(id, { otp: "1" }),
        404,
      );
      expect(notSent).toMatchObject({ type: "IDENTITY_VERIFICATION_NOT_SENT" });
      await conforms("v2", "resendIdentityVerification", await resend(id), 404);
    }
    await conforms("v2", "confirmIdentityVerification", await confirm("iv-nowhere", { otp: "1" }), 404);
    await conforms("v2", "resendIdentityVerification", await resend("iv-nowhere"), 404);
    for (const route of ["confirmIdentityVerification", "resendIdentityVerification"] as const) {
      fault({ route, kind: "status", status: 502 });
      const res = route === "confirmIdentityVerification" ? await confirm("iv-x", {}) : await resend("iv-x");
      expect(await conforms("v2", route, res, 502)).toMatchObject({ type: "PG_PROVIDER" });
    }
  });

  it("unknown V2 routes answer 404 in V2's envelope, never V1's", async () => {
    for (const [path, method] of [
      ["/identity-verifications/iv-1/cancel", "POST"],
      ["/identity-verifications/iv-1", "DELETE"],
      ["/billing-keys", "GET"],
    ] as const) {
      const res = await h.call(path, { method, headers: v2Auth() });
      expect(res.status).toBe(404);
      const body = await res.json();
      expect(body).toEqual({ type: expect.any(String), message: expect.any(String) });
    }
  });
});

describe("coverage", () => {
  it.each([
    ...operationIds("v1").map((id) => ["v1", id] as const),
    ...operationIds("v2").map((id) => ["v2", id] as const),
  ])("%s %s reached every documented status", (api, id) => {
    expect([...(reached.get(`${api} ${id}`) ?? [])].sort((a, b) => a - b)).toEqual(
      documentedStatuses(api, id),
    );
  });

  it.each(operationIds("v2"))("v2 %s answered every documented error type", (id) => {
    expect([...(typesReached.get(id) ?? [])].sort()).toEqual(documentedErrorTypes(id));
  });
});
