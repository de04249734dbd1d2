/**
 * `/openapi.json`: the HTTP contract as OpenAPI 3.1, complete enough to generate a client. Request
 * schemas are the very zod schemas the routes parse with (schemas.ts), answer schemas the ones the
 * views are typed with (view-schemas.ts), and each error status lists the stable codes the route
 * answers it with, taken from responses.ts, so the document cannot drift from the code.
 *
 * Adding a route is one entry in `paths` (through `merchant`, `browser` or `ops`; the operations
 * routes and the demo page are in openapi-operations.ts); a field is a line in its zod schema; a
 * webhook event is one entry in {@link WEBHOOK_EVENTS}.
 */
import { DEMO_PAGE_ROUTES, OPERATIONS_ROUTES } from "./openapi-operations.js";
import {
  API_KEY_SCHEME,
  answer,
  browser,
  completion,
  componentSchemas,
  errorResponses,
  IGNORED,
  merchant,
  NO_QUERY,
  NOTES,
  type Operation,
  type Problem,
  pathParameter,
  queryParameters,
  type Response,
  requestBody,
  WEBHOOK_EVENTS,
  webhookOperation,
} from "./openapi-parts.js";
import {
  accountRefParam,
  completeV1Body,
  completeV1Query,
  completeV2Body,
  completeV2Query,
  createVerificationBody,
  verificationIdParam,
} from "./schemas.js";
import { createdSchema, errorSchema, unboundSchema, verificationAnswerSchema } from "./view-schemas.js";

const idempotencyKey = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description:
    "Stripe-style: 1–255 printable ASCII, scoped to the API key. The same key with the same body " +
    "within 24 hours answers the first creation's 201 again (header Idempotent-Replayed: true) " +
    "and creates nothing; with another body 409 idempotency_conflict. A request racing the first " +
    "one waits for it and is answered as a replay. Older keys are used anew. Sent more than once: " +
    "400 invalid_idempotency_key.",
  schema: { type: "string", minLength: 1, maxLength: 255, pattern: "^[\\x20-\\x7e]+$" },
};
const CREATE_PROBLEMS: Problem[] = [
  "invalid_request",
  "invalid_json",
  "unknown_field",
  "repeated_parameter",
  "return_url_not_allowed",
  "invalid_idempotency_key",
  // A reverify or check of an account no person is bound to: the public creations answer it too.
  "account_not_bound",
  "conflict",
  "payload_too_large",
  "unsupported_media_type",
  "store",
];
const created = (description: string) => ({ description, ...answer(createdSchema) });

/** The public creation of the demo page (sandbox mode, or CERTGATE_DEMO=true): no API key, no Idempotency-Key. */
const publicCreation = (operationId: string, when: string) =>
  browser({
    operationId,
    summary: `Create a verification for the demo page (${when})`,
    description: "The body and answer of POST /api/verifications, without an API key.",
    requestBody: requestBody(createVerificationBody),
    responses: {
      "201": created("created"),
      ...errorResponses(CREATE_PROBLEMS, {
        invalid_idempotency_key: "any Idempotency-Key: there is no API key to scope it to",
        unknown_field: `${NOTES.unknown_field}; also ${NO_QUERY}`,
      }),
    },
  });

/** Which optional routes the serving app has, so the document lists exactly the routes it answers. */
export interface OpenApiOptions {
  /** Sandbox mode: `POST /sandbox/verifications`. */
  sandbox?: boolean;
  /** The opt-in demo page outside sandbox mode: `POST /demo/verifications`. */
  demoCreation?: boolean;
  /** The demo page (sandbox mode, or CERTGATE_DEMO=true): `GET /` and `GET /demo/{file}`. */
  demoPage?: boolean;
}

/**
 * What a route that takes no body answers to one (http/requests.ts refuseBody): an empty body or
 * `{}` is accepted, anything else refused as any body is.
 */
const NO_BODY_PROBLEMS = [
  "repeated_parameter",
  "invalid_json",
  "unsupported_media_type",
  "payload_too_large",
] as const;

