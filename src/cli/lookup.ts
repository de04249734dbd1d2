/**
 * `certgate lookup <imp_uid|identityVerificationId>`: fetches the upstream record with certgate's
 * own credentials and prints it for an operator, with name, phone, birthday, CI and DI masked.
 */
import { maskName } from "../core/identity.js";
import type { V1Certification } from "../core/v1/upstream.js";
import type { V2IdentityVerification } from "../core/v2/upstream.js";
import { TEST_MERCHANT } from "../emulator/index.js";
import { createV1Client, createV2Client } from "../portone/index.js";
import { V1_DEFAULT_BASE_URL } from "../portone/v1/client.js";
import { V2_DEFAULT_BASE_URL } from "../portone/v2/client.js";
import { upstreamFailure } from "../startup-errors.js";
import type { Config } from "./config.js";

/**
 * Where `lookup` asks: PORTONE_API_URL / PORTONE_V2_API_URL, except that sandbox mode never sends
 * the emulator's test merchant to PortOne's real hosts. Unless pointed elsewhere (a `certgate
 * emulator`), it asks the emulator embedded in the sandbox `serve` of this configuration, under
 * `/emulator` at HOST:PORT, which holds the records the walkthrough and the demo page created.
 */
export function lookupBaseUrl(config: Config, api: "v1" | "v2"): string {
  const configured = api === "v1" ? config.portone.apiUrl : config.portone.v2ApiUrl;
  const real = api === "v1" ? V1_DEFAULT_BASE_URL : V2_DEFAULT_BASE_URL;
  if (config.mode !== "sandbox" || configured !== real) return configured;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  return `http://${host.includes(":") ? `[${host}]` : host}:${config.port}/emulator`;
}

/**
 * The upstream record for `lookup`, masked: V1 for `imp_…` ids, V2 otherwise. Sandbox mode uses the
 * emulator's test merchant (see {@link lookupBaseUrl}); production, certgate's own credentials.
 * @throws StartupError naming the base URL's variable when PortOne cannot be reached.
 */
export async function lookupUpstream(config: Config, id: string): Promise<Record<string, unknown>> {
  const sandbox = config.mode === "sandbox";
  const v1 = id.startsWith("imp_");
  const baseUrl = lookupBaseUrl(config, v1 ? "v1" : "v2");
  try {
    if (v1) {
      const client = createV1Client({
        apiKey: sandbox ? TEST_MERCHANT.impKey : (config.portone.apiKey ?? ""),
        apiSecret: sandbox ? TEST_MERCHANT.impSecret : (config.portone.apiSecret ?? ""),
        baseUrl,
      });
      return maskV1(await client.getCertification(id));
    }
    const client = createV2Client({
      apiSecret: sandbox ? TEST_MERCHANT.v2ApiSecret : (config.portone.v2ApiSecret ?? ""),
      storeId: sandbox ? TEST_MERCHANT.storeId : config.portone.storeId,
      baseUrl,
    });
    return maskV2(await client.getIdentityVerification(id));
  } catch (error) {
    throw upstreamFailure(error, v1 ? "PORTONE_API_URL" : "PORTONE_V2_API_URL", baseUrl);
  }
}

/** "01012345678" → "010****5678"; short values keep only their length. */
export function maskDigits(value: string): string {
  return value.length < 8
    ? "*".repeat(value.length)
    : `${value.slice(0, 3)}${"*".repeat(value.length - 7)}${value.slice(-4)}`;
}

/** CI/DI: the first 4 characters and the length, enough to compare two lookups, useless to anyone else. */
export function maskKey(value: string): string {
  return `${value.slice(0, 4)}…(${value.length} chars)`;
}

/**
 * "1990-01-15" → "1990-**-**", "19900115" → "1990****": the year kept, every other letter and digit
 * masked, whatever the format (PortOne's schemas promise none; only ISO dates were masked before).
 */
export function maskDate(value: string): string {
  const year = /^\d{4}/.exec(value)?.[0] ?? "";
  return year + value.slice(year.length).replace(/[\p{L}\p{N}]/gu, "*");
}

export function maskV1(record: V1Certification): Record<string, unknown> {
  return {
    ...record,
    ...(record.name ? { name: maskName(record.name) } : {}),
    ...(record.phone ? { phone: maskDigits(record.phone) } : {}),
    ...(record.birthday ? { birthday: maskDate(record.birthday) } : {}),
    ...(record.birth !== undefined ? { birth: "(masked)" } : {}),
    ...(record.unique_key ? { unique_key: maskKey(record.unique_key) } : {}),
    ...(record.unique_in_site ? { unique_in_site: maskKey(record.unique_in_site) } : {}),
  };
}

export function maskV2(record: V2IdentityVerification): Record<string, unknown> {
  if (record.status !== "VERIFIED") return { ...record };
  const c = record.verifiedCustomer;
  return {
    ...record,
    verifiedCustomer: {
      ...c,
      name: maskName(c.name),
      ...(c.phoneNumber ? { phoneNumber: maskDigits(c.phoneNumber) } : {}),
      ...(c.birthDate ? { birthDate: maskDate(c.birthDate) } : {}),
      ...(c.ci ? { ci: maskKey(c.ci) } : {}),
      ...(c.di ? { di: maskKey(c.di) } : {}),
    },
  };
}
