/**
 * certgate's commands, one entry each (see command-table.ts): their flags, help and what they run.
 * A new command (or subcommand, `webhooks replay`) is one more entry in {@link COMMANDS}.
 */
import { ConfigError } from "../core/errors.js";
import { createEmulator, serveEmulator, TEST_MERCHANT } from "../emulator/index.js";
import { SANDBOX_API_KEY, startCertgate } from "../server.js";
import { IDEMPOTENCY_KEY_TTL_MS } from "../service/verifications.js";
import { listenFailure, maskDatabaseUrl, openStoreOrExplain } from "../startup-errors.js";
import { createKeyring, keyIdsOf } from "../store/crypto.js";
import { isPostgresUrl } from "../store/index.js";
import { type Command, type Flag, UsageError } from "./command-table.js";
import { type Config, loadConfig, loadLogLevel } from "./config.js";
import { runDoctor } from "./doctor.js";
import { maintenanceKeyring, openExistingStore } from "./existing-database.js";
import { createLogger, syncStdout, turnBatchedStdout } from "./logger.js";
import { lookupUpstream } from "./lookup.js";
import { step, summary } from "./progress.js";
import { WEBHOOK_COMMANDS } from "./webhooks.js";

const DATABASE: Record<string, Flag> = {
  database: { type: "string", value: "URL", env: "DATABASE_URL", help: "a SQLite path or postgres://… URL" },
};

const logger = (env: Record<string, string | undefined>) => createLogger(syncStdout(), loadLogLevel(env));

