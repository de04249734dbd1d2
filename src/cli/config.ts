/**
 * Configuration: the only place that reads the environment. Every variable of the contract is
 * validated here and a problem stops startup with a message naming the variable (never its value).
 *
 * Mode: production when any PortOne credential (V1 or V2) is set or CERTGATE_MODE=production; sandbox
 * otherwise (embedded emulator, SQLite under ./data/, generated secret, demo routes).
 */
import { createHash } from "node:crypto";
import type { Config } from "../config.js";
import { databaseUrlProblem } from "../core/database-url.js";
import { ConfigError } from "../core/errors.js";
import { FETCHABLE_URL_RULE, isFetchableUrl } from "../core/http-url.js";
import { API_KEY_RULE, isApiKey } from "../http/app-options.js";
import { baseUrlProblem } from "../portone/options.js";
import { webhookSecretProblem } from "../portone/webhook.js";
import { MIN_SECRET_LENGTH } from "../store/crypto.js";
import { refuseUnknownVariables } from "./variables.js";

export type { Config } from "../config.js";

/**
 * PortOne's public test credentials: printed in its guides and sample code for anyone to try the
 * API, so whoever holds one can act as the account it belongs to. Never in production.
 */
export interface PublicTestCredentials {
  /** V1 REST API keys (PORTONE_API_KEY), in clear: a key is an identifier, not a secret. */
  keys: readonly string[];
  /**
   * SHA-256 (lowercase hex) of the public API secrets (PORTONE_API_SECRET, PORTONE_V2_API_SECRET).
   * Hashes, so that the secrets themselves are never committed to this repository.
   */
  secretSha256: readonly string[];
  /** Merchant codes (가맹점 식별코드, PORTONE_IMP_CODE) of the public test accounts, in clear. */
  merchantCodes: readonly string[];
}

/**
 * The public test credentials PortOne publishes (checked against developers.portone.io and the
 * iamport SDK samples). PortOne publishes no V2 test secret: V2 test mode runs on a store's own
 * secret with a test channel, so there is none to list.
 */
export const PORTONE_PUBLIC_TEST_CREDENTIALS: PublicTestCredentials = {
  // The V1 guides' and REST clients' sample key (`imp_key: "imp_apikey"`).
  keys: ["imp_apikey"],
  secretSha256: [
    // The 80-character V1 secret paired with `imp_apikey` in the V1 guides and the iamport REST
    // client samples (PHP, Java, Node).
    "022575c990b64f14f4b43db5263ae8f622202596ba967cf13d7d5842dd3972fc",
    // The same secret cut to its first 31 characters, as the V1 authentication guide prints it
    // (opi/ko/integration/start/v1/auth): copied from there it is what a merchant would paste.
    "b0f81f512a362a07393f122ab108489fa66e9a1d6a82196eb50bc4c42a632cbe",
  ],
  merchantCodes: [
    // The public identity-verification (본인인증) test account of the iamport SDK samples.
    "imp10391932",
    // The other public test accounts of the iamport SDK samples (iamport-react-native
    // example/src/utils.ts): the default payment one, then per PG.
    "imp19424728",
    "imp91623210",
    "imp09350031",
    "imp60029475",
    "imp41073887",
    "imp49241793",
    "imp37739582",
    "imp87936124",
    "imp42284830",
  ],
};

type Env = Record<string, string | undefined>;

/** pino's levels, quietest last; `silent` logs nothing. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * LOG_LEVEL (any case; default `info`). Read before the rest of the configuration: every command
 * logs, and a bad level must stop startup with the variable named, like any other.
 * @throws ConfigError naming LOG_LEVEL for anything but one of {@link LOG_LEVELS}.
 */
export function loadLogLevel(env: Env): LogLevel {
  const get = (name: string) => env[name]?.trim().toLowerCase() || undefined;
  const level = get("LOG_LEVEL") ?? "info";
  const known = LOG_LEVELS.find((l) => l === level);
  if (known === undefined) throw new ConfigError("LOG_LEVEL", `must be one of ${LOG_LEVELS.join(", ")}`);
  return known;
}

/**
 * The {@link Config} the environment describes.
 * @throws ConfigError naming the first variable at fault, never its value; also for a `CERTGATE_`
 *   variable certgate does not read.
 */
