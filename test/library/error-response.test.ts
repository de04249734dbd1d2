/**
 * The error mapper library users answer their own routes with (`toErrorResponse`,
 * `errorToResponse`): the same codes and statuses as certgate's app, a framework's own client errors
 * as 4xx with a stable code, and anything else a 500 that says nothing about the cause.
 */
import { describe, expect, it } from "vitest";
import {
  ConfigError,
  errorToResponse,
  RequestError,
  StoreError,
  toErrorResponse,
  UpstreamError,
} from "../../src/index.js";

const error = (code: string) => ({ error: { code, message: expect.any(String) } });

/** An error object as a framework builds one: an Error with extra own properties. */
const frameworkError = (
  props: Record<string, unknown>,
  base: Error = new Error('Unexpected token } in JSON at position 9: {"ci":"secret…'),
) => Object.assign(base, props);

describe("toErrorResponse", () => {
  it.each([
    [
      "a RequestError: its 4xx and code, details kept",
      new RequestError("unknown_field", 'unknown field "minage"', { field: "minage" }),
      400,
      { error: { code: "unknown_field", message: 'unknown field "minage"', details: { field: "minage" } } },
    ],
    [
      "an UpstreamError timeout: 504 upstream_timeout",
      new UpstreamError("timeout", { method: "GET", url: "https://api.iamport.kr/certifications/imp_1" }),
      504,
      error("upstream_timeout"),
    ],
    [
      "an UpstreamError not_found: 502, never the upstream's 404",
      new UpstreamError("not_found", { method: "GET", url: "https://api.iamport.kr/x", status: 404 }),
      502,
      error("upstream_not_found"),
    ],
    [
      "a ConfigError: 500 internal_error",
      new ConfigError("basePath", "bad"),
      500,
      { error: { code: "internal_error", message: "internal error" } },
    ],
    [
      "a foreign error: 500, its message not echoed",
      new TypeError("cannot read ci of 880101-1234567"),
      500,
      { error: { code: "internal_error", message: "internal error" } },
    ],
    ["a thrown string: 500", "boom", 500, error("internal_error")],
    [
      "express.json()'s parse failure: 400 invalid_json",
      frameworkError({ status: 400, statusCode: 400, expose: true, type: "entity.parse.failed" }),
      400,
      { error: { code: "invalid_json", message: "the body is not valid JSON" } },
    ],
    [
      "express.json()'s too large body: 413",
      frameworkError({ status: 413, expose: true, type: "entity.too.large" }),
      413,
      error("payload_too_large"),
    ],
    [
      "Fastify's invalid JSON: 400 invalid_json",
      frameworkError({ statusCode: 400, code: "FST_ERR_CTP_INVALID_JSON_BODY" }),
      400,
      error("invalid_json"),
    ],
    [
      "Fastify's unsupported media type: 415",
      frameworkError({ statusCode: 415, code: "FST_ERR_CTP_INVALID_MEDIA_TYPE" }),
      415,
      error("unsupported_media_type"),
    ],
    [
      "another exposed 4xx: 400 invalid_request",
      frameworkError({ status: 422, expose: true }),
      400,
      error("invalid_request"),
    ],
    [
      "an HTTP client's 404 from the merchant's own call: 500, not the caller's fault",
      frameworkError({ status: 404, name: "AxiosError" }),
      500,
      error("internal_error"),
    ],
  ])("maps %s", (_, err, status, body) => {
    const answer = toErrorResponse(err);
    expect([answer.status, answer.body]).toEqual([status, body]);
    expect(JSON.stringify(answer.body)).not.toMatch(/secret|880101/);
  });

  it("asks a client to retry a store fault after Retry-After, and logs it by code only", () => {
    const logged: unknown[] = [];
    const logger = { warn: (f: unknown) => void logged.push(f), error: (f: unknown) => void logged.push(f) };
    const answer = toErrorResponse(
      new StoreError("unavailable", { dialect: "postgres", driverCode: "57P01" }),
      { logger },
    );
    expect(answer).toEqual({
      status: 503,
      headers: { "retry-after": "1" },
      body: error("store_unavailable"),
    });
    expect(logged).toEqual([{ code: "unavailable", dialect: "postgres", driver_code: "57P01" }]);
  });

  it("asks a client to retry PortOne's unavailability after Retry-After, and only a 503", () => {
    const at = { method: "GET", url: "https://api.iamport.kr/certifications/imp_1" };
    expect(toErrorResponse(new UpstreamError("unavailable", { ...at, status: 503 }))).toEqual({
      status: 503,
      headers: { "retry-after": "5" },
      body: error("upstream_unavailable"),
    });
    for (const code of ["timeout", "invalid_response", "unauthorized"] as const) {
      expect(toErrorResponse(new UpstreamError(code, at)).headers).toEqual({});
    }
  });
});

describe("errorToResponse", () => {
  it("is the same answer as a web-standard Response", async () => {
    const res = errorToResponse(new StoreError("busy", { dialect: "sqlite" }));
    expect([res.status, res.headers.get("retry-after"), res.headers.get("content-type")]).toEqual([
      503,
      "1",
      "application/json",
    ]);
    expect(await res.json()).toEqual(error("store_busy"));
  });
});
