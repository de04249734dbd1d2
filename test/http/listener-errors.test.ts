/**
 * createHttpServer (http/node-handler.ts), the server `certgate serve` listens with: a rejection of
 * the app's `fetch` is a fault of the server, answered as a JSON 500 `internal_error` — it used to be
 * the 400 `invalid_request` of a target or Host the listener cannot read, blaming the request.
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpServer } from "../../src/http/node-handler.js";

let server: ReturnType<typeof createHttpServer>;
let url = "";
beforeAll(async () => {
  server = createHttpServer(() => Promise.reject(new Error("a pool ran dry")), "127.0.0.1").listen(
    0,
    "127.0.0.1",
  );
  await once(server, "listening");
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("a fetch that rejects", () => {
  it("is a 500 internal_error, not a 400 blaming the request", async () => {
    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { code: "internal_error", message: "internal error" } });
  });
});
