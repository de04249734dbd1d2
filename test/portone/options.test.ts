/**
 * The PortOne factories fail closed: an option of the wrong type or out of range is a ConfigError
 * naming it when the client is made, never accepted to misbehave on the first call. Each refused
 * value below was once accepted: `retries: 1e9` retried a 503 for ever, `timeoutMs: 3e9` overflowed
 * Node's timer so every call timed out at once, `fetch: "x"` turned every call into a PortOne
 * outage, `createV1Client(null)` and a bad `baseUrl` were bare TypeErrors. The accepted bounds are
 * then exercised against the emulator over a real socket.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, UpstreamError } from "../../src/core/errors.js";
import { MAX_DELAY_MS } from "../../src/core/option-values.js";
import { TEST_MERCHANT } from "../../src/emulator/index.js";
import {
  createPortOneClients,
  createTokenManager,
  createV1Client,
  createV2Client,
} from "../../src/portone/index.js";
import { MAX_RETRIES } from "../../src/portone/options.js";
import { MAX_TOKEN_MARGIN_SECONDS } from "../../src/portone/token-manager.js";
import { type EmulatorTarget, startEmulatorTarget } from "./emulator-target.js";
import { printed, rejectionOf } from "./v1-contract.js";

const v1 = { apiKey: "certgate_test_key", apiSecret: "certgate_test_secret" };
const v2 = { apiSecret: "certgate_test_v2_secret" };

/** The error `run` throws synchronously; fails the test when it returns. */
function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  expect.fail("expected a throw");
}

/** Asserts `run` throws a ConfigError naming `variable` (not a bare TypeError, nothing accepted). */
function expectRefused(run: () => unknown, variable: string): ConfigError {
  const error = thrownBy(run);
  expect(error).toBeInstanceOf(ConfigError);
  expect(error).toMatchObject({ code: "invalid_config", variable });
  return error as ConfigError;
}

/** Wrong values of the transport options both clients share, each with the option it must name. */
const BAD_TRANSPORT: [string, string, Record<string, unknown>][] = [
  ["retries 1e9 (a 503 retried for ever)", "retries", { retries: 1e9 }],
  ["retries one past the cap", "retries", { retries: MAX_RETRIES + 1 }],
  ["retries a fraction", "retries", { retries: 0.5 }],
  ["retries NaN", "retries", { retries: Number.NaN }],
  ["retries as text", "retries", { retries: "2" }],
  ["timeoutMs 3e9 (the timer overflows to 1 ms)", "timeoutMs", { timeoutMs: 3e9 }],
  ["timeoutMs one past the timer limit", "timeoutMs", { timeoutMs: MAX_DELAY_MS + 1 }],
  ["timeoutMs a fraction", "timeoutMs", { timeoutMs: 1.5 }],
  ["timeoutMs Infinity", "timeoutMs", { timeoutMs: Number.POSITIVE_INFINITY }],
  ["retryBaseDelayMs past the timer limit", "retryBaseDelayMs", { retryBaseDelayMs: MAX_DELAY_MS + 1 }],
  ["retryBaseDelayMs negative", "retryBaseDelayMs", { retryBaseDelayMs: -1 }],
  ["tokenMarginSeconds 1e9", "tokenMarginSeconds", { tokenMarginSeconds: 1e9 }],
  [
    "tokenMarginSeconds one past the cap",
    "tokenMarginSeconds",
    { tokenMarginSeconds: MAX_TOKEN_MARGIN_SECONDS + 1 },
  ],
  ["tokenMarginSeconds negative", "tokenMarginSeconds", { tokenMarginSeconds: -1 }],
  ["fetch as text (every call an outage)", "fetch", { fetch: "x" }],
  ["random as a number", "random", { random: 5 }],
  ["sleep as text", "sleep", { sleep: "x" }],
  ["onEvent as an object", "onEvent", { onEvent: {} }],
  ["now as text", "now", { now: "x" }],
  ["baseUrl not a URL", "baseUrl", { baseUrl: "not a url" }],
  ["baseUrl of another scheme", "baseUrl", { baseUrl: "ftp://emulator.local" }],
  ["baseUrl as a number", "baseUrl", { baseUrl: 42 }],
  ["baseUrl with a query", "baseUrl", { baseUrl: "http://emulator.local/?x=1" }],
  ["baseUrl with a fragment", "baseUrl", { baseUrl: "http://emulator.local/#x" }],
  ["baseUrl with credentials", "baseUrl", { baseUrl: "http://user:pass@emulator.local" }],
];

describe.each([
  ["createV1Client", (extra: Record<string, unknown>) => createV1Client({ ...v1, ...extra } as never)],
  ["createV2Client", (extra: Record<string, unknown>) => createV2Client({ ...v2, ...extra } as never)],
  [
    "createPortOneClients",
    // `baseUrl` is each client's own; the others are given once, shared.
    ({ baseUrl, ...shared }: Record<string, unknown>) =>
      createPortOneClients({
        ...shared,
        v1: { ...v1, ...(baseUrl === undefined ? {} : { baseUrl }) },
      } as never),
  ],
])("%s refuses a wrong transport option when called, naming it", (_, make) => {
  it.each(BAD_TRANSPORT)("%s", (_case, variable, extra) => {
    expectRefused(() => make(extra), variable);
  });

  it("accepts each bound itself", () => {
    expect(() =>
      make({
        retries: MAX_RETRIES,
        timeoutMs: MAX_DELAY_MS,
        retryBaseDelayMs: 0,
        tokenMarginSeconds: MAX_TOKEN_MARGIN_SECONDS,
      }),
    ).not.toThrow();
    expect(() => make({ retries: 0, timeoutMs: 1, tokenMarginSeconds: 0, fetch: undefined })).not.toThrow();
  });
});

