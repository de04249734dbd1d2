/**
 * The composition root: builds store, upstream client, service and HTTP app from a validated
 * {@link Config}. In sandbox mode an emulator runs in the same process: the client reaches it in
 * process, and its admin API and records are served under `/emulator` for the curl walkthrough.
 */
import { readFileSync } from "node:fs";
import { isIPv6 } from "node:net";
import { join } from "node:path";
import type { Hono } from "hono";
import { type Config, checkConfig } from "./config.js";
import { wholeNumberOption } from "./core/option-values.js";
import type { Store } from "./core/store.js";
import { checkOptionKeys } from "./core/unknown-fields.js";
import { createEmulator, type Emulator, TEST_MERCHANT } from "./emulator/index.js";
import { createHttpApp, type DemoPage, type HttpLogger } from "./http/app.js";
import { requestLoad, storeOffload } from "./http/load.js";
import {
  closeGracefully,
  configureListener,
  createHttpServer,
  SHUTDOWN_GRACE_MS,
} from "./http/node-handler.js";
import { createMetrics } from "./observability/metrics.js";
import { createV1Client, createV2Client, type TransportOptions } from "./portone/index.js";
import { nodeExchange } from "./portone/node-transport.js";
import { setDefaultExchange } from "./portone/transport.js";
import { SANDBOX_SECRET_FILE, sandboxSecret } from "./sandbox-secret.js";
import { createRecoveryJob, type RecoveryJob } from "./service/recovery.js";
import { startRetention } from "./service/retention.js";
import { createVerificationService } from "./service/verifications.js";
import { createWebhookDispatcher } from "./service/webhooks.js";
import { listenFailure, openStoreOrExplain } from "./startup-errors.js";
import { createKeyring } from "./store/crypto.js";
import { packageFile } from "./util/package-files.js";

/** Sandbox-only API key, printed at startup. Production refuses to start without CERTGATE_API_KEYS. */
export const SANDBOX_API_KEY = "sandbox_key_not_for_production";

/** The channel key sandbox mode hands the V2 SDK stand-in when PORTONE_CHANNEL_KEY is not set. */
export const SANDBOX_V2_CHANNEL_KEY = "channel-key-emulator-danal";

/**
 * A started certgate: its app, store and (sandbox) emulator, and how to stop it gracefully.
 *
 * @example
 * import { type Certgate, startCertgate } from "certgate";
 * const certgate: Certgate = await startCertgate(config, { logger });
 * console.log(`certgate on ${certgate.url}`);
 * process.on("SIGTERM", () => void certgate.close());
 */
export interface Certgate {
  app: Hono;
  store: Store;
  emulator: Emulator | undefined;
  /**
   * The expiry sweeper, V2 recovery and owed upstream deletions (service/recovery.ts); its loop runs
   * every `recoveryIntervalMs` unless that is 0. Tests may call `runOnce()` themselves.
   */
  recovery: RecoveryJob;
  /** Base URL once listening. */
  url: string;
  close(): Promise<void>;
}

/**
 * How {@link startCertgate} runs: its logger, whether it listens, an injected clock.
 *
 * @example
 * import { type StartOptions, startCertgate } from "certgate";
 * const options: StartOptions = { logger, listen: false }; // mount certgate.app yourself
 * const certgate = await startCertgate(config, options);
 */
export interface StartOptions {
  logger: HttpLogger;
  /** Listen (default true). Tests may use `app.request` instead. */
  listen?: boolean;
  /** Injected clock (tests). */
  now?: () => Date;
  /** Serve the demo page outside sandbox mode too (CERTGATE_DEMO=true); sandbox mode always does. */
  demo?: boolean;
  /**
   * Tests: the PortOne clients' clock (unix ms), per-attempt timeout and retry schedule, for both
   * APIs; a field left out keeps the client's default.
   */
  upstream?: Pick<TransportOptions, "timeoutMs" | "retries" | "retryBaseDelayMs"> & { now?: () => number };
  /**
   * Run the webhook delivery loop when CERTGATE_WEBHOOK_URL is set (default true). Tests that drive
   * a dispatcher themselves pass false; the events are still written with each outcome.
   */
  deliverWebhooks?: boolean;
  /**
   * How often the expiry sweeper, V2 recovery and owed upstream deletions run, ms; 0 turns the loop
   * off (a caller then runs `recovery.runOnce()` itself). Default the config's `recoveryIntervalMs`
   * (CERTGATE_RECOVERY_INTERVAL_MS, default 5,000).
   */
  recoveryIntervalMs?: number;
  /**
   * How long `close()` lets in-flight requests finish before it closes their connections, ms
   * (default {@link SHUTDOWN_GRACE_MS}). Without a bound, one client holding a half-sent request
   * kept a SIGTERM'd process alive: `server.close()` stops Node's request timeouts.
   */
  shutdownGraceMs?: number;
}

