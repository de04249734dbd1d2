/**
 * Row mapping: a `verifications` row to a {@link VerificationRecord} (personal fields decrypted) and a
 * verified identity to its columns (encrypted, bound to row and column), plus the instant columns'
 * integer milliseconds. The policy is parsed by the core's one policy shape (core/policy.ts).
 */
import type { Selectable } from "kysely";
import { formatCalendarDate } from "../core/calendar.js";
import { carrierFrom, type Gender, type VerifiedIdentity } from "../core/identity.js";
import { parsePolicy } from "../core/policy.js";
import { isRejectionReason, isVerificationStatus } from "../core/reasons.js";
import type { ApiVersion, StoredIdentity, VerificationRecord } from "../core/verification.js";
import type { Keyring } from "./crypto.js";
import type { VerificationsTable } from "./schema.js";

/** The identity columns of a verified outcome; the personal ones encrypted, bound to row and column. */
export function identityColumns(identity: VerifiedIdentity, verificationId: string, keyring: Keyring) {
  const seal = (column: string, value: string | undefined) =>
    value === undefined ? null : keyring.encrypt(value, `verifications/${verificationId}/${column}`);
  return {
    name_enc: seal("name", identity.name),
    birth_date_enc: seal("birth_date", identity.birthDate && formatCalendarDate(identity.birthDate)),
    phone_enc: seal("phone", identity.phone),
    enc_key_id: keyring.currentKeyId,
    gender: identity.gender ?? null,
    foreigner: identity.foreigner === undefined ? null : identity.foreigner ? 1 : 0,
    carrier: identity.carrier ?? null,
    provider: identity.provider,
    verified_at: identity.verifiedAt === undefined ? null : msOf(identity.verifiedAt),
  };
}

export function verificationFromRow(
  row: Selectable<VerificationsTable>,
  keyring: Keyring,
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
    policy: parsePolicy(JSON.parse(row.policy_json)),
    accountRef: row.account_ref ?? undefined,
    returnUrl: row.return_url ?? undefined,
    upstreamId: row.upstream_id ?? undefined,
    personId: row.person_id ?? undefined,
    existingAccountRef: row.existing_account_ref ?? undefined,
    createdAt: dateOf(row.created_at),
    expiresAt: dateOf(row.expires_at),
    completedAt: row.completed_at === null ? undefined : dateOf(row.completed_at),
    identity: row.provider === null ? undefined : identityFromRow(row, row.provider, keyring),
    purgedAt: row.purged_at === null ? undefined : dateOf(row.purged_at),
  };
}

function identityFromRow(
  row: Selectable<VerificationsTable>,
  provider: string,
  keyring: Keyring,
): StoredIdentity {
  const open = (column: string, value: string | null) =>
    value === null || row.purged_at !== null
      ? undefined
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
