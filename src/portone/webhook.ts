/**
 * certgate's webhooks, for receivers and their tests: {@link verifyWebhook} checks a delivery and
 * returns its typed event, {@link signWebhook} makes the headers certgate would send. Standard
 * Webhooks: `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<base64
 * HMAC-SHA-256 of "id.timestamp.body">`, several space-separated during a secret rotation.
 *
 * Web Crypto and `TextEncoder` only, so it runs wherever `fetch` does (Node 20+, Bun, Deno, edge
 * workers). No dependency on the service.
 */
import * as z from "zod";
import { ConfigError, WebhookVerificationError } from "../core/errors.js";
import { EXPECTED_FIELDS } from "../core/expected.js";
import { PURPOSES, REJECTION_REASONS } from "../core/reasons.js";
import type { WebhookEvent, WebhookEventType } from "../core/webhook-event.js";

/**
 * How far a delivery's `webhook-timestamp` may be from now by default, in seconds (replay bound).
 * @example await verifyWebhook({ secret, body, headers, toleranceSeconds: WEBHOOK_TOLERANCE_SECONDS * 2 });
 */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/** Request headers as Fetch (`Headers`) or Node (`req.headers`: lower-case names) give them. */
export type WebhookHeadersInput = Headers | Record<string, string | string[] | undefined>;

/**
 * The three headers of one delivery, as {@link signWebhook} makes them. A type, not an interface,
 * so it passes as a plain header record (`fetch`'s `headers`, {@link WebhookHeadersInput}).
 */
export type WebhookHeaders = {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
};

/** What {@link verifyWebhook} checks. */
export interface VerifyWebhookInput {
  /** The signing secret (`CERTGATE_WEBHOOK_SECRET`): `whsec_<base64>` or any other text (UTF-8). */
  secret: string;
  /** The raw request body, exactly as received: parse it only through this function. */
  body: string;
  headers: WebhookHeadersInput;
  /** Default {@link WEBHOOK_TOLERANCE_SECONDS}. */
  toleranceSeconds?: number;
  /** The receiver's clock. Default `new Date()`. */
  now?: Date;
}

/** What {@link signWebhook} signs. */
export interface SignWebhookInput {
  secret: string;
  /** The body to send, e.g. `JSON.stringify(event)`. */
  body: string;
  /**
   * The `webhook-id`. Default: the body's own `id` (certgate's events carry theirs, and
   * {@link verifyWebhook} requires the two to match), else a fresh `evt_…` id.
   */
  id?: string;
  /** Default: now. */
  timestamp?: Date;
}

/** The shortest signing secret of text accepted, in characters (`CERTGATE_WEBHOOK_SECRET`'s rule). */
export const WEBHOOK_SECRET_MIN_LENGTH = 24;
/** The shortest `whsec_` key accepted, in bytes once decoded (Standard Webhooks' are 24 to 64). */
const WEBHOOK_KEY_MIN_BYTES = 16;

/**
 * Secret bytes: a `whsec_<base64>` secret is decoded as Standard Webhooks does; any other string is
 * UTF-8. Every signature and check goes through here, so none runs on a secret anyone could guess:
 * an empty one (`process.env.X ?? ""`) would make a signature anyone can forge.
 * @throws ConfigError (`secret`) unless `secret` is a `whsec_` secret of valid base64 of at least 16
 *   bytes, or text of at least {@link WEBHOOK_SECRET_MIN_LENGTH} characters.
 * @example webhookSecretBytes("whsec_MDEyMzQ1Njc4OWFiY2RlZg=="); // the 16 bytes of "0123456789abcdef"
 */
export function webhookSecretBytes(secret: string): Uint8Array<ArrayBuffer> {
  if (typeof secret !== "string") {
    throw new ConfigError("secret", "must be a string: whsec_<base64>, or 24 or more characters of text");
  }
  if (secret.startsWith("whsec_")) {
    let key: Uint8Array<ArrayBuffer> | undefined;
    try {
      key = fromBase64(secret.slice(6));
    } catch {
      key = undefined;
    }
    if (key === undefined || key.length < WEBHOOK_KEY_MIN_BYTES) {
      throw new ConfigError(
        "secret",
        `a whsec_ secret must be base64 of ${WEBHOOK_KEY_MIN_BYTES} or more bytes`,
      );
    }
    return key;
  }
  if (secret.length < WEBHOOK_SECRET_MIN_LENGTH) {
    throw new ConfigError(
      "secret",
      `must be whsec_<base64>, or ${WEBHOOK_SECRET_MIN_LENGTH} or more characters of text`,
    );
  }
  return new TextEncoder().encode(secret);
}

