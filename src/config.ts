/**
 * The validated configuration the composition root (server.ts) starts from. Its home is below the
 * CLI, which reads the environment into it (cli/config.ts `loadConfig`): a library user builds one
 * by hand, or with `loadConfig` from the CLI, and hands it to `startCertgate`.
 */
import { databaseUrlProblem } from "./core/database-url.js";
import { ConfigError } from "./core/errors.js";
import { FETCHABLE_URL_RULE, isFetchableUrl } from "./core/http-url.js";
import { wholeNumberOption } from "./core/option-values.js";
import { API_KEY_RULE, isApiKey, returnOriginProblem } from "./http/app-options.js";
import { baseUrlProblem } from "./portone/options.js";
import { webhookSecretProblem } from "./portone/webhook.js";

/**
 * Everything `startCertgate` needs, validated: each field is one variable of the contract.
 *
 * @example
 * import { type Config, startCertgate } from "certgate";
 * const config: Config = {
 *   mode: "production",
 *   port: 3000,
 *   host: "0.0.0.0",
 *   databaseUrl: "postgres://certgate@db/certgate",
 *   secret: process.env.CERTGATE_SECRET,
 *   previousSecrets: [],
 *   apiKeys: (process.env.CERTGATE_API_KEYS ?? "").split(",").filter(Boolean),
 *   returnOrigins: ["https://shop.example"],
 *   publicUrl: "https://verify.shop.example",
 *   portone: {
 *     impCode: "imp12345678",
 *     apiKey: process.env.PORTONE_API_KEY,
 *     apiSecret: process.env.PORTONE_API_SECRET,
 *     apiUrl: "https://api.iamport.kr",
 *     v2ApiSecret: undefined,
 *     storeId: undefined,
 *     v2ApiUrl: "https://api.portone.io",
 *     channelKey: undefined,
 *   },
 *   deleteUpstreamAfterCompletion: true,
 *   demo: false,
 *   retentionDays: 30,
 *   webhookUrl: undefined,
 *   webhookSecret: undefined,
 *   dataDir: "./data",
 * };
 * const certgate = await startCertgate(config, { logger });
 */
export interface Config {
  mode: "sandbox" | "production";
  port: number;
  host: string;
  /** SQLite path or postgres:// URL. */
  databaseUrl: string;
  /** Absent in sandbox mode: the server generates one under ./data/. */
  secret: string | undefined;
  previousSecrets: string[];
  apiKeys: string[];
  returnOrigins: string[];
  publicUrl: string | undefined;
  portone: {
    impCode: string | undefined;
    apiKey: string | undefined;
    apiSecret: string | undefined;
    apiUrl: string;
    v2ApiSecret: string | undefined;
    storeId: string | undefined;
    v2ApiUrl: string;
    channelKey: string | undefined;
  };
  deleteUpstreamAfterCompletion: boolean;
  /** Serve the demo page outside sandbox mode too (it loads PortOne's real SDK). */
  demo: boolean;
  /** Days a verified identity's personal fields are kept (PIPA art. 21). Default 30. */
  retentionDays: number;
  /**
   * How often the expiry sweeper, V2 recovery and owed upstream deletions run, ms
   * (CERTGATE_RECOVERY_INTERVAL_MS); 0 turns them off on this instance. Default 5,000.
   */
  recoveryIntervalMs?: number | undefined;
  webhookUrl: string | undefined;
  /** Signs webhook deliveries (Standard Webhooks `whsec_…` or any string of 24+ characters). */
  webhookSecret: string | undefined;
  dataDir: string;
}

/**
 * What `startCertgate` checks of the {@link Config} it is given, naming the field (`config.secret`).
 * `loadConfig` builds one variable by variable and checks each; a config built by hand can hold
 * what no environment would pass, and each of these started a service that failed open: production
 * without a secret generated one under `dataDir` (lost with that directory, and with it every
 * encrypted field and the person keys that keep one account per person), a webhook URL without a
 * secret wrote events no dispatcher sent, a negative retention purged every identity at once.
 * @throws ConfigError naming the first field at fault, never its value.
 */
