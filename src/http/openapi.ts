/**
 * `/openapi.json`: the HTTP contract as OpenAPI 3.1, generated from the very zod schemas the routes
 * parse with (schemas.ts), so the document cannot drift from what the routes accept. The merchant
 * schemas are strict, so their JSON Schemas say `additionalProperties: false`; the browser ones are
 * open (unknown parameters are ignored unread).
 */
import * as z from "zod";
import {
  completeV1Body,
  completeV1Query,
  completeV2Body,
  completeV2Query,
  createVerificationBody,
} from "./schemas.js";

const errorBody = z.object({
  error: z.object({
    code: z.string().describe("stable snake_case code"),
    message: z.string().describe("for humans"),
    details: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        "machine-readable detail, e.g. `field` for unknown_field, `parameter` for repeated_parameter",
      ),
  }),
});
const browserVerification = z.object({
  verification: z.object({
    id: z.string(),
    status: z.enum(["pending", "verified", "rejected", "expired"]),
    reason: z.string().optional(),
    attempts_remaining: z
      .number()
      .int()
      .optional()
      .describe("while pending: failed attempts still allowed before the next one rejects"),
    existing_account_ref: z.string().optional(),
    name_masked: z.string().optional(),
  }),
  error: z
    .object({ code: z.string(), message: z.string() })
    .optional()
    .describe("on 409 and 422: code is the reason"),
});

function jsonSchema(schema: z.ZodType) {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  return rest;
}

function queryParameters(schema: z.ZodObject) {
  return Object.entries(schema.shape).map(([name, field]) => ({
    name,
    in: "query",
    required: !(field as z.ZodType).safeParse(undefined).success,
    schema: jsonSchema(field as z.ZodType),
  }));
}

const json = (schema: z.ZodType) => ({ content: { "application/json": { schema: jsonSchema(schema) } } });
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [String(s), { description: "error", ...json(errorBody) }]));
/** A 400 whose description lists the codes the route answers it with. */
const badRequest = (description: string) => ({ "400": { description, ...json(errorBody) } });
const REPEATED =
  "repeated_parameter: a query key given more than once (error.details.parameter names it), on every route";
const UNKNOWN_FIELD =
  "unknown_field: a field this route does not know, never ignored (error.details.field is its path as sent, e.g. policy.minAge; error.details.fields lists all)";
const NO_QUERY = `unknown_field: any query parameter (this route takes none; error.details.field names it); ${REPEATED}`;
const apiKey = [{ apiKey: [] }];
const STORE_FAULT =
  "store_unavailable, store_busy, store_read_only or store_full: a database fault, answered with Retry-After: 1; nothing was half-written, retry";
/** The 503 of every route that reads or writes the database; `also` names the route's other 503s. */
const unavailable = (also?: string) => ({
  "503": { description: also ? `${also}; or ${STORE_FAULT}` : STORE_FAULT, ...json(errorBody) },
});
const completion = {
  "200": { description: "verified", ...json(browserVerification) },
  "409": { description: "already_used: the verification had already finished", ...json(errorBody) },
  "422": {
    description:
      "rejected or expired: error.code is the reason (`too_many_attempts` once the failed attempts " +
      "allowed by max_attempts are spent). A failed attempt — an upstream 404 (`not_found`) or a " +
      "record bound to another verification (`merchant_uid_mismatch`) — is also 422 with that code, " +
      "but verification.status stays `pending` with attempts_remaining: the owner's own result " +
      "still completes it",
    ...json(browserVerification),
  },
  ...errors(404, 413, 415, 502, 504),
  ...unavailable("upstream_unavailable: PortOne is unavailable, the verification stays pending"),
  ...badRequest(
    `invalid_request, invalid_json; unknown parameters are ignored unread (PortOne adds some); ${REPEATED}`,
  ),
};
const redirect = {
  "303": {
    description:
      "to the verification's return_url with verification_id, status, reason and, for " +
      "duplicate_account, existing_account_ref " +
      "(a failed attempt: status=pending&reason=not_found|merchant_uid_mismatch)",
  },
};

const idempotencyKey = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description:
    "Stripe-style: 1–255 printable ASCII, scoped to the API key. The same key with the same body " +
    "within 24 hours answers the first creation's 201 again (header Idempotent-Replayed: true) " +
    "and creates nothing; with another body 409 idempotency_conflict. A request racing the first " +
    "one waits for it and is answered as a replay. Older keys are used anew.",
  schema: { type: "string", minLength: 1, maxLength: 255, pattern: "^[\\x20-\\x7e]+$" },
};

