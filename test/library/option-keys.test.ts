/**
 * Every factory of the library refuses options it does not know, as the HTTP API and the service
 * refuse unknown fields: `deleteUpstreamAfterCompletoin: true` or `lockTimeout: 1000` left silently
 * unread would keep the default in force (PortOne's copy kept, a lock wait unbounded). Each refusal
 * is a ConfigError naming the key, before anything is opened; the store timeouts are also refused
 * where they would remove their bound (0) or cannot be one (NaN, a fraction).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Config } from "../../src/config.js";
import type { Store } from "../../src/core/store.js";
import { createEmulator } from "../../src/emulator/index.js";
import { createHttpApp } from "../../src/http/app.js";
import {
  createKeyring,
  createPortOneClients,
  createRecoveryJob,
  createTokenManager,
  createV1Client,
  createV2Client,
  createVerificationService,
  createWebhookDispatcher,
  // From the package's entry, as a merchant imports them (the README names their options).
  openPostgresStore,
  openSqliteStore,
  openStore,
  startCertgate,
} from "../../src/index.js";
import { refusal } from "./refusal.js";

const keyring = createKeyring({ secret: "option-keys-secret-0000000000000000000" });
const dir = mkdtempSync(join(tmpdir(), "certgate-option-keys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Nothing is touched: a store a factory would reach fails the test if any of it is called. (The
 * factories may look at its methods, to refuse a store that has none: createVerificationService.)
 */
const untouchable = new Proxy({} as Store, {
  get: (_, name) => {
    if (name === "then") return undefined;
    return () => {
      throw new Error(`store.${String(name)} used`);
    };
  },
});
const v1 = { apiKey: "key_0000", apiSecret: "secret_0000" };
const v2 = { apiSecret: "v2_secret_0000" };
const service = () => createVerificationService({ store: untouchable, v1: createV1Client(v1) });
const logger = { info() {}, warn() {}, error() {} };

describe("a factory refuses an option it does not know, naming it", () => {
  it.each<[string, string, () => unknown]>([
    [
      "createVerificationService",
      "createVerificationService options.deleteUpstreamAfterCompletoin",
      () =>
        createVerificationService({
          store: untouchable,
          v1: createV1Client(v1),
          deleteUpstreamAfterCompletoin: true,
        } as never),
    ],
    [
      "createRecoveryJob",
      "createRecoveryJob options.intervalMs",
      () => createRecoveryJob({ store: untouchable, service: service(), intervalMs: 5 } as never),
    ],
    [
      "createWebhookDispatcher",
      "createWebhookDispatcher options.timeout",
      () =>
        createWebhookDispatcher({
          store: untouchable,
          url: "https://shop.example/hooks",
          secret: "whsec_b3B0aW9uLWtleXMtdGVzdC1zZWNyZXQ=",
          timeout: 1,
        } as never),
    ],
    [
      "createHttpApp",
      "createHttpApp options.apikeys",
      () =>
        createHttpApp({
          service: service(),
          apiKeys: ["k".repeat(32)],
          returnOrigins: [],
          sandbox: false,
          sdk: { impCode: undefined, v2: undefined },
          logger,
          apikeys: [],
        } as never),
    ],
    [
      "createKeyring",
      "createKeyring options.previousSecret",
      () => createKeyring({ secret: "s".repeat(32), previousSecret: "o".repeat(32) } as never),
    ],
    [
      "createV1Client",
      "createV1Client options.timeout",
      () => createV1Client({ ...v1, timeout: 100 } as never),
    ],
    [
      "createV2Client",
      "createV2Client options.storeID",
      () => createV2Client({ ...v2, storeID: "store-x" } as never),
    ],
    [
      "createPortOneClients",
      "createPortOneClients options.v3",
      () => createPortOneClients({ v1, v3: {} } as never),
    ],
    [
      "createPortOneClients (a client's own)",
      "createV1Client options.apiKye",
      () => createPortOneClients({ v1: { ...v1, apiKye: "x" } } as never),
    ],
    [
      "createTokenManager",
      "createTokenManager options.margin",
      () =>
        createTokenManager({ fetchToken: async () => ({ token: "t", expiresAt: 0 }), margin: 1 } as never),
    ],
    ["createEmulator", "createEmulator options.realtime", () => createEmulator({ realtime: true } as never)],
  ])("%s", async (_, variable, run) => {
    const error = await refusal(run);
    expect(error.variable).toBe(variable);
    expect(error.code).toBe("invalid_config");
    expect(error.message).toContain("unknown option");
  });

  it("names every unknown key in the message, quoted and bounded, and the known ones", async () => {
    const error = await refusal(() =>
      createKeyring({ secret: "s".repeat(32), a: 1, b: 2, "x\ny": 3, d: 4 } as never),
    );
    expect(error.variable).toBe("createKeyring options.a");
    expect(error.message).toContain(
      'unknown options "a", "b", "x\\ny" and 1 more (known: secret, previousSecrets)',
    );
  });

  it("accepts the options it knows, an explicit undefined included", () => {
    expect(() => createV1Client({ ...v1, timeoutMs: 100, tier: undefined })).not.toThrow();
    expect(() => createEmulator({ admin: true })).not.toThrow();
  });
});