export const COMMANDS: Command[] = [
  {
    name: "serve",
    summary: "run the service (sandbox with an embedded emulator when no PortOne credentials are set)",
    description: `Runs the service on HOST:PORT (default 127.0.0.1:3000 in sandbox mode, 0.0.0.0:3000 in
production). With no PortOne credentials: sandbox mode (embedded emulator under /emulator, demo page
at /, SQLite under ./data/ unless DATABASE_URL says otherwise). The rest of the configuration comes
from the environment and .env (see .env.example).`,
    flags: {
      port: { type: "string", value: "N", env: "PORT", help: "port to listen on (0: any free port)" },
      host: { type: "string", value: "H", env: "HOST", help: "address to listen on" },
      ...DATABASE,
      "data-dir": {
        type: "string",
        value: "DIR",
        env: "CERTGATE_DATA_DIR",
        help: "where the default SQLite file and the sandbox secret live",
      },
    },
    async run({ env }) {
      const stdout = turnBatchedStdout();
      const log = createLogger(stdout, loadLogLevel(env));
      const config = loadConfig(env);
      const certgate = await startCertgate(config, { logger: log, demo: config.demo });
      log.info(
        {
          mode: config.mode,
          url: certgate.url,
          database: isPostgresUrl(config.databaseUrl) ? "postgres" : "sqlite",
        },
        "certgate is serving",
      );
      // The help is written straight to stdout: the log line above goes first.
      stdout.flush();
      if (config.mode === "sandbox") printSandboxHelp(certgate.url, config);
      onShutdown(() => certgate.close());
      return -1;
    },
  },
  {
    name: "emulator",
    summary: "run the PortOne emulator alone (admin API on unless --no-admin)",
    description: "Runs the PortOne V1/V2 emulator alone (default 127.0.0.1:4010), admin API under /__admin/.",
    flags: {
      port: { type: "string", value: "N", help: "port to listen on (default 4010; 0: any free port)" },
      host: { type: "string", value: "H", help: "address to listen on (default 127.0.0.1)" },
      "no-admin": { type: "boolean", help: "serve PortOne's API only, without /__admin/" },
    },
    async run({ env, flags }) {
      const port = Number(flags.port ?? "4010");
      if (!/^\d+$/.test(String(flags.port ?? "4010")) || port > 65_535)
        throw new UsageError(
          "--port must be a port number (0–65535)",
          "certgate emulator [--port N] [--host H] [--no-admin]",
        );
      const admin = flags["no-admin"] !== true;
      const emulator = createEmulator({ admin, realTime: true });
      const hostname = String(flags.host ?? "127.0.0.1");
      // A host that does not resolve or a port taken: one line naming the flag, as serve names HOST/PORT.
      const running = await serveEmulator(emulator, { port, hostname }).catch((error: unknown) => {
        throw listenFailure(error, hostname, port, { host: "--host", port: "--port" });
      });
      logger(env).info({ url: running.url, admin }, "PortOne emulator is serving");
      process.stdout.write(
        [
          "",
          `PortOne emulator (V1 and V2) at ${running.url}`,
          `  V1 test merchant: imp_key=${TEST_MERCHANT.impKey} imp_secret=${TEST_MERCHANT.impSecret} code=${TEST_MERCHANT.impCode}`,
          `  V2 test merchant: api secret=${TEST_MERCHANT.v2ApiSecret} store=${TEST_MERCHANT.storeId}`,
          `  create a record: curl -s -X POST ${running.url}/__admin/certifications -H 'content-type: application/json' -d '{"persona":"adult"}'`,
          "",
          "",
        ].join("\n"),
      );
      onShutdown(() => running.close());
      return -1;
    },
  },
  {
    name: "migrate",
    summary: "apply database migrations and exit",
    description:
      "Applies the database migrations of DATABASE_URL and exits (serve also migrates at startup).",
    flags: DATABASE,
    async run({ env }) {
      const started = Date.now();
      const config = loadConfig(env);
      await step(`migrating ${describeDatabase(config)}`, async () => {
        // Opening migrates (openStore), so this is the whole command; migrate creates a SQLite file
        // that does not exist yet (existing-database.ts says which commands may).
        const store = await openStoreOrExplain(config.databaseUrl, maintenanceKeyring(config));
        await store.close();
      });
      logger(env).info({}, "migrations applied");
      summary("migrate", `migrations applied to ${describeDatabase(config)}`, started);
      return 0;
    },
  },
  {
    name: "purge",
    summary: "destroy personal fields older than CERTGATE_RETENTION_DAYS (default 30)",
    description: `Destroys name, phone and birth date of verifications completed more than
CERTGATE_RETENTION_DAYS (default 30) ago; outcomes, person bindings and audit events stay. Also
deletes Idempotency-Keys older than 24 hours.`,
    flags: {
      ...DATABASE,
      "retention-days": {
        type: "string",
        value: "N",
        env: "CERTGATE_RETENTION_DAYS",
        help: "keep personal fields this many days after completion",
      },
    },
    async run({ env }) {
      const started = Date.now();
      const config = loadConfig(env);
      const store = await step("opening the database", () =>
        openExistingStore(config.databaseUrl, maintenanceKeyring(config), "purge"),
      );
      const now = new Date();
      let purged: number;
      let keys: number;
      try {
        const completedBefore = new Date(now.getTime() - config.retentionDays * 86_400_000);
        purged = await step(`purging identities completed before ${completedBefore.toISOString()}`, () =>
          store.purgeIdentities({ completedBefore, now, emitEvents: config.webhookUrl !== undefined }),
        );
        keys = await step("deleting expired idempotency keys", () =>
          store.purgeIdempotencyKeys({ createdBefore: new Date(now.getTime() - IDEMPOTENCY_KEY_TTL_MS) }),
        );
      } finally {
        await store.close();
      }
      const log = logger(env);
      log.info({ purged, retention_days: config.retentionDays }, "identities purged");
      log.info({ purged: keys }, "expired idempotency keys purged");
      summary(
        "purge",
        `${purged} identities purged (retention ${config.retentionDays} days), ${keys} expired idempotency keys deleted`,
        started,
      );
      return 0;
    },
  },
  {
    name: "lookup",
    args: "<imp_uid|identityVerificationId>",
    positionals: { min: 1, max: 1 },
    summary: "print PortOne's record (V1 or V2), with name, phone, birthday, CI and DI masked",
    description: `Prints PortOne's record (V1 for imp_…, else V2) with name, phone, birthday, CI and DI masked.
In sandbox mode it asks the emulator of the running sandbox (http://HOST:PORT/emulator) unless
PORTONE_API_URL / PORTONE_V2_API_URL point elsewhere (e.g. a certgate emulator); it never sends the
emulator's test merchant to PortOne.`,
    flags: {
      "api-url": { type: "string", value: "URL", env: "PORTONE_API_URL", help: "PortOne V1 base URL" },
      "v2-api-url": { type: "string", value: "URL", env: "PORTONE_V2_API_URL", help: "PortOne V2 base URL" },
      port: { type: "string", value: "N", env: "PORT", help: "port of the sandbox to ask (sandbox mode)" },
    },
    async run({ env, positionals: [id = ""] }) {
      const record = await lookupUpstream(loadConfig(env), id);
      process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
      return 0;
    },
  },
  {
    name: "keys rotate",
    summary: "re-encrypt stored personal fields under CERTGATE_SECRET (old one in CERTGATE_PREVIOUS_SECRETS)",
    description: `Re-encrypts stored personal fields under CERTGATE_SECRET; the old secret must be in
CERTGATE_PREVIOUS_SECRETS. Person hashes move to the new key as each person next verifies.`,
    flags: DATABASE,
    async run({ env }) {
      const started = Date.now();
      const config = loadConfig(env);
      // Missing secrets are configuration, not command-line usage: no flag sets them.
      if (config.secret === undefined)
        throw new ConfigError("CERTGATE_SECRET", "is required by keys rotate (the new secret)");
      if (config.previousSecrets.length === 0) {
        throw new ConfigError(
          "CERTGATE_PREVIOUS_SECRETS",
          "is required by keys rotate (the old secret, to decrypt with)",
        );
      }
      const keyring = createKeyring({ secret: config.secret, previousSecrets: config.previousSecrets });
      const store = await step("opening the database", () =>
        openExistingStore(config.databaseUrl, keyring, "keys rotate", { checkKeys: true }),
      );
      try {
        const result = await step("re-encrypting personal fields", () => store.rotateKeys());
        logger(env).info(
          { reencrypted: result.reencrypted, remaining_person_hashes: result.remainingPersonHashes },
          "keys rotated; person hashes under old keys are rewritten when each person next verifies",
        );
        summary(
          "keys rotate",
          `${result.reencrypted} verifications re-encrypted, ${result.remainingPersonHashes} person hashes still under an old key`,
          started,
        );
      } finally {
        await store.close();
      }
      return 0;
    },
  },
  {
    name: "keys forget",
    summary:
      "let go of persons hashed under secrets neither CERTGATE_SECRET nor CERTGATE_PREVIOUS_SECRETS holds",
    description: `Marks every person whose key is hashed under a secret that neither CERTGATE_SECRET nor
CERTGATE_PREVIOUS_SECRETS holds as forgotten, so that serve starts without that secret. The CI is not
stored, so such a person cannot be recognised again: when they next verify they are matched anew, and
may bind one more account. Needs --yes. Run it with the secrets every instance serves with.`,
    flags: {
      ...DATABASE,
      yes: { type: "boolean", help: "forget them (required: the change cannot be undone)" },
    },
    async run({ env, flags }) {
      const started = Date.now();
      const config = loadConfig(env);
      if (config.secret === undefined)
        throw new ConfigError("CERTGATE_SECRET", "is required by keys forget (the keys to keep)");
      if (flags.yes !== true) {
        throw new UsageError(
          "keys forget makes persons under other secrets unrecognisable for good; give --yes to do it",
        );
      }
      const keyring = createKeyring({ secret: config.secret, previousSecrets: config.previousSecrets });
      // Not checked for unknown keys: they are what this command is for.
      const store = await step("opening the database", () =>
        openExistingStore(config.databaseUrl, keyring, "keys forget"),
      );
      try {
        if (store.forgetPersonHashes === undefined) throw new Error("this store cannot forget person hashes");
        const forget = store.forgetPersonHashes.bind(store);
        const forgotten = await step("forgetting persons under other secrets", () =>
          forget(keyIdsOf(keyring)),
        );
        logger(env).info({ forgotten }, "persons under other secrets forgotten; they are matched anew");
        summary("keys forget", `${forgotten} persons forgotten`, started);
      } finally {
        await store.close();
      }
      return 0;
    },
  },
  {
    name: "doctor",
    summary: "check the configuration, the database, PortOne and the clock, and say what to fix",
    description: `Checks what serve needs: the configuration (as serve reads it), the database (opens it and
applies pending migrations, as serve would), PortOne (getToken with the configured credentials, the
embedded emulator in sandbox mode) and this machine's clock against PortOne's. Prints ok or fail
with a fix for each; exits 0 when all pass, 1 otherwise. Never prints a secret.`,
    flags: {
      ...DATABASE,
      "api-url": { type: "string", value: "URL", env: "PORTONE_API_URL", help: "PortOne V1 base URL" },
      "v2-api-url": { type: "string", value: "URL", env: "PORTONE_V2_API_URL", help: "PortOne V2 base URL" },
    },
    run: ({ env }) => runDoctor(env, (line) => process.stdout.write(`${line}\n`)),
  },
  ...WEBHOOK_COMMANDS,
];

function describeDatabase(config: Config): string {
  return `${isPostgresUrl(config.databaseUrl) ? "PostgreSQL" : "SQLite"} ${maskDatabaseUrl(config.databaseUrl)}`;
}

function printSandboxHelp(url: string, config: Config) {
  const auth = `-H 'authorization: Bearer ${SANDBOX_API_KEY}'`;
  const json = `-H 'content-type: application/json'`;
  process.stdout.write(`
certgate is running in SANDBOX mode at ${url} (embedded PortOne emulator, ${describeDatabase(config)}).
Open ${url}/ for the demo page (sign-up and adult gate in a browser); in the certgate repository
\`npm run walkthrough\` runs the whole flow against it. By hand, with curl:
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