/**
 * Why `secret` cannot sign webhooks ({@link webhookSecretBytes}'s rule), or undefined when it can:
 * for a configuration that names the secret its own way (`CERTGATE_WEBHOOK_SECRET`,
 * `config.webhookSecret`).
 */
export function webhookSecretProblem(secret: unknown): string | undefined {
  try {
    webhookSecretBytes(secret as string);
    return undefined;
  } catch (error) {
    if (error instanceof ConfigError) return error.problem;
    throw error;
  }
}

/**
 * The replay window of `input`, checked first: a tolerance of NaN or a `now` of an invalid Date would
 * make every comparison false, and so accept a delivery of any age. Answers whether a delivery
 * signed at a timestamp (seconds) is within it.
 * @throws ConfigError (`toleranceSeconds`, `now`) for a window that is not one.
 */
export function replayWindow(input: {
  toleranceSeconds?: number | undefined;
  now?: Date | undefined;
}): (timestamp: number) => boolean {
  const tolerance = input.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS;
  if (typeof tolerance !== "number" || !Number.isFinite(tolerance) || tolerance < 0) {
    throw new ConfigError("toleranceSeconds", "must be a finite number of seconds, 0 or more");
  }
  const now = input.now ?? new Date();
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    throw new ConfigError("now", "must be a valid Date");
  }
  const nowSeconds = Math.floor(now.getTime() / 1000);
  return (timestamp) => Math.abs(nowSeconds - timestamp) <= tolerance;
}

/**
 * The text a signature covers: `id.timestamp.body`.
 * @example webhookSignedContent("evt_1", 1767225600, "{}"); // "evt_1.1767225600.{}"
 */
export function webhookSignedContent(id: string, timestamp: number, body: string): string {
  return `${id}.${timestamp}.${body}`;
}

/**
 * One header of `headers`, the first value if repeated.
 * @example webhookHeader(request.headers, "webhook-id");
 */
export function webhookHeader(headers: WebhookHeadersInput, name: string): string | undefined {
  const value = headers instanceof Headers ? headers.get(name) : headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? undefined;
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

function hmacKey(secret: string, usage: "sign" | "verify"): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    webhookSecretBytes(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    [usage],
  );
}

/**
 * The `webhook-signature` value for one delivery: `v1,<base64 HMAC-SHA-256>`.
 * @example const signature = await webhookSignature({ id: "evt_1", timestamp: 1767225600, body, secret });
 */
export async function webhookSignature(input: {
  id: string;
  timestamp: number;
  body: string;
  secret: string;
}): Promise<string> {
  const content = new TextEncoder().encode(webhookSignedContent(input.id, input.timestamp, input.body));
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(input.secret, "sign"), content);
  return `v1,${toBase64(new Uint8Array(mac))}`;
}

/**
 * The headers certgate would send with `body`, for the receiver's own tests.
 *
 * @example
 * const body = JSON.stringify({ id: "evt_test", type: "verification.completed", timestamp, data });
 * const headers = await signWebhook({ secret, body });
 * const response = await app.request("/hooks/certgate", { method: "POST", headers, body });
 */
export async function signWebhook(input: SignWebhookInput): Promise<WebhookHeaders> {
  const id = input.id ?? bodyEventId(input.body) ?? `evt_${crypto.randomUUID().replaceAll("-", "")}`;
  const timestamp = Math.floor((input.timestamp ?? new Date()).getTime() / 1000);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": await webhookSignature({ id, timestamp, body: input.body, secret: input.secret }),
  };
}

/** The `id` of a body that is a JSON object with a non-empty string `id`, else undefined. */
function bodyEventId(body: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const { id } = parsed as { id?: unknown };
  return typeof id === "string" && id !== "" ? id : undefined;
}

const envelopeSchema = z.object({
  id: z.string().min(1),
  type: z.string().min(1),
  timestamp: z.iso.datetime(),
  data: z.unknown(),
});

/**
 * The schema of each event's `data`, by type. Typed by the {@link WebhookEvent} union, so an event
 * added there fails to compile until its schema is here. Fields this version does not know are
 * dropped, so a newer certgate may add some.
 */
