/**
 * The tables as Kysely sees them. Instants are integer milliseconds since the epoch on both dialects
 * (SQLite INTEGER, PostgreSQL BIGINT read back as a number); booleans are 0/1 integers; JSON is text.
 */
import type { Generated } from "kysely";

export interface VerificationsTable {
  id: string;
  api_version: string;
  /** V1 merchant_uid / V2 identityVerificationId. Unique. */
  bound_id: string;
  status: string;
  reason: string | null;
  policy_json: string;
  account_ref: string | null;
  return_url: string | null;
  upstream_id: string | null;
  person_id: string | null;
  existing_account_ref: string | null;
  created_at: number;
  expires_at: number;
  completed_at: number | null;
  /** Keyring ciphertexts (`keyId.iv.tag.ciphertext`); null when absent or purged. */
  name_enc: string | null;
  birth_date_enc: string | null;
  phone_enc: string | null;
  enc_key_id: string | null;
  gender: string | null;
  foreigner: number | null;
  carrier: string | null;
  provider: string | null;
  verified_at: number | null;
  purged_at: number | null;
  /** Migration 0003: failed attempts counted so far, and how many are allowed while pending. */
  failed_attempts: Generated<number>;
  max_attempts: Generated<number>;
  /** Migration 0005: "signup" | "reverify" | "check" (core/purpose.ts). */
  purpose: Generated<string>;
  /**
   * Keyed hashes (`keyId.hash`, Keyring.hashValue) of the expected identity's canonical values,
   * while pending; null when not expected, and set to null when the verification finishes.
   */
  expected_name_hash: string | null;
  expected_birth_date_hash: string | null;
  expected_phone_hash: string | null;
  /** With reason identity_mismatch: a JSON array of the fields that differed ("name", …). */
  mismatched_fields: string | null;
  /** Migration 0006: when recovery next asks PortOne (null: not yet asked), and how often it has. */
  next_check_at: number | null;
  recovery_checks: Generated<number>;
}

export interface ConsumedIdsTable {
  /** imp_uid / identityVerificationId: consumed once. */
  upstream_id: string;
  verification_id: string;
  consumed_at: number;
}

export interface PersonsTable {
  id: string;
  key_kind: string;
  /** "" for CI, the provider for DI. */
  key_scope: string;
  /** HMAC-SHA-256 of the person key, base64url. Unique with kind and scope. */
  key_hash: string;
  key_id: string;
  created_at: number;
}

export interface AccountsTable {
  account_ref: string;
  /** Unique: one account per person. */
  person_id: string;
  verification_id: string;
  created_at: number;
}

export interface AuditEventsTable {
  id: Generated<number>;
  verification_id: string | null;
  type: string;
  data_json: string;
  created_at: number;
}

export interface WebhookOutboxTable {
  id: string;
  verification_id: string;
  type: string;
  payload_json: string;
  attempts: number;
  created_at: number;
  next_attempt_at: number;
  delivered_at: number | null;
  /** HTTP status of the last failed attempt (0: no answer). */
  last_status: number | null;
}

/**
 * An owed deletion of PortOne's copy of a consumed record (migration 0009): written by the completion
 * that consumed it, removed once PortOne's copy is gone.
 */
export interface UpstreamDeletionsTable {
  upstream_id: string;
  verification_id: string;
  /** When the next attempt is due (ms); a claim moves it to its lease's end. */
  due_at: number;
  /** Attempts claimed so far. */
  attempts: number;
  created_at: number;
}

/**
 * One `Idempotency-Key` of `POST /api/verifications`, scoped to the API key that sent it. Unique on
 * (api_key_digest, idempotency_key); a row older than 24 hours is taken over by the next use.
 */
export interface IdempotencyKeysTable {
  /** SHA-256 of the API key, base64url: never the key itself. */
  api_key_digest: string;
  /** The caller's Idempotency-Key, 1–255 printable ASCII. */
  idempotency_key: string;
  /** SHA-256 of the canonical JSON of the parsed request body, base64url. */
  fingerprint: string;
  verification_id: string;
  created_at: number;
}

/** certgate's database. */
export interface Database {
  verifications: VerificationsTable;
  consumed_ids: ConsumedIdsTable;
  persons: PersonsTable;
  accounts: AccountsTable;
  audit_events: AuditEventsTable;
  webhook_outbox: WebhookOutboxTable;
  idempotency_keys: IdempotencyKeysTable;
  upstream_deletions: UpstreamDeletionsTable;
}
