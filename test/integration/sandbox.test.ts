/**
 * The README's walkthrough, as a newcomer runs it: sandbox mode with no configuration, the embedded
 * emulator under /emulator, a verified sign-up, then duplicate_account for the same persona.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { loadConfig } from "../../src/cli/config.js";
import { createLogger } from "../../src/cli/logger.js";
import { type Certgate, SANDBOX_API_KEY, startCertgate } from "../../src/server.js";

describe("sandbox mode (npm start with no configuration)", () => {
  let dir: string;
  let certgate: Certgate;
  const logs: string[] = [];
  const auth = { authorization: `Bearer ${SANDBOX_API_KEY}`, "content-type": "application/json" };
  const json = { "content-type": "application/json" };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "certgate-sandbox-"));
    const config = loadConfig({ PORT: "0", CERTGATE_DATA_DIR: dir });
    expect(config.mode).toBe("sandbox");
    const logger = createLogger(
      new Writable({
        write(chunk, _e, done) {
          logs.push(String(chunk));
          done();
        },
      }),
    );
    certgate = await startCertgate(config, { logger });
  });
  afterAll(async () => {
    await certgate?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (path: string, headers: Record<string, string>, body: unknown) =>
    fetch(`${certgate.url}${path}`, { method: "POST", headers, body: JSON.stringify(body) });

  async function postJson(path: string, headers: Record<string, string>, body: unknown): Promise<unknown> {
    return (await post(path, headers, body)).json();
  }

  async function signUp(accountRef: string) {
    const createBody = { account_ref: accountRef, policy: { min_age: 19, age_rule: "year" } };
    const created = z
      .object({ id: z.string(), merchant_uid: z.string() })
      .parse(await postJson("/api/verifications", auth, createBody));
    const recordBody = { persona: "adult", merchant_uid: created.merchant_uid };
    const record = z
      .object({ imp_uid: z.string() })
      .parse(await postJson("/emulator/__admin/certifications", json, recordBody));
    const res = await post("/certifications", json, {
      imp_uid: record.imp_uid,
      merchant_uid: created.merchant_uid,
    });
    return { created, res, body: z.record(z.string(), z.unknown()).parse(await res.json()) };
  }

  it("generates a secret once, with a warning", () => {
    expect(logs.join("")).toContain("generated CERTGATE_SECRET");
  });

  it("verifies the first sign-up, and the merchant backend reads the outcome", async () => {
    const { created, res } = await signUp("user-1");
    expect(res.status).toBe(200);
    const outcome = await fetch(`${certgate.url}/api/verifications/${created.id}`, { headers: auth });
    expect(z.object({ verification: z.object({ status: z.string() }) }).parse(await outcome.json())).toEqual({
      verification: expect.objectContaining({ status: "verified" }),
    });
  });

  it("rejects the second sign-up of the same persona as duplicate_account", async () => {
    const { res, body } = await signUp("user-2");
    expect(res.status).toBe(422);
    expect(body.verification).toMatchObject({ reason: "duplicate_account", existing_account_ref: "user-1" });
  });

  it("runs a V2 sign-up against the embedded emulator, and the same persona is a duplicate of the V1 one", async () => {
    const createBody = {
      api_version: "v2",
      account_ref: "user-3",
      policy: { min_age: 19, age_rule: "year" },
    };
    const created = z
      .object({
        id: z.string(),
        identity_verification_id: z.string(),
        sdk: z.object({
          identity_verification: z.object({
            storeId: z.string(),
            channelKey: z.string(),
            redirectUrl: z.string(),
          }),
        }),
      })
      .parse(await postJson("/sandbox/verifications", json, createBody));
    expect(new URL(created.sdk.identity_verification.redirectUrl).pathname).toBe(
      "/identity-verifications/redirect",
    );
    const recordBody = { identityVerificationId: created.identity_verification_id, persona: "adult" };
    expect((await post("/emulator/__admin/identity-verifications", json, recordBody)).status).toBe(201);
    const res = await post("/identity-verifications", json, {
      identityVerificationId: created.identity_verification_id,
    });
    expect(res.status).toBe(422);
    expect(z.object({ verification: z.record(z.string(), z.unknown()) }).parse(await res.json())).toEqual({
      verification: expect.objectContaining({ reason: "duplicate_account", existing_account_ref: "user-1" }),
    });
  });

  it("refuses an Idempotency-Key on the public sandbox route, which has no API key to scope it to", async () => {
    const res = await post("/sandbox/verifications", { ...json, "idempotency-key": "k1" }, {});
    expect(res.status).toBe(400);
    expect(z.object({ error: z.object({ code: z.string() }) }).parse(await res.json()).error.code).toBe(
      "invalid_idempotency_key",
    );
    expect((await post("/sandbox/verifications", json, {})).status).toBe(201);
  });

  it("tags the served requests' log lines with their X-Request-Id", async () => {
    const before = logs.length;
    const res = await fetch(`${certgate.url}/healthz`, { headers: { "x-request-id": "sandbox-rid-1" } });
    expect(res.headers.get("x-request-id")).toBe("sandbox-rid-1");
    const mine = logs.slice(before).map((line) => z.looseObject({ msg: z.string() }).parse(JSON.parse(line)));
    expect(mine.filter((l) => l.msg === "request").map((l) => l.request_id)).toEqual(["sandbox-rid-1"]);
  });

  it("serves health and readiness", async () => {
    expect((await fetch(`${certgate.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${certgate.url}/readyz`)).status).toBe(200);
  });

  it("lists the demo page and its files in /openapi.json, as it serves them", async () => {
    const doc = z
      .object({ paths: z.record(z.string(), z.record(z.string(), z.unknown())) })
      .parse(await (await fetch(`${certgate.url}/openapi.json`)).json());
    expect(Object.keys(doc.paths["/"] ?? {})).toEqual(["get"]);
    const parameters = z
      .object({
        parameters: z.array(
          z.object({
            name: z.string().optional(),
            schema: z.object({ enum: z.array(z.string()) }).optional(),
          }),
        ),
      })
      .parse(doc.paths["/demo/{file}"]?.get).parameters;
    const files = parameters.find((parameter) => parameter.name === "file")?.schema?.enum ?? [];
    expect(files.length).toBeGreaterThan(0);
    for (const name of files) {
      expect((await fetch(`${certgate.url}/demo/${name}`)).status, name).toBe(200);
    }
    expect((await fetch(`${certgate.url}/demo/other.js`)).status).toBe(404);
    expect((await fetch(`${certgate.url}/?imp_uid=x`)).status).toBe(200);
  });
});