const outcomeData = {
  verification_id: z.string(),
  api_version: z.enum(["v1", "v2"]),
  purpose: z.enum(PURPOSES),
  mismatched_fields: z.array(z.enum(EXPECTED_FIELDS)).nullable(),
  account_ref: z.string().nullable(),
  existing_account_ref: z.string().nullable(),
};
const EVENT_DATA: { [T in WebhookEventType]: z.ZodType<Extract<WebhookEvent, { type: T }>["data"]> } = {
  "verification.completed": z.object({
    ...outcomeData,
    status: z.enum(["verified", "rejected"]),
    reason: z.enum(REJECTION_REASONS).nullable(),
  }),
  "verification.expired": z.object({
    ...outcomeData,
    status: z.literal("expired"),
    reason: z.literal("expired"),
  }),
  "account.unbound": z.object({ account_ref: z.string(), verification_id: z.string() }),
  "identity.purged": z.object({ verification_id: z.string(), purged_at: z.string() }),
};

function isKnownType(type: string): type is WebhookEventType {
  return Object.hasOwn(EVENT_DATA, type);
}

function parseEvent(body: string): WebhookEvent {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (cause) {
    throw new WebhookVerificationError("malformed_body", { cause });
  }
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) throw new WebhookVerificationError("malformed_body");
  const { type } = envelope.data;
  if (!isKnownType(type)) throw new WebhookVerificationError("unknown_event", { eventType: type });
  const data = EVENT_DATA[type].safeParse(envelope.data.data);
  if (!data.success) throw new WebhookVerificationError("malformed_body", { eventType: type });
  // The schema of `type` parsed `data`: the pair is that event (TypeScript cannot correlate them).
  return { ...envelope.data, type, data: data.data } as WebhookEvent;
}

/** Whether any of the space-separated `v1,` signatures is the HMAC of `content` (constant time: Web Crypto's verify). */
async function anySignatureMatches(signatures: string, content: Uint8Array<ArrayBuffer>, key: CryptoKey) {
  for (const candidate of signatures.split(" ")) {
    if (!candidate.startsWith("v1,")) continue;
    let mac: Uint8Array<ArrayBuffer>;
    try {
      mac = fromBase64(candidate.slice(3));
    } catch {
      continue;
    }
    if (await crypto.subtle.verify("HMAC", key, mac, content)) return true;
  }
  return false;
}

/**
 * Checks a certgate webhook delivery and returns its event, typed by `type`: the headers are
 * present, the timestamp is within `toleranceSeconds` of `now` (against replays), a `v1,`
 * signature matches the raw body under `secret`, and the body is a certgate event. Deliveries are
 * at least once: deduplicate on `event.id` (the `webhook-id` header).
 *
 * @throws WebhookVerificationError with `reason` `missing_header`, `stale_timestamp`,
 *   `bad_signature`, `malformed_body` or `unknown_event`; answer it 400.
 * @throws ConfigError (`secret`, `toleranceSeconds`, `now`) for a receiver's configuration that
 *   cannot be trusted, whatever the delivery: see {@link webhookSecretBytes}, {@link replayWindow}.
 *
 * @example
 * // A route handler `(req: Request) => Response` (Next.js, Hono, Bun, Deno, workers):
 * export async function POST(request: Request) {
 *   try {
 *     const event = await verifyWebhook({ secret, body: await request.text(), headers: request.headers });
 *     if (event.type === "verification.completed" && event.data.status === "verified") {
 *       await markVerified(event.data.verification_id);
 *     }
 *     return new Response(null, { status: 204 });
 *   } catch (error) {
 *     if (error instanceof WebhookVerificationError) return new Response(error.reason, { status: 400 });
 *     throw error;
 *   }
 * }
 */
export async function verifyWebhook(input: VerifyWebhookInput): Promise<WebhookEvent> {
  // The receiver's configuration first, whatever the delivery: a bad one fails every delivery loudly.
  const key = await hmacKey(input.secret, "verify");
  const fresh = replayWindow(input);
  const id = webhookHeader(input.headers, "webhook-id");
  const timestampText = webhookHeader(input.headers, "webhook-timestamp");
  const signatures = webhookHeader(input.headers, "webhook-signature");
  if (!id || !timestampText || !signatures || !/^\d{1,12}$/.test(timestampText)) {
    throw new WebhookVerificationError("missing_header");
  }
  const timestamp = Number(timestampText);
  if (!fresh(timestamp)) throw new WebhookVerificationError("stale_timestamp");
  const content = new TextEncoder().encode(webhookSignedContent(id, timestamp, input.body));
  if (!(await anySignatureMatches(signatures, content, key))) {
    throw new WebhookVerificationError("bad_signature");
  }
  const event = parseEvent(input.body);
  // The id is signed in the header; the body's own must be the same event.
  if (event.id !== id) throw new WebhookVerificationError("malformed_body", { eventType: event.type });
  return event;
}
