/**
 * Request headers read the same whichever way the app is served: over a real socket
 * (@hono/node-server) and through the app's web-standard `fetch`. A header sent twice counts as
 * every value joined with ", " (as `Headers.get` answers) — never as one of them alone: Node's own
 * `req.headers` keeps only the first Authorization or Content-Type, and a check reading it would
 * let a second value through unchecked.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_KEY, type Harness, startHarness } from "./harness.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("request headers, over a socket and through app.fetch", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("sqlite");
  });
  afterAll(async () => {
    await h?.close();
  });

  /** POST /api/verifications with `headers` as [name, value] pairs, names repeated as given. */
  async function both(headers: [string, string][]) {
    const body = JSON.stringify({ account_ref: "user-headers" });
    const overSocket = await new Promise<{ status: number; requestId: string | undefined }>(
      (resolve, reject) => {
        const url = new URL("/api/verifications", h.url);
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            method: "POST",
            path: url.pathname,
            // Raw pairs: node:http sends a repeated name as given, and adds no Host (without one the
            // server answers 400).
            headers: [...headers.flat(), "host", url.host, "content-length", String(Buffer.byteLength(body))],
          },
          (res) => {
            res.resume();
            res.on("end", () =>
              resolve({
                status: res.statusCode ?? 0,
                requestId: res.headers["x-request-id"] as string | undefined,
              }),
            );
          },
        );
        req.on("error", reject);
        req.end(body);
      },
    );
    const web = new Headers();
    for (const [name, value] of headers) web.append(name, value);
    const response = await h.app.fetch(
      new Request(new URL("/api/verifications", h.url), { method: "POST", headers: web, body }),
    );
    return {
      overSocket,
      throughFetch: { status: response.status, requestId: response.headers.get("x-request-id") ?? undefined },
    };
  }

  const bearer = `Bearer ${API_KEY}`;
  const json: [string, string] = ["content-type", "application/json"];

  it("accepts one of each, whatever the case of the names", async () => {
    const { overSocket, throughFetch } = await both([
      ["AUTHORIZATION", bearer],
      ["Content-Type", "application/json"],
      ["X-Request-ID", "req-1"],
    ]);
    expect(overSocket).toEqual({ status: 201, requestId: "req-1" });
    expect(throughFetch).toEqual({ status: 201, requestId: "req-1" });
  });

  it("refuses a repeated Authorization, even when both carry the key", async () => {
    const { overSocket, throughFetch } = await both([
      ["authorization", bearer],
      ["authorization", bearer],
      json,
    ]);
    expect(overSocket.status).toBe(401);
    expect(throughFetch.status).toBe(401);
  });

  it("refuses a repeated Content-Type", async () => {
    const { overSocket, throughFetch } = await both([["authorization", bearer], json, json]);
    expect(overSocket.status).toBe(415);
    expect(throughFetch.status).toBe(415);
  });

  it("replaces a repeated X-Request-Id with a fresh one, echoing neither", async () => {
    const { overSocket, throughFetch } = await both([
      ["authorization", bearer],
      json,
      ["x-request-id", "first"],
      ["x-request-id", "second"],
    ]);
    for (const { status, requestId } of [overSocket, throughFetch]) {
      expect(status).toBe(201);
      expect(requestId).toMatch(UUID);
    }
  });
});
