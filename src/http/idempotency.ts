/**
 * `Idempotency-Key` on `POST /api/verifications`, the way Stripe does it: the key is the caller's,
 * scoped to the API key that sent it; the request it came with is compared by a fingerprint of its
 * parsed body. The guarantee itself (one verification per key, across instances) is the store's.
 */
import { createHash, createHmac } from "node:crypto";
import { RequestError } from "../core/errors.js";

/** Stripe's bound: 1–255 printable ASCII characters. */
const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/;

/** The response header that marks a replayed answer. */
export const REPLAYED_HEADER = "Idempotent-Replayed";

/**
 * The `Idempotency-Key` header's value, or undefined when it is absent.
 * @throws RequestError `invalid_idempotency_key` when it is present but empty, longer than 255
 * characters or not printable ASCII (the value is never echoed).
 */
export function idempotencyKeyFrom(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(header)) {
    throw new RequestError(
      "invalid_idempotency_key",
      "Idempotency-Key must be 1–255 printable ASCII characters",
    );
  }
  return header;
}

/** Whose keys these are: SHA-256 of the API key, base64url. The key itself is never stored. */
export function idempotencyScope(apiKey: string): string {
  return createHash("sha256").update(apiKey).digest("base64url");
}

/**
 * HMAC-SHA-256 (base64url), keyed by the caller's API key, of the canonical JSON of a parsed body:
 * object keys sorted at every depth, so `{"a":1,"b":2}` and `{"b":2,"a":1}` are the same request.
 * Keyed because the body may carry an expected identity (a birth date, a phone): a plain digest
 * stored beside the request would let anyone holding the database guess it back. The database holds
 * only the API key's digest, never the key.
 */
export function fingerprintOf(body: unknown, apiKey: string): string {
  return createHmac("sha256", apiKey).update(canonicalJson(body)).digest("base64url");
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
