/**
 * certgate/portone's webhook helpers: `verifyWebhook` returns the typed event of a delivery that
 * `signWebhook` (or the dispatcher) signed, and refuses every other one with a typed reason.
 */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  ConfigError,
  WebhookVerificationError,
  type WebhookVerificationFailureReason,
} from "../../src/core/errors.js";
import type { VerificationCompletedEvent } from "../../src/core/webhook-event.js";
import { signWebhook, verifyWebhook, webhookSignature } from "../../src/portone/webhook.js";
import { verifyWebhookSignature } from "../../src/service/webhooks.js";

const SECRET = "whsec_dGVzdC13ZWJob29rLXNlY3JldC1ub3QtcmVhbA==";
const NOW = new Date("2026-03-01T00:00:00.000Z");

function makeEvent(overrides: Partial<VerificationCompletedEvent["data"]> = {}): VerificationCompletedEvent {
  return {
    id: "evt_test",
    type: "verification.completed",
    timestamp: NOW.toISOString(),
    data: {
      verification_id: "ver_test",
      api_version: "v1",
      purpose: "signup",
      mismatched_fields: null,
      status: "rejected",
      reason: "underage",
      account_ref: "acct-1",
      existing_account_ref: null,
      ...overrides,
    },
  };
}

async function signed(body: string, options: { id?: string; at?: Date } = {}) {
  const headers = await signWebhook({
    secret: SECRET,
    body,
    id: options.id ?? "evt_test",
    timestamp: options.at ?? NOW,
  });
  return { body, headers };
}

async function reasonOf(promise: Promise<unknown>): Promise<WebhookVerificationFailureReason | "accepted"> {
  try {
    await promise;
    return "accepted";
  } catch (error) {
    if (error instanceof WebhookVerificationError) return error.reason;
    throw error;
  }
}

describe("verifyWebhook", () => {
  it("returns the typed event of a signed delivery, narrowed by its type", async () => {
    const { body, headers } = await signed(JSON.stringify(makeEvent()));
    const event = await verifyWebhook({ secret: SECRET, body, headers, now: NOW });
    expect(event).toEqual(makeEvent());
    if (event.type === "verification.completed") expect(event.data.reason).toBe("underage");
  });

  it("accepts what signWebhook signs with no id given: the body's own id is the webhook-id", async () => {
    // The README's receiver test: signWebhook({ secret, body }) and nothing more.
    const body = JSON.stringify(makeEvent());
    const headers = await signWebhook({ secret: SECRET, body, timestamp: NOW });
    expect(headers["webhook-id"]).toBe("evt_test");
    await expect(verifyWebhook({ secret: SECRET, body, headers, now: NOW })).resolves.toEqual(makeEvent());
    // A body without an id of its own (not an event) still gets a fresh one.
    const bare = await signWebhook({ secret: SECRET, body: "[]", timestamp: NOW });
    expect(bare["webhook-id"]).toMatch(/^evt_[0-9a-f]{32}$/);
  });

  it("reads Fetch Headers and Node's lower-case header objects alike", async () => {
    const { body, headers } = await signed(JSON.stringify(makeEvent()));
    const fetchHeaders = new Headers(Object.entries(headers));
    await expect(
      verifyWebhook({ secret: SECRET, body, headers: fetchHeaders, now: NOW }),
    ).resolves.toMatchObject({
      id: "evt_test",
    });
  });

  it("accepts any of several signatures (a secret rotation) and a secret that is not whsec_", async () => {
    const body = JSON.stringify(makeEvent());
    const headers = await signWebhook({
      secret: "plain-text-secret-of-24-characters",
      body,
      id: "evt_test",
      timestamp: NOW,
    });
    const old = await webhookSignature({
      id: "evt_test",
      timestamp: NOW.getTime() / 1000,
      body,
      secret: SECRET,
    });
    headers["webhook-signature"] = `${old} ${headers["webhook-signature"]}`;
    await expect(
      verifyWebhook({ secret: "plain-text-secret-of-24-characters", body, headers, now: NOW }),
    ).resolves.toBeTruthy();
    await expect(verifyWebhook({ secret: SECRET, body, headers, now: NOW })).resolves.toBeTruthy();
  });

  it.each<
    [
      string,
      () => Promise<{ body: string; headers: Record<string, string> }>,
      WebhookVerificationFailureReason,
    ]
  >([
    [
      "no webhook-signature",
      async () => {
        const d = await signed(JSON.stringify(makeEvent()));
        return {
          body: d.body,
          headers: { "webhook-id": "evt_test", "webhook-timestamp": d.headers["webhook-timestamp"] },
        };
      },
      "missing_header",
    ],
    [
      "a timestamp that is not whole seconds",
      async () => {
        const d = await signed(JSON.stringify(makeEvent()));
        return { body: d.body, headers: { ...d.headers, "webhook-timestamp": "1772323200.5" } };
      },
      "missing_header",
    ],
    [
      "a timestamp 301 s old",
      async () => signed(JSON.stringify(makeEvent()), { at: new Date(NOW.getTime() - 301_000) }),
      "stale_timestamp",
    ],
    [
      "a timestamp 301 s ahead",
      async () => signed(JSON.stringify(makeEvent()), { at: new Date(NOW.getTime() + 301_000) }),
      "stale_timestamp",
    ],
    [
      "a body changed by one byte",
      async () => {
        const d = await signed(JSON.stringify(makeEvent()));
        return { body: `${d.body} `, headers: d.headers };
      },
      "bad_signature",
    ],
    [
      "another id than the one signed",
      async () => {
        const d = await signed(JSON.stringify(makeEvent()));
        return { body: d.body, headers: { ...d.headers, "webhook-id": "evt_other" } };
      },
      "bad_signature",
    ],
    [
      "a signature that is not base64",
      async () => {
        const d = await signed(JSON.stringify(makeEvent()));
        return { body: d.body, headers: { ...d.headers, "webhook-signature": "v1,@@@" } };
      },
      "bad_signature",
    ],
    ["a signed body that is not JSON", async () => signed("not json"), "malformed_body"],
    [
      "a signed event without data",
      async () => signed(JSON.stringify({ ...makeEvent(), data: undefined })),
      "malformed_body",
    ],
    [
      "a signed event with a status outside the closed set",
      async () => signed(JSON.stringify(makeEvent({ status: "approved" as never }))),
      "malformed_body",
    ],
    [
      "a signed event whose id is not the header's",
      async () => signed(JSON.stringify({ ...makeEvent(), id: "evt_other" })),
      "malformed_body",
    ],
    [
      "a signed event of a type this version does not know",
      async () => signed(JSON.stringify({ ...makeEvent(), type: "verification.teleported" })),
      "unknown_event",
    ],
  ])("refuses %s: %s", async (_name, delivery, reason) => {
    const { body, headers } = await delivery();
    expect(await reasonOf(verifyWebhook({ secret: SECRET, body, headers, now: NOW }))).toBe(reason);
  });

  it("says which unknown type it met, and never echoes the body", async () => {
    const { body, headers } = await signed(
      JSON.stringify({ ...makeEvent(), type: "verification.teleported" }),
    );
    const error = await verifyWebhook({ secret: SECRET, body, headers, now: NOW }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookVerificationError);
    expect(error).toMatchObject({
      code: "webhook_verification_failed",
      eventType: "verification.teleported",
    });
    expect(String((error as Error).message)).not.toContain("ver_test");
  });
});

