/**
 * The emulator fails closed on bodies too, in process and over a socket: a form it cannot parse is
 * a 400 (was a 500), a body over its bound is a 413 as soon as it crosses it, announced or chunked
 * (was read whole: hundreds of MB, inside certgate's process in sandbox mode), and the admin clock
 * stays within the dates a record can print (a 500 and a token that never expired). Each time the
 * emulator goes on serving.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { TEST_MERCHANT } from "../../src/emulator/index.js";
import { EMULATOR_BODY_LIMIT_BYTES } from "../../src/emulator/input.js";
import { type Harness, jsonBody, START_S, startHarness, TRANSPORTS } from "./harness.js";

const v1Failure = z.object({ code: z.literal(-1), message: z.string(), response: z.null() });
const v2Failure = z.object({ type: z.string(), message: z.string() });
const adminFailure = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** A JSON-looking body of `bytes` bytes, streamed in 16 KB chunks with no Content-Length. */
function chunked(bytes: number): RequestInit {
  const chunk = new TextEncoder().encode(" ".repeat(16 * 1024));
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      controller.enqueue(chunk);
      sent += chunk.byteLength;
    },
  });
  return {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    duplex: "half",
  } as RequestInit;
}

/** A body of `bytes` bytes that says so in its Content-Length. */
function announced(bytes: number): RequestInit {
  return { method: "POST", headers: { "content-type": "application/json" }, body: " ".repeat(bytes) };
}

describe.each(TRANSPORTS)("the emulator's bad bodies (%s)", (transport) => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness(transport, { admin: true });
  });
  afterEach(() => h.close());

  async function stillServes() {
    const { access_token } = await h.getToken();
    expect(access_token).toMatch(/\S/);
  }

  it.each([
    ["/users/getToken"],
    ["/browser/certification-request"],
    ["/browser/certification-confirm"],
    ["/browser/certification-cancel"],
  ])("a multipart body without its boundary on %s → 400 in the V1 envelope", async (path) => {
    const res = await h.call(path, {
      method: "POST",
      headers: { "content-type": "multipart/form-data" },
      body: "x",
    });
    expect(res.status).toBe(400);
    v1Failure.parse(await res.json());
    await stillServes();
  });

  it("a well-formed multipart body is still read (getToken with form fields)", async () => {
    const form = new FormData();
    form.set("imp_key", TEST_MERCHANT.impKey);
    form.set("imp_secret", TEST_MERCHANT.impSecret);
    const res = await h.call("/users/getToken", { method: "POST", body: form });
    expect(res.status).toBe(200);
  });

  describe.each([
    ["chunked", chunked],
    ["announced", announced],
  ])("a body over the bound, %s", (_, body) => {
    const over = EMULATOR_BODY_LIMIT_BYTES + 1;

    it("→ 413 on V1, V2 and the admin API, and the emulator goes on serving", async () => {
      const v1 = await h.call("/users/getToken", body(over));
      expect(v1.status).toBe(413);
      v1Failure.parse(await v1.json());
      const v2 = await h.call("/login/api-secret", body(over));
      expect(v2.status).toBe(413);
      v2Failure.parse(await v2.json());
      for (const path of ["/__admin/certifications", "/__admin/identity-verifications", "/__admin/clock"]) {
        const admin = await h.call(path, body(over));
        expect(admin.status, path).toBe(413);
        expect(adminFailure.parse(await admin.json()).error.code).toBe("payload_too_large");
      }
      await stillServes();
    });

    it("is refused as soon as it crosses the bound, not read to its end", async () => {
      // 64 MB of chunks: the answer comes long before a stream this long could be read.
      const res = await h.call("/users/getToken", chunked(64 * 1024 * 1024));
      expect(res.status).toBe(413);
    });
  });

  describe("POST /__admin/clock keeps to the dates a record can print", () => {
    const admin = (body: unknown) => h.call("/__admin/clock", jsonBody(body));

    it.each([{ now: 1e300 }, { now: 9e12 }, { advance_seconds: -1e15 }, { advance_seconds: 1e13 }])(
      "%o → 400, the clock unchanged",
      async (body) => {
        const res = await admin(body);
        expect(res.status).toBe(400);
        expect(adminFailure.parse(await res.json()).error.code).toBe("invalid_request");
        expect(await (await admin({})).json()).toEqual({ now: START_S });
      },
    );

    it("its last second still makes V1 and V2 records and tokens (no 500)", async () => {
      const last = Date.UTC(9999, 11, 31, 23, 59, 59) / 1000;
      expect(await (await admin({ now: last })).json()).toEqual({ now: last });
      const v2 = await h.call(
        "/__admin/identity-verifications",
        jsonBody({ identityVerificationId: "idv_last" }),
      );
      expect(v2.status).toBe(201);
      const v1 = await h.call("/__admin/certifications", jsonBody({}));
      expect(v1.status).toBe(201);
      const { expired_at } = await h.getToken();
      expect(expired_at).toBeGreaterThan(last);
    });
  });
});
