/**
 * The V2 client against the emulator, in process and over a real socket: the status union, every
 * error type, stores, faults, token mode, the OTP flow and secrets.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, RequestError } from "../../src/core/errors.js";
import { fromV2IdentityVerification } from "../../src/core/v2/upstream.js";
import { EMULATOR_OTP_CODE, OTHER_MERCHANT, PERSONAS, TEST_MERCHANT } from "../../src/emulator/index.js";
import {
  type ClientEvent,
  createPortOneClients,
  createV2Client,
  V2_DEFAULT_BASE_URL,
  type V2ClientOptions,
  type V2SendInput,
} from "../../src/portone/index.js";
import { TRANSPORTS } from "./emulator-target.js";
import { printed, rejectionOf, upstreamErrorOf } from "./v1-contract.js";
import { startV2Target, type V2EmulatorTarget } from "./v2-target.js";

const MINUTE = 60_000;

/** A send input for an obviously synthetic person; override any field. */
function makeSendInput(overrides: Partial<V2SendInput> = {}): V2SendInput {
  return {
    channelKey: "channel-key-emulator-danal",
    customer: {
      name: "김테스트",
      phoneNumber: "01000000001",
      identityNumber: "9001011",
      ipAddress: "127.0.0.1",
    },
    operator: "LGU",
    method: "SMS",
    ...overrides,
  };
}

function observed(options: V2ClientOptions) {
  const events: ClientEvent[] = [];
  const client = createV2Client({ ...options, onEvent: (event) => events.push(event) });
  return { client, events };
}

const routesOf = (events: readonly ClientEvent[]) =>
  events.flatMap((event) => (event.type === "request" ? [`${event.route}:${event.status ?? "-"}`] : []));
const refreshes = (events: readonly ClientEvent[]) =>
  events.flatMap((event) => (event.type === "token_refresh" ? [event.reason] : []));

