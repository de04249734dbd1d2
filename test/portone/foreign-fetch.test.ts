/**
 * A caller's `fetch` that is not the platform's: node-fetch's Response carries a Node stream as its
 * body, and a test double may have `text()` alone. Both are read (the body cap included), over the
 * emulator's real answers: a client given either works, and a 2 MiB answer is invalid_response.
 */
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createEmulator, TEST_MERCHANT } from "../../src/emulator/index.js";
import { createV1Client, UpstreamError } from "../../src/portone/index.js";

/** The emulator's answer, reshaped as `shape` would give it. */
function foreignFetch(shape: "node-stream" | "text-only") {
  const emulator = createEmulator({ admin: true });
  const fetch = (async (input: string, init?: RequestInit) => {
    const path = new URL(input).pathname + new URL(input).search;
    const answer = await emulator.fetch(path, init);
    const text = await answer.text();
    const base = { status: answer.status, ok: answer.ok, headers: answer.headers };
    if (shape === "text-only") return { ...base, text: async () => text };
    // node-fetch: `body` is a Node Readable, in chunks.
    return {
      ...base,
      body: Readable.from([Buffer.from(text.slice(0, 10)), Buffer.from(text.slice(10))]),
      text: async () => text,
    };
  }) as unknown as typeof globalThis.fetch;
  const client = createV1Client({
    apiKey: TEST_MERCHANT.impKey,
    apiSecret: TEST_MERCHANT.impSecret,
    baseUrl: "http://emulator.local",
    fetch,
    retries: 0,
  });
  return { emulator, client };
}

describe.each(["node-stream", "text-only"] as const)("a caller's fetch whose body is %s", (shape) => {
  it("reads PortOne's answers", async () => {
    const { emulator, client } = foreignFetch(shape);
    const record = emulator.createCertification({ persona: "adult" });
    await expect(client.getCertification(record.imp_uid)).resolves.toMatchObject({ imp_uid: record.imp_uid });
  });

  it("stops at 1 MiB: invalid_response", async () => {
    const { emulator, client } = foreignFetch(shape);
    const record = emulator.createCertification({ persona: "adult" });
    await client.getCertification(record.imp_uid);
    emulator.setFault({ route: "getCertification", kind: "oversized", times: 1 });
    const error = await client.getCertification(record.imp_uid).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ code: "invalid_response", status: 200 });
  });
});