describe("verifyWebhookSignature (deprecated) and signWebhook agree", () => {
  it("accepts what signWebhook signs and refuses a changed body", async () => {
    const { body, headers } = await signed(JSON.stringify(makeEvent()));
    expect(verifyWebhookSignature({ body, headers, secret: SECRET, now: NOW })).toBe(true);
    expect(verifyWebhookSignature({ body: `${body} `, headers, secret: SECRET, now: NOW })).toBe(false);
  });
});

describe("a receiver's configuration that cannot be trusted is refused, whatever the delivery", () => {
  /** HMAC-SHA-256 under an empty key: what anyone can compute without knowing a secret. */
  async function forgedWithEmptyKey(body: string, at: Date) {
    const id = "evt_test";
    const timestamp = Math.floor(at.getTime() / 1000);
    const mac = createHmac("sha256", Buffer.alloc(0)).update(`${id}.${timestamp}.${body}`).digest("base64");
    return { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": `v1,${mac}` };
  }

  it.each([
    ["empty", ""],
    ["whsec_ and nothing", "whsec_"],
    ["too short", "short-secret"],
    ["whsec_ of 6 bytes", "whsec_c2VjcmV0"],
    ["whsec_ not base64", "whsec_this-is-not_base64-at-all!!"],
    ["not a string", undefined as unknown as string],
  ])("secret %s: ConfigError from both helpers, never a forged event accepted", async (_name, secret) => {
    const body = JSON.stringify(makeEvent());
    const headers = await forgedWithEmptyKey(body, NOW);
    const verified = await verifyWebhook({ secret, body, headers, now: NOW }).catch((e: unknown) => e);
    expect(verified).toBeInstanceOf(ConfigError);
    expect(verified).toMatchObject({ variable: "secret" });
    expect(() => verifyWebhookSignature({ body, headers, secret, now: NOW })).toThrow(ConfigError);
  });

  it.each([
    ["toleranceSeconds NaN", { toleranceSeconds: Number.NaN }, "toleranceSeconds"],
    ["toleranceSeconds negative", { toleranceSeconds: -1 }, "toleranceSeconds"],
    ["toleranceSeconds Infinity", { toleranceSeconds: Number.POSITIVE_INFINITY }, "toleranceSeconds"],
    ["now an invalid Date", { now: new Date("not a date") }, "now"],
    ["now a number", { now: NOW.getTime() as unknown as Date }, "now"],
  ])("%s: ConfigError, never a six-year-old delivery accepted", async (_name, window, variable) => {
    const { body, headers } = await signed(JSON.stringify(makeEvent()), {
      at: new Date("2020-01-01T00:00:00Z"),
    });
    const input = { secret: SECRET, body, headers, now: NOW, ...window };
    await expect(verifyWebhook(input)).rejects.toMatchObject({ name: "ConfigError", variable });
    expect(() => verifyWebhookSignature(input)).toThrow(ConfigError);
  });
});