describe("the background jobs refuse values that cannot work, naming the option", () => {
  const dispatcher = {
    store: untouchable,
    url: "https://shop.example/hooks",
    secret: "whsec_MDEyMzQ1Njc4OWFiY2RlZg==",
  };
  it.each<[string, string, () => unknown]>([
    ["an empty secret", "secret", () => createWebhookDispatcher({ ...dispatcher, secret: "" })],
    [
      "a whsec_ secret that is not base64",
      "secret",
      () => createWebhookDispatcher({ ...dispatcher, secret: "whsec_not base64!" }),
    ],
    ["a URL that is not one", "url", () => createWebhookDispatcher({ ...dispatcher, url: "not a url" })],
    [
      "a URL that is not http(s)",
      "url",
      () => createWebhookDispatcher({ ...dispatcher, url: "ftp://shop.example/" }),
    ],
    ["batchSize 0", "batchSize", () => createWebhookDispatcher({ ...dispatcher, batchSize: 0 })],
    ["timeoutMs NaN", "timeoutMs", () => createWebhookDispatcher({ ...dispatcher, timeoutMs: Number.NaN })],
    [
      "maxDelayMs below baseDelayMs",
      "maxDelayMs",
      () => createWebhookDispatcher({ ...dispatcher, baseDelayMs: 10, maxDelayMs: 5 }),
    ],
    [
      "the dispatcher started every NaN ms",
      "intervalMs",
      () => createWebhookDispatcher(dispatcher).start(Number.NaN),
    ],
    [
      "recovery batchSize 0.5",
      "batchSize",
      () => createRecoveryJob({ store: untouchable, service: service(), batchSize: 0.5 }),
    ],
    [
      "recovery sweepSize -1",
      "sweepSize",
      () => createRecoveryJob({ store: untouchable, service: service(), sweepSize: -1 }),
    ],
    [
      "recovery leaseMs 0",
      "leaseMs",
      () => createRecoveryJob({ store: untouchable, service: service(), leaseMs: 0 }),
    ],
    [
      "recovery started every -5 ms",
      "intervalMs",
      () => createRecoveryJob({ store: untouchable, service: service() }).start(-5),
    ],
  ])("%s", async (_name, variable, run) => {
    expect((await refusal(run)).variable).toBe(variable);
  });

  it("accepts working values, and starts and stops without touching the store before its first tick", async () => {
    const job = createWebhookDispatcher({
      ...dispatcher,
      batchSize: 1,
      timeoutMs: 1,
      baseDelayMs: 1,
      maxDelayMs: 1,
    });
    job.start(60_000);
    await job.stop();
  });
});

