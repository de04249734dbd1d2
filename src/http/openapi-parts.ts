/**
 * The pieces /openapi.json is built from (openapi.ts assembles them): zod schemas converted to JSON
 * Schema, the error responses of each route with their codes as enums (from responses.ts), a
 * completion's answers, and the webhook events.
 */
import * as z from "zod";
import type { RequestErrorCode } from "../core/errors.js";
import {
  ACCOUNT_UNBOUND,
  IDENTITY_PURGED,
  VERIFICATION_COMPLETED,
  VERIFICATION_EXPIRED,
} from "../core/webhook-event.js";
import {
  requestErrorStatus,
  STORE_ERROR_CODES,
  STORE_RETRY_AFTER_SECONDS,
  UPSTREAM_RETRY_AFTER_SECONDS,
  upstreamErrorCodes,
} from "./responses.js";
import {
  accountUnboundEventSchema,
  answerSchemas,
  completionAnswerSchema,
  completionErrorSchema,
  errorSchema,
  identityPurgedEventSchema,
  verificationCompletedEventSchema,
  verificationExpiredEventSchema,
} from "./view-schemas.js";

export type Json = Record<string, unknown>;
export interface Response {
  description: string;
  headers?: Record<string, unknown>;
  content?: Json;
}
export interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  security: Record<string, string[]>[];
  parameters?: Json[];
  requestBody?: Json;
  responses: Record<string, Response>;
}

/** The security scheme of the merchant routes. */
export const API_KEY_SCHEME = "apiKey";
/** An operation of the merchant API (behind an API key). */
export const merchant = (op: Omit<Operation, "tags" | "security">): Operation => ({
  ...op,
  tags: ["merchant"],
  security: [{ [API_KEY_SCHEME]: [] }],
});
/** An operation the browser calls (no API key). */
export const browser = (op: Omit<Operation, "tags" | "security">): Operation => ({
  ...op,
  tags: ["browser"],
  security: [],
});
/** An operations route (probes, metrics, the document). */
export const ops = (op: Omit<Operation, "tags" | "security">): Operation => ({
  ...op,
  tags: ["operations"],
  security: [],
});

const schemaUri = (id: string) => `#/components/schemas/${id}`;

/** Answer schemas stay open (`additionalProperties` unset): answers may gain fields; ignore those you do not know. */
function tidy({ jsonSchema }: { jsonSchema: Json }, answer: boolean) {
  if (jsonSchema.format === "date-time" || jsonSchema.format === "date") delete jsonSchema.pattern;
  if (answer && jsonSchema.additionalProperties === false) delete jsonSchema.additionalProperties;
}

export function jsonSchema(schema: z.ZodType, io: "input" | "output"): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: "any",
    override: (ctx) => tidy(ctx, io === "output"),
  });
  return rest;
}

export function componentSchemas(): Record<string, Json> {
  const { schemas } = z.toJSONSchema(answerSchemas, {
    uri: schemaUri,
    override: (ctx) => tidy(ctx, true),
  });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $schema: _, $id: __, ...rest }]) => [id, rest]),
  );
}

/** A named answer schema by reference, anything else inline. */
export function schemaOf(schema: z.ZodType) {
  const id = answerSchemas.get(schema)?.id;
  return id ? { $ref: schemaUri(id) } : jsonSchema(schema, "output");
}
export const answer = (schema: z.ZodType) => ({
  content: { "application/json": { schema: schemaOf(schema) } },
});
export const requestBody = (schema: z.ZodType) => ({
  required: true,
  content: { "application/json": { schema: jsonSchema(schema, "input") } },
});

export function queryParameters(schema: z.ZodObject) {
  return Object.entries(schema.shape).map(([name, field]) => ({
    name,
    in: "query",
    required: !(field as z.ZodType).safeParse(undefined).success,
    schema: jsonSchema(field as z.ZodType, "input"),
  }));
}
export const pathParameter = (name: string, schema: z.ZodType, description: string) => ({
  name,
  in: "path",
  required: true,
  description,
  schema: jsonSchema(schema, "input"),
});

/** What a route can answer besides its successes: request codes, and the upstream and database faults. */
export type Problem = RequestErrorCode | "upstream" | "store" | "not_ready";

