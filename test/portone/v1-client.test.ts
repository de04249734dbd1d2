/**
 * The V1 client against the emulator, in process and over a real socket: the shared contract, then
 * everything only an emulator can stage (faults, a moving clock, revoked tokens, skewed clocks, OTP).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, RequestError } from "../../src/core/errors.js";
import { EMULATOR_OTP_CODE, OTHER_MERCHANT } from "../../src/emulator/index.js";
import { type ClientEvent, createV1Client, type OtpRequestInput } from "../../src/portone/index.js";
import { type EmulatorTarget, startEmulatorTarget, TRANSPORTS } from "./emulator-target.js";
import {
  defineV1ContractTests,
  observedClient,
  printed,
  rejectionOf,
  upstreamErrorOf,
} from "./v1-contract.js";

const MINUTE = 60_000;
const UNKNOWN_IMP_UID = "imp_999999999999";

/** An OTP request for an obviously synthetic person; override any field. */
function makeOtpRequest(overrides: Partial<OtpRequestInput> = {}): OtpRequestInput {
  return {
    name: "김테스트",
    phone: "01000000001",
    birth: "900101",
    gender_digit: "1",
    carrier: "SKT",
    is_mvno: false,
    merchant_uid: "mid_otp_test_0001",
    channel_key: "channel-key-emulator-danal",
    ...overrides,
  };
}

const refreshes = (events: readonly ClientEvent[]) =>
  events.flatMap((event) => (event.type === "token_refresh" ? [event.reason] : []));
const statusesOf = (events: readonly ClientEvent[]) =>
  events.flatMap((event) => (event.type === "request" && event.status !== undefined ? [event.status] : []));

