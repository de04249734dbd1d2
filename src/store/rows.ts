/**
 * Row mapping: a `verifications` row to a {@link VerificationRecord} (personal fields decrypted), a
 * verified identity to its columns (encrypted, bound to row and column) and an expected identity to
 * its keyed hashes, plus the instant columns' integer milliseconds. The policy is parsed by the
 * core's one policy shape (core/policy.ts).
 */
import type { Selectable } from "kysely";
import { formatCalendarDate } from "../core/calendar.js";
import {
  canonicalExpectedValues,
  EXPECTED_FIELDS,
  type ExpectedField,
  type ExpectedIdentity,
  isExpectedField,
} from "../core/expected.js";
import { carrierFrom, type Gender, type VerifiedIdentity } from "../core/identity.js";
import { type Policy, parsePolicy } from "../core/policy.js";
import { isPurpose, isRejectionReason, isVerificationStatus } from "../core/reasons.js";
import type { ApiVersion, StoredIdentity, VerificationRecord } from "../core/verification.js";
import type { Keyring } from "./crypto.js";
import type { VerificationsTable } from "./schema.js";

/** The encrypted columns, each a personal field's; what {@link SealedIdentity.plaintext} is keyed by. */
export type SealedColumn = "name" | "birth_date" | "phone";

/** A verified identity's columns, and the plaintext of the sealed ones (never stored). */
export interface SealedIdentity {
  columns: {
    name_enc: string | null;
    birth_date_enc: string | null;
    phone_enc: string | null;
    enc_key_id: string;
    gender: string | null;
    foreigner: number | null;
    carrier: string | null;
    provider: string;
    verified_at: number | null;
  };
  /** What each sealed column holds: the record of the row just written is built from these, not decrypted. */
  plaintext: Record<SealedColumn, string | undefined>;
}

/** The identity columns of a verified outcome; the personal ones encrypted, bound to row and column. */
export function sealIdentity(
  identity: VerifiedIdentity,
  verificationId: string,
  keyring: Keyring,
): SealedIdentity {
  const plaintext = {
    name: identity.name,
    birth_date: identity.birthDate && formatCalendarDate(identity.birthDate),
    phone: identity.phone,
  };
  const seal = (column: SealedColumn) => {
    const value = plaintext[column];
    return value === undefined ? null : keyring.encrypt(value, `verifications/${verificationId}/${column}`);
  };
  return {
    columns: {
      name_enc: seal("name"),
      birth_date_enc: seal("birth_date"),
      phone_enc: seal("phone"),
      enc_key_id: keyring.currentKeyId,
      gender: identity.gender ?? null,
      foreigner: identity.foreigner === undefined ? null : identity.foreigner ? 1 : 0,
      carrier: identity.carrier ?? null,
      provider: identity.provider,
      verified_at: identity.verifiedAt === undefined ? null : msOf(identity.verifiedAt),
    },
    plaintext,
  };
}

/** The column holding the keyed hash of each expected field. */
const EXPECTED_COLUMN = {
  name: "expected_name_hash",
  birth_date: "expected_birth_date_hash",
  phone: "expected_phone_hash",
} as const satisfies Record<ExpectedField, keyof VerificationsTable>;

/** What an expected field's hash is bound to: its row and field, so it means nothing elsewhere. */
export function expectedHashContext(verificationId: string, field: ExpectedField): string {
  return `verifications/${verificationId}/expected_${field}`;
}

/** The expected identity's columns: a keyed hash of each given field's canonical value, else null. */
export function expectedColumns(
  expected: ExpectedIdentity | undefined,
  verificationId: string,
  keyring: Keyring,
): Record<(typeof EXPECTED_COLUMN)[ExpectedField], string | null> {
  const values = expected === undefined ? {} : canonicalExpectedValues(expected);
  const hash = (field: ExpectedField) => {
    const value = values[field];
    return value === undefined ? null : keyring.hashValue(value, expectedHashContext(verificationId, field));
  };
  return {
    expected_name_hash: hash("name"),
    expected_birth_date_hash: hash("birth_date"),
    expected_phone_hash: hash("phone"),
  };
}

/** The stored hash of each expected field of `row`, for the fields that were given. */
export function expectedHashesOf(
  row: Selectable<VerificationsTable>,
): Partial<Record<ExpectedField, string>> {
  const hashes: Partial<Record<ExpectedField, string>> = {};
  for (const field of EXPECTED_FIELDS) {
    const hash = row[EXPECTED_COLUMN[field]];
    if (hash !== null) hashes[field] = hash;
  }
  return hashes;
}

