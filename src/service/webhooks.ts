/**
 * Webhooks, Standard Webhooks style: each finished verification's event is written to an outbox in
 * the same transaction as its outcome, then delivered by this dispatcher with the headers
 * `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA-256 of
 * "id.timestamp.body">`, retried with exponential backoff until a 2xx. Delivery is at least once:
 * receivers deduplicate on `webhook-id`. Events are not ordered: a batch is delivered concurrently.
 * Several instances on one database share the outbox: each due event is claimed by one of them under
 * a short lease (see `Store.claimWebhookEvents`).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { exponentialBackoffMs } from "../core/backoff.js";
import { ConfigError } from "../core/errors.js";
import { FETCHABLE_URL_RULE, isFetchableUrl } from "../core/http-url.js";
import {
  functionOption,
  MAX_DELAY_MS,
  methodsOption,
  optionsObject,
  wholeNumberOption,
} from "../core/option-values.js";
import type { Store } from "../core/store.js";
import { checkOptionKeys } from "../core/unknown-fields.js";
import {
  replayWindow,
  type WebhookHeadersInput,
  webhookHeader,
  webhookSecretBytes,
  webhookSignature,
  webhookSignedContent,
} from "../portone/webhook.js";
import { checkedLogger } from "../util/guarded-logger.js";
import { backgroundLoop } from "./loop.js";

/**
 * For receivers: whether a delivery's signature (any of the space-separated `v1,` signatures)
 * matches and its timestamp is within `toleranceSeconds` (default 300) of now, against replays.
 *
 * @deprecated Use `verifyWebhook` from `certgate/portone`: it also parses the body into the typed
 * event and says why a delivery failed (`WebhookVerificationError.reason`). Kept for receivers
 * written against it; like `verifyWebhook` it throws a ConfigError for a secret, tolerance or `now`
 * that cannot be trusted (an empty secret made `true` a signature anyone can compute).
 *
 * @example
 * import express from "express";
 * app.post("/hooks/certgate", express.text({ type: "*\/*" }), (req, res) => {
 *   if (!verifyWebhookSignature({ body: req.body, headers: req.headers, secret })) {
 *     res.sendStatus(400);
 *     return;
 *   }
 *   const event = JSON.parse(req.body); // a verification.completed event, signed by certgate
 *   res.sendStatus(204);
 * });
 */
