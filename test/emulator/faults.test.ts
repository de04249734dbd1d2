import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Fault, type RouteName, TEST_MERCHANT } from "../../src/emulator/index.js";
import { type Harness, jsonBody, readEnvelope, seeded, startHarness, TRANSPORTS } from "./harness.js";

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

describe.each(TRANSPORTS)("probabilistic faults (%s)", (transport) => {
  let h: Harness;
  let token: string;
  let impUid: string;
  const start = async (random: () => number) => {
    h = await startHarness(transport, { random });
    token = (await h.getToken()).access_token;
    impUid = h.emulator.createCertification().imp_uid;
  };
  afterEach(() => h.close());

  /** Sends `n` lookups one after another; tallies the answers by status ("drop" for a hang-up). */
  const tally = async (n: number) => {
    const counts = new Map<number | "drop", number>();
    for (let i = 0; i < n; i++) {
      const outcome = await h.getCertification(impUid, token).then(
        async (res) => {
          await res.arrayBuffer();
          return res.status;
        },
        () => "drop" as const,
      );
      counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
    }
    return { ok: counts.get(200) ?? 0, s503: counts.get(503) ?? 0, drop: counts.get("drop") ?? 0, counts };
  };
  const lookups = () => h.emulator.stats().requests.getCertification;

  it("p = 0.1 hits about a tenth of 1,000 requests; the rest reach the route", async () => {
    await start(seeded(7));
    h.emulator.setFault({ route: "getCertification", kind: "status", status: 503, probability: 0.1 });
    const { ok, s503, counts } = await tally(1_000);
    // Binomial(1000, 0.1): mean 100, sd ≈ 9.5. A fixed seed makes the count fixed; ±3 sd bounds it.
    expect(s503).toBeGreaterThanOrEqual(72);
    expect(s503).toBeLessThanOrEqual(128);
    expect(ok + s503).toBe(1_000);
    expect(counts.size).toBe(2);
    expect(h.emulator.stats().faultsInjected).toEqual({ getCertification: { status: s503 } });
    expect(lookups()).toBe(1_000);
  });

  it("the same seed gives the same sequence of hits", async () => {
    const sequence = async () => {
      await start(seeded(2024));
      h.emulator.setFault({ route: "getCertification", kind: "status", status: 502, probability: 0.3 });
      const statuses: number[] = [];
      for (let i = 0; i < 60; i++) statuses.push((await h.getCertification(impUid, token)).status);
      return statuses;
    };
    const first = await sequence();
    await h.close();
    const second = await sequence();
    expect(first).toEqual(second);
    expect(first).toContain(502);
    expect(first).toContain(200);
  });

  it("p = 1 hits every request, whatever the random source says", async () => {
    await start(() => 0.999_999);
    h.emulator.setFault({ route: "getCertification", kind: "status", status: 504, probability: 1 });
    const { counts } = await tally(50);
    expect([...counts]).toEqual([[504, 50]]);
  });

  it("uses the emulator's random source: a draw below p hits, a draw at or above it does not", async () => {
    let next = 0.5;
    await start(() => next);
    h.emulator.setFault({ route: "getCertification", kind: "status", status: 503, probability: 0.5 });
    expect((await h.getCertification(impUid, token)).status).toBe(200);
    next = 0.499;
    expect((await h.getCertification(impUid, token)).status).toBe(503);
    // V2 routes draw from the same source.
    h.emulator.createIdentityVerification({ identityVerificationId: "iv-probability" });
    h.emulator.setFault({ route: "getIdentityVerification", kind: "status", status: 503, probability: 0.5 });
    const getV2 = () =>
      h.call("/identity-verifications/iv-probability", {
        headers: { authorization: `PortOne ${TEST_MERCHANT.v2ApiSecret}` },
      });
    expect((await getV2()).status).toBe(503);
    next = 0.5;
    expect((await getV2()).status).toBe(200);
    expect(h.emulator.stats().v2.faultsInjected).toEqual({ getIdentityVerification: { status: 1 } });
  });

  it("composes: 10 % 503 and 2 % drop on one route at once", async () => {
    await start(seeded(11));
    h.emulator.setFault({ route: "getCertification", kind: "status", status: 503, probability: 0.1 });
    h.emulator.setFault({ route: "getCertification", kind: "drop", probability: 0.02 });
    const { ok, s503, drop, counts } = await tally(1_000);
    // 503: Binomial(1000, 0.1). Drop: only requests the 503 missed draw again, Binomial(1000, 0.018).
    expect(s503).toBeGreaterThanOrEqual(72);
    expect(s503).toBeLessThanOrEqual(128);
    expect(drop).toBeGreaterThanOrEqual(5);
    expect(drop).toBeLessThanOrEqual(32);
    expect(ok + s503 + drop).toBe(1_000);
    expect(counts.size).toBe(3);
    expect(h.emulator.stats().faultsInjected).toEqual({ getCertification: { status: s503, drop } });
    expect(lookups()).toBe(1_000);
  });

  it("a request the first fault misses falls through to the next one, then to the route", async () => {
    await start(seeded(3));
    h.emulator.setFault({ route: "getCertification", kind: "status", status: 503, probability: 0.25 });
    h.emulator.setFault({ route: "getCertification", kind: "status", status: 502, times: 5 });
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await h.getCertification(impUid, token)).status);
    // Exactly five misses of the 503 went to the 502 fault (its `times`), every later miss to the route.
    expect(statuses.filter((status) => status === 502)).toHaveLength(5);
    const lastOf502 = statuses.lastIndexOf(502);
    expect(statuses.slice(0, lastOf502 + 1).every((status) => status !== 200)).toBe(true);
    expect(statuses.slice(lastOf502 + 1)).toContain(200);
    expect(statuses.filter((status) => status === 503).length).toBeGreaterThan(0);
  });

  it("with times: only hits consume it, and the fault disarms after the last hit", async () => {
    await start(seeded(5));
    h.emulator.setFault({
      route: "getCertification",
      kind: "status",
      status: 503,
      times: 3,
      probability: 0.2,
    });
    const statuses: number[] = [];
    for (let i = 0; i < 200; i++) statuses.push((await h.getCertification(impUid, token)).status);
    expect(statuses.filter((status) => status === 503)).toHaveLength(3);
    // The third hit did not come first: misses in between did not consume `times`.
    expect(statuses.lastIndexOf(503)).toBeGreaterThan(2);
    expect(h.emulator.stats().faultsInjected).toEqual({ getCertification: { status: 3 } });
  });

  it("clearing faults keeps the injected counts; reset zeroes them", async () => {
    await start(() => 0);
    h.emulator.setFault({ route: "getToken", kind: "status", status: 503, probability: 0.5 });
    expect(await getTokenStatus()).toBe(503);
    h.emulator.clearFaults();
    expect(await getTokenStatus()).toBe(200);
    expect(h.emulator.stats().faultsInjected).toEqual({ getToken: { status: 1 } });
    h.emulator.reset();
    expect(h.emulator.stats().faultsInjected).toEqual({});
  });

  const getTokenStatus = async () =>
    (
      await h.call(
        "/users/getToken",
        jsonBody({ imp_key: TEST_MERCHANT.impKey, imp_secret: TEST_MERCHANT.impSecret }),
      )
    ).status;
});