export const NOTES: Partial<Record<RequestErrorCode, string>> = {
  invalid_request: "a field fails its schema or the policy is inconsistent (error.details says which)",
  invalid_json:
    "the body is not JSON as RFC 7493 (I-JSON) has it: not UTF-8, not JSON, a field given twice in one object (error.details.field names it), or a string that is not Unicode (a lone surrogate escape)",
  unknown_field:
    "a field this route does not know, never ignored (error.details.field is its path as sent, e.g. policy.minAge; error.details.fields lists all), reported before any other problem",
  repeated_parameter: "a query key given more than once (error.details.parameter names it), on every route",
  return_url_not_allowed:
    "return_url is not on one of CERTGATE_RETURN_ORIGINS, or carries a user name or password",
  invalid_idempotency_key: "Idempotency-Key is not 1–255 printable ASCII",
  unauthorized: "no valid API key (Authorization: Bearer <key>)",
  conflict: "an issued id collided: a fault, never expected",
  idempotency_conflict: "the Idempotency-Key was used with another body in the last 24 hours",
  account_not_bound: "purpose reverify for an account no person is bound to: nothing was stored",
  refresh_unsupported:
    "a V1 verification: PortOne V1 has no lookup by merchant_uid, so it cannot be refreshed",
  payload_too_large: "a body over 16 KB",
  unsupported_media_type: "a body not sent as application/json in UTF-8, or sent with a Content-Encoding",
};
export const NO_QUERY = "any query parameter (this route takes none; error.details.field names it)";
const STORE_NOTE = `a database fault, answered with Retry-After: ${STORE_RETRY_AFTER_SECONDS}; nothing was half-written, retry`;
const UPSTREAM_NOTE: Record<number, string> = {
  502: "PortOne's answer could not be used (bad credentials, a malformed answer, an error envelope); the verification stays pending",
  503: `PortOne is unavailable, answered with Retry-After: ${UPSTREAM_RETRY_AFTER_SECONDS}; the verification stays pending`,
  504: "PortOne did not answer in time; the verification stays pending",
};

/**
 * The error responses of `problems`, grouped by status, each listing its codes as an enum and, in
 * its description, what each means (`notes` overrides the common note of a code).
 */
export function errorResponses(problems: Problem[], notes: Partial<Record<Problem, string>> = {}) {
  const byStatus = new Map<number, { codes: string[]; lines: string[]; retryAfter: boolean }>();
  const add = (status: number, codes: string[], note: string | undefined, retryAfter = false) => {
    const entry = byStatus.get(status) ?? { codes: [], lines: [], retryAfter: false };
    entry.codes.push(...codes);
    entry.lines.push(note ? `${codes.join(", ")}: ${note}` : codes.join(", "));
    entry.retryAfter ||= retryAfter;
    byStatus.set(status, entry);
  };
  for (const problem of problems) {
    if (problem === "upstream") {
      for (const status of [502, 503, 504] as const)
        add(status, upstreamErrorCodes(status), UPSTREAM_NOTE[status], status === 503);
    } else if (problem === "store") add(503, STORE_ERROR_CODES, notes.store ?? STORE_NOTE, true);
    else if (problem === "not_ready")
      add(503, ["not_ready"], notes.not_ready ?? "the database is unreachable");
    else add(requestErrorStatus(problem), [problem], notes[problem] ?? NOTES[problem]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, { codes, lines, retryAfter }]) => [
      String(status),
      {
        description: lines.join("; "),
        ...(retryAfter
          ? { headers: { "Retry-After": { description: "seconds to wait", schema: { type: "integer" } } } }
          : {}),
        ...answer(errorSchema(codes as [string, ...string[]])),
      },
    ]),
  );
}

