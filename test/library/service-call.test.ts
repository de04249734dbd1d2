/**
 * A service call's request id (`ServiceCall`), through the package's public API over a real SQLite
 * file and the emulator on a real socket: the service writes `request_id` on the lines it logs for
 * the call, with no AsyncLocalStorage and no wrapped logger, and refuses a call it cannot read (no
 * object, a misspelt key, an id that could break a log line) before doing anything.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmulator, serveEmulator, TEST_MERCHANT } from "../../src/emulator/index.js";
import {
  createKeyring,
  createV1Client,
  createVerificationService,
  openStore,
  RequestError,
  type ServiceCall,
  type Store,
  type VerificationService,
} from "../../src/index.js";
import { requestStorageInUse } from "../../src/observability/request-context.js";

/** The merchant's own logger: records what it is given. */
const lines: Record<string, unknown>[] = [];
const record = (fields: Record<string, unknown>, msg: string) => void lines.push({ ...fields, msg });

describe("a service call's request id", () => {
  const emulator = createEmulator({ admin: true });
  let upstream: Awaited<ReturnType<typeof serveEmulator>>;
  let store: Store;
  let service: VerificationService;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "certgate-service-call-"));
    upstream = await serveEmulator(emulator);
    store = await openStore({
      databaseUrl: join(dir, "call.sqlite"),
      keyring: createKeyring({ secret: "service-call-test-secret-not-a-real-one" }),
    });
    service = createVerificationService({
      store,
      v1: createV1Client({
        apiKey: TEST_MERCHANT.impKey,
        apiSecret: TEST_MERCHANT.impSecret,
        baseUrl: upstream.url,
        now: () => emulator.clock.now(),
      }),
      now: () => new Date(emulator.clock.now()),
      logger: { info: record, warn: record },
    });
  });

  afterAll(async () => {
    await upstream?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A pending V1 verification and the imp_uid of an adult's certification bound to it. */
  async function pendingWithCertification() {
    const v = await service.create({});
    const { imp_uid } = emulator.createCertification({ persona: "adult", merchant_uid: v.boundId });
    return { v, impUid: imp_uid };
  }

  it("writes the call's request id on the completion's line, and none without one", async () => {
    const a = await pendingWithCertification();
    const before = lines.length;
    const outcome = await service.completeV1(
      { impUid: a.impUid, merchantUid: a.v.boundId },
      { requestId: "merchant-req-1" },
    );
    expect(outcome.kind).toBe("finished");
    const b = await pendingWithCertification();
    await service.completeV1({ impUid: b.impUid, merchantUid: b.v.boundId });
    expect(lines.slice(before).map((l) => [l.msg, l.request_id])).toEqual([
      ["verification completed", "merchant-req-1"],
      ["verification completed", undefined],
    ]);
    // The id was passed along, never kept in an AsyncLocalStorage.
    expect(requestStorageInUse()).toBe(false);
  });

  it("writes it on the upstream warning of a failed completion", async () => {
    const a = await pendingWithCertification();
    emulator.setFault({ route: "getCertification", kind: "status", status: 503 });
    const before = lines.length;
    try {
      await expect(
        service.completeV1({ impUid: a.impUid, merchantUid: a.v.boundId }, { requestId: "merchant-req-2" }),
      ).rejects.toMatchObject({ code: "unavailable" });
    } finally {
      emulator.clearFaults();
    }
    expect(lines.slice(before).map((l) => [l.msg, l.request_id])).toEqual([
      ["upstream fault; verification stays pending", "merchant-req-2"],
    ]);
  });

  it.each([
    ["a misspelt key", { requestID: "merchant-req-3" }, "unknown_field", "requestID"],
    ["an id with a space", { requestId: "two words" }, "invalid_request", "requestId"],
    ["an id too long", { requestId: "a".repeat(129) }, "invalid_request", "requestId"],
    ["an id that is no string", { requestId: 7 }, "invalid_request", "requestId"],
    ["an id passed bare", "merchant-req-4", "invalid_request", "call"],
    ["null", null, "invalid_request", "call"],
    ["an array", ["merchant-req-5"], "invalid_request", "call"],
  ])("refuses %s before anything is read or stored", async (_name, call, code, field) => {
    const a = await pendingWithCertification();
    const error = await service
      .completeV1({ impUid: a.impUid, merchantUid: a.v.boundId }, call as unknown as ServiceCall)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestError);
    expect(error).toMatchObject({ code, details: { field } });
    expect((await service.get(a.v.id))?.status).toBe("pending");
    // The refused call did not consume the imp_uid: the same completion still goes through.
    const outcome = await service.completeV1({ impUid: a.impUid, merchantUid: a.v.boundId });
    expect(outcome.kind).toBe("finished");
  });
});