describe("probability validation", () => {
  it.each<[string, unknown]>([
    ["zero", 0],
    ["a negative number", -0.1],
    ["more than 1", 1.000_001],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["a string", "0.5"],
  ])("setFault throws RequestError(invalid_request) for %s", async (_, probability) => {
    const h = await startHarness("in-process");
    const fault = { route: "getToken", kind: "drop", probability };
    // @ts-expect-error deliberately invalid input
    expect(() => h.emulator.setFault(fault)).toThrow(expect.objectContaining({ code: "invalid_request" }));
  });

  describe("POST /__admin/faults", () => {
    let h: Harness;
    beforeEach(async () => {
      h = await startHarness("socket", { admin: true });
    });
    afterEach(() => h.close());
    const admin = (body: unknown) => h.call("/__admin/faults", jsonBody(body));

    it.each<[string, unknown]>([
      ["zero", 0],
      ["a negative number", -1],
      ["more than 1", 1.5],
      ["a string", "0.1"],
      ["null", null],
    ])("answers 400 invalid_request for a probability of %s", async (_, probability) => {
      const res = await admin({ route: "getCertification", kind: "drop", probability });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_request" } });
      expect(await (await h.call("/__admin/faults")).json()).toEqual({ faults: [] });
    });

    it("arms a probabilistic fault on a V1 and a V2 route and lists it with its probability", async () => {
      expect((await admin({ route: "getCertification", kind: "drop", probability: 0.02 })).status).toBe(201);
      const res = await admin({
        route: "getIdentityVerification",
        kind: "status",
        status: 503,
        probability: 1,
      });
      expect(res.status).toBe(201);
      expect(await (await h.call("/__admin/faults")).json()).toEqual({
        faults: [
          { route: "getCertification", kind: "drop", probability: 0.02 },
          { route: "getIdentityVerification", kind: "status", status: 503, probability: 1 },
        ],
      });
    });
  });
});