/**
 * `row` as a record, its sealed columns decrypted — or, for the row a finish just wrote, taken from
 * `plaintext` (what was sealed into them), which spares decrypting what was just encrypted.
 */
export function verificationFromRow(
  row: Selectable<VerificationsTable>,
  keyring: Keyring,
  plaintext?: SealedIdentity["plaintext"],
): VerificationRecord {
  if (!isVerificationStatus(row.status))
    throw new Error(`store: verification ${row.id} has an unknown status`);
  if (row.reason !== null && !isRejectionReason(row.reason)) {
    throw new Error(`store: verification ${row.id} has an unknown reason`);
  }
  return {
    id: row.id,
    apiVersion: apiVersionOf(row),
    failedAttempts: Number(row.failed_attempts),
    maxAttempts: Number(row.max_attempts),
    boundId: row.bound_id,
    status: row.status,
    reason: row.reason ?? undefined,
    policy: policyOf(row.policy_json),
    purpose: purposeOf(row),
    accountRef: row.account_ref ?? undefined,
    mismatchedFields: mismatchedFieldsOf(row),
    returnUrl: row.return_url ?? undefined,
    upstreamId: row.upstream_id ?? undefined,
    personId: row.person_id ?? undefined,
    existingAccountRef: row.existing_account_ref ?? undefined,
    createdAt: dateOf(row.created_at),
    expiresAt: dateOf(row.expires_at),
    completedAt: row.completed_at === null ? undefined : dateOf(row.completed_at),
    identity: row.provider === null ? undefined : identityFromRow(row, row.provider, keyring, plaintext),
    purgedAt: row.purged_at === null ? undefined : dateOf(row.purged_at),
  };
}

/** Policies parsed, by their stored JSON: a store holds few distinct ones, and every row read has one. */
const policies = new Map<string, Policy>();

/** How many parsed policies are kept; past it the map starts again (a store rarely has this many). */
const POLICY_CACHE_SIZE = 256;

/** The policy stored as `json`, parsed once per text and frozen, as records share it. */
function policyOf(json: string): Policy {
  let policy = policies.get(json);
  if (policy === undefined) {
    const parsed = parsePolicy(JSON.parse(json));
    if (parsed.minAge !== undefined) Object.freeze(parsed.minAge);
    if (parsed.maxAge !== undefined) Object.freeze(parsed.maxAge);
    policy = Object.freeze(parsed);
    if (policies.size >= POLICY_CACHE_SIZE) policies.clear();
    policies.set(json, policy);
  }
  return policy;
}

function identityFromRow(
  row: Selectable<VerificationsTable>,
  provider: string,
  keyring: Keyring,
  plaintext: SealedIdentity["plaintext"] | undefined,
): StoredIdentity {
  const open = (column: SealedColumn, value: string | null) =>
    value === null || row.purged_at !== null
      ? undefined
      : plaintext !== undefined
        ? plaintext[column]
        : keyring.decrypt(value, `verifications/${row.id}/${column}`);
  return {
    name: open("name", row.name_enc),
    birthDate: open("birth_date", row.birth_date_enc),
    phone: open("phone", row.phone_enc),
    gender: genderOf(row.gender),
    foreigner: row.foreigner === null ? undefined : row.foreigner !== 0,
    carrier: carrierFrom(row.carrier ?? undefined),
    provider,
    verifiedAt: row.verified_at === null ? undefined : dateOf(row.verified_at),
  };
}

export function purposeOf(row: Selectable<VerificationsTable>) {
  if (isPurpose(row.purpose)) return row.purpose;
  throw new Error(`store: verification ${row.id} has an unknown purpose`);
}

function mismatchedFieldsOf(row: Selectable<VerificationsTable>): ExpectedField[] | undefined {
  if (row.mismatched_fields === null) return undefined;
  const fields: unknown = JSON.parse(row.mismatched_fields);
  if (!Array.isArray(fields) || !fields.every(isExpectedField)) {
    throw new Error(`store: verification ${row.id} has unknown mismatched fields`);
  }
  return fields;
}

function apiVersionOf(row: Selectable<VerificationsTable>): ApiVersion {
  if (row.api_version === "v1" || row.api_version === "v2") return row.api_version;
  throw new Error(`store: verification ${row.id} has an unknown api version`);
}

function genderOf(value: string | null): Gender | undefined {
  return value === "male" || value === "female" || value === "other" ? value : undefined;
}

export function msOf(date: Date): number {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError("store: invalid Date");
  return ms;
}

/** Instants are integer ms; PostgreSQL BIGINT may arrive as text if a pool was built without our parser. */
export function dateOf(ms: number | string): Date {
  return new Date(Number(ms));
}