describe.each(TRANSPORTS)("V2 client, emulator %s", (transport) => {
  let target: V2EmulatorTarget;
  beforeEach(async () => {
    target = await startV2Target(transport);
  });
  afterEach(() => target.close());
  const requests = () => target.emulator.stats().v2.requests;
  const create = (input: Parameters<typeof target.emulator.createIdentityVerification>[0]) =>
    target.emulator.createIdentityVerification(input).id;

  describe("getIdentityVerification", () => {
    it("parses a VERIFIED record into the core's type, which maps to a certified identity", async () => {
      const id = create({ identityVerificationId: "iv-verified" });
      const record = await observed(target.v2Options()).client.getIdentityVerification(id);
      expect(record).toMatchObject({
        status: "VERIFIED",
        id,
        channel: { pgProvider: "DANAL" },
        verifiedCustomer: {
          name: PERSONAS.adult.name,
          birthDate: "1990-01-15",
          gender: "MALE",
          operator: "SKT",
        },
        verifiedAt: "2025-06-01T00:00:00.000Z",
      });
      const result = fromV2IdentityVerification(record);
      expect(result.certified).toBe(true);
      expect(result.identity).toMatchObject({ birthDate: { year: 1990, month: 1, day: 15 }, gender: "male" });
    });

    it.each(["READY", "FAILED"] as const)("parses a %s record, which is not certified", async (status) => {
      const id = create({ identityVerificationId: `iv-${status}`, status });
      const record = await observed(target.v2Options()).client.getIdentityVerification(id);
      expect(record.status).toBe(status);
      if (record.status === "FAILED") expect(record.failure?.reason).toEqual(expect.any(String));
      expect(fromV2IdentityVerification(record).certified).toBe(false);
    });

    it.each(["EXPIRED", "UNRECOGNIZED", "verified"])(
      "maps an unknown status %s to the UNRECOGNIZED arm, never verified, even with a customer",
      async (status) => {
        const id = create({ identityVerificationId: "iv-new", fields: { status } });
        const record = await observed(target.v2Options()).client.getIdentityVerification(id);
        expect(record).toEqual({
          id,
          status: "UNRECOGNIZED",
          rawStatus: status,
          channel: expect.any(Object),
        });
        expect(fromV2IdentityVerification(record).certified).toBe(false);
      },
    );

    it("treats null fields as absent and an unknown gender as no gender", async () => {
      const id = create({ identityVerificationId: "iv-nulls" });
      const served = { ...target.emulator.createIdentityVerification({ identityVerificationId: "iv-x" }) };
      if (served.status !== "VERIFIED") throw new Error("expected VERIFIED");
      create({
        identityVerificationId: "iv-odd",
        fields: {
          verifiedCustomer: { ...served.verifiedCustomer, di: null, gender: "UNSPECIFIED" },
          customData: null,
        },
      });
      const client = observed(target.v2Options()).client;
      expect((await client.getIdentityVerification(id)).status).toBe("VERIFIED");
      const odd = await client.getIdentityVerification("iv-odd");
      if (odd.status !== "VERIFIED") throw new Error("expected VERIFIED");
      expect("di" in odd.verifiedCustomer).toBe(false);
      expect(odd.verifiedCustomer.gender).toBeUndefined();
    });

    it.each([
      ["a VERIFIED record without verifiedCustomer", { verifiedCustomer: null }],
      ["a VERIFIED record without verifiedAt", { verifiedAt: 1 }],
      ["a record without id", { id: null }],
      ["a record without status", { status: null }],
    ])("refuses %s as invalid_response, not as unrecognised", async (_, fields) => {
      const id = create({ identityVerificationId: "iv-broken", fields });
      const error = await upstreamErrorOf(observed(target.v2Options()).client.getIdentityVerification(id));
      expect(error).toMatchObject({ code: "invalid_response", status: 200, attempts: 1 });
    });

    it.each([
      ["an unknown id", "iv-unknown", {}, "not_found", 404, "IDENTITY_VERIFICATION_NOT_FOUND"],
      ["another merchant's id", "iv-other", {}, "not_found", 404, "IDENTITY_VERIFICATION_NOT_FOUND"],
      [
        "another merchant's store",
        "iv-mine",
        { storeId: OTHER_MERCHANT.storeId },
        "forbidden",
        403,
        "FORBIDDEN",
      ],
      [
        "a wrong secret",
        "iv-mine",
        { apiSecret: "certgate_wrong_v2_secret" },
        "unauthorized",
        401,
        "UNAUTHORIZED",
      ],
    ] as const)("answers %s with %s after one attempt", async (_, id, overrides, code, status, type) => {
      create({ identityVerificationId: "iv-mine" });
      create({ identityVerificationId: "iv-other", merchantCode: OTHER_MERCHANT.impCode });
      const { client, events } = observed(target.v2Options(overrides));
      const error = await upstreamErrorOf(client.getIdentityVerification(id));
      expect(error).toMatchObject({
        code,
        status,
        apiCode: type,
        apiMessage: expect.any(String),
        attempts: 1,
      });
      expect(routesOf(events)).toEqual([`getIdentityVerification:${status}`]);
    });

    it("works without a storeId (the secret's own store)", async () => {
      const id = create({ identityVerificationId: "iv-1" });
      const options = target.v2Options();
      delete options.storeId;
      expect((await createV2Client(options).getIdentityVerification(id)).id).toBe(id);
    });

    it.each([
      ["empty", ""],
      ["a slash", "iv/../login"],
      ["a parent segment", ".."],
      ["a control character", "iv\n"],
    ])("refuses an id with %s without calling PortOne", async (_, id) => {
      const { client, events } = observed(target.v2Options());
      expect(await rejectionOf(client.getIdentityVerification(id))).toBeInstanceOf(RequestError);
      expect(events).toEqual([]);
    });

    it("encodes an id with reserved characters as one segment", async () => {
      const id = create({ identityVerificationId: "iv 1?x=#y" });
      expect((await observed(target.v2Options()).client.getIdentityVerification(id)).id).toBe(id);
    });
  });

  describe("faults", () => {
    it("succeeds on the third attempt after two 503 answers", async () => {
      const id = create({ identityVerificationId: "iv-1" });
      const { client, events } = observed(target.v2Options());
      target.emulator.setFault({ route: "getIdentityVerification", kind: "status", status: 503, times: 2 });
      expect((await client.getIdentityVerification(id)).id).toBe(id);
      expect(routesOf(events)).toEqual([
        "getIdentityVerification:503",
        "getIdentityVerification:503",
        "getIdentityVerification:200",
      ]);
      expect(events.filter((event) => event.type === "retry")).toHaveLength(2);
    });

    it("gives up with unavailable after retries+1 attempts, carrying PortOne's type", async () => {
      target.emulator.setFault({ route: "getIdentityVerification", kind: "status", status: 503 });
      const error = await upstreamErrorOf(
        observed(target.v2Options()).client.getIdentityVerification("iv-1"),
      );
      expect(error).toMatchObject({ code: "unavailable", status: 503, attempts: 3, apiCode: "UNKNOWN" });
      expect(requests().getIdentityVerification).toBe(3);
    });

    it("fails a hung upstream with timeout within attempts × timeoutMs", async () => {
      const timeoutMs = 150;
      target.emulator.setFault({ route: "getIdentityVerification", kind: "latency", latencyMs: 10_000 });
      const started = performance.now();
      const error = await upstreamErrorOf(
        observed(target.v2Options({ timeoutMs })).client.getIdentityVerification("iv-1"),
      );
      const elapsed = performance.now() - started;
      expect(error).toMatchObject({ code: "timeout", attempts: 3 });
      expect(elapsed).toBeGreaterThanOrEqual(3 * timeoutMs - 10);
      expect(elapsed).toBeLessThan(3 * timeoutMs + 1_000);
    });

    it.each(["malformed", "wrong_types", "api_error"] as const)(
      "maps a %s body to invalid_response without retrying or leaking body values",
      async (kind) => {
        target.emulator.setFault({ route: "getIdentityVerification", kind, times: 1 });
        const error = await upstreamErrorOf(
          observed(target.v2Options()).client.getIdentityVerification("iv-1"),
        );
        expect(error).toMatchObject({ code: "invalid_response", status: 200, attempts: 1 });
        expect(printed(error)).not.toContain("1000000001");
      },
    );

    it("answers unavailable when every attempt is dropped, and recovers from one drop", async () => {
      const id = create({ identityVerificationId: "iv-1" });
      const { client } = observed(target.v2Options());
      target.emulator.setFault({ route: "getIdentityVerification", kind: "drop", times: 3 });
      expect(await upstreamErrorOf(client.getIdentityVerification(id))).toMatchObject({
        code: "unavailable",
        attempts: 3,
        status: undefined,
      });
      target.emulator.setFault({ route: "getIdentityVerification", kind: "drop", times: 1 });
      expect((await client.getIdentityVerification(id)).id).toBe(id);
    });

    it("never retries a send, confirm or resend (not idempotent)", async () => {
      const { client } = observed(target.v2Options());
      await client.sendIdentityVerification("iv-otp", makeSendInput());
      for (const route of ["confirmIdentityVerification", "resendIdentityVerification"] as const)
        target.emulator.setFault({ route, kind: "status", status: 503, times: 1 });
      expect((await upstreamErrorOf(client.resendIdentityVerification("iv-otp"))).code).toBe("unavailable");
      expect(
        (await upstreamErrorOf(client.confirmIdentityVerification("iv-otp", EMULATOR_OTP_CODE))).code,
      ).toBe("unavailable");
      expect(requests()).toMatchObject({ confirmIdentityVerification: 1, resendIdentityVerification: 1 });
    });
  });

  describe("token auth", () => {
    it("logs in once for many concurrent lookups and sends Bearer tokens", async () => {
      const id = create({ identityVerificationId: "iv-1" });
      const { client, events } = observed(target.v2Options({ auth: "token" }));
      await Promise.all(Array.from({ length: 50 }, () => client.getIdentityVerification(id)));
      expect(requests()).toMatchObject({ loginApiSecret: 1, getIdentityVerification: 50 });
      expect(refreshes(events)).toEqual(["cold"]);
    });

    it("renews through /token/refresh before the 30 minutes run out, with no 401", async () => {
      const id = create({ identityVerificationId: "iv-1" });
      const { client, events } = observed(target.v2Options({ auth: "token" }));
      await client.getIdentityVerification(id);
      target.emulator.clock.advance(29.5 * MINUTE);
      await client.getIdentityVerification(id);
      target.emulator.clock.advance(29.5 * MINUTE);
      await client.getIdentityVerification(id);
      expect(requests()).toMatchObject({ loginApiSecret: 1, refreshToken: 2 });
      expect(routesOf(events)).not.toContain("getIdentityVerification:401");
    });

    it("after a revocation: one 401, a refused refresh, a fresh login, then success", async () => {
      const id = create({ identityVerificationId: "iv-1" });
      const { client, events } = observed(target.v2Options({ auth: "token" }));
      await client.getIdentityVerification(id);
      target.emulator.revokeTokens();
      expect((await client.getIdentityVerification(id)).id).toBe(id);
      expect(routesOf(events)).toEqual([
        "loginApiSecret:200",
        "getIdentityVerification:200",
        "getIdentityVerification:401",
        "refreshToken:401",
        "loginApiSecret:200",
        "getIdentityVerification:200",
      ]);
      expect(refreshes(events)).toEqual(["cold", "unauthorized"]);
    });

    it("answers unauthorized after one login for a wrong secret", async () => {
      const { client, events } = observed(target.v2Options({ auth: "token", apiSecret: "certgate_wrong" }));
      expect((await upstreamErrorOf(client.getIdentityVerification("iv-1"))).code).toBe("unauthorized");
      expect(routesOf(events)).toEqual(["loginApiSecret:401"]);
    });

    it("retries a login answered 503", async () => {
      const id = create({ identityVerificationId: "iv-1" });
      target.emulator.setFault({ route: "loginApiSecret", kind: "status", status: 503, times: 2 });
      expect(
        (await observed(target.v2Options({ auth: "token" })).client.getIdentityVerification(id)).id,
      ).toBe(id);
      expect(requests().loginApiSecret).toBe(3);
    });
  });

  describe("OTP flow", () => {
    it("sends, resends and confirms: the confirmation is the VERIFIED record", async () => {
      const { client } = observed(target.v2Options());
      await client.sendIdentityVerification("iv-otp", makeSendInput());
      expect((await client.getIdentityVerification("iv-otp")).status).toBe("READY");
      await client.resendIdentityVerification("iv-otp");
      const confirmed = await client.confirmIdentityVerification("iv-otp", EMULATOR_OTP_CODE);
      expect(confirmed).toMatchObject({
        status: "VERIFIED",
        verifiedCustomer: { name: "김테스트", operator: "LGU", birthDate: "1990-01-01" },
      });
      expect(await client.getIdentityVerification("iv-otp")).toEqual(confirmed);
    });

    it.each([
      ["a wrong code", "000000", "bad_request", "INVALID_REQUEST"],
      ["a second confirmation", EMULATOR_OTP_CODE, "api_error", "IDENTITY_VERIFICATION_ALREADY_VERIFIED"],
    ] as const)("maps %s to %s", async (label, otp, code, type) => {
      const { client } = observed(target.v2Options());
      await client.sendIdentityVerification("iv-otp", makeSendInput());
      if (label === "a second confirmation") await client.confirmIdentityVerification("iv-otp", otp);
      expect(await upstreamErrorOf(client.confirmIdentityVerification("iv-otp", otp))).toMatchObject({
        code,
        apiCode: type,
      });
    });

    it("refuses a bad send input before calling PortOne, naming fields but not values", async () => {
      const { client, events } = observed(target.v2Options());
      const input = makeSendInput({ customer: { ...makeSendInput().customer, phoneNumber: "010abc00001" } });
      const error = await rejectionOf(client.sendIdentityVerification("iv-otp", input));
      expect(error).toBeInstanceOf(RequestError);
      expect(printed(error)).toContain("customer.phoneNumber");
      expect(printed(error)).not.toMatch(/010abc|김테스트/);
      expect(events).toEqual([]);
    });
  });

  describe("secrets", () => {
    it.each(["secret", "token"] as const)(
      "never shows the secret or tokens in errors, events, inspect() or JSON (%s mode)",
      async (auth) => {
        const options = target.v2Options({ auth });
        const { client, events } = observed(options);
        const id = create({ identityVerificationId: "iv-1" });
        await client.getIdentityVerification(id);
        const notFound = await rejectionOf(client.getIdentityVerification("iv-unknown"));
        const refused = await rejectionOf(
          createV2Client({ ...options, apiSecret: `${options.apiSecret}_wrong` }).getIdentityVerification(id),
        );
        const surfaces = [notFound, refused, client, events].map(printed).join("\n");
        expect(surfaces.includes(options.apiSecret), "a secret is visible").toBe(false);
        expect(surfaces.includes("emulator-v2-access."), "a token is visible").toBe(false);
        expect(surfaces.includes("emulator-v2-refresh."), "a token is visible").toBe(false);
        expect(JSON.stringify(client)).toBe("{}");
      },
    );
  });
});