/** A completion's answers (completionResponse in responses.ts); `redirect` adds the 303, `v2` the 202. */
export function completion(opts: { v2: boolean; redirect: boolean }): Record<string, Response> {
  const what = opts.v2 ? "identityVerificationId" : "merchant_uid";
  return {
    ...(opts.redirect
      ? {
          "303": {
            description:
              "to the verification's return_url with verification_id, status, reason and, for " +
              "duplicate_account, existing_account_ref (a failed " +
              "attempt: status=pending&reason=not_found|merchant_uid_mismatch|not_certified); the JSON answers " +
              "below are for a verification created without return_url",
            headers: {
              Location: { description: "the return_url with the outcome", schema: { type: "string" } },
            },
          },
        }
      : {}),
    "200": { description: "verified", ...answer(completionAnswerSchema) },
    ...(opts.v2
      ? {
          "202": {
            description:
              "pending: PortOne's record is not finished (READY, or a status certgate does not " +
              "know); nothing was written, call again",
            ...answer(completionAnswerSchema),
          },
        }
      : {}),
    "409": {
      description: "already_used: the verification had already finished; verification is its outcome",
      ...answer(completionErrorSchema),
    },
    "422": {
      description:
        "rejected or expired: error.code is the reason (`too_many_attempts` once the failed attempts " +
        "allowed by max_attempts are spent). A failed attempt — an upstream 404 (`not_found`) or a " +
        "record bound to another verification (`merchant_uid_mismatch`) or a record not certified " +
        "(`not_certified`: V1 certified false, V2 FAILED; the person may try again) — is also 422 with that code, " +
        "but verification.status stays `pending` with attempts_remaining: the owner's own result " +
        "still completes it",
      ...answer(completionErrorSchema),
    },
    ...errorResponses(
      opts.redirect
        ? ["invalid_request", "repeated_parameter", "not_found", "upstream", "store"]
        : [
            "invalid_request",
            "invalid_json",
            "repeated_parameter",
            "not_found",
            "payload_too_large",
            "unsupported_media_type",
            "upstream",
            "store",
          ],
      { not_found: `no verification was issued for this ${what}` },
    ),
  };
}
export const IGNORED =
  "Unknown parameters are ignored unread (PortOne adds some); certgate fetches the record from PortOne itself.";

/** The webhook events certgate sends, one entry each (core/webhook-event.ts). */
export const WEBHOOK_EVENTS = [
  {
    type: VERIFICATION_COMPLETED,
    operationId: "verificationCompleted",
    summary: "A verification finished: verified or rejected",
    payload: verificationCompletedEventSchema,
  },
  {
    type: VERIFICATION_EXPIRED,
    operationId: "verificationExpired",
    summary: "A pending verification reached its expiry",
    payload: verificationExpiredEventSchema,
  },
  {
    type: ACCOUNT_UNBOUND,
    operationId: "accountUnbound",
    summary: "An account was unbound from its person (withdrawal)",
    payload: accountUnboundEventSchema,
  },
  {
    type: IDENTITY_PURGED,
    operationId: "identityPurged",
    summary: "A verification's personal fields were destroyed by retention",
    payload: identityPurgedEventSchema,
  },
];

const SIGNATURE =
  'Standard Webhooks: `v1,<base64 HMAC-SHA-256 of "<webhook-id>.<webhook-timestamp>.<body>">` ' +
  "under CERTGATE_WEBHOOK_SECRET (a `whsec_<base64>` secret is decoded, any other is UTF-8), " +
  "several separated by spaces. Check it with verifyWebhook (certgate/portone).";
const webhookHeader = (name: string, description: string) => ({
  name,
  in: "header",
  required: true,
  description,
  schema: { type: "string" },
});

export function webhookOperation(event: (typeof WEBHOOK_EVENTS)[number]) {
  return {
    post: {
      operationId: event.operationId,
      summary: event.summary,
      description:
        "POSTed to CERTGATE_WEBHOOK_URL, at least once: deduplicate on webhook-id. Events are not ordered.",
      tags: ["webhooks"],
      security: [],
      parameters: [
        webhookHeader("webhook-id", "the event id (evt_…): the same on every retry"),
        webhookHeader("webhook-timestamp", "Unix seconds of this delivery; refuse ones far from now"),
        webhookHeader("webhook-signature", SIGNATURE),
      ],
      requestBody: { required: true, ...answer(event.payload) },
      responses: {
        "2XX": { description: "received" },
        default: {
          description:
            "any other answer, or none within 5 s: retried with exponential backoff, 1 s doubling up to 1 h",
        },
      },
    },
  };
}
