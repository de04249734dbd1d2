/**
 * The library's factories refuse options of the wrong kind, as they refuse unknown ones
 * (option-keys.test.ts): a JavaScript caller, or `process.env` values passed through `as`, could hand
 * over what no type allows, and each of these was taken and failed open — a return-origin string
 * matched as a substring (an open redirect), `sandbox: "false"` served the keyless sandbox route,
 * `deleteUpstreamAfterCompletion: "true"` left PortOne's copy, a freshness window of 1e15 s verified
 * a decade-old record. A logger that throws no longer decides an answer either.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmulator, serveEmulator, TEST_MERCHANT } from "../../src/emulator/index.js";
import {
  createHttpApp,
  createKeyring,
  createRecoveryJob,
  createV1Client,
  createVerificationService,
  createWebhookDispatcher,
  type HttpAppOptions,
  openStore,
  RequestError,
  type Store,
  toErrorResponse,
  type VerificationService,
} from "../../src/index.js";
import { refusal } from "./refusal.js";

const API_KEY = "option_values_api_key_0001";
const silent = { info() {}, warn() {}, error() {} };
const emulator = createEmulator();
let emulatorServer: Awaited<ReturnType<typeof serveEmulator>>;
let store: Store;
let service: VerificationService;
const dir = mkdtempSync(join(tmpdir(), "certgate-option-values-"));

beforeAll(async () => {
  emulatorServer = await serveEmulator(emulator, { hostname: "127.0.0.1", port: 0 });
  store = await openStore({
    databaseUrl: join(dir, "certgate.db"),
    keyring: createKeyring({ secret: "option-values-secret-00000000000000000" }),
  });
  service = createVerificationService({ store, v1: v1Client(), now: () => new Date(emulator.clock.now()) });
});
afterAll(async () => {
  await store?.close();
  await emulatorServer?.close();
  rmSync(dir, { recursive: true, force: true });
});

function v1Client() {
  return createV1Client({
    apiKey: TEST_MERCHANT.impKey,
    apiSecret: TEST_MERCHANT.impSecret,
    baseUrl: emulatorServer.url,
    now: () => emulator.clock.now(),
  });
}

const appOptions = (extra: Record<string, unknown> = {}): HttpAppOptions =>
  ({
    service,
    apiKeys: [API_KEY],
    returnOrigins: ["https://shop.example.com"],
    sandbox: false,
    sdk: { impCode: TEST_MERCHANT.impCode },
    logger: silent,
    ...extra,
  }) as HttpAppOptions;

describe("createHttpApp refuses options of the wrong kind, naming them", () => {
  it.each<[string, string, Record<string, unknown>]>([
    // The variable without `.split(",")`: `"…".includes(origin)` allowed https://shop.example.co.
    ["return origins as one string", "returnOrigins", { returnOrigins: "https://shop.example.com" }],
    ["a return origin with a path", "returnOrigins", { returnOrigins: ["https://shop.example.com/app"] }],
    [
      "a return origin with a trailing slash",
      "returnOrigins",
      { returnOrigins: ["https://shop.example.com/"] },
    ],
    ["a return origin that is no http(s) URL", "returnOrigins", { returnOrigins: ["javascript:alert(1)"] }],
    ['sandbox as the string "false"', "sandbox", { sandbox: "false" }],
    ["no sandbox", "sandbox", { sandbox: undefined }],
    ["an API key of one character", "apiKeys", { apiKeys: ["a"] }],
    // Accepted, and never authenticated: a header arrives as Latin-1; `Bearer <key>` ends at a space.
    ["an API key outside ASCII", "apiKeys", { apiKeys: ["ключключключключключ"] }],
    ["an API key with a space", "apiKeys", { apiKeys: ["merchant backend key 0001"] }],
    ["API keys as one string", "apiKeys", { apiKeys: API_KEY }],
    ["no service", "service", { service: undefined }],
    ["no V1 merchant code for a V1 service", "sdk.impCode", { sdk: {} }],
    ["a misspelt SDK key", "sdk.impcode", { sdk: { impCode: TEST_MERCHANT.impCode, impcode: "x" } }],
    ["a V2 SDK block without its store id", "sdk.v2.storeId", { sdk: { impCode: "imp0", v2: {} } }],
    ["a logger without methods", "logger", { logger: {} }],
    ["a readiness probe that is no function", "ready", { ready: true }],
    // Any truthy demo served the keyless POST /demo/verifications outside sandbox mode.
    ['demo as the string "false"', "demo", { demo: "false" }],
    ["demo as true", "demo", { demo: true }],
    ["metrics that cannot render", "metrics", { metrics: true }],
    ["a base path that is no string", "basePath", { basePath: ["/certgate"] }],
    ["an SDK channel key that is no string", "sdk.channelKey", { sdk: { impCode: "imp0", channelKey: 5 } }],
  ])("%s", async (_, option, extra) => {
    const error = await refusal(() => createHttpApp(appOptions(extra)));
    // basePath keeps the name it has always had (withBasePath's check).
    expect(error.variable).toBe(option === "basePath" ? option : `createHttpApp options.${option}`);
    expect(error.code).toBe("invalid_config");
  });

  it("no options at all", async () => {
    const error = await refusal(() => createHttpApp(undefined as never));
    expect(error.variable).toBe("createHttpApp options");
  });

  it("an exact origin list still allows its own origins and nothing that merely contains one", async () => {
    const app = createHttpApp(appOptions());
    const create = (returnUrl: string) =>
      app.fetch(
        new Request("http://certgate.test/api/verifications", {
          method: "POST",
          headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
          body: JSON.stringify({ return_url: returnUrl }),
        }),
      );
    expect((await create("https://shop.example.com/done")).status).toBe(201);
    const lookalike = await create("https://shop.example.co/phish");
    expect(lookalike.status).toBe(400);
    expect(await lookalike.json()).toMatchObject({ error: { code: "return_url_not_allowed" } });
  });
});

describe("createVerificationService refuses options of the wrong kind, naming them", () => {
  it.each<[string, string, Record<string, unknown>]>([
    // `=== true` read the string as off: PortOne kept its copy of the personal data.
    [
      'deleteUpstreamAfterCompletion as the string "true"',
      "deleteUpstreamAfterCompletion",
      {
        deleteUpstreamAfterCompletion: "true",
      },
    ],
    ['emitEvents as the string "no"', "emitEvents", { emitEvents: "no" }],
    ["a V1 client that is none", "v1", { v1: {} }],
    ["a V2 client that is none", "v2", { v2: "x" }],
    ["no store", "store", { store: undefined }],
    ["a logger without methods", "logger", { logger: {} }],
    ["a clock that is no function", "now", { now: "2026-01-01" }],
    ["an id source that is no function", "randomId", { randomId: 5 }],
  ])("%s", async (_, option, extra) => {
    const error = await refusal(() =>
      createVerificationService({ store, v1: v1Client(), ...extra } as never),
    );
    expect(error.variable).toBe(`createVerificationService options.${option}`);
  });

  it("no options at all", async () => {
    const error = await refusal(() => createVerificationService(undefined as never));
    expect(error.variable).toBe("createVerificationService options");
  });
});

describe("the background jobs and openStore refuse options of the wrong kind, naming them", () => {
  const dispatcher = (extra: Record<string, unknown>) => () =>
    createWebhookDispatcher({
      store,
      url: "https://shop.example.com/hooks",
      secret: "whsec_b3B0aW9uLXZhbHVlcy10ZXN0LXNlY3JldA==",
      ...extra,
    } as never);
  it.each<[string, string, () => unknown]>([
    // Every delivery failed as a network error and was retried for ever.
    [
      "a webhook fetch that is no function",
      "createWebhookDispatcher options.fetch",
      dispatcher({ fetch: "x" }),
    ],
    [
      "a webhook store without the outbox",
      "createWebhookDispatcher options.store",
      dispatcher({ store: {} }),
    ],
    ["a webhook logger without warn", "createWebhookDispatcher options.logger", dispatcher({ logger: {} })],
    // fetch refuses a URL with credentials: every delivery failed with no answer, retried for ever.
    ["a webhook URL with credentials", "url", dispatcher({ url: "https://user:pw@shop.example.com/hooks" })],
    [
      "no webhook options",
      "createWebhookDispatcher options",
      () => createWebhookDispatcher(undefined as never),
    ],
    [
      "a recovery service that is none",
      "createRecoveryJob options.service",
      () => createRecoveryJob({ store, service: {} } as never),
    ],
    [
      "a recovery clock that is no function",
      "createRecoveryJob options.now",
      () => createRecoveryJob({ store, service, now: 5 } as never),
    ],
    ["no recovery options", "createRecoveryJob options", () => createRecoveryJob(undefined as never)],
    [
      "a keyring that is none",
      "openStore options.keyring",
      () => openStore({ databaseUrl: join(dir, "never.db"), keyring: {} } as never),
    ],
    [
      "an offload that is no { busy }",
      "openStore options.offload",
      () =>
        openStore({
          databaseUrl: join(dir, "never.db"),
          keyring: createKeyring({ secret: "s".repeat(32) }),
          offload: "yes",
        } as never),
    ],
    ["no openStore options", "openStore options", () => openStore(undefined as never)],
  ])("%s", async (_, variable, run) => {
    expect((await refusal(run)).variable).toBe(variable);
  });
});

describe("a policy from JavaScript has the HTTP API's bounds", () => {
  it.each([
    ["freshnessSeconds", 86_401],
    ["freshnessSeconds", 1e15],
    ["futureToleranceSeconds", 3_601],
    ["futureToleranceSeconds", 1e15],
  ])("%s: %d is refused, as over HTTP", async (field, value) => {
    const created = service.create({ policy: { [field]: value } });
    await expect(created).rejects.toBeInstanceOf(RequestError);
    await expect(created).rejects.toMatchObject({ code: "invalid_request" });
  });

  it("a record a day and a second old is stale under the longest window allowed", async () => {
    const verification = await service.create({ policy: { freshnessSeconds: 86_400 } });
    const { imp_uid } = emulator.createCertification({
      persona: "adult",
      merchant_uid: verification.boundId,
      certified_at: Math.floor(emulator.clock.now() / 1000) - 86_401,
    });
    const outcome = await service.completeV1({ impUid: imp_uid, merchantUid: verification.boundId });
    expect(outcome.verification).toMatchObject({ status: "rejected", reason: "stale_certification" });
  });
});

describe("a logger that throws decides no answer", () => {
  const throwing = {
    info() {
      throw new Error("log transport down");
    },
    warn() {
      throw new Error("log transport down");
    },
    error() {
      throw new Error("log transport down");
    },
  };

  it("the background loops keep running when a run fails and its logger throws: nothing unhandled", async () => {
    // A closed store: every run of both loops fails, and each failure is logged by a throwing logger.
    const closed = await openStore({
      databaseUrl: join(dir, "closed.db"),
      keyring: createKeyring({ secret: "option-values-secret-00000000000000000" }),
    });
    await closed.close();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    const dispatcher = createWebhookDispatcher({
      store: closed,
      url: "https://shop.example.com/hooks",
      secret: "whsec_b3B0aW9uLXZhbHVlcy10ZXN0LXNlY3JldA==",
      logger: throwing,
    });
    const recovery = createRecoveryJob({ store: closed, service, logger: throwing });
    try {
      dispatcher.start(5);
      recovery.start(5);
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Still running: a run asked now fails as the others did, and is answered.
      await expect(dispatcher.runOnce()).rejects.toBeDefined();
    } finally {
      await dispatcher.stop();
      await recovery.stop();
      process.off("unhandledRejection", onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });

  it("an async logger that rejects leaves nothing unhandled; a logger that is no object still maps", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const rejecting = {
        info: () => Promise.reject(new Error("log transport down")),
        warn: () => Promise.reject(new Error("log transport down")),
        error: () => Promise.reject(new Error("log transport down")),
      };
      const loud = createVerificationService({
        store,
        v1: v1Client(),
        logger: rejecting,
        now: () => new Date(emulator.clock.now()),
      });
      const verification = await loud.create({});
      const { imp_uid } = emulator.createCertification({
        persona: "adult",
        merchant_uid: verification.boundId,
      });
      const outcome = await loud.completeV1({ impUid: imp_uid, merchantUid: verification.boundId });
      expect(outcome.verification.status).toBe("verified");
      expect(toErrorResponse(new Error("boom"), { logger: "not a logger" as never })).toMatchObject({
        status: 500,
        body: { error: { code: "internal_error" } },
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });

  it("toErrorResponse still maps the error, and says the logger threw once, not per call", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on("warning", onWarning);
    try {
      for (let i = 0; i < 3; i++) {
        // An unexpected error is logged at error level before it is answered as a 500.
        expect(toErrorResponse(new Error("boom"), { logger: throwing })).toMatchObject({
          status: 500,
          body: { error: { code: "internal_error" } },
        });
      }
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.filter((w) => w.includes("logger's error() threw"))).toHaveLength(1);
  });

  it("the service answers a committed completion; the HTTP app answers 404 and 400 as JSON", async () => {
    const loud = createVerificationService({
      store,
      v1: v1Client(),
      logger: throwing,
      now: () => new Date(emulator.clock.now()),
    });
    const verification = await loud.create({});
    const merchantUid = verification.boundId;
    const { imp_uid } = emulator.createCertification({ persona: "adult", merchant_uid: merchantUid });
    const outcome = await loud.completeV1({ impUid: imp_uid, merchantUid });
    expect(outcome.verification.status).toBe("verified");

    const app = createHttpApp(appOptions({ service: loud, logger: throwing }));
    const get = await app.fetch(
      new Request("http://certgate.test/api/verifications/ver_nope", {
        headers: { authorization: `Bearer ${API_KEY}` },
      }),
    );
    expect(get.status).toBe(404);
    expect(await get.json()).toMatchObject({ error: { code: "not_found" } });
    const bad = await app.fetch(
      new Request("http://certgate.test/certifications", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{bad json",
      }),
    );
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "invalid_json" } });
  });
});
