import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Fault, type RouteName, TEST_MERCHANT } from "../../src/emulator/index.js";
import { type Harness, jsonBody, readEnvelope, startHarness, TRANSPORTS } from "./harness.js";

describe.each(TRANSPORTS)("faults (%s)", (transport) => {
  let h: Harness;
  let token: string;
  let impUid: string;
  beforeEach(async () => {
    h = await startHarness(transport);
    token = (await h.getToken()).access_token;
    impUid = h.emulator.createCertification().imp_uid;
  });
  afterEach(() => h.close());

  const getRecord = (init: RequestInit = {}) =>
    h.call(`/certifications/${impUid}`, { ...init, headers: { authorization: `Bearer ${token}` } });
  const getToken = () =>
    h.call(
      "/users/getToken",
      jsonBody({ imp_key: TEST_MERCHANT.impKey, imp_secret: TEST_MERCHANT.impSecret }),
    );
  const arm = (fault: Omit<Fault, "route"> & { route?: Fault["route"] }) =>
    h.emulator.setFault({ route: "getCertification", ...fault });

  describe("status", () => {
    it.each([500, 502, 503, 504] as const)("answers %i with a V1 error envelope", async (status) => {
      arm({ kind: "status", status });
      const res = await getRecord();
      expect(res.status).toBe(status);
      expect(await readEnvelope(res)).toEqual({ code: -1, message: expect.any(String), response: null });
    });

    it("defaults to 500", async () => {
      arm({ kind: "status" });
      expect((await getRecord()).status).toBe(500);
    });
  });

  it("malformed: answers 200 with a body that is not JSON", async () => {
    arm({ kind: "malformed" });
    const res = await getRecord();
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
  });

  it("wrong_types: answers 200, code 0, with mistyped fields", async () => {
    arm({ kind: "wrong_types" });
    const res = await getRecord();
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      code: 0,
      response: { certified: "yes", certified_at: "x", imp_uid: 123, unique_key: expect.any(Number) },
    });
  });

  it("wrong_types on getToken: a token response with mistyped fields", async () => {
    arm({ route: "getToken", kind: "wrong_types" });
    expect(await (await getToken()).json()).toMatchObject({
      code: 0,
      response: { access_token: expect.any(Number), now: expect.any(String), expired_at: expect.any(String) },
    });
  });

  it("api_error: answers HTTP 200 with a non-zero code, a message and no response", async () => {
    arm({ kind: "api_error" });
    const res = await getRecord();
    expect(res.status).toBe(200);
    const body = await readEnvelope(res);
    expect(body.code).not.toBe(0);
    expect(body).toMatchObject({ message: expect.any(String), response: null });
  });

  it("drop: the fetch rejects like undici, and the next request is answered", async () => {
    arm({ kind: "drop", times: 1 });
    const failure = await getRecord().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(TypeError);
    expect(failure).toHaveProperty("message", "fetch failed");
    expect((await getRecord()).status).toBe(200);
  });

  describe("latency", () => {
    it("waits, then answers normally", async () => {
      arm({ kind: "latency", latencyMs: 150 });
      const started = performance.now();
      const res = await getRecord();
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
      expect(res.status).toBe(200);
      expect((await readEnvelope(res)).response).toMatchObject({ imp_uid: impUid });
    });

    it("rejects with the signal's reason when the caller aborts during the wait", async () => {
      arm({ kind: "latency", latencyMs: 5_000 });
      const controller = new AbortController();
      const reason = new Error("caller gave up");
      setTimeout(() => controller.abort(reason), 50);
      const started = performance.now();
      await expect(getRecord({ signal: controller.signal })).rejects.toBe(reason);
      expect(performance.now() - started).toBeLessThan(2_000);
    });

    it("rejects with a TimeoutError from AbortSignal.timeout", async () => {
      arm({ kind: "latency", latencyMs: 5_000 });
      await expect(getRecord({ signal: AbortSignal.timeout(50) })).rejects.toHaveProperty(
        "name",
        "TimeoutError",
      );
    });

    it("does the route's work only after the wait, and not at all for an aborted caller", async () => {
      h.emulator.setFault({ route: "getToken", kind: "latency", latencyMs: 5_000, times: 1 });
      h.emulator.revokeTokens();
      const issued = h.emulator.stats().tokensIssued;
      await expect(
        h.call("/users/getToken", {
          ...jsonBody({ imp_key: TEST_MERCHANT.impKey, imp_secret: TEST_MERCHANT.impSecret }),
          signal: AbortSignal.timeout(50),
        }),
      ).rejects.toThrow();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(h.emulator.stats().tokensIssued).toBe(issued);
    });
  });

  it("times: N faults the next N matching requests, then disarms", async () => {
    arm({ kind: "status", status: 503, times: 2 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await getRecord()).status);
    expect(statuses).toEqual([503, 503, 200, 200]);
  });

  it("without times: faults until cleared", async () => {
    arm({ kind: "status", status: 502 });
    for (let i = 0; i < 3; i++) expect((await getRecord()).status).toBe(502);
    h.emulator.clearFaults();
    expect((await getRecord()).status).toBe(200);
  });

  it("only faults its own route", async () => {
    arm({ kind: "status", status: 500 });
    expect((await getToken()).status).toBe(200);
    expect((await getRecord()).status).toBe(500);
  });

  it("'*' faults every route", async () => {
    h.emulator.setFault({ route: "*", kind: "api_error" });
    const responses = [
      await getToken(),
      await getRecord(),
      await h.call("/certifications/otp/request", jsonBody({})),
      await h.call("/certifications/otp/confirm/imp_000000000000", jsonBody({})),
      await h.call(`/certifications/${impUid}`, { method: "DELETE" }),
    ];
    for (const res of responses) expect((await readEnvelope(res)).code).toBe(1);
  });

  it("applies before the route's work: no token needed, nothing deleted", async () => {
    h.emulator.setFault({ route: "deleteCertification", kind: "status", status: 503, times: 1 });
    const res = await h.call(`/certifications/${impUid}`, { method: "DELETE" });
    expect(res.status).toBe(503);
    expect((await getRecord()).status).toBe(200);
  });

  it("counts faulted requests in the stats", async () => {
    arm({ kind: "status", times: 2 });
    await getRecord();
    await getRecord();
    await getRecord();
    const expected: Partial<Record<RouteName, number>> = { getToken: 1, getCertification: 3 };
    expect(h.emulator.stats().requests).toMatchObject(expected);
  });
});

describe("setFault validation", () => {
  it.each<[string, unknown]>([
    ["latency without latencyMs", { route: "getToken", kind: "latency" }],
    ["an unknown route", { route: "getPayment", kind: "drop" }],
    ["an unknown kind", { route: "getToken", kind: "explode" }],
    ["an unsupported status", { route: "getToken", kind: "status", status: 418 }],
    ["times of zero", { route: "getToken", kind: "drop", times: 0 }],
  ])("throws RequestError(invalid_request) for %s", async (_, fault) => {
    const h = await startHarness("in-process");
    // @ts-expect-error deliberately invalid input
    expect(() => h.emulator.setFault(fault)).toThrow(expect.objectContaining({ code: "invalid_request" }));
  });
});
