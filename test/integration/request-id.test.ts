/**
 * Request correlation over real sockets: every answer carries `X-Request-Id` (the caller's when it is
 * sane, else a generated one), and every log line a request causes carries it as `request_id` — the
 * access line, the service's "verification completed", the upstream warnings and the error handler's.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { requestStorageInUse } from "../../src/observability/request-context.js";
import { auth, createVerification, DATABASES, type Harness, startHarness } from "./harness.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const logLine = z.looseObject({ msg: z.string(), request_id: z.string().optional() });

describe.each(DATABASES)("request ids (%s)", (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Sends one request with `requestId` and answers its status, header and the log lines it caused. */
  async function traced(
    path: string,
    init: { method?: string; body?: unknown; headers?: Record<string, string> },
    requestId?: string,
  ) {
    const before = h.logs.length;
    const res = await h.api(path, {
      ...init,
      headers: { ...(init.headers ?? {}), ...(requestId === undefined ? {} : { "x-request-id": requestId }) },
    });
    const body = await res.text();
    const lines = h.logs.slice(before).map((line) => logLine.parse(JSON.parse(line)));
    return { status: res.status, header: res.headers.get("x-request-id"), body, lines };
  }

  it("keeps a sane incoming X-Request-Id and echoes it", async () => {
    for (const id of ["abc", "req-2026.06.15:0001_X", "a".repeat(128)]) {
      const { status, header } = await traced("/healthz", {}, id);
      expect([status, header]).toEqual([200, id]);
    }
  });

  it.each([
    ["too long", "a".repeat(129)],
    ["a space", "two words"],
    ["a slash", "a/b"],
    ["markup", "<script>"],
    ["a quote", 'x"y'],
    ["empty", ""],
  ])("replaces an incoming X-Request-Id with %s, never echoing it", async (_name, bad) => {
    const { header, lines } = await traced("/healthz", {}, bad);
    expect(header).toMatch(UUID);
    expect(lines.map((l) => l.request_id)).toEqual([header]);
    expect(JSON.stringify(lines)).not.toContain(bad || "never");
  });

  it("generates a fresh id when none is sent, one per request", async () => {
    const a = await traced("/healthz", {});
    const b = await traced("/healthz", {});
    expect(a.header).toMatch(UUID);
    expect(b.header).toMatch(UUID);
    expect(a.header).not.toBe(b.header);
  });

  it.each([
    ["a 404 route", "/no-such-route", {}, 404],
    ["a 401", "/api/verifications", { method: "POST", body: {} }, 401],
    ["a 400", "/api/verifications", { method: "POST", headers: auth, body: { expires_in_seconds: 1 } }, 400],
    [
      "a 415",
      "/certifications",
      { method: "POST", body: "x", headers: { "content-type": "text/plain" } },
      415,
    ],
  ] as const)("answers it on %s too", async (_name, path, init, expected) => {
    const { status, header, lines } = await traced(path, init, "err-case-1");
    expect([status, header]).toEqual([expected, "err-case-1"]);
    expect(lines.map((l) => l.request_id)).toEqual(lines.map(() => "err-case-1"));
  });

  it("puts the id on every log line of a completion, including 'verification completed'", async () => {
    const v = await createVerification(h, { account_ref: `rid-${kind}` });
    const { imp_uid } = h.emulator.createCertification({ persona: "adult", merchant_uid: v.merchant_uid });
    const { status, header, lines } = await traced(
      "/certifications",
      { method: "POST", body: { imp_uid, merchant_uid: v.merchant_uid } },
      "complete-ok-1",
    );
    expect([status, header]).toEqual([200, "complete-ok-1"]);
    expect(lines.map((l) => l.msg)).toEqual(["verification completed", "request"]);
    expect(lines.map((l) => l.request_id)).toEqual(["complete-ok-1", "complete-ok-1"]);
  });

  it("puts the id on the upstream warnings and the error handler's line of a failed completion", async () => {
    const v = await createVerification(h);
    const { imp_uid } = h.emulator.createCertification({ persona: "adult", merchant_uid: v.merchant_uid });
    h.emulator.setFault({ route: "getCertification", kind: "status", status: 503 });
    try {
      const { status, header, lines } = await traced(
        "/certifications",
        { method: "POST", body: { imp_uid, merchant_uid: v.merchant_uid } },
        "complete-fault-1",
      );
      expect([status, header]).toEqual([503, "complete-fault-1"]);
      expect(lines.map((l) => l.msg)).toEqual([
        "upstream fault; verification stays pending",
        "upstream fault",
        "request",
      ]);
      expect(lines.map((l) => l.request_id)).toEqual(lines.map(() => "complete-fault-1"));
    } finally {
      h.emulator.clearFaults();
    }
  });

  it("keeps concurrent requests' lines apart", async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `concurrent-${i}`);
    const before = h.logs.length;
    const answers = await Promise.all(
      ids.map((id) =>
        h.api("/api/verifications", { method: "POST", headers: { ...auth, "x-request-id": id }, body: {} }),
      ),
    );
    expect(answers.map((a) => a.headers.get("x-request-id"))).toEqual(ids);
    const lines = h.logs.slice(before).map((line) => logLine.parse(JSON.parse(line)));
    expect(lines.map((l) => l.request_id).sort()).toEqual([...ids].sort());
  });

  it("carries the ids without entering an AsyncLocalStorage (its promise hooks cost every request)", () => {
    // After every request above, served by the real start-up with the process logger.
    expect(requestStorageInUse()).toBe(false);
  });
});