export function loadConfig(env: Env): Config {
  refuseUnknownVariables(env);
  const get = (name: string) => {
    const v = env[name]?.trim();
    return v === "" ? undefined : v;
  };
  const portone = {
    impCode: get("PORTONE_IMP_CODE"),
    apiKey: get("PORTONE_API_KEY"),
    apiSecret: get("PORTONE_API_SECRET"),
    apiUrl: apiUrl(get("PORTONE_API_URL") ?? "https://api.iamport.kr", "PORTONE_API_URL"),
    v2ApiSecret: get("PORTONE_V2_API_SECRET"),
    storeId: get("PORTONE_STORE_ID"),
    v2ApiUrl: apiUrl(get("PORTONE_V2_API_URL") ?? "https://api.portone.io", "PORTONE_V2_API_URL"),
    channelKey: get("PORTONE_CHANNEL_KEY"),
  };
  const modeVar = get("CERTGATE_MODE");
  if (modeVar !== undefined && modeVar !== "sandbox" && modeVar !== "production") {
    throw new ConfigError("CERTGATE_MODE", 'must be "sandbox" or "production"');
  }
  const anyCredential = [portone.apiKey, portone.apiSecret, portone.v2ApiSecret].some((v) => v !== undefined);
  const mode = modeVar ?? (anyCredential ? "production" : "sandbox");
  if (modeVar === "sandbox" && anyCredential) {
    throw new ConfigError("CERTGATE_MODE", "sandbox mode cannot be used with PortOne credentials set");
  }

  const port = integer(get("PORT") ?? "3000", "PORT", 0, 65_535);
  const dataDir = get("CERTGATE_DATA_DIR") ?? "./data";
  const secret = get("CERTGATE_SECRET");
  if (secret !== undefined && secret.length < 32) {
    throw new ConfigError("CERTGATE_SECRET", "must be at least 32 characters (e.g. openssl rand -base64 32)");
  }
  const list = (name: string) =>
    (get(name) ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  // Named here, as CERTGATE_SECRET is: the keyring would say "previousSecrets[0]", a name no
  // operator set.
  const previousSecrets = list("CERTGATE_PREVIOUS_SECRETS");
  const short = previousSecrets.findIndex((previous) => previous.length < MIN_SECRET_LENGTH);
  if (short !== -1) {
    throw new ConfigError(
      "CERTGATE_PREVIOUS_SECRETS",
      `each secret must be at least ${MIN_SECRET_LENGTH} characters (secret ${short + 1} of ${previousSecrets.length} is shorter)`,
    );
  }
  const apiKeys = list("CERTGATE_API_KEYS");
  if (!apiKeys.every(isApiKey)) {
    throw new ConfigError("CERTGATE_API_KEYS", `each key must be ${API_KEY_RULE}`);
  }
  const returnOrigins = list("CERTGATE_RETURN_ORIGINS").map(returnOrigin);
  const publicUrl = get("CERTGATE_PUBLIC_URL");
  if (publicUrl !== undefined) url(publicUrl, "CERTGATE_PUBLIC_URL");
  const webhookUrl = get("CERTGATE_WEBHOOK_URL");
  if (webhookUrl !== undefined) url(webhookUrl, "CERTGATE_WEBHOOK_URL");
  const webhookSecret = get("CERTGATE_WEBHOOK_SECRET");
  if (webhookUrl !== undefined && webhookSecret === undefined) {
    throw new ConfigError(
      "CERTGATE_WEBHOOK_SECRET",
      "is required (whsec_<base64>, or 24+ characters) when CERTGATE_WEBHOOK_URL is set",
    );
  }
  // The signer's own rule (a whsec_ secret that is not base64 would fail every delivery).
  const webhookProblem = webhookSecret === undefined ? undefined : webhookSecretProblem(webhookSecret);
  if (webhookProblem !== undefined) throw new ConfigError("CERTGATE_WEBHOOK_SECRET", webhookProblem);

  const databaseUrl = get("DATABASE_URL") ?? `${dataDir}/certgate.sqlite`;
  const databaseProblem = databaseUrlProblem(databaseUrl);
  if (databaseProblem !== undefined) throw new ConfigError("DATABASE_URL", databaseProblem);

  if (mode === "production") {
    // Fail closed (DOMAIN.md rule 7): no silent fallback to test keys or generated secrets.
    if (secret === undefined) throw new ConfigError("CERTGATE_SECRET", "is required in production mode");
    if (apiKeys.length === 0) throw new ConfigError("CERTGATE_API_KEYS", "is required in production mode");
    requirePortOneCredentials(portone);
    refusePublicTestCredentials(portone);
  }

  return {
    mode,
    port,
    host: get("HOST") ?? (mode === "sandbox" ? "127.0.0.1" : "0.0.0.0"),
    databaseUrl,
    secret,
    previousSecrets,
    apiKeys,
    returnOrigins,
    publicUrl,
    portone,
    deleteUpstreamAfterCompletion: bool(get("CERTGATE_DELETE_UPSTREAM"), "CERTGATE_DELETE_UPSTREAM", false),
    demo: bool(get("CERTGATE_DEMO"), "CERTGATE_DEMO", false),
    retentionDays: integer(get("CERTGATE_RETENTION_DAYS") ?? "30", "CERTGATE_RETENTION_DAYS", 0, 3_650),
    recoveryIntervalMs: integer(
      get("CERTGATE_RECOVERY_INTERVAL_MS") ?? "5000",
      "CERTGATE_RECOVERY_INTERVAL_MS",
      0,
      3_600_000,
    ),
    webhookUrl,
    webhookSecret,
    dataDir,
  };
}

/**
 * Production needs at least one complete set of PortOne credentials — V1: PORTONE_API_KEY,
 * PORTONE_API_SECRET and PORTONE_IMP_CODE; V2: PORTONE_V2_API_SECRET and PORTONE_STORE_ID — and no
 * half-given set (a typo in one variable must not silently drop that API).
 */
function requirePortOneCredentials(portone: Config["portone"]): void {
  const sets = [
    [
      ["PORTONE_API_KEY", portone.apiKey],
      ["PORTONE_API_SECRET", portone.apiSecret],
      ["PORTONE_IMP_CODE", portone.impCode],
    ],
    [
      ["PORTONE_V2_API_SECRET", portone.v2ApiSecret],
      ["PORTONE_STORE_ID", portone.storeId],
    ],
  ] as const;
  let complete = 0;
  for (const set of sets) {
    const missing = set.filter(([, value]) => value === undefined);
    if (missing.length === set.length) continue;
    const [first] = missing;
    if (first) throw new ConfigError(first[0], "is required in production mode with the rest of its set");
    complete += 1;
  }
  if (complete === 0) {
    throw new ConfigError(
      "PORTONE_API_KEY",
      "is required in production mode (with PORTONE_API_SECRET and PORTONE_IMP_CODE), unless PORTONE_V2_API_SECRET and PORTONE_STORE_ID are set",
    );
  }
}

/**
 * Refuses PortOne's public test credentials (production only: sandbox mode never sends them to
 * PortOne). Secrets are compared by their SHA-256, so `known` holds no secret in clear.
 * @param known the list to refuse; PortOne's own by default (tests inject theirs).
 * @throws ConfigError naming the first variable that holds one, never its value.
 */
export function refusePublicTestCredentials(
  portone: Partial<Pick<Config["portone"], "apiKey" | "apiSecret" | "v2ApiSecret" | "impCode">>,
  known: PublicTestCredentials = PORTONE_PUBLIC_TEST_CREDENTIALS,
): void {
  const refuse = (variable: string, what: string) => {
    throw new ConfigError(variable, `is PortOne's public test ${what}; it must not be used in production`);
  };
  if (portone.apiKey !== undefined && known.keys.includes(portone.apiKey)) refuse("PORTONE_API_KEY", "key");
  const isPublicSecret = (secret: string | undefined) =>
    secret !== undefined && known.secretSha256.includes(createHash("sha256").update(secret).digest("hex"));
  if (isPublicSecret(portone.apiSecret)) refuse("PORTONE_API_SECRET", "secret");
  if (isPublicSecret(portone.v2ApiSecret)) refuse("PORTONE_V2_API_SECRET", "secret");
  if (portone.impCode !== undefined && known.merchantCodes.includes(portone.impCode)) {
    refuse("PORTONE_IMP_CODE", "merchant code");
  }
}

/** A PortOne API's base URL: the clients' own rule (portone/options.ts), naming the variable. */
function apiUrl(value: string, variable: string): string {
  const problem = baseUrlProblem(value);
  if (problem !== undefined) throw new ConfigError(variable, problem);
  return value.replace(/\/+$/, "");
}

function url(value: string, variable: string): string {
  if (!isFetchableUrl(value)) throw new ConfigError(variable, FETCHABLE_URL_RULE);
  return value.replace(/\/+$/, "");
}

/**
 * One origin of CERTGATE_RETURN_ORIGINS, as the URL standard writes it (a trailing slash and an
 * upper-case host are only spelling). A path, query, fragment or credentials were dropped without
 * a word, so `https://shop.example/app` allowed every page of the host: refused instead.
 */
function returnOrigin(value: string): string {
  const parsed = URL.canParse(value) ? new URL(value) : undefined;
  if (
    parsed === undefined ||
    !isFetchableUrl(value) ||
    parsed.pathname !== "/" ||
    value.includes("?") ||
    value.includes("#")
  ) {
    throw new ConfigError(
      "CERTGATE_RETURN_ORIGINS",
      'each must be an origin such as "https://shop.example" (scheme, host and port: no path, query or credentials)',
    );
  }
  return parsed.origin;
}

/**
 * A whole number from `min` to `max`, written in digits only. Every refusal (a word, "-1", "1.5",
 * one too many) states the whole rule, so "-1" is not told it "must be an integer".
 */
function integer(value: string, variable: string, min: number, max: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max))
    throw new ConfigError(variable, `must be a whole number from ${min} to ${max}`);
  return n;
}

function bool(value: string | undefined, variable: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(variable, "must be true or false");
}
