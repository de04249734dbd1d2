/**
 * What `createHttpApp` checks of its options before it builds anything. The types say the same, but
 * a JavaScript caller, or a TypeScript one passing `process.env` values through `as`, can hand over
 * what no type allows, and each of these used to be taken and fail open:
 *
 * - `returnOrigins: "https://shop.example.com"` (the variable without `.split(",")`): the return
 *   check asked the string `includes(url.origin)`, a substring match, so `https://shop.example.co`
 *   was an allowed redirect target;
 * - `sandbox: "false"` (an environment variable as is) is truthy: the public, keyless
 *   `POST /sandbox/verifications` was served on a production mount;
 * - `apiKeys: ["a"]`: `Bearer a` authenticated (`serve` and `startCertgate` ask for 16 characters);
 * - a misspelt `sdk` key, or `sdk: {}`, answered every creation without the SDK's `imp_code`.
 *
 * @throws ConfigError naming the option, never its value.
 */
import { ConfigError } from "../core/errors.js";
import { booleanOption, functionOption, methodsOption, optionsObject } from "../core/option-values.js";
import { checkOptionKeys } from "../core/unknown-fields.js";
import type { VerificationService } from "../service/verifications.js";
import type { ErrorLogger } from "./responses.js";
import type { SdkParameters, V2SdkOptions } from "./views.js";

export interface HttpLogger extends ErrorLogger {
  info(fields: Record<string, unknown>, message: string): void;
}

/**
 * What {@link createHttpApp} serves with: the service, the merchant's keys and origins, the SDK parameters.
 *
 * @example
 * import { createHttpApp, type HttpAppOptions } from "certgate";
 * const options: HttpAppOptions = {
 *   service,
 *   apiKeys: (process.env.CERTGATE_API_KEYS ?? "").split(",").filter(Boolean),
 *   returnOrigins: ["https://shop.example"],
 *   sandbox: false,
 *   sdk: { impCode: "imp12345678" },
 *   logger,
 * };
 * const app = createHttpApp(options);
 */
export interface HttpAppOptions {
  service: VerificationService;
  /** Bearer keys for the merchant-backend routes. */
  apiKeys: readonly string[];
  /** Origins a `return_url` may point to (e.g. "https://shop.example"). No other redirect is made. */
  returnOrigins: readonly string[];
  /** Sandbox mode adds a public `POST /sandbox/verifications` for the demo page. */
  sandbox: boolean;
  /** Parameters for the browser SDK returned on creation: V1 at the top level, V2 under `v2`. */
  sdk: SdkParameters;
  logger: HttpLogger;
  /** Prometheus exposition for `GET /metrics`. */
  metrics?: { contentType: string; render(): Promise<string> } | undefined;
  /**
   * Readiness probe: throws when the database is unreachable, or refuses writes (a StoreError
   * `read_only`, which /readyz names).
   */
  ready?: () => Promise<void>;
  /** The demo page, served at `/` (sandbox mode, or production with CERTGATE_DEMO=true). */
  demo?: DemoPage | undefined;
  /**
   * The path prefix every route is served under, for hosts that hand the full URL to `app.fetch`
   * (a Next.js route handler at `app/api/certgate/[...path]/route.ts` → `"/api/certgate"`): "/x" or
   * "/x/y", no trailing slash. Default none. Express's `app.use("/certgate", …)` strips its mount
   * path itself, so a Node mount through {@link toNodeHandler} needs none.
   */
  basePath?: string | undefined;
}

/** The demo page of web/: its HTML, and the files it loads from `/demo/<name>`. */
export interface DemoPage {
  html: string;
  assets: ReadonlyMap<string, { type: string; body: string }>;
}

/** The shortest bearer key accepted, as `serve` (CERTGATE_API_KEYS) and `startCertgate` require. */
export const MIN_API_KEY_LENGTH = 16;

/** What a bearer key must be, said where one is refused. */
export const API_KEY_RULE = `${MIN_API_KEY_LENGTH} or more printable ASCII characters, no space`;

/**
 * Whether `key` can be a bearer key: {@link MIN_API_KEY_LENGTH} or more printable ASCII characters
 * without a space. A key outside ASCII never authenticated (a header arrives as Latin-1, so its
 * bytes never equal the key's UTF-8), nor one with a space (`Bearer <key>` ends at the first).
 */
export function isApiKey(key: unknown): boolean {
  return typeof key === "string" && key.length >= MIN_API_KEY_LENGTH && /^[\x21-\x7e]+$/.test(key);
}

const HTTP_APP_OPTION_KEYS: Record<keyof HttpAppOptions, true> = {
  service: true,
  apiKeys: true,
  returnOrigins: true,
  sandbox: true,
  sdk: true,
  logger: true,
  metrics: true,
  ready: true,
  demo: true,
  basePath: true,
};
const SDK_KEYS: Record<keyof SdkParameters, true> = {
  impCode: true,
  channelKey: true,
  redirectUrl: true,
  v2: true,
};
const V2_SDK_KEYS: Record<keyof V2SdkOptions, true> = { storeId: true, channelKey: true, redirectUrl: true };

