/**
 * One place to configure both PortOne clients: shared transport settings (fetch, clock, timeouts,
 * retries, metrics) given once, each API's credentials and overrides beside them.
 */
import { ConfigError } from "../core/errors.js";
import { optionsObject } from "../core/option-values.js";
import { checkOptionKeys } from "../core/unknown-fields.js";
import type { ClientEvent } from "./http.js";
import { createV1Client, type V1Client, type V1ClientOptions } from "./v1/client.js";
import { createV2Client, type V2Client, type V2ClientOptions } from "./v2/client.js";

/**
 * Settings both clients share; a per-API option of the same name (present, even `undefined`) wins.
 *
 * @example
 * import { createPortOneClients, type PortOneSharedOptions } from "certgate/portone";
 * const shared: PortOneSharedOptions = { timeoutMs: 3000, retries: 1 };
 * const { v1 } = createPortOneClients({ ...shared, v1: { apiKey, apiSecret } });
 */
export interface PortOneSharedOptions {
  fetch?: typeof fetch;
  now?: () => number;
  timeoutMs?: number;
  retries?: number;
  retryBaseDelayMs?: number;
  tokenMarginSeconds?: number;
  onEvent?: (event: ClientEvent) => void;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * The options of both clients at once: `v1` and/or `v2` beside the shared settings.
 *
 * @example
 * import { createPortOneClients, type PortOneClientsOptions } from "certgate";
 * const options: PortOneClientsOptions = {
 *   timeoutMs: 3000,
 *   v2: { apiSecret: process.env.PORTONE_V2_API_SECRET ?? "", storeId: "store-00000000-0000-0000-0000-000000000000" },
 * };
 * const { v2 } = createPortOneClients(options);
 */
export interface PortOneClientsOptions extends PortOneSharedOptions {
  /** V1 ("i'mport") credentials and overrides; omit when the merchant has no V1 account. */
  v1?: V1ClientOptions;
  /** V2 credentials and overrides; omit when the merchant has no V2 store. */
  v2?: V2ClientOptions;
}

const CLIENTS_OPTION_KEYS: Record<keyof PortOneClientsOptions, true> = {
  v1: true,
  v2: true,
  fetch: true,
  now: true,
  timeoutMs: true,
  retries: true,
  retryBaseDelayMs: true,
  tokenMarginSeconds: true,
  onEvent: true,
  random: true,
  sleep: true,
};

/**
 * The clients `options` asked for: a key is present exactly when its options were given.
 *
 * @example
 * import { createPortOneClients, type PortOneClients } from "certgate";
 * const options = { v1: { apiKey, apiSecret } };
 * const clients: PortOneClients<typeof options> = createPortOneClients(options);
 * await clients.v1.getCertification(impUid);
 */
export type PortOneClients<O extends PortOneClientsOptions> = (O["v1"] extends V1ClientOptions
  ? { v1: V1Client }
  : { v1?: undefined }) &
  (O["v2"] extends V2ClientOptions ? { v2: V2Client } : { v2?: undefined });

/**
 * Creates the V1 and/or V2 client with shared transport settings. Throws `ConfigError` when neither
 * is configured, or as each client's factory does.
 *
 * @example
 * const { v1, v2 } = createPortOneClients({
 *   timeoutMs: 3000,
 *   v1: { apiKey: env.PORTONE_API_KEY, apiSecret: env.PORTONE_API_SECRET },
 *   v2: { apiSecret: env.PORTONE_V2_API_SECRET, storeId: env.PORTONE_STORE_ID },
 * });
 */
export function createPortOneClients<O extends PortOneClientsOptions>(options: O): PortOneClients<O> {
  optionsObject("createPortOneClients options", options);
  // The shared keys only here: each client checks its own options, merged with them.
  checkOptionKeys("createPortOneClients options", options, CLIENTS_OPTION_KEYS);
  const { v1, v2, ...shared } = options;
  // Given, each must be options: a string would be spread into the client's options key by key.
  if (v1 !== undefined) optionsObject("v1", v1);
  if (v2 !== undefined) optionsObject("v2", v2);
  if (!v1 && !v2) throw new ConfigError("portone", "configure v1, v2 or both");
  const clients: { v1?: V1Client; v2?: V2Client } = {};
  if (v1) clients.v1 = createV1Client({ ...shared, ...v1 });
  if (v2) clients.v2 = createV2Client({ ...shared, ...v2 });
  // The conditional type mirrors the branches above; TypeScript cannot follow them through generics.
  return clients as PortOneClients<O>;
}