const CONFIG_KEYS: Record<keyof Config, true> = {
  mode: true,
  port: true,
  host: true,
  databaseUrl: true,
  secret: true,
  previousSecrets: true,
  apiKeys: true,
  returnOrigins: true,
  publicUrl: true,
  portone: true,
  deleteUpstreamAfterCompletion: true,
  demo: true,
  retentionDays: true,
  recoveryIntervalMs: true,
  webhookUrl: true,
  webhookSecret: true,
  dataDir: true,
};
const PORTONE_CONFIG_KEYS: Record<keyof Config["portone"], true> = {
  impCode: true,
  apiKey: true,
  apiSecret: true,
  apiUrl: true,
  v2ApiSecret: true,
  storeId: true,
  v2ApiUrl: true,
  channelKey: true,
};
const START_OPTION_KEYS: Record<keyof StartOptions, true> = {
  logger: true,
  listen: true,
  now: true,
  demo: true,
  upstream: true,
  deliverWebhooks: true,
  recoveryIntervalMs: true,
  shutdownGraceMs: true,
};
const UPSTREAM_OPTION_KEYS: Record<keyof NonNullable<StartOptions["upstream"]>, true> = {
  now: true,
  timeoutMs: true,
  retries: true,
  retryBaseDelayMs: true,
};

/**
 * Opens the store, wires the service and (unless `listen: false`) listens.
 * @throws StartupError naming the variable at fault (DATABASE_URL, PORT, HOST, CERTGATE_DATA_DIR)
 * with the cause in one line, the driver's error as its `cause`.
 *
 * @example
 * import express from "express";
 * import { startCertgate, toNodeHandler } from "certgate";
 * const certgate = await startCertgate(config, { logger, listen: false });
 * const app = express();
 * app.use("/certgate", toNodeHandler(certgate.app));
 */