/**
 * Why `origin` cannot be a return origin, or undefined when it is one: an http(s) origin written as
 * the URL standard serializes it (`https://shop.example`, `http://localhost:3000`): no path, no
 * trailing slash, lower-case host. Anything else would never equal a return_url's origin, or would
 * say more than an origin does.
 */
export function returnOriginProblem(origin: unknown): string | undefined {
  const problem = 'must be origins such as "https://shop.example" (scheme, host and port; no path)';
  if (typeof origin !== "string" || !URL.canParse(origin)) return problem;
  const url = new URL(origin);
  if (url.protocol !== "https:" && url.protocol !== "http:") return problem;
  return url.origin === origin ? undefined : problem;
}

/** Checks `options` as {@link HttpAppOptions}, throwing a ConfigError naming the first at fault. */
export function checkHttpAppOptions(options: unknown): asserts options is HttpAppOptions {
  optionsObject("createHttpApp options", options);
  checkOptionKeys("createHttpApp options", options, HTTP_APP_OPTION_KEYS);
  const given = options as Partial<Record<keyof HttpAppOptions, unknown>>;
  const fail = (name: string, problem: string): never => {
    throw new ConfigError(`createHttpApp options.${name}`, problem);
  };
  const { service, apiKeys, returnOrigins, sdk, logger } = given;
  if (typeof service !== "object" || service === null) {
    fail("service", "is required: a service from createVerificationService");
  }
  if (!Array.isArray(apiKeys) || !apiKeys.every(isApiKey)) {
    fail("apiKeys", `must be an array of keys of ${API_KEY_RULE} ([] for none)`);
  }
  if (!Array.isArray(returnOrigins)) fail("returnOrigins", "must be an array of origins ([] for none)");
  const origins = returnOrigins as unknown[];
  const originProblem = origins.map(returnOriginProblem).find((problem) => problem !== undefined);
  if (originProblem !== undefined) fail("returnOrigins", originProblem);
  if (booleanOption("createHttpApp options.sandbox", given.sandbox) === undefined) {
    fail("sandbox", "is required: true or false");
  }
  optionsObject("createHttpApp options.sdk", sdk);
  checkOptionKeys("createHttpApp options.sdk", sdk, SDK_KEYS);
  const { impCode, v2 } = sdk as Partial<Record<keyof SdkParameters, unknown>>;
  // A V2-only service has no V1 merchant code: empty (or left out) is allowed there, not another type.
  const sdkText = (name: string, value: unknown) => {
    if (value !== undefined && typeof value !== "string") fail(name, "must be a string");
  };
  const { channelKey, redirectUrl } = sdk as Partial<Record<keyof SdkParameters, unknown>>;
  for (const [name, value] of [
    ["sdk.impCode", impCode],
    ["sdk.channelKey", channelKey],
    ["sdk.redirectUrl", redirectUrl],
  ] as const)
    sdkText(name, value);
  const versions = (service as { apiVersions?: unknown }).apiVersions;
  if (Array.isArray(versions) && versions.includes("v1") && !impCode) {
    fail("sdk.impCode", "is required when the service completes V1 verifications (IMP.init's code)");
  }
  if (v2 !== undefined) {
    optionsObject("createHttpApp options.sdk.v2", v2);
    checkOptionKeys("createHttpApp options.sdk.v2", v2, V2_SDK_KEYS);
    const v2Sdk = v2 as Partial<Record<keyof V2SdkOptions, unknown>>;
    if (typeof v2Sdk.storeId !== "string" || v2Sdk.storeId === "")
      fail("sdk.v2.storeId", "must be a non-empty string");
    sdkText("sdk.v2.channelKey", v2Sdk.channelKey);
    sdkText("sdk.v2.redirectUrl", v2Sdk.redirectUrl);
  }
  methodsOption(
    "createHttpApp options.logger",
    logger,
    ["info", "warn", "error"],
    "must have info, warn and error methods (console has them)",
  );
  functionOption("createHttpApp options.ready", given.ready as (() => Promise<void>) | undefined);
  // Any truthy `demo` served the keyless POST /demo/verifications outside sandbox mode: `"false"`
  // opened it as `sandbox: "false"` opened the sandbox's.
  const { demo, metrics } = given;
  if (
    demo !== undefined &&
    !(isObject(demo) && typeof demo.html === "string" && demo.assets instanceof Map)
  ) {
    fail("demo", "must be the demo page ({ html, assets }) or left out");
  }
  if (
    metrics !== undefined &&
    !(isObject(metrics) && typeof metrics.contentType === "string" && typeof metrics.render === "function")
  ) {
    fail("metrics", "must be { contentType, render() } (createMetrics) or left out");
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null;
