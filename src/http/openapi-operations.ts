/**
 * The routes of /openapi.json that are no part of a verification: the operations routes, which
 * take no query, and the demo page with its files, which is a page and takes any.
 */
import { answer, browser, errorResponses, NO_QUERY, ops } from "./openapi-parts.js";
import { statusSchema } from "./view-schemas.js";

/** `/healthz`, `/readyz`, `/metrics` and `/openapi.json`. */
export const OPERATIONS_ROUTES = {
  "/healthz": {
    get: ops({
      operationId: "getHealth",
      summary: "Process up",
      responses: {
        "200": { description: "ok", ...answer(statusSchema("ok")) },
        ...errorResponses(["unknown_field", "repeated_parameter"], { unknown_field: NO_QUERY }),
      },
    }),
  },
  "/readyz": {
    get: ops({
      operationId: "getReadiness",
      summary: "Database reachable and accepting writes",
      responses: {
        "200": { description: "ready", ...answer(statusSchema("ready")) },
        ...errorResponses(["not_ready", "unknown_field", "repeated_parameter"], {
          unknown_field: NO_QUERY,
        }),
      },
    }),
  },
  "/metrics": {
    get: ops({
      operationId: "getMetrics",
      summary: "Prometheus metrics",
      responses: {
        "200": {
          description: "Prometheus text format",
          content: { "text/plain": { schema: { type: "string" } } },
        },
        ...errorResponses(["not_found", "unknown_field", "repeated_parameter"], {
          not_found: "metrics are not enabled",
          unknown_field: NO_QUERY,
        }),
      },
    }),
  },
  "/openapi.json": {
    get: ops({
      operationId: "getOpenApi",
      summary: "This document",
      responses: {
        "200": {
          description: "OpenAPI 3.1",
          content: { "application/json": { schema: { type: "object" } } },
        },
        ...errorResponses(["unknown_field", "repeated_parameter"], { unknown_field: NO_QUERY }),
      },
    }),
  },
};

/** The demo page and its files: a page, so it takes any query (the redirect back may carry one). */
export const DEMO_PAGE_ROUTES = {
  "/": {
    get: browser({
      operationId: "getDemoPage",
      summary: "The demo page",
      responses: {
        "200": { description: "the page", content: { "text/html": { schema: { type: "string" } } } },
        ...errorResponses(["repeated_parameter"]),
      },
    }),
  },
  "/demo/{file}": {
    get: browser({
      operationId: "getDemoFile",
      summary: "A file the demo page loads",
      parameters: [
        {
          name: "file",
          in: "path",
          required: true,
          schema: { type: "string", enum: ["demo.js", "demo.css"] },
        },
      ],
      responses: {
        "200": {
          description: "the file",
          content: {
            "text/javascript": { schema: { type: "string" } },
            "text/css": { schema: { type: "string" } },
          },
        },
        ...errorResponses(["not_found", "repeated_parameter"], { not_found: "no such file" }),
      },
    }),
  },
};