export async function startCertgate(config: Config, options: StartOptions): Promise<Certgate> {
  checkOptionKeys("config", config, CONFIG_KEYS);
  checkOptionKeys("config.portone", config.portone, PORTONE_CONFIG_KEYS);
  checkOptionKeys("startCertgate options", options, START_OPTION_KEYS);
  checkOptionKeys("startCertgate options.upstream", options.upstream, UPSTREAM_OPTION_KEYS);
  checkConfig(config);
  // Before anything opens: a bad interval found at the recovery job's start would leave the
  // server listening and the store open behind a rejected promise.
  wholeNumberOption("startCertgate options.recoveryIntervalMs", options.recoveryIntervalMs, 0, 3_600_000);
  wholeNumberOption("startCertgate options.shutdownGraceMs", options.shutdownGraceMs, 0, 3_600_000);
  // The service runs on Node: PortOne calls go through node:http's keep-alive agent, not fetch.
  setDefaultExchange(nodeExchange);
  const { logger } = options;
  const sandbox = config.mode === "sandbox";
  const secret = config.secret ?? sandboxSecret(config.dataDir, logger);
  const keyring = createKeyring({ secret, previousSecrets: config.previousSecrets });
  const metrics = createMetrics();
  // The listening server's load: while requests overlap, a SQLite store runs its writes on a
  // second thread (store/sqlite/offload.ts). A host that mounts `app` itself serves
  // nothing through it, and its store stays on its own thread.
  const load = options.listen === false ? undefined : requestLoad();
  const offload = load && storeOffload(load, logger);
  const emulator = sandbox ? createEmulator({ admin: true, realTime: true }) : undefined;
  const v1 = emulator
    ? createV1Client({
        apiKey: TEST_MERCHANT.impKey,
        apiSecret: TEST_MERCHANT.impSecret,
        baseUrl: "http://emulator.sandbox",
        fetch: emulator.fetch,
        onEvent: metrics.onClientEvent,
        ...options.upstream,
      })
    : config.portone.apiKey !== undefined && config.portone.apiSecret !== undefined
      ? createV1Client({
          apiKey: config.portone.apiKey,
          apiSecret: config.portone.apiSecret,
          baseUrl: config.portone.apiUrl,
          onEvent: metrics.onClientEvent,
          ...options.upstream,
        })
      : undefined;
  const impCode = emulator ? TEST_MERCHANT.impCode : (config.portone.impCode ?? "");
  const v2 = emulator
    ? createV2Client({
        apiSecret: TEST_MERCHANT.v2ApiSecret,
        storeId: TEST_MERCHANT.storeId,
        baseUrl: "http://emulator.sandbox",
        fetch: emulator.fetch,
        onEvent: metrics.onClientEvent,
        ...options.upstream,
      })
    : config.portone.v2ApiSecret !== undefined
      ? createV2Client({
          apiSecret: config.portone.v2ApiSecret,
          ...(config.portone.storeId === undefined ? {} : { storeId: config.portone.storeId }),
          baseUrl: config.portone.v2ApiUrl,
          onEvent: metrics.onClientEvent,
          ...options.upstream,
        })
      : undefined;
  const storeId = emulator ? TEST_MERCHANT.storeId : config.portone.storeId;
  // Opened once the clients are made: a client's ConfigError (`upstream: { retries: 11 }`) then
  // leaves no database open behind a rejected start.
  const store = metrics.instrumentStore(
    await openStoreOrExplain(config.databaseUrl, keyring, offload, {
      checkKeys: true,
      sandboxSecretFile: config.secret === undefined ? join(config.dataDir, SANDBOX_SECRET_FILE) : undefined,
    }),
  );

  // Listen before wiring the app: with PORT=0 only the bound port tells the return origins and
  // m_redirect_url where the service really is.
  let app: Hono | undefined;
  const server =
    options.listen === false
      ? undefined
      : createHttpServer((request, env) => {
          const serving = app;
          if (!serving) return new Response(null, { status: 503 });
          return load ? load.track(async () => serving.fetch(request, env)) : serving.fetch(request, env);
        }, config.host).listen(config.port, config.host);
  let port = config.port;
  if (server) {
    configureListener(server);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("listening", resolve);
        server.once("error", reject);
      });
    } catch (error) {
      await store.close();
      throw listenFailure(error, config.host, config.port);
    }
    const address = server.address();
    port = typeof address === "object" && address ? address.port : config.port;
  }

  const publicUrl = config.publicUrl ?? `http://localhost:${port}`;
  const url = server ? listenUrl(config.host, port) : publicUrl;
  // Wired before any background loop starts; a wiring failure (a ConfigError, a missing web/ file)
  // closes what was opened — the listening socket, the database — instead of leaving them, and
  // loops, running behind a rejected start.
  let service: ReturnType<typeof createVerificationService>;
  try {
    service = createVerificationService({
      store,
      v1,
      v2,
      deleteUpstreamAfterCompletion: config.deleteUpstreamAfterCompletion,
      logger,
      emitEvents: config.webhookUrl !== undefined,
      ...(options.now ? { now: options.now } : {}),
    });
    const demo = sandbox || options.demo === true;
    app = createHttpApp({
      service,
      apiKeys: config.apiKeys.length > 0 ? config.apiKeys : sandbox ? [SANDBOX_API_KEY] : [],
      returnOrigins:
        config.returnOrigins.length > 0
          ? config.returnOrigins
          : sandbox
            ? sandboxOrigins([publicUrl, `http://localhost:${port}`, `http://127.0.0.1:${port}`, url])
            : [],
      sandbox,
      sdk: {
        impCode,
        channelKey: config.portone.channelKey,
        redirectUrl: `${publicUrl}/certifications/redirect`,
        v2:
          v2 && storeId !== undefined
            ? {
                storeId,
                channelKey: config.portone.channelKey ?? (sandbox ? SANDBOX_V2_CHANNEL_KEY : undefined),
                redirectUrl: `${publicUrl}/identity-verifications/redirect`,
              }
            : undefined,
      },
      logger,
      ready: () => store.ping(),
      metrics,
      ...(demo ? { demo: loadDemoPage(sandbox) } : {}),
    });
    if (emulator) app.route("/emulator", emulator.app);
  } catch (error) {
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await store.close();
    throw error;
  }

  const webhooks =
    config.webhookUrl !== undefined && config.webhookSecret !== undefined
      ? createWebhookDispatcher({ store, url: config.webhookUrl, secret: config.webhookSecret, logger })
      : undefined;
  if (options.deliverWebhooks !== false) webhooks?.start(1_000);
  const recovery = createRecoveryJob({
    store,
    service,
    logger,
    ...(options.now ? { now: options.now } : {}),
  });
  const recoveryIntervalMs = options.recoveryIntervalMs ?? config.recoveryIntervalMs ?? 5_000;
  if (recoveryIntervalMs > 0) recovery.start(recoveryIntervalMs);
  const retention = startRetention(store, config.retentionDays, logger, {
    emitEvents: config.webhookUrl !== undefined,
  });

  if (!server) {
    return {
      app,
      store,
      emulator,
      recovery,
      url: publicUrl,
      async close() {
        retention.stop();
        await recovery.stop();
        await webhooks?.stop();
        await store.close();
      },
    };
  }
  return {
    app,
    store,
    emulator,
    recovery,
    url,
    /**
     * Graceful: stop accepting, let in-flight requests (a completion is one transaction) finish,
     * stop the webhook loop after its batch, then close the database.
     */
    async close() {
      if (server) await closeGracefully(server, options.shutdownGraceMs ?? SHUTDOWN_GRACE_MS);
      retention.stop();
      await recovery.stop();
      await webhooks?.stop();
      await store.close();
    },
  };
}

