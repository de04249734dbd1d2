/**
 * Deterministic stand-ins for the two person keys PortOne V1 hands out.
 *
 * Real CI/DI come from the identity provider; the emulator only needs their shape and their
 * equality rules: CI is the same for one person on every site, DI is the same for one person within
 * one merchant and provider and differs elsewhere.
 */
import { createHash } from "node:crypto";

/**
 * CI (`unique_key`): base64 of SHA-512 of the person seed, always 88 characters.
 *
 * @example deriveCi("persona:adult") // the same 88-char string on every merchant
 */
export function deriveCi(personSeed: string): string {
  return createHash("sha512").update(personSeed, "utf8").digest("base64");
}

/**
 * DI (`unique_in_site`): base64 of SHA-384 of person seed + merchant code + provider, always 64
 * characters.
 *
 * @example
 * import { deriveDi, TEST_MERCHANT } from "certgate/emulator";
 * const di = deriveDi("certgate-persona:adult", TEST_MERCHANT.impCode, "danal"); // 64 characters
 */
export function deriveDi(personSeed: string, merchantCode: string, pgProvider: string): string {
  return createHash("sha384").update(`${personSeed}${merchantCode}${pgProvider}`, "utf8").digest("base64");
}

/**
 * Providers that never return a DI. KG Inicis's unified verification gives none (PORTONE.md), so a
 * record from it has no `unique_in_site` unless a test sets one explicitly.
 */
export const PROVIDERS_WITHOUT_DI: ReadonlySet<string> = new Set(["inicis_unified", "inicis"]);
