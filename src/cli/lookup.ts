/**
 * `certgate lookup <imp_uid|identityVerificationId>`: fetches the upstream record with certgate's
 * own credentials and prints it for an operator, with name, phone, birthday, CI and DI masked.
 */
import { maskName } from "../core/identity.js";
import type { V1Certification } from "../core/v1/upstream.js";
import type { V2IdentityVerification } from "../core/v2/upstream.js";

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

/** "1990-01-15" → "1990-**-**". */
export function maskDate(value: string): string {
  return value.replace(/^(\d{4})-\d{2}-\d{2}/, "$1-**-**");
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