export function verifyWebhookSignature(input: {
  body: string;
  headers: WebhookHeadersInput;
  secret: string;
  toleranceSeconds?: number;
  now?: Date;
}): boolean {
  // The receiver's configuration first, whatever the delivery: a bad one throws on every delivery.
  const key = webhookSecretBytes(input.secret);
  const fresh = replayWindow(input);
  const id = webhookHeader(input.headers, "webhook-id");
  const timestampText = webhookHeader(input.headers, "webhook-timestamp");
  const signatures = webhookHeader(input.headers, "webhook-signature");
  if (!id || !timestampText || !signatures || !/^\d+$/.test(timestampText)) return false;
  const timestamp = Number(timestampText);
  if (!fresh(timestamp)) return false;
  // Synchronous, as it always was: node:crypto's HMAC over the same signed content.
  const mac = createHmac("sha256", key)
    .update(webhookSignedContent(id, timestamp, input.body))
    .digest("base64");
  const expected = Buffer.from(`v1,${mac}`);
  return signatures.split(" ").some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/** Where and how {@link createWebhookDispatcher} delivers: the receiver's URL, the signing secret, retry timing. */
export interface WebhookDispatcherOptions {
  store: Store;
  url: string;
  secret: string;
  fetch?: typeof fetch;
  now?: () => Date;
  /** Per delivery attempt. Default 5,000 ms. */
  timeoutMs?: number;
  /** Backoff before attempt n+1: min(maxDelayMs, baseDelayMs × 2^n). Defaults 1 s and 1 h. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Events per batch. Default 50. */
  batchSize?: number;
  logger?: { warn(fields: Record<string, unknown>, message: string): void };
}

const DISPATCHER_OPTION_KEYS: Record<keyof WebhookDispatcherOptions, true> = {
  store: true,
  url: true,
  secret: true,
  fetch: true,
  now: true,
  timeoutMs: true,
  baseDelayMs: true,
  maxDelayMs: true,
  batchSize: true,
  logger: true,
};

/**
 * Delivers the outbox's due webhook events; one per instance, sharing the outbox under leases.
 *
 * @example
 * import { createWebhookDispatcher, type WebhookDispatcher } from "certgate";
 * const dispatcher: WebhookDispatcher = createWebhookDispatcher({
 *   store,
 *   url: "https://shop.example/hooks/certgate",
 *   secret: process.env.CERTGATE_WEBHOOK_SECRET ?? "",
 * });
 */
export interface WebhookDispatcher {
  /** Delivers every due event once; returns how many were delivered. */
  runOnce(): Promise<number>;
  /** Runs `runOnce` every `intervalMs` until `stop()`. */
  start(intervalMs: number): void;
  /** Stops the loop and waits for a batch in flight. */
  stop(): Promise<void>;
}

/**
 * A dispatcher of `options.store`'s outbox to `options.url`, signed with `options.secret`.
 * @example createWebhookDispatcher({ store, url, secret }).start(1_000);
 */
export function createWebhookDispatcher(options: WebhookDispatcherOptions): WebhookDispatcher {
  const what = "createWebhookDispatcher options";
  optionsObject(what, options);
  checkOptionKeys(what, options, DISPATCHER_OPTION_KEYS);
  // Of the wrong kind, each failed every delivery or every claim, retried for ever (fetch: "x").
  methodsOption(
    `${what}.store`,
    options.store,
    ["claimWebhookEvents", "markWebhookDelivered", "markWebhookFailed"],
    "is required: a store from openStore",
  );
  functionOption(`${what}.fetch`, options.fetch);
  functionOption(`${what}.now`, options.now);
  // Guarded: a logger that throws in the loop's failure handler rejected the tick's promise, and
  // Node ends the process on an unhandled rejection.
  const logger = checkedLogger(`${what}.logger`, options.logger, ["warn"]);
  // Checked now, not at the first delivery: a secret or URL that cannot work would fail every
  // delivery, retried forever with a warning each time.
  webhookSecretBytes(options.secret);
  if (!isFetchableUrl(options.url)) throw new ConfigError("url", FETCHABLE_URL_RULE);
  const doFetch = options.fetch ?? globalThis.fetch;
  const now = options.now ?? (() => new Date());
  const timeoutMs = wholeNumberOption("timeoutMs", options.timeoutMs, 1, MAX_DELAY_MS) ?? 5_000;
  const base = wholeNumberOption("baseDelayMs", options.baseDelayMs, 1, MAX_DELAY_MS) ?? 1_000;
  const max = wholeNumberOption("maxDelayMs", options.maxDelayMs, base, MAX_DELAY_MS) ?? 3_600_000;
  /** One attempt of `event`, claimed under the lease `leaseUntil`: marked only while it holds it. */
  async function deliver(
    event: { id: string; payload: string; attempts: number },
    leaseUntil: Date,
  ): Promise<boolean> {
    const timestamp = Math.floor(now().getTime() / 1000);
    let status = 0;
    try {
      const res = await doFetch(options.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "webhook-id": event.id,
          "webhook-timestamp": String(timestamp),
          "webhook-signature": await webhookSignature({
            id: event.id,
            timestamp,
            body: event.payload,
            secret: options.secret,
          }),
        },
        body: event.payload,
        signal: AbortSignal.timeout(timeoutMs),
        redirect: "manual",
      });
      status = res.status;
      await res.body?.cancel();
      if (res.ok) {
        await options.store.markWebhookDelivered(event.id, now(), leaseUntil);
        return true;
      }
    } catch {
      status = 0;
    }
    const delay = exponentialBackoffMs(event.attempts, base, max);
    await options.store.markWebhookFailed(event.id, {
      now: now(),
      nextAttemptAt: new Date(now().getTime() + delay),
      status,
      leaseUntil,
    });
    logger?.warn({ event_id: event.id, status, attempt: event.attempts + 1 }, "webhook delivery failed");
    return false;
  }

  const batchSize = wholeNumberOption("batchSize", options.batchSize, 1, 10_000) ?? 50;
  // The events of a claimed batch are delivered at once (each to its own verification; receivers
  // deduplicate on webhook-id and ordering is not promised), so the lease only has to outlast one
  // attempt's timeout. Another instance's dispatcher leaves them alone until then, and an instance
  // killed mid-batch delays them by at most this long.
  const leaseMs = timeoutMs + 5_000;

  async function runBatch(): Promise<{ claimed: number; delivered: number }> {
    const at = now();
    const leaseUntil = new Date(at.getTime() + leaseMs);
    const events = await options.store.claimWebhookEvents({ now: at, limit: batchSize, leaseUntil });
    const results = await Promise.all(events.map((event) => deliver(event, leaseUntil)));
    return { claimed: events.length, delivered: results.filter(Boolean).length };
  }

  // A full batch means a backlog: the loop goes on at once instead of waiting for the next tick.
  let backlog = false;
  const runOnce = async (): Promise<number> => {
    backlog = false;
    const { claimed, delivered } = await runBatch();
    backlog = claimed === batchSize;
    return delivered;
  };

  // The database or the receiver is down: the events stay due in the outbox and the next tick
  // tries again, so the loop resumes by itself when the fault ends.
  return backgroundLoop(runOnce, {
    logger,
    failure: "webhook dispatch failed; retried on the next tick",
    nextDelayMs: (intervalMs) => (backlog ? 0 : intervalMs),
  });
}