describe("the factories refuse what is not an options object, or lacks a required option", () => {
  it.each<[string, string, () => unknown]>([
    ["createV1Client()", "createV1Client options", () => (createV1Client as (o?: unknown) => unknown)()],
    ["createV1Client(null)", "createV1Client options", () => createV1Client(null as never)],
    ["createV1Client([])", "createV1Client options", () => createV1Client([] as never)],
    ["createV1Client a string", "createV1Client options", () => createV1Client("key" as never)],
    ["createV2Client(null)", "createV2Client options", () => createV2Client(null as never)],
    ["createV2Client()", "createV2Client options", () => (createV2Client as (o?: unknown) => unknown)()],
    ["createPortOneClients(null)", "createPortOneClients options", () => createPortOneClients(null as never)],
    ["createPortOneClients v1 as text", "v1", () => createPortOneClients({ v1: "x" } as never)],
    ["createPortOneClients v2 as null", "v2", () => createPortOneClients({ v1, v2: null } as never)],
    ["createTokenManager(null)", "createTokenManager options", () => createTokenManager(null as never)],
    ["createTokenManager({})", "fetchToken", () => createTokenManager({} as never)],
    [
      "createTokenManager without now",
      "now",
      () =>
        createTokenManager({
          fetchToken: async () => ({ access_token: "t", now: 0, expired_at: 0 }),
        } as never),
    ],
    [
      "createTokenManager with fetchToken as text",
      "fetchToken",
      () => createTokenManager({ fetchToken: "x", now: Date.now } as never),
    ],
    [
      "createTokenManager with marginSeconds 1e9",
      "marginSeconds",
      () =>
        createTokenManager({
          fetchToken: async () => ({ access_token: "t", now: 0, expired_at: 0 }),
          now: Date.now,
          marginSeconds: 1e9,
        }),
    ],
    [
      "createTokenManager with onEvent as text",
      "onEvent",
      () =>
        createTokenManager({
          fetchToken: async () => ({ access_token: "t", now: 0, expired_at: 0 }),
          now: Date.now,
          onEvent: "x",
        } as never),
    ],
    ["V1 without apiKey", "apiKey", () => createV1Client({ apiSecret: v1.apiSecret } as never)],
    ["V1 apiKey as a number", "apiKey", () => createV1Client({ ...v1, apiKey: 1234 } as never)],
    ["V1 apiSecret as an object", "apiSecret", () => createV1Client({ ...v1, apiSecret: {} } as never)],
    ["V1 tier as a number", "tier", () => createV1Client({ ...v1, tier: 12 } as never)],
    ["V2 without apiSecret", "apiSecret", () => createV2Client({} as never)],
    ["V2 apiSecret as a number", "apiSecret", () => createV2Client({ apiSecret: 1234 } as never)],
    ["V2 storeId null", "storeId", () => createV2Client({ ...v2, storeId: null } as never)],
    ["V2 storeId as a number", "storeId", () => createV2Client({ ...v2, storeId: 7 } as never)],
  ])("%s", (_, variable, run) => {
    expectRefused(run, variable);
  });

  it("never echoes a secret it refuses", () => {
    const error = expectRefused(() => createV1Client({ ...v1, baseUrl: 42 } as never), "baseUrl");
    expect(printed(error)).not.toContain(v1.apiSecret);
  });
});

describe("the accepted bounds, against the emulator over a socket", () => {
  let target: EmulatorTarget;
  beforeEach(async () => {
    target = await startEmulatorTarget("socket");
  });
  afterEach(async () => {
    await target.close();
  });

  it(`gives up a lookup that meets only 503s after 1 + ${MAX_RETRIES} attempts`, async () => {
    const impUid = target.certification();
    const client = createV1Client(target.clientOptions({ retries: MAX_RETRIES, retryBaseDelayMs: 0 }));
    await client.getCertification(impUid); // the token first, so only lookups meet the fault
    target.emulator.setFault({ route: "getCertification", kind: "status", status: 503 });
    const before = target.emulator.stats().requests.getCertification ?? 0;
    const error = await rejectionOf(client.getCertification(impUid));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ code: "unavailable", status: 503, attempts: 1 + MAX_RETRIES });
    expect((target.emulator.stats().requests.getCertification ?? 0) - before).toBe(1 + MAX_RETRIES);
  });

  it("answers with the longest timeout a Node timer holds (it does not fire at once)", async () => {
    const impUid = target.certification();
    const client = createV1Client(target.clientOptions({ timeoutMs: MAX_DELAY_MS, retries: 0 }));
    expect((await client.getCertification(impUid)).imp_uid).toBe(impUid);
  });

  it("reaches a baseUrl given with a trailing slash", async () => {
    const impUid = target.certification();
    const client = createV1Client(target.clientOptions({ baseUrl: `${target.baseUrl}/` }));
    expect((await client.getCertification(impUid)).imp_uid).toBe(impUid);
    const v2Client = createV2Client({
      apiSecret: TEST_MERCHANT.v2ApiSecret,
      baseUrl: `${target.baseUrl}/`,
      now: () => target.emulator.clock.now(),
    });
    const id = target.emulator.createIdentityVerification({ identityVerificationId: "iv-options-1" }).id;
    expect((await v2Client.getIdentityVerification(id)).id).toBe(id);
  });
});