export function openApiDocument(options: OpenApiOptions = {}) {
  const paths: Record<string, Record<string, Operation>> = {
    "/api/verifications": {
      post: merchant({
        operationId: "createVerification",
        summary: "Create a verification (merchant backend)",
        parameters: [idempotencyKey],
        requestBody: requestBody(createVerificationBody),
        responses: {
          "201": {
            ...created(
              "created (or replayed under an Idempotency-Key); sdk holds the browser SDK parameters",
            ),
            headers: {
              "Idempotent-Replayed": {
                description: "`true` when an Idempotency-Key replayed an earlier creation",
                schema: { type: "string", enum: ["true"] },
              },
            },
          },
          ...errorResponses(["unauthorized", "idempotency_conflict", ...CREATE_PROBLEMS], {
            unknown_field: `${NOTES.unknown_field}; also ${NO_QUERY}`,
          }),
        },
      }),
    },
    "/api/verifications/{id}": {
      get: merchant({
        operationId: "getVerification",
        summary: "Read a verification's outcome, with the identity while it is retained",
        parameters: [pathParameter("id", verificationIdParam, "the id certgate issued (ver_…)")],
        responses: {
          "200": { description: "the verification", ...answer(verificationAnswerSchema) },
          ...errorResponses(
            ["invalid_request", "unknown_field", ...NO_BODY_PROBLEMS, "unauthorized", "not_found", "store"],
            {
              invalid_request: "a malformed id",
              unknown_field: `a body field or ${NO_QUERY}`,
              not_found: "no such verification",
            },
          ),
        },
      }),
    },
    "/api/verifications/{id}/refresh": {
      post: merchant({
        operationId: "refreshVerification",
        summary: "Ask PortOne for a V2 verification's result now (recovery on demand)",
        description:
          "V2: certgate GETs the identity verification from PortOne; VERIFIED or FAILED finishes it through the same checks and transaction as a browser completion, READY or a 404 leave it pending. Takes no body. V1 answers 409 refresh_unsupported.",
        parameters: [pathParameter("id", verificationIdParam, "the id certgate issued (ver_…)")],
        responses: {
          "200": {
            description: "the verification after the refresh, whatever its status (pending included)",
            ...answer(verificationAnswerSchema),
          },
          ...errorResponses(
            [
              "invalid_request",
              "unknown_field",
              ...NO_BODY_PROBLEMS,
              "unauthorized",
              "not_found",
              "refresh_unsupported",
              "upstream",
              "store",
            ],
            {
              invalid_request: "a malformed id",
              unknown_field: `a body field or ${NO_QUERY}`,
              not_found: "no such verification",
            },
          ),
        },
      }),
    },
    "/api/accounts/{account_ref}": {
      delete: merchant({
        operationId: "unbindAccount",
        summary: "Unbind an account from its person (withdrawal); the person may then bind another account",
        parameters: [pathParameter("account_ref", accountRefParam, "the merchant's own account id")],
        responses: {
          "200": { description: "unbound", ...answer(unboundSchema) },
          ...errorResponses(
            ["invalid_request", "unknown_field", ...NO_BODY_PROBLEMS, "unauthorized", "not_found", "store"],
            {
              invalid_request: "a malformed account_ref",
              unknown_field: `a body field or ${NO_QUERY}`,
              not_found: "no person is bound to this account",
            },
          ),
        },
      }),
    },
    ...(options.sandbox
      ? {
          "/sandbox/verifications": {
            post: publicCreation("createSandboxVerification", "sandbox mode only"),
          },
        }
      : {}),
    ...(options.demoCreation
      ? { "/demo/verifications": { post: publicCreation("createDemoVerification", "CERTGATE_DEMO=true") } }
      : {}),
    ...(options.demoPage ? DEMO_PAGE_ROUTES : {}),
    "/certifications": {
      post: browser({
        operationId: "completeV1",
        summary: "Complete a V1 verification (the guide's popup route)",
        description: IGNORED,
        requestBody: requestBody(completeV1Body),
        responses: completion({ v2: false, redirect: false }),
      }),
    },
    "/certifications/redirect": {
      get: browser({
        operationId: "completeV1Redirect",
        summary: "Complete a V1 verification (the guide's redirect route)",
        description: `${IGNORED} PortOne's \`success\` means nothing.`,
        parameters: queryParameters(completeV1Query),
        responses: completion({ v2: false, redirect: true }),
      }),
    },
    "/identity-verifications": {
      post: browser({
        operationId: "completeV2",
        summary: "Complete a V2 identity verification",
        description: IGNORED,
        requestBody: requestBody(completeV2Body),
        responses: completion({ v2: true, redirect: false }),
      }),
    },
    "/identity-verifications/redirect": {
      get: browser({
        operationId: "completeV2Redirect",
        summary: "Complete a V2 identity verification (REDIRECTION window type)",
        description: `${IGNORED} PortOne's \`code\` and \`message\` mean nothing.`,
        parameters: queryParameters(completeV2Query),
        responses: completion({ v2: true, redirect: true }),
      }),
    },
    ...OPERATIONS_ROUTES,
  };
  return {
    openapi: "3.1.0",
    info: {
      title: "certgate",
      version: "0.1.0",
      description:
        "Korean identity verification through PortOne, done right. Answers may gain fields; ignore those you do not know.",
      license: { name: "MIT", identifier: "MIT" },
    },
    servers: [{ url: "/", description: "the certgate that served this document" }],
    tags: [
      { name: "merchant", description: "The merchant backend's API, behind an API key" },
      {
        name: "browser",
        description: "The browser's completion routes: no API key, the id certgate issued is the binding",
      },
      { name: "operations", description: "Probes, metrics and this document" },
      { name: "webhooks", description: "Events certgate POSTs to CERTGATE_WEBHOOK_URL, signed" },
    ],
    paths: withCommonResponses(paths),
    webhooks: Object.fromEntries(WEBHOOK_EVENTS.map((event) => [event.type, webhookOperation(event)])),
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        [API_KEY_SCHEME]: {
          type: "http",
          scheme: "bearer",
          description: "Authorization: Bearer <key>, one of CERTGATE_API_KEYS",
        },
      },
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
  };
}

const REQUEST_ID_DESCRIPTION =
  "Correlation id: a caller's value of 1–128 characters of [A-Za-z0-9._:-] is kept, anything else " +
  "is replaced by a generated one; answered on every response and logged as request_id on every " +
  "log line the request causes.";

/** Adds what every operation has: the `X-Request-Id` request and response header, and the 500. */
function withCommonResponses(paths: Record<string, Record<string, Operation>>) {
  const requestId = { $ref: "#/components/parameters/RequestId" };
  const internal = {
    description: "internal_error: a bug of certgate, logged; the body says nothing about the cause",
    ...answer(errorSchema(["internal_error"])),
  };
  const withHeader = (response: Response): Response => ({
    ...response,
    headers: { ...response.headers, "X-Request-Id": { $ref: "#/components/headers/RequestId" } },
  });
  return Object.fromEntries(
    Object.entries(paths).map(([path, operations]) => [
      path,
      Object.fromEntries(
        Object.entries(operations).map(([method, op]) => [
          method,
          {
            ...op,
            parameters: [...(op.parameters ?? []), requestId],
            responses: Object.fromEntries(
              Object.entries({ ...op.responses, "500": internal }).map(([status, r]) => [
                status,
                withHeader(r),
              ]),
            ),
          },
        ]),
      ),
    ]),
  );
}