/**
 * The URL of a service listening on `host`:`port`, as a browser or curl takes it: a wildcard
 * address (0.0.0.0, ::) as localhost, an IPv6 literal in brackets (`http://[::1]:3000`, never
 * `http://::1:3000`), a name or IPv4 address as it is.
 */
export function listenUrl(host: string, port: number): string {
  if (host === "0.0.0.0" || host === "::") return `http://localhost:${port}`;
  return `http://${isIPv6(host) ? `[${host}]` : host}:${port}`;
}

/** The origins of `urls` (normalised, as return URLs are compared), once each; any that does not parse left out. */
function sandboxOrigins(urls: string[]): string[] {
  return [...new Set(urls.filter((url) => URL.canParse(url)).map((url) => new URL(url).origin))];
}

/** PortOne's browser SDK, loaded by the demo page outside sandbox mode. */
export const PORTONE_V1_SDK_URL = "https://cdn.iamport.kr/v1/iamport.js";

/**
 * The demo page of web/ (shipped beside dist/ in the package): in sandbox mode it loads the
 * emulator's SDK stand-in and creates verifications through `POST /sandbox/verifications`;
 * otherwise PortOne's real SDK and `POST /demo/verifications`.
 */
function loadDemoPage(sandbox: boolean): DemoPage {
  const read = (name: string) => readFileSync(packageFile(`web/${name}`), "utf8");
  const html = read("index.html")
    .replaceAll("__CERTGATE_SDK_URL__", sandbox ? "/emulator/v1/iamport.js" : PORTONE_V1_SDK_URL)
    .replaceAll("__CERTGATE_CREATE_URL__", sandbox ? "/sandbox/verifications" : "/demo/verifications")
    .replaceAll("__CERTGATE_MODE__", sandbox ? "sandbox" : "production");
  return {
    html,
    assets: new Map([
      ["demo.js", { type: "text/javascript; charset=utf-8", body: read("demo.js") }],
      ["demo.css", { type: "text/css; charset=utf-8", body: read("demo.css") }],
    ]),
  };
}
