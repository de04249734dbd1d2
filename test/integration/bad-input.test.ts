/**
 * Bad input on every route gets a 4xx with a stable code: never a 500, never a stack trace, and
 * nothing stored changes.
 */
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { auth, createVerification, type Harness, startHarness } from "./harness.js";

const errorBody = z.object({ error: z.object({ code: z.string().regex(/^[a-z_]+$/), message: z.string() }) });
const huge = "x".repeat(20_000);
const long = "y".repeat(5_000);
const json = { "content-type": "application/json" };

interface Case {
  name: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  status: number;
  code: string;
}

const cases: Case[] = [
  // merchant API: auth
  {
    name: "create without API key",
    method: "POST",
    path: "/api/verifications",
    headers: json,
    body: "{}",
    status: 401,
    code: "unauthorized",
  },
  {
    name: "create with a wrong API key",
    method: "POST",
    path: "/api/verifications",
    headers: { ...json, authorization: "Bearer wrong_key_wrong_key_000" },
    body: "{}",
    status: 401,
    code: "unauthorized",
  },
  {
    name: "create with a Basic header",
    method: "POST",
    path: "/api/verifications",
    headers: { ...json, authorization: "Basic abc" },
    body: "{}",
    status: 401,
    code: "unauthorized",
  },
  {
    name: "get without API key",
    method: "GET",
    path: "/api/verifications/ver_x",
    status: 401,
    code: "unauthorized",
  },
  {
    name: "delete without API key",
    method: "DELETE",
    path: "/api/accounts/user-1",
    status: 401,
    code: "unauthorized",
  },
  // merchant API: body
  {
    name: "create with wrong content type",
    method: "POST",
    path: "/api/verifications",
    headers: { ...auth, "content-type": "text/plain" },
    body: "{}",
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "create in a charset other than UTF-8 (read as UTF-8, its bytes would mean something else)",
    method: "POST",
    path: "/api/verifications",
    headers: { ...auth, "content-type": "application/json; charset=latin1" },
    body: "{}",
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "create with two charsets, the second not UTF-8",
    method: "POST",
    path: "/api/verifications",
    headers: { ...auth, "content-type": "application/json; charset=utf-8; charset=latin1" },
    body: "{}",
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "create with a compressed body",
    method: "POST",
    path: "/api/verifications",
    headers: { ...auth, "content-type": "application/json", "content-encoding": "gzip" },
    body: "{}",
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "create with no content type",
    method: "POST",
    path: "/api/verifications",
    headers: auth,
    body: "{}",
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "create with broken JSON",
    method: "POST",
    path: "/api/verifications",
    headers: { ...auth, ...json },
    body: "{",
    status: 400,
    code: "invalid_json",
  },
  {
    name: "create with a JSON array",
    method: "POST",
    path: "/api/verifications",
    headers: { ...auth, ...json },
    body: "[]",
    status: 400,
    code: "invalid_request",
  },
  {
    name: "create with wrong types",
    method: "POST",
    path: "/api/verifications",
    headers: { ...auth, ...json },
    body: JSON.stringify({ account_ref: 5, policy: { min_age: "19" } }),
    status: 400,
    code: "invalid_request",
  },
  {
    name: "create with min_age above max_age",
    method: "POST",
    path: "/api/verifications",
    headers: { ...auth, ...json },
    body: JSON.stringify({ policy: { min_age: 30, max_age: 20 } }),
    status: 400,
    code: "invalid_request",
  },
  {
    name: "create with a negative age",
    method: "POST",
    path: "/api/verifications",
    headers: { ...auth, ...json },
    body: JSON.stringify({ policy: { min_age: -1 } }),
    status: 400,
    code: "invalid_request",
  },
  {
    name: "create with an unknown age rule",
    method: "POST",
    path: "/api/verifications",
    headers: { ...auth, ...json },
    body: JSON.stringify({ policy: { min_age: 19, age_rule: "korean" } }),
    status: 400,
    code: "invalid_request",
  },
  {
    name: "create with a huge account_ref",
    method: "POST",
    path: "/api/verifications",
    headers: { ...auth, ...json },
    body: JSON.stringify({ account_ref: long }),
    status: 400,
    code: "invalid_request",
  },
  {
    name: "create with a body over 16 KB",
    method: "POST",
    path: "/api/verifications",
    headers: { ...auth, ...json },
    body: JSON.stringify({ account_ref: huge }),
    status: 413,
    code: "payload_too_large",
  },
  {
    name: "create with a relative return_url",
    method: "POST",
    path: "/api/verifications",
    headers: { ...auth, ...json },
    body: JSON.stringify({ return_url: "/after" }),
    status: 400,
    code: "invalid_request",
  },
  {
    name: "create with a javascript: return_url",
    method: "POST",
    path: "/api/verifications",
    headers: { ...auth, ...json },
    body: JSON.stringify({ return_url: "javascript:alert(1)" }),
    status: 400,
    code: "return_url_not_allowed",
  },
  {
    name: "create with credentials in an allowed return_url",
    method: "POST",
    path: "/api/verifications",
    headers: { ...auth, ...json },
    body: JSON.stringify({ return_url: "https://user:pass@shop.example/done" }),
    status: 400,
    code: "return_url_not_allowed",
  },
  {
    name: "create with a user name in an allowed return_url",
    method: "POST",
    path: "/api/verifications",
    headers: { ...auth, ...json },
    body: JSON.stringify({ return_url: "https://evil.example@shop.example/done" }),
    status: 400,
    code: "return_url_not_allowed",
  },
  {
    name: "get an unknown id",
    method: "GET",
    path: "/api/verifications/ver_unknown",
    headers: auth,
    status: 404,
    code: "not_found",
  },
  {
    name: "get a huge id",
    method: "GET",
    path: `/api/verifications/${long}`,
    headers: auth,
    status: 400,
    code: "invalid_request",
  },
  {
    name: "delete an unknown account",
    method: "DELETE",
    path: "/api/accounts/nobody",
    headers: auth,
    status: 404,
    code: "not_found",
  },
  // browser routes
  {
    name: "complete with missing fields",
    method: "POST",
    path: "/certifications",
    headers: json,
    body: "{}",
    status: 400,
    code: "invalid_request",
  },
  {
    name: "complete with wrong types",
    method: "POST",
    path: "/certifications",
    headers: json,
    body: JSON.stringify({ imp_uid: 1, merchant_uid: null }),
    status: 400,
    code: "invalid_request",
  },
  {
    name: "complete with huge strings",
    method: "POST",
    path: "/certifications",
    headers: json,
    body: JSON.stringify({ imp_uid: long, merchant_uid: long }),
    status: 400,
    code: "invalid_request",
  },
  {
    name: "complete with a form body",
    method: "POST",
    path: "/certifications",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "imp_uid=a&merchant_uid=b",
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "complete with broken JSON",
    method: "POST",
    path: "/certifications",
    headers: json,
    body: '{"imp_uid":',
    status: 400,
    code: "invalid_json",
  },
  {
    name: "complete with an unknown merchant_uid",
    method: "POST",
    path: "/certifications",
    headers: json,
    body: JSON.stringify({ imp_uid: "imp_123456789012", merchant_uid: "mid_nope" }),
    status: 404,
    code: "not_found",
  },
  {
    name: "complete with a body over 16 KB",
    method: "POST",
    path: "/certifications",
    headers: json,
    body: JSON.stringify({ imp_uid: huge, merchant_uid: "m" }),
    status: 413,
    code: "payload_too_large",
  },
  {
    name: "redirect without a query",
    method: "GET",
    path: "/certifications/redirect",
    status: 400,
    code: "invalid_request",
  },
  {
    name: "redirect with an unknown merchant_uid",
    method: "GET",
    path: "/certifications/redirect?imp_uid=imp_1&merchant_uid=nope",
    status: 404,
    code: "not_found",
  },
  {
    name: "redirect with a repeated parameter",
    method: "GET",
    path: "/certifications/redirect?imp_uid=a&imp_uid=b&merchant_uid=nope",
    status: 400,
    code: "repeated_parameter",
  },
  // browser routes, PortOne V2
  {
    name: "create with an unknown api_version",
    method: "POST",
    path: "/api/verifications",
    headers: { ...auth, ...json },
    body: JSON.stringify({ api_version: "v3" }),
    status: 400,
    code: "invalid_request",
  },
  {
    name: "V2 complete with missing fields",
    method: "POST",
    path: "/identity-verifications",
    headers: json,
    body: "{}",
    status: 400,
    code: "invalid_request",
  },
  {
    name: "V2 complete with V1's field names",
    method: "POST",
    path: "/identity-verifications",
    headers: json,
    body: JSON.stringify({ imp_uid: "imp_123456789012", merchant_uid: "mid_nope" }),
    status: 400,
    code: "invalid_request",
  },
  {
    name: "V2 complete with a wrong type",
    method: "POST",
    path: "/identity-verifications",
    headers: json,
    body: JSON.stringify({ identityVerificationId: 12 }),
    status: 400,
    code: "invalid_request",
  },
  {
    name: "V2 complete with a huge id",
    method: "POST",
    path: "/identity-verifications",
    headers: json,
    body: JSON.stringify({ identityVerificationId: long }),
    status: 400,
    code: "invalid_request",
  },
  {
    name: "V2 complete with a form body",
    method: "POST",
    path: "/identity-verifications",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "identityVerificationId=a",
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "V2 complete with an unknown id",
    method: "POST",
    path: "/identity-verifications",
    headers: json,
    body: JSON.stringify({ identityVerificationId: "idv_nope" }),
    status: 404,
    code: "not_found",
  },
  {
    name: "V2 redirect without a query",
    method: "GET",
    path: "/identity-verifications/redirect",
    status: 400,
    code: "invalid_request",
  },
  {
    name: "V2 redirect with an unknown id",
    method: "GET",
    path: "/identity-verifications/redirect?identityVerificationId=idv_nope&code=x",
    status: 404,
    code: "not_found",
  },
  { name: "an unknown route", method: "GET", path: "/nope", status: 404, code: "not_found" },
  {
    name: "GET of the V1 completion",
    method: "GET",
    path: "/certifications",
    status: 405,
    code: "method_not_allowed",
  },
  {
    name: "PUT of a verification",
    method: "PUT",
    path: "/api/verifications/vrf_0000000000000000000000",
    headers: { ...json, ...auth },
    body: "{}",
    status: 405,
    code: "method_not_allowed",
  },
  { name: "DELETE of /healthz", method: "DELETE", path: "/healthz", status: 405, code: "method_not_allowed" },
  // Hono keeps a segment it cannot decode as written: /api/accounts/%ff named the account "%ff".
  {
    name: "an account path of %ff, not UTF-8",
    method: "DELETE",
    path: "/api/accounts/%ff",
    headers: auth,
    status: 400,
    code: "invalid_request",
  },
  {
    name: "a verification path of %zz, not percent-encoding",
    method: "GET",
    path: "/api/verifications/%zz",
    headers: auth,
    status: 400,
    code: "invalid_request",
  },
  {
    name: "the sandbox route outside sandbox mode",
    method: "POST",
    path: "/sandbox/verifications",
    headers: json,
    body: "{}",
    status: 404,
    code: "not_found",
  },
];

