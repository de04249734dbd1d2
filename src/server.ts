/**
 * The composition root: builds store, upstream client, service and HTTP app from a validated
 * {@link Config}. In sandbox mode an emulator runs in the same process: the client reaches it in
 * process, and its admin API and records are served under `/emulator` for the curl walkthrough.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";
import type { Config } from "./cli/config.js";
import { createEmulator, type Emulator, TEST_MERCHANT } from "./emulator/index.js";
import { createHttpApp, type HttpLogger } from "./http/app.js";
import { createV1Client } from "./portone/index.js";
import { createVerificationService } from "./service/verifications.js";
import { createKeyring, generateSecret } from "./store/crypto.js";
import { openStore } from "./store/index.js";
import type { Store } from "./store/types.js";

/** Sandbox-only API key, printed at startup. Production refuses to start without CERTGATE_API_KEYS. */
export const SANDBOX_API_KEY = "sandbox_key_not_for_production";

export interface Certgate {
  app: Hono;
  store: Store;
  emulator: Emulator | undefined;
  /** Base URL once listening. */
  url: string;
  close(): Promise<void>;
}

export interface StartOptions {
  logger: HttpLogger;
  /** Listen (default true). Tests may use `app.request` instead. */
  listen?: boolean;
  /** Injected clock (tests). */
  now?: () => Date;
}

export async function startCertgate(config: Config, options: StartOptions): Promise<Certgate> {
  const { logger } = options;
  const sandbox = config.mode === "sandbox";
  const secret = config.secret ?? sandboxSecret(config.dataDir, logger);
  const keyring = createKeyring({ secret, previousSecrets: config.previousSecrets });
  if (!config.databaseUrl.startsWith("postgres")) mkdirSync(dirname(config.databaseUrl), { recursive: true });
  const store = await openStore({ databaseUrl: config.databaseUrl, keyring });

  const emulator = sandbox ? createEmulator({ admin: true, realTime: true }) : undefined;
  const v1 = emulator
    ? createV1Client({
        apiKey: TEST_MERCHANT.impKey,
        apiSecret: TEST_MERCHANT.impSecret,
        baseUrl: "http://emulator.sandbox",
        fetch: emulator.fetch,
      })
    : createV1Client({
        apiKey: config.portone.apiKey ?? "",
        apiSecret: config.portone.apiSecret ?? "",
        baseUrl: config.portone.apiUrl,
      });
  const impCode = emulator ? TEST_MERCHANT.impCode : (config.portone.impCode ?? "");

  const publicUrl = config.publicUrl ?? `http://localhost:${config.port}`;
  const service = createVerificationService({
    store,
    v1,
    deleteUpstreamAfterCompletion: config.deleteUpstreamAfterCompletion,
    logger,
    ...(options.now ? { now: options.now } : {}),
  });
  const app = createHttpApp({
    service,
    apiKeys: config.apiKeys.length > 0 ? config.apiKeys : sandbox ? [SANDBOX_API_KEY] : [],
    returnOrigins:
      config.returnOrigins.length > 0
        ? config.returnOrigins
        : sandbox
          ? [new URL(publicUrl).origin, `http://127.0.0.1:${config.port}`]
          : [],
    sandbox,
    sdk: {
      impCode,
      channelKey: config.portone.channelKey,
      redirectUrl: `${publicUrl}/certifications/redirect`,
    },
    logger,
    ready: () => store.ping(),
  });
  if (emulator) app.route("/emulator", emulator.app);

  if (options.listen === false) {
    return { app, store, emulator, url: publicUrl, close: () => store.close() };
  }
  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  return {
    app,
    store,
    emulator,
    url: `http://${config.host === "0.0.0.0" ? "localhost" : config.host}:${port}`,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
    },
  };
}

/** Sandbox only: a secret generated once into the data directory, with a warning. */
function sandboxSecret(dataDir: string, logger: HttpLogger): string {
  const file = join(dataDir, "sandbox-secret");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = generateSecret();
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  logger.warn(
    { file },
    "sandbox mode: generated CERTGATE_SECRET into the data directory; set it yourself in production",
  );
  return secret;
}
