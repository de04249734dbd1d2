#!/usr/bin/env node
/**
 * `certgate` — serve | emulator | migrate. The only entry that reads the environment (and `.env`).
 */
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { CertgateError } from "../core/errors.js";
import { createEmulator, serveEmulator, TEST_MERCHANT } from "../emulator/index.js";
import { createV1Client, createV2Client } from "../portone/index.js";
import { SANDBOX_API_KEY, startCertgate } from "../server.js";
import { IDEMPOTENCY_KEY_TTL_MS } from "../service/verifications.js";
import { formatStartupFailure, openStoreOrExplain, upstreamFailure } from "../startup-errors.js";
import { createKeyring } from "../store/crypto.js";
import { type Config, loadConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { maskV1, maskV2 } from "./lookup.js";
import { runWebhooksCommand, WEBHOOKS_HELP } from "./webhooks.js";

const USAGE = `certgate — Korean identity verification through PortOne, done right

Usage:
  certgate serve                 run the service (sandbox with an embedded emulator when no PortOne credentials are set)
  certgate emulator [--port N]   run the PortOne emulator alone (admin API on unless --no-admin)
  certgate migrate               apply database migrations and exit
  certgate purge                 destroy personal fields older than CERTGATE_RETENTION_DAYS (default 30)
  certgate lookup <id>           print PortOne's record of an imp_uid (V1) or identityVerificationId (V2),
                                 with name, phone, birthday, CI and DI masked
  certgate keys rotate           re-encrypt stored personal fields under CERTGATE_SECRET
                                 (the old secret in CERTGATE_PREVIOUS_SECRETS)
  certgate webhooks list|replay  list outbox events, or requeue them (--since <ISO time> | --id <evt_…>)
  certgate help                  this text

Every command accepts --verbose: a failure then prints its stack and causes after the one-line
cause (so does LOG_LEVEL=debug). Configuration is read from the environment and from .env if
present (see README).`;

const COMMAND_HELP: Record<string, string> = {
  serve: `certgate serve
  Runs the service on PORT (default 3000). With no PortOne credentials: sandbox mode (embedded
  emulator under /emulator, SQLite under ./data/, demo page at /). Configuration: see README.`,
  emulator: `certgate emulator [--port N] [--host H] [--no-admin]
  Runs the PortOne V1/V2 emulator alone (default 127.0.0.1:4010), admin API under /__admin/.`,
  migrate: `certgate migrate
  Applies the database migrations of DATABASE_URL and exits (serve also migrates at startup).`,
  purge: `certgate purge
  Destroys name, phone and birth date of verifications completed more than CERTGATE_RETENTION_DAYS
  (default 30) ago; outcomes, person bindings and audit events stay. Also deletes Idempotency-Keys
  older than 24 hours.`,
  lookup: `certgate lookup <imp_uid|identityVerificationId>
  Prints PortOne's record (V1 for imp_…, else V2) with name, phone, birthday, CI and DI masked.`,
  keys: `certgate keys rotate
  Re-encrypts stored personal fields under CERTGATE_SECRET; the old secret must be in
  CERTGATE_PREVIOUS_SECRETS. Person hashes move to the new key as each person next verifies.`,
  webhooks: WEBHOOKS_HELP,
  help: USAGE,
};

async function main(argv: string[]): Promise<number> {
  const [command = "help", ...rest] = argv;
  if (rest.includes("--help") || rest.includes("-h")) {
    const help = COMMAND_HELP[command];
    if (!help) throw new UsageError(`unknown command "${command}" (try: certgate help)`);
    process.stdout.write(`${help}\n`);
    return 0;
  }
  if (existsSync(".env")) process.loadEnvFile(".env");
  const logger = createLogger();

  switch (command) {
    case "serve": {
      const config = loadConfig(process.env);
      const certgate = await startCertgate(config, { logger, demo: config.demo });
      logger.info(
        {
          mode: config.mode,
          url: certgate.url,
          database: config.databaseUrl.startsWith("postgres") ? "postgres" : "sqlite",
        },
        "certgate is serving",
      );
      if (config.mode === "sandbox") printSandboxHelp(certgate.url);
      onShutdown(async () => {
        await certgate.close();
      });
      return -1;
    }
    case "emulator": {
      const { values } = parseArgs({
        args: rest,
        options: {
          port: { type: "string", default: "4010" },
          host: { type: "string", default: "127.0.0.1" },
          "no-admin": { type: "boolean" },
        },
      });
      const port = Number(values.port);
      if (!Number.isInteger(port) || port < 0 || port > 65_535)
        throw new UsageError("--port must be a port number");
      const emulator = createEmulator({ admin: !values["no-admin"], realTime: true });
      const running = await serveEmulator(emulator, { port, hostname: values.host });
      logger.info({ url: running.url, admin: !values["no-admin"] }, "PortOne emulator is serving");
      process.stdout.write(
        `\nPortOne V1 emulator at ${running.url}\n  test merchant: imp_key=${TEST_MERCHANT.impKey} imp_secret=${TEST_MERCHANT.impSecret} code=${TEST_MERCHANT.impCode}\n  create a record: curl -s -X POST ${running.url}/__admin/certifications -H 'content-type: application/json' -d '{"persona":"adult"}'\n\n`,
      );
      onShutdown(() => running.close());
      return -1;
    }
    case "migrate": {
      const store = await openMaintenanceStore(loadConfig(process.env));
      await store.migrate();
      await store.close();
      logger.info({}, "migrations applied");
      return 0;
    }
    case "purge": {
      const config = loadConfig(process.env);
      const store = await openMaintenanceStore(config);
      const now = new Date();
      const completedBefore = new Date(now.getTime() - config.retentionDays * 86_400_000);
      const emitEvents = config.webhookUrl !== undefined;
      const purged = await store.purgeIdentities({ completedBefore, now, emitEvents });
      const keys = await store.purgeIdempotencyKeys({
        createdBefore: new Date(now.getTime() - IDEMPOTENCY_KEY_TTL_MS),
      });
      await store.close();
      logger.info({ purged, retention_days: config.retentionDays }, "identities purged");
      logger.info({ purged: keys }, "expired idempotency keys purged");
      return 0;
    }
    case "lookup": {
      const [id] = rest;
      if (!id) throw new UsageError("usage: certgate lookup <imp_uid|identityVerificationId>");
      const config = loadConfig(process.env);
      const record = await lookupUpstream(config, id).catch((error: unknown) => {
        const [variable, baseUrl] = id.startsWith("imp_")
          ? ["PORTONE_API_URL", config.portone.apiUrl]
          : ["PORTONE_V2_API_URL", config.portone.v2ApiUrl];
        throw upstreamFailure(error, variable, baseUrl);
      });
      process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
      return 0;
    }
    case "keys": {
      if (rest[0] !== "rotate") throw new UsageError("usage: certgate keys rotate");
      const config = loadConfig(process.env);
      if (config.secret === undefined) throw new UsageError("CERTGATE_SECRET: the new secret is required");
      if (config.previousSecrets.length === 0) {
        throw new UsageError("CERTGATE_PREVIOUS_SECRETS: the old secret is required to decrypt");
      }
      const store = await openStoreOrExplain(
        config.databaseUrl,
        createKeyring({ secret: config.secret, previousSecrets: config.previousSecrets }),
      );
      try {
        const result = await store.rotateKeys();
        logger.info(
          { reencrypted: result.reencrypted, remaining_person_hashes: result.remainingPersonHashes },
          "keys rotated; person hashes under old keys are rewritten when each person next verifies",
        );
      } finally {
        await store.close();
      }
      return 0;
    }
    case "webhooks":
      return runWebhooksCommand(rest, loadConfig(process.env));
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(`${USAGE}\n`);
      return 0;
    default:
      throw new UsageError(`unknown command "${command}" (try: certgate help)`);
  }
}

class UsageError extends Error {}

/**
 * The upstream record for `lookup`: V1 for `imp_…` ids, V2 otherwise. Sandbox mode has no PortOne of
 * its own outside `serve`, so it uses the emulator's test merchant at PORTONE_API_URL /
 * PORTONE_V2_API_URL (e.g. a `certgate emulator`).
 */
async function lookupUpstream(config: Config, id: string): Promise<Record<string, unknown>> {
  const sandbox = config.mode === "sandbox";
  if (id.startsWith("imp_")) {
    const client = createV1Client({
      apiKey: sandbox ? TEST_MERCHANT.impKey : (config.portone.apiKey ?? ""),
      apiSecret: sandbox ? TEST_MERCHANT.impSecret : (config.portone.apiSecret ?? ""),
      baseUrl: config.portone.apiUrl,
    });
    return maskV1(await client.getCertification(id));
  }
  const client = createV2Client({
    apiSecret: sandbox ? TEST_MERCHANT.v2ApiSecret : (config.portone.v2ApiSecret ?? ""),
    storeId: sandbox ? TEST_MERCHANT.storeId : config.portone.storeId,
    baseUrl: config.portone.v2ApiUrl,
  });
  return maskV2(await client.getIdentityVerification(id));
}

/**
 * The store for commands that neither hash nor decrypt (migrate, purge). In sandbox mode, with no
 * secret configured, a placeholder keyring suffices; production always has CERTGATE_SECRET.
 */
function openMaintenanceStore(config: Config) {
  return openStoreOrExplain(
    config.databaseUrl,
    createKeyring({ secret: config.secret ?? "maintenance-commands-use-no-key-0000" }),
  );
}

function printSandboxHelp(url: string) {
  const auth = `-H 'authorization: Bearer ${SANDBOX_API_KEY}'`;
  const json = `-H 'content-type: application/json'`;
  process.stdout.write(`
certgate is running in SANDBOX mode at ${url} (embedded PortOne emulator, SQLite under ./data/).
Open ${url}/ for the demo page (sign-up and adult gate in a browser), or try it with curl:
  1. curl -s -X POST ${url}/api/verifications ${auth} ${json} -d '{"account_ref":"user-1","policy":{"min_age":19,"age_rule":"year"}}'
  2. curl -s -X POST ${url}/emulator/__admin/certifications ${json} -d '{"persona":"adult","merchant_uid":"<merchant_uid from 1>"}'
  3. curl -s -X POST ${url}/certifications ${json} -d '{"imp_uid":"<imp_uid from 2>","merchant_uid":"<merchant_uid from 1>"}'
  4. curl -s ${url}/api/verifications/<id from 1> ${auth}

`);
}

function onShutdown(close: () => Promise<void>) {
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

const args = process.argv.slice(2);
/** `--verbose`, accepted anywhere by every command, adds the stack to a failure's one line. */
const verboseFlag = args.includes("--verbose");

main(args.filter((arg) => arg !== "--verbose")).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    // One clear line naming the variable or component and the cause (ConfigError never echoes a
    // value; StartupError masks the password of DATABASE_URL), the stack only when asked for.
    const logLevel = process.env.LOG_LEVEL?.trim().toLowerCase();
    process.stderr.write(
      formatStartupFailure(error, {
        verbose: verboseFlag || logLevel === "debug" || logLevel === "trace",
        databaseUrl: process.env.DATABASE_URL,
        printable: error instanceof CertgateError || error instanceof UsageError,
      }),
    );
    process.exitCode = error instanceof UsageError ? 2 : 1;
  },
);
