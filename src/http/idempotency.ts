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
 * characters or not printable ASCII, or was sent `times` > 1 times (the value is never echoed).
 */
export function idempotencyKeyFrom(header: string | undefined, times = 1): string | undefined {
  if (header === undefined) return undefined;
  if (times > 1) {
    // Node joins repeated headers with ", " (Fetch's Headers too): "k1, k2" would be one key that
    // neither attempt sent, and a retry layer that adds its own key would lose idempotency unseen.
    throw new RequestError("invalid_idempotency_key", "Idempotency-Key must be sent once");
  }
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

/**
 * How many times the request carried header `name` (lower case), read from Node's raw headers where
 * the request came through Node (`certgate serve`, `toNodeHandler`): elsewhere the runtime has
 * joined repeats already, and 1 is all that can be said.
 */
export function headerTimes(env: unknown, name: string): number {
  const incoming = typeof env === "object" && env !== null && "incoming" in env ? env.incoming : undefined;
  const raw =
    typeof incoming === "object" && incoming !== null && "rawHeaders" in incoming
      ? incoming.rawHeaders
      : undefined;
  if (!Array.isArray(raw)) return 1;
  let times = 0;
  for (let i = 0; i < raw.length; i += 2) if (String(raw[i]).toLowerCase() === name) times++;
  return Math.max(times, 1);
}