export function openApiDocument() {
  return withRequestIds({
    openapi: "3.1.0",
    info: {
      title: "certgate",
      version: "0.1.0",
      description: "Korean identity verification through PortOne, done right.",
    },
    components: { securitySchemes: { apiKey: { type: "http", scheme: "bearer" } } },
    paths: {
      "/api/verifications": {
        post: {
          summary: "Create a verification (merchant backend)",
          security: apiKey,
          parameters: [idempotencyKey],
          requestBody: { required: true, ...json(createVerificationBody) },
          responses: {
            "201": {
              description:
                "created (or replayed under an Idempotency-Key); sdk holds the browser SDK parameters",
              headers: {
                "Idempotent-Replayed": {
                  description: "`true` when an Idempotency-Key replayed an earlier creation",
                  schema: { type: "string", enum: ["true"] },
                },
              },
            },
            "409": {
              description: "idempotency_conflict: the Idempotency-Key was used with another body",
              ...json(errorBody),
            },
            ...errors(401, 413, 415),
            ...unavailable(),
            ...badRequest(
              `invalid_request, invalid_json, return_url_not_allowed, invalid_idempotency_key; ${UNKNOWN_FIELD}, reported before any other problem; ${NO_QUERY}`,
            ),
          },
        },
      },
      "/api/verifications/{id}": {
        get: {
          summary: "Read a verification's outcome, with the identity while it is retained",
          security: apiKey,
          parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
          responses: {
            "200": { description: "the verification" },
            ...errors(401, 404),
            ...unavailable(),
            ...badRequest(`invalid_request: a malformed id; ${NO_QUERY}`),
          },
        },
      },
      "/api/accounts/{account_ref}": {
        delete: {
          summary: "Unbind an account from its person (withdrawal)",
          security: apiKey,
          parameters: [{ name: "account_ref", in: "path", required: true, schema: { type: "string" } }],
          responses: {
            "200": { description: "unbound" },
            ...errors(401, 404),
            ...unavailable(),
            ...badRequest(`invalid_request: a malformed account_ref; ${NO_QUERY}`),
          },
        },
      },
      "/certifications": {
        post: {
          summary: "Complete a V1 verification (the guide's popup route)",
          requestBody: { required: true, ...json(completeV1Body) },
          responses: completion,
        },
      },
      "/certifications/redirect": {
        get: {
          summary: "Complete a V1 verification (the guide's redirect route)",
          parameters: queryParameters(completeV1Query),
          responses: { ...redirect, ...completion },
        },
      },
      "/identity-verifications": {
        post: {
          summary: "Complete a V2 identity verification",
          requestBody: { required: true, ...json(completeV2Body) },
          responses: completion,
        },
      },
      "/identity-verifications/redirect": {
        get: {
          summary: "Complete a V2 identity verification (REDIRECTION window type)",
          parameters: queryParameters(completeV2Query),
          responses: { ...redirect, ...completion },
        },
      },
      "/healthz": {
        get: { summary: "Process up", responses: { "200": { description: "ok" }, ...badRequest(REPEATED) } },
      },
      "/readyz": {
        get: {
          summary: "Database reachable",
          responses: { "200": { description: "ready" }, ...errors(503), ...badRequest(REPEATED) },
        },
      },
      "/metrics": {
        get: {
          summary: "Prometheus metrics",
          responses: { "200": { description: "text format" }, ...badRequest(REPEATED) },
        },
      },
      "/openapi.json": {
        get: {
          summary: "This document",
          responses: { "200": { description: "OpenAPI 3.1" }, ...badRequest(REPEATED) },
        },
      },
    },
  });
}

const REQUEST_ID_DESCRIPTION =
  "Correlation id: a caller's value of 1–128 characters of [A-Za-z0-9._:-] is kept, anything else " +
  "is replaced by a generated one; answered on every response and logged as request_id on every " +
  "log line the request causes.";

/** Adds the `X-Request-Id` request and response header to every operation of `doc`. */
function withRequestIds<
  D extends {
    components: Record<string, unknown>;
    paths: Record<
      string,
      Record<
        string,
        {
          parameters?: object[];
          responses: Record<string, { description: string; headers?: Record<string, unknown> }>;
        }
      >
    >;
  },
>(doc: D) {
  const requestId = { $ref: "#/components/parameters/RequestId" };
  const paths = Object.fromEntries(
    Object.entries(doc.paths).map(([path, operations]) => [
      path,
      Object.fromEntries(
        Object.entries(operations).map(([method, op]) => [
          method,
          {
            ...op,
            parameters: [...(op.parameters ?? []), requestId],
            responses: Object.fromEntries(
              Object.entries(op.responses).map(([status, response]) => [
                status,
                {
                  ...response,
                  headers: {
                    ...response.headers,
                    "X-Request-Id": { $ref: "#/components/headers/RequestId" },
                  },
                },
              ]),
            ),
          },
        ]),
      ),
    ]),
  );
  return {
    ...doc,
    components: {
      ...doc.components,
      parameters: {
        RequestId: {
          name: "X-Request-Id",
          in: "header",
          required: false,
          description: REQUEST_ID_DESCRIPTION,
          schema: { type: "string", minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9._:-]+$" },
        },
      },
      headers: { RequestId: { description: REQUEST_ID_DESCRIPTION, schema: { type: "string" } } },
    },
    paths,
  };
}