describe("bad input on every route", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("sqlite");
  });
  afterAll(async () => {
    await h?.close();
  });

  /** `request` written as is on a new connection, and everything the server answers until it closes. */
  function raw(request: string): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(h.url).port), "127.0.0.1", () => socket.end(request));
      let text = "";
      socket.on("data", (chunk: Buffer) => {
        text += chunk.toString();
      });
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
    });
  }

  it.each(cases)("$name → $status $code", async ({ method, path, headers, body, status, code }) => {
    const res = await h.api(path, {
      method,
      ...(headers ? { headers } : {}),
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.text();
    expect(res.status).toBe(status);
    expect(errorBody.parse(JSON.parse(text)).error.code).toBe(code);
    expect(text).not.toMatch(/\bat .+:\d+:\d+|node_modules|Error:/);
  });

  it.each([
    ["a request line that is not HTTP", "NOT HTTP AT ALL\r\n\r\n", 400],
    ["a header without a colon", "GET /healthz HTTP/1.1\r\nHost: x\r\nbroken header\r\n\r\n", 400],
    [
      "headers over Node's 16 KB",
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
      431,
    ],
    // These three got an empty 400 (Node's Host check, @hono/node-server's URL check).
    ["an HTTP/1.1 request without Host", "GET /healthz HTTP/1.1\r\n\r\n", 400],
    ["the asterisk target", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 400],
    ["a Host header that is no host", "GET /healthz HTTP/1.1\r\nHost: a b\r\n\r\n", 400],
  ])("%s, refused by Node's parser → %s with certgate's JSON error", async (_, request, status) => {
    const answer = await raw(request);
    const [head = "", body = ""] = answer.split("\r\n\r\n");
    expect(head.split("\r\n")[0]).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(head.toLowerCase()).toContain("content-type: application/json");
    expect(errorBody.parse(JSON.parse(body)).error.code).toBe("invalid_request");
    // And the server goes on serving.
    expect((await h.api("/healthz")).status).toBe(200);
  });

  it("CONNECT, which certgate never serves, is 405 with certgate's JSON error (the socket was closed)", async () => {
    const answer = await raw("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    const [head = "", body = ""] = answer.split("\r\n\r\n");
    expect(head.split("\r\n")[0]).toBe("HTTP/1.1 405 Method Not Allowed");
    expect(errorBody.parse(JSON.parse(body)).error.code).toBe("method_not_allowed");
    expect((await h.api("/healthz")).status).toBe(200);
  });

  it("a CONNECT whose client resets the connection at once does not end the process", async () => {
    // The socket Node hands to 'connect' has no error listener: its ECONNRESET was an unhandled
    // 'error' event, which ends the process (any client could stop certgate serve).
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((resolve) => {
        const socket = connect(Number(new URL(h.url).port), "127.0.0.1", () => {
          socket.write("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", () => {
            socket.resetAndDestroy();
            resolve();
          });
        });
        socket.on("error", () => resolve());
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await h.api("/healthz")).status).toBe(200);
  });

  it("an HTTP/1.0 request without Host is still served", async () => {
    const answer = await raw("GET /healthz HTTP/1.0\r\n\r\n");
    expect(answer.split("\r\n")[0]).toMatch(/^HTTP\/1\.1 200 /);
  });

  it.each([
    ["GET", "/certifications", "POST"],
    ["DELETE", "/api/verifications/vrf_0000000000000000000000", "GET, HEAD"],
    ["GET", "/api/verifications/vrf_0000000000000000000000/refresh", "POST"],
    ["POST", "/api/accounts/acct-1", "DELETE"],
    ["POST", "/openapi.json", "GET, HEAD"],
  ])("%s %s → 405 with Allow: %s, before any API key is asked for", async (method, path, allow) => {
    const res = await h.api(path, { method });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe(allow);
    expect(res.headers.get("x-request-id")).toEqual(expect.any(String));
    expect(await res.json()).toEqual({
      error: {
        code: "method_not_allowed",
        message: `"${method}" is not served here`,
        details: { allowed: allow.split(", ") },
      },
    });
  });

  it.each([
    ["application/json; charset=utf-8", {}],
    ['application/json; charset="UTF-8"', {}],
    ["application/json", { "content-encoding": "identity" }],
  ])("takes %s %j: UTF-8 and no encoding are what JSON is", async (type, extra) => {
    const res = await h.api("/api/verifications", {
      method: "POST",
      headers: { ...auth, "content-type": type, ...extra },
      body: "{}",
    });
    expect(res.status).toBe(201);
  });

  it("bad input changes nothing stored", async () => {
    const v = await createVerification(h, { account_ref: "stable-1" });
    for (const { method, path, headers, body } of cases) {
      await h.api(path, { method, ...(headers ? { headers } : {}), ...(body !== undefined ? { body } : {}) });
    }
    const res = await h.api(`/api/verifications/${v.id}`, { headers: auth });
    expect(res.status).toBe(200);
    expect(await h.store.listAuditEvents()).toEqual([]);
  });
});