describe("opening a store refuses unknown options and unbounded timeouts before it opens anything", () => {
  it.each<[string, string, (filename: string) => Promise<unknown>]>([
    [
      "openStore",
      "openStore options.busyTimeoutMs",
      (filename) => openStore({ databaseUrl: filename, keyring, busyTimeoutMs: 1 } as never),
    ],
    [
      "openSqliteStore",
      "openSqliteStore options.busyTimeout",
      (filename) => openSqliteStore({ filename, keyring, busyTimeout: 1 } as never),
    ],
    [
      "openSqliteStore, busyTimeoutMs NaN",
      "busyTimeoutMs",
      (filename) => openSqliteStore({ filename, keyring, busyTimeoutMs: Number.NaN }),
    ],
    [
      "openSqliteStore, busyTimeoutMs 1.5",
      "busyTimeoutMs",
      (filename) => openSqliteStore({ filename, keyring, busyTimeoutMs: 1.5 }),
    ],
  ])("%s", async (name, variable, open) => {
    const filename = join(dir, `${name.replaceAll(/\W+/g, "-")}.db`);
    const error = await refusal(() => open(filename));
    expect(error.variable).toBe(variable);
    expect(existsSync(filename)).toBe(false);
  });

  // Each of these used to be taken as a relative SQLite path: a private file per instance, where
  // one account per person and single use hold only within one file.
  it.each([
    "mysql://db.internal/certgate",
    "postgres:/db.internal/certgate",
    "sqlite://certgate.db",
    "file:certgate.db",
  ])("openStore refuses %s, creating nothing", async (databaseUrl) => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const error = await refusal(() => openStore({ databaseUrl, keyring }));
      expect(error.variable).toBe("databaseUrl");
      expect(error.message).toMatch(
        /postgres:\/\/ (.*URL, or a SQLite file as a plain path|URL but is not one)/,
      );
      expect(existsSync(join(dir, databaseUrl.split(/[:/]/)[0] ?? "none"))).toBe(false);
      expect(existsSync(join(dir, databaseUrl))).toBe(false);
    } finally {
      process.chdir(cwd);
    }
  });

  it("SQLite takes 0 as busyTimeoutMs: fail at once on another connection's lock", async () => {
    const store = await openSqliteStore({ filename: join(dir, "zero.db"), keyring, busyTimeoutMs: 0 });
    await store.close();
  });

  // A closed port: had the refusal come after connecting, the error would be a connection failure.
  const unreachable = "postgres://nobody@127.0.0.1:1/none";
  it.each<[string, string, Record<string, unknown>]>([
    ["lockTimeoutMs 0 (PostgreSQL's no bound)", "lockTimeoutMs", { lockTimeoutMs: 0 }],
    ["queryTimeoutMs 0 (pg's no bound)", "queryTimeoutMs", { queryTimeoutMs: 0 }],
    ["lockTimeoutMs Infinity", "lockTimeoutMs", { lockTimeoutMs: Number.POSITIVE_INFINITY }],
    ["max 0", "max", { max: 0 }],
    ["a misspelt lockTimeout", "openPostgresStore options.lockTimeout", { lockTimeout: 1000 }],
  ])("openPostgresStore: %s", async (_, variable, extra) => {
    const error = await refusal(() =>
      openPostgresStore({ connectionString: unreachable, keyring, ...extra } as never),
    );
    expect(error.variable).toBe(variable);
  });
});