describe.each(TRANSPORTS)("V1 client, emulator %s", (transport) => {
  let target: EmulatorTarget;
  beforeEach(async () => {
    target = await startEmulatorTarget(transport);
  });
  afterEach(async () => {
    await target.close();
  });
  const requests = () => target.emulator.stats().requests;

  describe("contract", () => {
    defineV1ContractTests({
      clientOptions: () => target.clientOptions(),
      knownImpUid: async () => target.certification(),
      unknownImpUid: UNKNOWN_IMP_UID,
      rawToken: () => target.rawToken(),
      concurrency: 200,
    });
  });

  describe("single-flight token", () => {
    it("makes exactly one getToken for 200 concurrent lookups on a cold client (emulator stats)", async () => {
      const impUid = target.certification();
      const { client } = observedClient(target.clientOptions());
      await Promise.all(Array.from({ length: 200 }, () => client.getCertification(impUid)));
      expect(requests().getToken).toBe(1);
      expect(target.emulator.stats().tokensIssued).toBe(1);
      expect(requests().getCertification).toBe(200);
    });
  });

  describe("token expiry", () => {
    it("refreshes once when the clock enters the margin, and PortOne extends the same token", async () => {
      const impUid = target.certification();
      const { client, events } = observedClient(target.clientOptions());
      await client.getCertification(impUid);
      target.emulator.clock.advance(29.5 * MINUTE);
      await Promise.all(Array.from({ length: 50 }, () => client.getCertification(impUid)));
      expect(requests().getToken).toBe(2);
      expect(target.emulator.stats().tokensIssued).toBe(1);
      // Extended by 5 minutes: a minute later nothing needs refreshing.
      target.emulator.clock.advance(MINUTE);
      await client.getCertification(impUid);
      expect(requests().getToken).toBe(2);
      expect(refreshes(events)).toEqual(["cold", "expiring"]);
      expect(statusesOf(events)).not.toContain(401);
    });

    it("fetches one new token after expiry, before any call can get a 401", async () => {
      const impUid = target.certification();
      const { client, events } = observedClient(target.clientOptions());
      await client.getCertification(impUid);
      target.emulator.clock.advance(31 * MINUTE);
      await Promise.all(Array.from({ length: 50 }, () => client.getCertification(impUid)));
      expect(requests().getToken).toBe(2);
      expect(target.emulator.stats().tokensIssued).toBe(2);
      expect(requests().getCertification).toBe(51);
      expect(statusesOf(events)).not.toContain(401);
    });
  });

  describe("revoked token", () => {
    it("costs one 401, one refresh, then succeeds", async () => {
      const impUid = target.certification();
      const { client, events } = observedClient(target.clientOptions());
      await client.getCertification(impUid);
      target.emulator.revokeTokens();
      const record = await client.getCertification(impUid);
      expect(record.imp_uid).toBe(impUid);
      expect(requests().getCertification).toBe(3);
      expect(requests().getToken).toBe(2);
      expect(statusesOf(events).filter((status) => status === 401)).toHaveLength(1);
      expect(refreshes(events)).toEqual(["cold", "unauthorized"]);
    });

    it("shares one refresh among concurrent callers whose same token got 401", async () => {
      const impUid = target.certification();
      const { client, events } = observedClient(target.clientOptions());
      await client.getCertification(impUid);
      target.emulator.revokeTokens();
      await Promise.all(Array.from({ length: 20 }, () => client.getCertification(impUid)));
      expect(requests().getToken).toBe(2);
      expect(target.emulator.stats().tokensIssued).toBe(2);
      expect(refreshes(events)).toEqual(["cold", "unauthorized"]);
    });
  });

  describe("retries", () => {
    it.each([502, 503, 504] as const)(
      "succeeds on the third attempt after two %i answers",
      async (status) => {
        const impUid = target.certification();
        const { client, events } = observedClient(target.clientOptions());
        target.emulator.setFault({ route: "getCertification", kind: "status", status, times: 2 });
        const record = await client.getCertification(impUid);
        expect(record.imp_uid).toBe(impUid);
        expect(requests().getCertification).toBe(3);
        expect(events.filter((event) => event.type === "retry")).toEqual([
          { type: "retry", route: "getCertification", attempt: 2, code: "unavailable" },
          { type: "retry", route: "getCertification", attempt: 3, code: "unavailable" },
        ]);
      },
    );

    it("gives up with unavailable after retries+1 attempts", async () => {
      const { client } = observedClient(target.clientOptions());
      target.emulator.setFault({ route: "getCertification", kind: "status", status: 503 });
      const error = await upstreamErrorOf(client.getCertification(target.certification()));
      expect(error).toMatchObject({ code: "unavailable", status: 503, attempts: 3 });
      expect(requests().getCertification).toBe(3);
    });

    it("does not retry a 500 (a bug upstream, not a transient)", async () => {
      const { client } = observedClient(target.clientOptions());
      target.emulator.setFault({ route: "getCertification", kind: "status", status: 500, times: 1 });
      const error = await upstreamErrorOf(client.getCertification(target.certification()));
      expect(error).toMatchObject({ code: "unavailable", status: 500, attempts: 1 });
      expect(requests().getCertification).toBe(1);
    });

    it("retries getToken, which hands out the same token however often it is asked", async () => {
      const { client } = observedClient(target.clientOptions());
      target.emulator.setFault({ route: "getToken", kind: "status", status: 503, times: 2 });
      await client.getCertification(target.certification());
      expect(requests().getToken).toBe(3);
    });

    it("waits a full-jitter backoff drawn from the injected random, doubling per retry", async () => {
      const delays: number[] = [];
      const { client } = observedClient(target.clientOptions(), {
        retryBaseDelayMs: 100,
        random: () => 0.5,
        sleep: async (ms) => {
          delays.push(ms);
        },
      });
      target.emulator.setFault({ route: "getCertification", kind: "status", status: 503, times: 2 });
      await client.getCertification(target.certification());
      expect(delays).toEqual([50, 100]);
    });

    it("makes one attempt when retries is 0", async () => {
      const { client } = observedClient(target.clientOptions(), { retries: 0 });
      target.emulator.setFault({ route: "getCertification", kind: "status", status: 503, times: 1 });
      expect((await upstreamErrorOf(client.getCertification(target.certification()))).code).toBe(
        "unavailable",
      );
      expect(requests().getCertification).toBe(1);
    });

    it.each([
      ["a 503 on the OTP request", "otpRequest", "status"],
      ["a dropped OTP request", "otpRequest", "drop"],
      ["a 503 on the OTP confirmation", "otpConfirm", "status"],
      ["a dropped OTP confirmation", "otpConfirm", "drop"],
    ] as const)("never retries %s (not idempotent)", async (_, route, kind) => {
      const { client } = observedClient(target.clientOptions());
      const { imp_uid } = await client.requestOtp(makeOtpRequest());
      target.emulator.setFault({ route, kind, status: 503 });
      const call =
        route === "otpRequest"
          ? client.requestOtp(makeOtpRequest())
          : client.confirmOtp(imp_uid, EMULATOR_OTP_CODE);
      expect((await upstreamErrorOf(call)).code).toBe("unavailable");
      expect(requests()[route]).toBe(route === "otpRequest" ? 2 : 1);
    });
  });

  describe("4xx answers are final", () => {
    it("maps a 404 to not_found after one attempt", async () => {
      const { client } = observedClient(target.clientOptions());
      const error = await upstreamErrorOf(client.getCertification(UNKNOWN_IMP_UID));
      expect(error).toMatchObject({ code: "not_found", status: 404, attempts: 1, apiCode: -1 });
      expect(requests().getCertification).toBe(1);
    });

    it("answers not_found for another merchant's record", async () => {
      const { client } = observedClient(target.clientOptions());
      const other = target.emulator.createCertification({
        persona: "adult",
        merchantCode: OTHER_MERCHANT.impCode,
      });
      expect((await upstreamErrorOf(client.getCertification(other.imp_uid))).code).toBe("not_found");
    });

    it("maps a 400 to bad_request after one attempt", async () => {
      const { client } = observedClient(target.clientOptions());
      const { imp_uid } = await client.requestOtp(makeOtpRequest());
      const error = await upstreamErrorOf(client.confirmOtp(imp_uid, "000000"));
      expect(error).toMatchObject({ code: "bad_request", status: 400, attempts: 1 });
      expect(requests().otpConfirm).toBe(1);
    });

    it("maps a refused key to unauthorized after one getToken", async () => {
      const { client } = observedClient(target.clientOptions({ apiKey: "certgate_unknown_key" }));
      expect((await upstreamErrorOf(client.getCertification(target.certification()))).code).toBe(
        "unauthorized",
      );
      expect(requests().getToken).toBe(1);
    });
  });

  describe("timeouts", () => {
    it("fails a hung upstream with timeout within attempts × timeoutMs", async () => {
      const timeoutMs = 150;
      const { client } = observedClient(target.clientOptions({ timeoutMs, retries: 2, retryBaseDelayMs: 1 }));
      const impUid = target.certification();
      await client.getCertification(impUid); // warm the token: only the lookup hangs
      target.emulator.setFault({ route: "getCertification", kind: "latency", latencyMs: 10_000 });
      const started = performance.now();
      const error = await upstreamErrorOf(client.getCertification(impUid));
      const elapsed = performance.now() - started;
      expect(error).toMatchObject({ code: "timeout", attempts: 3 });
      expect(elapsed).toBeGreaterThanOrEqual(3 * timeoutMs - 10);
      expect(elapsed).toBeLessThan(3 * timeoutMs + 1_000);
      expect(requests().getCertification).toBe(4);
    });

    it("keeps the bound even when fetch ignores its abort signal", async () => {
      const base = target.clientOptions().fetch ?? fetch;
      const deaf: typeof fetch = (input, init) => base(input, { ...init, signal: null });
      const { client } = observedClient(target.clientOptions({ fetch: deaf, timeoutMs: 150, retries: 0 }));
      const impUid = target.certification();
      await client.getCertification(impUid);
      target.emulator.setFault({ route: "getCertification", kind: "latency", latencyMs: 2_000, times: 1 });
      const started = performance.now();
      expect((await upstreamErrorOf(client.getCertification(impUid))).code).toBe("timeout");
      expect(performance.now() - started).toBeLessThan(150 + 400);
    });

    it("bounds the token request too", async () => {
      const { client } = observedClient(target.clientOptions({ timeoutMs: 100, retries: 0 }));
      target.emulator.setFault({ route: "getToken", kind: "latency", latencyMs: 5_000, times: 1 });
      expect((await upstreamErrorOf(client.getCertification(target.certification()))).code).toBe("timeout");
    });

    it("makes one attempt for a timed-out OTP confirmation", async () => {
      const { client } = observedClient(target.clientOptions({ timeoutMs: 100 }));
      const { imp_uid } = await client.requestOtp(makeOtpRequest());
      target.emulator.setFault({ route: "otpConfirm", kind: "latency", latencyMs: 5_000, times: 1 });
      expect((await upstreamErrorOf(client.confirmOtp(imp_uid, EMULATOR_OTP_CODE))).code).toBe("timeout");
      expect(requests().otpConfirm).toBe(1);
    });
  });

  describe("bodies the client cannot trust", () => {
    it.each([
      ["malformed", "getCertification"],
      ["wrong_types", "getCertification"],
      ["malformed", "getToken"],
      ["wrong_types", "getToken"],
      ["wrong_types", "otpRequest"],
    ] as const)("maps a %s body on %s to invalid_response, without retrying", async (kind, route) => {
      const { client } = observedClient(target.clientOptions());
      const impUid = target.certification();
      target.emulator.setFault({ route, kind, times: 1 });
      const call =
        route === "otpRequest" ? client.requestOtp(makeOtpRequest()) : client.getCertification(impUid);
      const error = await upstreamErrorOf(call);
      expect(error).toMatchObject({ code: "invalid_response", status: 200, attempts: 1 });
      expect(requests()[route]).toBe(1);
      // The emulator's wrong-typed record carries a phone number: no body value reaches the error.
      expect(printed(error)).not.toContain("1000000001");
    });

    it("stops reading a body over 1 MiB: invalid_response, unretried, and the client works on", async () => {
      const { client } = observedClient(target.clientOptions());
      const impUid = target.certification();
      target.emulator.setFault({ route: "getCertification", kind: "oversized", times: 1 });
      const error = await upstreamErrorOf(client.getCertification(impUid));
      expect(error).toMatchObject({ code: "invalid_response", status: 200, attempts: 1 });
      expect(error.message).toContain("body over 1048576 bytes");
      expect(requests().getCertification).toBe(1);
      await expect(client.getCertification(impUid)).resolves.toMatchObject({ imp_uid: impUid });
    });

    it("maps HTTP 200 with a non-zero code to api_error with PortOne's code and message", async () => {
      const { client } = observedClient(target.clientOptions());
      target.emulator.setFault({ route: "getCertification", kind: "api_error", times: 1 });
      const error = await upstreamErrorOf(client.getCertification(target.certification()));
      expect(error).toMatchObject({ code: "api_error", status: 200, apiCode: 1, attempts: 1 });
      expect(error.apiMessage).toContain("emulated api_error fault");
    });
  });

  describe("dropped connections", () => {
    it("answers unavailable after every attempt was dropped", async () => {
      const { client, events } = observedClient(target.clientOptions());
      const impUid = target.certification();
      await client.getCertification(impUid);
      target.emulator.setFault({ route: "getCertification", kind: "drop" });
      const error = await upstreamErrorOf(client.getCertification(impUid));
      expect(error).toMatchObject({ code: "unavailable", attempts: 3, status: undefined });
      expect(requests().getCertification).toBe(4);
      expect(events.filter((event) => event.type === "retry")).toHaveLength(2);
    });

    it("recovers when only the first attempt is dropped", async () => {
      const { client } = observedClient(target.clientOptions());
      target.emulator.setFault({ route: "getCertification", kind: "drop", times: 1 });
      const impUid = target.certification();
      expect((await client.getCertification(impUid)).imp_uid).toBe(impUid);
    });
  });

  describe("clock skew", () => {
    it.each([
      ["ahead of", 10 * MINUTE],
      ["behind", -10 * MINUTE],
    ])("refreshes on time when PortOne's clock is 10 minutes %s the client's", async (_, serverAheadMs) => {
      const impUid = target.certification();
      const { client, events } = observedClient(
        target.clientOptions({ now: () => target.emulator.clock.now() - serverAheadMs }),
      );
      const start = target.emulator.clock.now();
      const lookupAt = async (minutes: number) => {
        target.emulator.clock.set(start + minutes * MINUTE);
        await client.getCertification(impUid);
        return { getToken: requests().getToken, issued: target.emulator.stats().tokensIssued };
      };
      expect(await lookupAt(0)).toEqual({ getToken: 1, issued: 1 });
      // A client trusting expired_at on its own clock would refresh here (server behind) …
      expect(await lookupAt(20)).toEqual({ getToken: 1, issued: 1 });
      // … and in PortOne's last minute the refresh extends the same token by 5 minutes.
      expect(await lookupAt(29.5)).toEqual({ getToken: 2, issued: 1 });
      expect(await lookupAt(31)).toEqual({ getToken: 2, issued: 1 });
      // Past the extended expiry (35 min) a new token; a naive client would send the old one (server ahead).
      expect(await lookupAt(36)).toEqual({ getToken: 3, issued: 2 });
      expect(statusesOf(events)).not.toContain(401);
    });
  });

  describe("records", () => {
    it("turns null fields into absent ones", async () => {
      const { client } = observedClient(target.clientOptions());
      const noGender = await client.getCertification(target.certification("no_gender"));
      const noDi = await client.getCertification(target.certification("no_di"));
      expect("gender" in noGender).toBe(false);
      expect("unique_in_site" in noDi).toBe(false);
      expect(noDi.unique_key).toHaveLength(88);
    });

    it("reports an unconfirmed record as certified: false", async () => {
      const { client } = observedClient(target.clientOptions());
      expect((await client.getCertification(target.certification("uncertified"))).certified).toBe(false);
    });

    it("deletes a record and returns it; a second lookup is not_found", async () => {
      const { client } = observedClient(target.clientOptions());
      const impUid = target.certification();
      expect((await client.deleteCertification(impUid)).imp_uid).toBe(impUid);
      expect((await upstreamErrorOf(client.getCertification(impUid))).code).toBe("not_found");
    });
  });

  describe("OTP", () => {
    it("requests and confirms a verification, round trip", async () => {
      const { client } = observedClient(target.clientOptions());
      const { imp_uid } = await client.requestOtp(makeOtpRequest());
      expect((await client.getCertification(imp_uid)).certified).toBe(false);
      const confirmed = await client.confirmOtp(imp_uid, EMULATOR_OTP_CODE);
      expect(confirmed).toMatchObject({ imp_uid, certified: true, merchant_uid: "mid_otp_test_0001" });
      expect(confirmed.unique_key).toHaveLength(88);
      expect((await client.getCertification(imp_uid)).certified).toBe(true);
    });

    it("answers bad_request when confirming twice", async () => {
      const { client } = observedClient(target.clientOptions());
      const { imp_uid } = await client.requestOtp(makeOtpRequest());
      await client.confirmOtp(imp_uid, EMULATOR_OTP_CODE);
      expect((await upstreamErrorOf(client.confirmOtp(imp_uid, EMULATOR_OTP_CODE))).code).toBe("bad_request");
    });

    it.each([
      ["a phone with letters", makeOtpRequest({ phone: "010abc00001" })],
      ["a 4-digit birth", makeOtpRequest({ birth: "9001" })],
    ])("refuses %s before calling PortOne, naming the field but not its value", async (_, input) => {
      const { client, events } = observedClient(target.clientOptions());
      const error = await rejectionOf(client.requestOtp(input));
      expect(error).toBeInstanceOf(RequestError);
      expect(printed(error)).not.toContain("김테스트");
      expect(printed(error)).not.toMatch(/010abc|9001/);
      expect(events).toEqual([]);
    });
  });
});

describe("V1 client configuration", () => {
  it.each([
    ["apiKey", { apiKey: "", apiSecret: "certgate_test_secret" }],
    ["apiSecret", { apiKey: "certgate_test_key", apiSecret: "" }],
    ["timeoutMs", { apiKey: "k", apiSecret: "s", timeoutMs: 0 }],
    ["retries", { apiKey: "k", apiSecret: "s", retries: -1 }],
    ["tier", { apiKey: "k", apiSecret: "s", tier: "a b\r\n" }],
  ])("refuses a bad %s with a ConfigError naming it (no fallback to any test key)", (variable, options) => {
    let thrown: unknown;
    try {
      createV1Client(options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(thrown).toMatchObject({ variable });
  });
});