describe("V2 client configuration", () => {
  it.each([
    ["apiSecret", { apiSecret: "" }],
    ["apiSecret", { apiSecret: "has space" }],
    ["apiSecret", { apiSecret: "line\r\nbreak" }],
    ["storeId", { apiSecret: "s", storeId: "" }],
    ["timeoutMs", { apiSecret: "s", timeoutMs: 0 }],
    ["retries", { apiSecret: "s", retries: -1 }],
  ])("refuses a bad %s with a ConfigError naming it, not echoing it", (variable, options) => {
    let thrown: unknown;
    try {
      createV2Client(options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(thrown).toMatchObject({ variable });
    expect(printed(thrown)).not.toContain("has space");
  });

  it("defaults to PortOne's production API", () => {
    expect(V2_DEFAULT_BASE_URL).toBe("https://api.portone.io");
  });
});

describe("createPortOneClients", () => {
  it("builds both clients on shared settings, reaching one emulator", async () => {
    const target = await startV2Target("in-process");
    try {
      const impUid = target.certification();
      const id = target.emulator.createIdentityVerification({ identityVerificationId: "iv-1" }).id;
      const events: ClientEvent[] = [];
      const v2Options = target.v2Options();
      const { v1, v2 } = createPortOneClients({
        fetch: target.emulator.fetch,
        now: () => target.emulator.clock.now(),
        timeoutMs: 500,
        onEvent: (event) => events.push(event),
        v1: { apiKey: TEST_MERCHANT.impKey, apiSecret: TEST_MERCHANT.impSecret, baseUrl: target.baseUrl },
        v2: { apiSecret: v2Options.apiSecret, baseUrl: target.baseUrl },
      });
      expect((await v1.getCertification(impUid)).imp_uid).toBe(impUid);
      expect((await v2.getIdentityVerification(id)).id).toBe(id);
      expect(routesOf(events)).toEqual([
        "getToken:200",
        "getCertification:200",
        "getIdentityVerification:200",
      ]);
    } finally {
      await target.close();
    }
  });

  it("gives only the clients asked for, and refuses none", () => {
    const only = createPortOneClients({ v2: { apiSecret: "certgate_test_v2_secret" } });
    expect(only.v1).toBeUndefined();
    expect(typeof only.v2.getIdentityVerification).toBe("function");
    expect(() => createPortOneClients({})).toThrow(ConfigError);
  });
});