describe("startCertgate refuses an unknown key of its config and options", () => {
  const config = (extra: Record<string, unknown> = {}, portone: Record<string, unknown> = {}): Config =>
    ({
      mode: "production",
      port: 0,
      host: "127.0.0.1",
      databaseUrl: join(dir, "never-opened.db"),
      secret: "s".repeat(32),
      previousSecrets: [],
      apiKeys: ["k".repeat(32)],
      returnOrigins: ["https://shop.example"],
      publicUrl: undefined,
      portone: {
        impCode: "imp00000000",
        apiKey: "key_0000",
        apiSecret: "secret_0000",
        apiUrl: "http://127.0.0.1:1",
        v2ApiSecret: undefined,
        storeId: undefined,
        v2ApiUrl: "http://127.0.0.1:1",
        channelKey: undefined,
        ...portone,
      },
      deleteUpstreamAfterCompletion: false,
      demo: false,
      retentionDays: 30,
      webhookUrl: undefined,
      webhookSecret: undefined,
      dataDir: join(dir, "data"),
      ...extra,
    }) as Config;

  it.each<[string, string, () => Promise<unknown>]>([
    [
      "config",
      "config.deleteUpstream",
      () => startCertgate(config({ deleteUpstream: true }), { logger, listen: false }),
    ],
    [
      "config.portone",
      "config.portone.secret",
      () => startCertgate(config({}, { secret: "x" }), { logger, listen: false }),
    ],
    [
      "options",
      "startCertgate options.recoveryInterval",
      () => startCertgate(config(), { logger, listen: false, recoveryInterval: 0 } as never),
    ],
    [
      "options.upstream",
      "startCertgate options.upstream.timeout",
      () => startCertgate(config(), { logger, listen: false, upstream: { timeout: 5 } } as never),
    ],
    // A client's own check, made before the store opens: it used to leave the database open.
    [
      "options.upstream, a value out of range",
      "retries",
      () => startCertgate(config(), { logger, listen: false, upstream: { retries: 11 } }),
    ],
  ])("%s", async (_, variable, start) => {
    const error = await refusal(start);
    expect(error.variable).toBe(variable);
    expect(existsSync(join(dir, "never-opened.db"))).toBe(false);
  });

  // A config built by hand is checked as loadConfig checks the environment: each of these used to
  // start (a secret generated under dataDir in production, events no dispatcher sent, …).
  it.each<[string, string, Record<string, unknown>, Record<string, unknown>?]>([
    ["production without a secret", "config.secret", { secret: undefined }],
    ["a short secret", "config.secret", { secret: "short" }],
    ["production without API keys", "config.apiKeys", { apiKeys: [] }],
    ["a short API key", "config.apiKeys", { apiKeys: [""] }],
    // Half a V1 set started, then failed to wire the app (sdk.impCode) with the store open.
    [
      "a V1 key and secret without the merchant code, beside a complete V2 set",
      "config.portone.impCode",
      {},
      { impCode: undefined, v2ApiSecret: "v2_secret_0000", storeId: "store-00000000" },
    ],
    ["a PortOne URL with a query", "config.portone.apiUrl", {}, { apiUrl: "https://api.iamport.kr/?x=1" }],
    // The variable without `.split(",")`: a string, whose `includes` matched any part of it.
    ["return origins as one string", "config.returnOrigins", { returnOrigins: "https://shop.example.com" }],
    ["a return origin with a path", "config.returnOrigins", { returnOrigins: ["https://shop.example/app"] }],
    ["production without a complete PortOne set", "config.portone", {}, { apiSecret: undefined }],
    ["a mode that is neither", "config.mode", { mode: "staging" }],
    ["a negative retention", "config.retentionDays", { retentionDays: -5 }],
    ["no retention at all", "config.retentionDays", { retentionDays: undefined }],
    ["no port", "config.port", { port: undefined }],
    ["a NaN retention", "config.retentionDays", { retentionDays: Number.NaN }],
    ["a fractional recovery interval", "config.recoveryIntervalMs", { recoveryIntervalMs: 0.5 }],
    ["a port out of range", "config.port", { port: 70_000 }],
    [
      "deleteUpstreamAfterCompletion as a string",
      "config.deleteUpstreamAfterCompletion",
      { deleteUpstreamAfterCompletion: "false" },
    ],
    ["a webhook URL without a secret", "config.webhookSecret", { webhookUrl: "https://shop.example/hooks" }],
    [
      "a webhook URL that is not one",
      "config.webhookUrl",
      { webhookUrl: "not a url", webhookSecret: "w".repeat(24) },
    ],
    [
      "a webhook URL with credentials (fetch refuses it: every delivery failed)",
      "config.webhookUrl",
      { webhookUrl: "https://user:pw@shop.example/hooks", webhookSecret: "w".repeat(24) },
    ],
    ["an API key outside ASCII (it never authenticated)", "config.apiKeys", { apiKeys: ["ключ".repeat(5)] }],
    [
      "a whsec_ webhook secret that is not base64",
      "config.webhookSecret",
      { webhookSecret: "whsec_not base64!" },
    ],
    ["a MySQL database URL", "config.databaseUrl", { databaseUrl: "mysql://db.internal/certgate" }],
    ["a mistyped PostgreSQL URL", "config.databaseUrl", { databaseUrl: "postgres:/db.internal/certgate" }],
    ["no database URL", "config.databaseUrl", { databaseUrl: undefined }],
    ["a database URL with a leading space", "config.databaseUrl", { databaseUrl: " postgres://db/certgate" }],
    [
      "a postgres URL without its colon",
      "config.databaseUrl",
      { databaseUrl: "postgres//db.internal/certgate" },
    ],
  ])("refuses %s, naming the field, before anything is written", async (_, variable, extra, portone) => {
    const dataDir = join(dir, `data-${variable}-${Object.keys(extra).join("-")}`);
    const error = await refusal(() =>
      startCertgate(config({ ...extra, dataDir }, portone), { logger, listen: false }),
    );
    expect(error.variable).toBe(variable);
    expect(existsSync(join(dir, "never-opened.db"))).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
  });

  it("refuses a recovery interval that is not a whole number of ms before opening anything", async () => {
    const error = await refusal(() =>
      startCertgate(config(), { logger, listen: false, recoveryIntervalMs: 0.5 }),
    );
    expect(error.variable).toBe("startCertgate options.recoveryIntervalMs");
    expect(existsSync(join(dir, "never-opened.db"))).toBe(false);
  });
});
