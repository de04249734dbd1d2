/**
 * The request body under certgate's own reader (http/requests.ts readBodyText), on both of its
 * paths: straight from Node's IncomingMessage (the real server over a real socket) and from a web
 * `Request` (the app's `fetch`, as a Next.js or Bun host calls it). Both enforce the 16 KB limit
 * whether or not the body announces its length, decode UTF-8 across chunk boundaries, drop a BOM
 * as `Request.text()` does, and survive a client that hangs up mid-body.
 */
import { request } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BODY_LIMIT_BYTES } from "../../src/http/app.js";
import { auth, createVerification, type Harness, startHarness } from "./harness.js";

/** A POST over a real socket, its body written in the given chunks with chunked transfer encoding. */
function postChunked(url: string, path: string, chunks: readonly Uint8Array[]) {
  const headers = { ...auth, "content-type": "application/json", "transfer-encoding": "chunked" };
  return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const req = request(`${url}${path}`, { method: "POST", headers }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (part: Buffer) => parts.push(part));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString()) }),
      );
    });
    // Over the limit the server may answer and close before every chunk is written.
    req.on("error", (error) => (req.writableEnded ? undefined : reject(error)));
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

/** The same request through the app's web-standard fetch, its body a stream of the given chunks. */
async function fetchStreamed(h: Harness, path: string, chunks: readonly Uint8Array[]) {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  const res = await h.app.fetch(
    new Request(`http://certgate.test${path}`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body,
      duplex: "half",
    } as RequestInit),
  );
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const bytes = (text: string) => new TextEncoder().encode(text);

/** `text` as UTF-8, cut into pieces of `size` bytes: multi-byte characters fall across the cuts. */
function cut(text: string, size: number): Uint8Array[] {
  const all = bytes(text);
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < all.length; at += size) pieces.push(all.subarray(at, at + size));
  return pieces;
}

describe("the request body", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("sqlite");
  });
  afterAll(async () => {
    await h.close();
  });

  const paths = {
    "the Node server": (path: string, chunks: readonly Uint8Array[]) => postChunked(h.url, path, chunks),
    "app.fetch": (path: string, chunks: readonly Uint8Array[]) => fetchStreamed(h, path, chunks),
  };

  for (const [name, send] of Object.entries(paths)) {
    describe(`through ${name}`, () => {
      it("refuses a chunked body over the limit with 413, though it never announced its length", async () => {
        const huge = JSON.stringify({ imp_uid: "x".repeat(BODY_LIMIT_BYTES), merchant_uid: "m" });
        const res = await send("/certifications", cut(huge, 1024));
        expect(res.status).toBe(413);
        expect(res.body).toMatchObject({ error: { code: "payload_too_large" } });
        // The server goes on serving.
        expect((await h.api("/healthz")).status).toBe(200);
      });

      it("decodes UTF-8 split across chunks: an unknown field is named exactly as sent", async () => {
        const body = JSON.stringify({ account_ref: "계정-1", 본인확인: 1 });
        const res = await send("/api/verifications", cut(body, 3));
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({
          error: { code: "unknown_field", details: { fields: ["본인확인"] } },
        });
      });

      it("reads a body just under the limit, in many chunks", async () => {
        const created = await createVerification(h);
        const body = JSON.stringify({ imp_uid: "imp_123456789012", merchant_uid: created.merchant_uid });
        const padded = body.replace("{", `{${" ".repeat(BODY_LIMIT_BYTES - body.length)}`);
        expect(bytes(padded).length).toBe(BODY_LIMIT_BYTES);
        const res = await send("/certifications", cut(padded, 700));
        // Read and parsed to the end: the completion reached PortOne (no such certification there).
        expect(res.body).not.toMatchObject({ error: { code: "payload_too_large" } });
        expect(res.body).not.toMatchObject({ error: { code: "invalid_json" } });
        expect(res.status).toBeLessThan(500);
      });

      it("drops a leading byte order mark, as Request.text() does", async () => {
        const body = JSON.stringify({ account_ref: "a-1", extra: 1 });
        const res = await send("/api/verifications", [new Uint8Array([0xef, 0xbb, 0xbf]), bytes(body)]);
        expect(res.body).toMatchObject({ error: { code: "unknown_field", details: { fields: ["extra"] } } });
      });
    });
  }

  it("survives a client that hangs up halfway through its body, and serves the next request", async () => {
    const { port } = new URL(h.url);
    const socket = connect(Number(port), "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.write(
      "POST /certifications HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n" +
        '{"imp_uid":"imp_',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await h.api("/healthz")).status).toBe(200);
  });
});