export function checkConfig(config: Config): void {
  const fail = (field: string, problem: string): never => {
    throw new ConfigError(`config.${field}`, problem);
  };
  if (config.mode !== "sandbox" && config.mode !== "production")
    fail("mode", 'must be "sandbox" or "production"');
  const production = config.mode === "production";
  const databaseProblem = databaseUrlProblem(config.databaseUrl);
  if (databaseProblem !== undefined) fail("databaseUrl", databaseProblem);
  if (config.secret !== undefined || production) {
    if (typeof config.secret !== "string" || config.secret.length < 32) {
      fail("secret", `must be 32 or more characters${production ? " (required in production mode)" : ""}`);
    }
  }
  if (!Array.isArray(config.apiKeys) || !config.apiKeys.every(isApiKey)) {
    fail("apiKeys", `must be keys of ${API_KEY_RULE}`);
  }
  if (production && config.apiKeys.length === 0) fail("apiKeys", "needs a key in production mode");
  // A string here (CERTGATE_RETURN_ORIGINS without `.split(",")`) was matched as a substring.
  if (!Array.isArray(config.returnOrigins))
    fail("returnOrigins", "must be an array of origins ([] for none)");
  const originProblem = config.returnOrigins.map(returnOriginProblem).find((p) => p !== undefined);
  if (originProblem !== undefined) fail("returnOrigins", originProblem);
  const { portone } = config;
  const v1 = [portone.apiKey, portone.apiSecret, portone.impCode].every(
    (value) => typeof value === "string" && value,
  );
  const v2 = [portone.v2ApiSecret, portone.storeId].every((value) => typeof value === "string" && value);
  for (const [name, value] of [
    ["apiUrl", portone.apiUrl],
    ["v2ApiUrl", portone.v2ApiUrl],
  ] as const) {
    // Left out, the client's default (PortOne's own API) is used.
    const problem = value === undefined ? undefined : baseUrlProblem(value);
    if (problem !== undefined) fail(`portone.${name}`, problem);
  }
  if (production && !v1 && !v2) {
    fail(
      "portone",
      "needs a complete set in production mode: apiKey, apiSecret and impCode (V1), or v2ApiSecret and storeId (V2)",
    );
  }
  if (production) {
    // No half-given set, as loadConfig refuses one: a V1 key and secret without impCode started,
    // then every creation failed to wire (createHttpApp: sdk.impCode) after the store had opened.
    for (const set of [
      ["apiKey", "apiSecret", "impCode"],
      ["v2ApiSecret", "storeId"],
    ] as const) {
      const missing = set.find((name) => typeof portone[name] !== "string" || portone[name] === "");
      if (missing !== undefined && set.some((name) => portone[name] !== undefined))
        fail(`portone.${missing}`, "is required with the rest of its set");
    }
  }
  for (const field of ["deleteUpstreamAfterCompletion", "demo"] as const) {
    if (typeof config[field] !== "boolean") fail(field, "must be true or false");
  }
  // Required, not defaulted here: a missing retention would make every purge's cut-off NaN, and
  // personal data would be kept for good.
  if (config.port === undefined) fail("port", "is required (0 for any free port)");
  if (config.retentionDays === undefined) fail("retentionDays", "is required (days, 0 to 3650)");
  wholeNumberOption("config.port", config.port, 0, 65_535);
  wholeNumberOption("config.retentionDays", config.retentionDays, 0, 3_650);
  wholeNumberOption("config.recoveryIntervalMs", config.recoveryIntervalMs, 0, 3_600_000);
  if (config.webhookUrl !== undefined) {
    if (!isFetchableUrl(config.webhookUrl)) fail("webhookUrl", FETCHABLE_URL_RULE);
    if (config.webhookSecret === undefined) fail("webhookSecret", "is required with webhookUrl");
  }
  const webhookProblem =
    config.webhookSecret === undefined ? undefined : webhookSecretProblem(config.webhookSecret);
  if (webhookProblem !== undefined) fail("webhookSecret", webhookProblem);
}
