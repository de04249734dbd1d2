/**
 * Library use in the framework of the guide's sample: an existing Express app mounts certgate's
 * routes, and another Express route calls the verification flow directly — only through the
 * package's public API (src/index.ts). The suite every host shares (hosts.ts) runs at the end.
 */
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createEmulator, serveEmulator, TEST_MERCHANT } from "../../src/emulator/index.js";
import {
  createHttpApp,
  createKeyring,
  createV1Client,
  createVerificationService,
  openStore,
  type Store,
  toErrorResponse,
  toNodeHandler,
  type VerificationService,
  withRequestId,
} from "../../src/index.js";
import { describeHost, listenOn } from "./hosts.js";

/** The merchant's own logger: records what it is given. */
const lines: Record<string, unknown>[] = [];
const record = (fields: Record<string, unknown>, msg: string) => void lines.push({ ...fields, msg });
const merchantLogger = { info: record, warn: record, error: record };
const API_KEY = "express_test_api_key_00001";

describe("an existing Express app", () => {
  const emulator = createEmulator({ admin: true });
  let upstream: Awaited<ReturnType<typeof serveEmulator>>;
  let store: Store;
  let service: VerificationService;
  let server: Server;
  let base: string;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "certgate-express-"));
    upstream = await serveEmulator(emulator);
    store = await openStore({
      databaseUrl: join(dir, "express.sqlite"),
      keyring: createKeyring({ secret: "express-test-secret-not-a-real-one-0000" }),
    });
    const v1 = createV1Client({
      apiKey: TEST_MERCHANT.impKey,
      apiSecret: TEST_MERCHANT.impSecret,
      baseUrl: upstream.url,
      now: () => emulator.clock.now(),
    });
    service = createVerificationService({
      store,
      v1,
      now: () => new Date(emulator.clock.now()),
      // Wrapped, the merchant's logger gets request_id on the service's lines too.
      logger: withRequestId(merchantLogger),
    });
    const certgate = createHttpApp({
      service,
      apiKeys: [API_KEY],
      returnOrigins: [],
      sandbox: false,
      sdk: { impCode: TEST_MERCHANT.impCode },
      logger: merchantLogger,
    });

    const app = express();
    // 1. certgate's routes, mounted under a prefix.
    app.use("/certgate", toNodeHandler(certgate));
    // 2. The merchant's own sign-up route, calling the flow directly (the guide's route, done right).
    app.post("/signup/verify", express.json(), async (req, res) => {
      const body = z.object({ imp_uid: z.string(), merchant_uid: z.string() }).safeParse(req.body);
      if (!body.success) return void res.status(400).json({ error: "bad request" });
      const outcome = await service.completeV1({
        impUid: body.data.imp_uid,
        merchantUid: body.data.merchant_uid,
      });
      const v = outcome.verification;
      res.json({
        user_created: outcome.kind === "finished" && v.status === "verified",
        reason: v.reason ?? null,
      });
    });
    server = app.listen(0, "127.0.0.1");
    await once(server, "listening");
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await upstream?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("mounts certgate's routes: create through the API, complete through the guide's route", async () => {
    const created = await fetch(`${base}/certgate/api/verifications`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ account_ref: "express-1", policy: { min_age: 19, age_rule: "year" } }),
    });
    expect(created.status).toBe(201);
    const { merchant_uid } = z.object({ merchant_uid: z.string() }).parse(await created.json());
    const { imp_uid } = emulator.createCertification({ persona: "adult", merchant_uid });
    const done = await fetch(`${base}/certgate/certifications`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ imp_uid, merchant_uid }),
    });
    expect(done.status).toBe(200);
    expect(
      z.object({ verification: z.object({ status: z.string() }) }).parse(await done.json()).verification
        .status,
    ).toBe("verified");
  });

  it("calls the verification flow directly from its own route", async () => {
    const v = await service.create({ policy: {}, accountRef: "express-2" });
    const { imp_uid } = emulator.createCertification({ persona: "minor", merchant_uid: v.boundId });
    const res = await fetch(`${base}/signup/verify`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ imp_uid, merchant_uid: v.boundId }),
    });
    expect(await res.json()).toEqual({ user_created: true, reason: null });
    const again = await fetch(`${base}/signup/verify`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ imp_uid, merchant_uid: v.boundId }),
    });
    expect(await again.json()).toEqual({ user_created: false, reason: null });
  });

  it("echoes X-Request-Id through the mount and tags the merchant's log lines with it", async () => {
    const created = await fetch(`${base}/certgate/api/verifications`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({}),
    });
    const { merchant_uid } = z.object({ merchant_uid: z.string() }).parse(await created.json());
    const { imp_uid } = emulator.createCertification({ persona: "adult", merchant_uid });
    const before = lines.length;
    const done = await fetch(`${base}/certgate/certifications`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "express-req-1" },
      body: JSON.stringify({ imp_uid, merchant_uid }),
    });
    expect([done.status, done.headers.get("x-request-id")]).toEqual([200, "express-req-1"]);
    expect(lines.slice(before).map((l) => [l.msg, l.request_id])).toEqual([
      ["verification completed", "express-req-1"],
      ["request", "express-req-1"],
    ]);
  });
});

describeHost("Express", { mount: "/certgate" }, async ({ certgate, own }) => {
  const app = express();
  app.use("/certgate", toNodeHandler(certgate));
  app.post(
    "/signup/start",
    express.json(),
    async (req, res) => void res.status(201).json(await own.start(req.body)),
  );
  app.post("/signup/verify", express.json(), async (req, res) => void res.json(await own.verify(req.body)));
  // Last: Express 5 hands a rejected route promise (and express.json()'s parse error) to it.
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const { status, headers, body } = toErrorResponse(err);
    res.status(status).set(headers).json(body);
  });
  return listenOn(createServer(app));
});
