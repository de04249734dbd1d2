/**
 * /openapi.json describes every route of the contract, from the schemas the routes parse with; it
 * passes a real OpenAPI linter (Redocly's recommended rules), and every answer a real flow gets
 * validates against the schema documented for its route and status.
 */
import { createConfig, lintFromString } from "@redocly/openapi-core";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { type completedEvent, VERIFICATION_COMPLETED } from "../../src/core/webhook-event.js";
import { openApiDocument } from "../../src/http/openapi.js";
import { completeV1Body, createVerificationBody } from "../../src/http/schemas.js";
import type { VerificationCompletedEvent, VerificationExpiredEvent } from "../../src/http/view-schemas.js";
import { auth, type Harness, RETURN_ORIGIN, startHarness } from "./harness.js";
import { answerChecker } from "./openapi-answers.js";

const document = z.object({
  openapi: z.literal("3.1.0"),
  paths: z.record(
    z.string(),
    z.record(
      z.string(),
      z.object({
        requestBody: z
          .object({
            content: z.object({
              "application/json": z.object({
                schema: z.object({ properties: z.record(z.string(), z.unknown()) }),
              }),
            }),
          })
          .optional(),
        responses: z.record(z.string(), z.unknown()),
      }),
    ),
  ),
});

describe("openapi.json", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("sqlite");
  });
  afterAll(async () => {
    await h?.close();
  });

  it("lists every route the service answers, with the routes' own request schemas", async () => {
    const res = await h.api("/openapi.json");
    expect(res.status).toBe(200);
    const doc = document.parse(await res.json());
    const expected = [
      ["post", "/api/verifications"],
      ["get", "/api/verifications/{id}"],
      ["delete", "/api/accounts/{account_ref}"],
      ["post", "/certifications"],
      ["get", "/certifications/redirect"],
      ["post", "/identity-verifications"],
      ["get", "/identity-verifications/redirect"],
      ["get", "/healthz"],
      ["get", "/readyz"],
      ["get", "/metrics"],
    ] as const;
    for (const [method, path] of expected)
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    // No demo page here, so neither it nor its files are listed (sandbox.test.ts: listed when served).
    expect(doc.paths["/"]).toBeUndefined();
    expect(await (await h.api("/")).json()).toMatchObject({ error: { code: "not_found" } });
    const create =
      doc.paths["/api/verifications"]?.post?.requestBody?.content["application/json"].schema.properties;
    expect(Object.keys(create ?? {}).sort()).toEqual(Object.keys(createVerificationBody.shape).sort());
    const complete =
      doc.paths["/certifications"]?.post?.requestBody?.content["application/json"].schema.properties;
    expect(Object.keys(complete ?? {}).sort()).toEqual(Object.keys(completeV1Body.shape).sort());
  });

  it("says merchant bodies take no unknown field and documents unknown_field and repeated_parameter", async () => {
    const doc = operationsDocument.parse(await (await h.api("/openapi.json")).json());
    const createSchema = z
      .object({
        additionalProperties: z.literal(false),
        properties: z.object({ policy: z.object({ additionalProperties: z.literal(false) }) }),
      })
      .safeParse(doc.paths["/api/verifications"]?.post?.requestBody?.content["application/json"]?.schema);
    expect(createSchema.success, createSchema.error?.message).toBe(true);
    for (const [path, method] of [
      ["/api/verifications", "post"],
      ["/api/verifications/{id}", "get"],
      ["/api/accounts/{account_ref}", "delete"],
    ] as const) {
      expect(doc.paths[path]?.[method]?.responses["400"]?.description, `${method} ${path}`).toMatch(
        /unknown_field.*repeated_parameter/s,
      );
    }
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        expect(operation.responses["400"]?.description, `${method} ${path}`).toContain("repeated_parameter");
      }
    }
  });

  it("documents failed attempts: max_attempts, the pending 422 with attempts_remaining, too_many_attempts", async () => {
    const doc = z
      .object({
        paths: z.object({
          "/api/verifications": z.object({
            post: z.object({
              requestBody: z.object({
                content: z.object({
                  "application/json": z.object({
                    schema: z.object({
                      properties: z.object({
                        max_attempts: z.object({ minimum: z.number(), maximum: z.number() }),
                      }),
                    }),
                  }),
                }),
              }),
            }),
          }),
          "/certifications": z.object({
            post: z.object({
              responses: z.object({
                "422": z.object({
                  description: z.string(),
                  content: z.object({
                    "application/json": z.object({
                      schema: z.object({ $ref: z.literal("#/components/schemas/CompletionError") }),
                    }),
                  }),
                }),
              }),
            }),
          }),
        }),
        components: z.object({
          schemas: z.object({
            CompletionError: z.object({
              properties: z.object({
                verification: z.object({ $ref: z.literal("#/components/schemas/BrowserVerification") }),
              }),
            }),
            BrowserVerification: z.object({
              properties: z.object({ attempts_remaining: z.object({}).loose() }),
            }),
          }),
        }),
      })
      .parse(await (await h.api("/openapi.json")).json());
    const max =
      doc.paths["/api/verifications"].post.requestBody.content["application/json"].schema.properties;
    expect(max.max_attempts).toMatchObject({ minimum: 1, maximum: 20 });
    const rejected = doc.paths["/certifications"].post.responses["422"].description;
    for (const word of ["too_many_attempts", "not_found", "merchant_uid_mismatch", "pending"])
      expect(rejected).toContain(word);
  });

  it("documents the database-fault 503 on every route that reads or writes the database", async () => {
    const doc = operationsDocument.parse(await (await h.api("/openapi.json")).json());
    for (const [path, method] of [
      ["/api/verifications", "post"],
      ["/api/verifications/{id}", "get"],
      ["/api/accounts/{account_ref}", "delete"],
      ["/certifications", "post"],
      ["/certifications/redirect", "get"],
      ["/identity-verifications", "post"],
      ["/identity-verifications/redirect", "get"],
    ] as const) {
      const description = doc.paths[path]?.[method]?.responses["503"]?.description ?? "";
      for (const code of ["store_unavailable", "store_busy", "store_read_only", "store_full"]) {
        expect(description, `${method} ${path}`).toContain(code);
      }
    }
  });

  it("documents Idempotency-Key and its 409 on creation, and X-Request-Id on every operation", async () => {
    const doc = headersDocument.parse(await (await h.api("/openapi.json")).json());
    const create = doc.paths["/api/verifications"]?.post;
    expect(create?.parameters).toContainEqual(
      expect.objectContaining({ name: "Idempotency-Key", in: "header" }),
    );
    expect(create?.responses["409"]?.description).toMatch(/idempotency_conflict/);
    expect(create?.responses["201"]?.headers).toHaveProperty("Idempotent-Replayed");
    expect(doc.components.parameters.RequestId).toMatchObject({ name: "X-Request-Id", in: "header" });
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(operations)) {
        expect(op.parameters, `${method} ${path}`).toContainEqual({
          $ref: "#/components/parameters/RequestId",
        });
        for (const [status, response] of Object.entries(op.responses)) {
          expect(response.headers, `${method} ${path} ${status}`).toHaveProperty("X-Request-Id");
        }
      }
    }
  });
});

describe("openapi.json for client generation", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("sqlite", { emitEvents: true });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("passes Redocly's recommended rules with no error and no warning, as served and with the optional routes", async () => {
    const config = await createConfig({ extends: ["recommended"] });
    const served = await (await h.api("/openapi.json")).text();
    for (const [name, source] of [
      ["served", served],
      ["sandbox", JSON.stringify(openApiDocument({ sandbox: true }))],
      ["demo", JSON.stringify(openApiDocument({ demoCreation: true, demoPage: true }))],
    ] as const) {
      const problems = await lintFromString({ source, absoluteRef: `${name}.json`, config });
      const found = problems.map(
        (p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`,
      );
      expect(found, name).toEqual([]);
    }
  });

  it("gives every operation an operationId, tags, security and a schema for every JSON answer", async () => {
    const doc = clientDocument.parse(await (await h.api("/openapi.json")).json());
    const ids = new Set<string>();
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(operations)) {
        const where = `${method} ${path}`;
        expect(ids.has(op.operationId), where).toBe(false);
        ids.add(op.operationId);
        expect(op.tags.length, where).toBe(1);
        expect(op.security, where).toEqual(path.startsWith("/api/") ? [{ apiKey: [] }] : []);
        for (const [status, response] of Object.entries(op.responses)) {
          if (status === "303") continue;
          expect(Object.keys(response.content ?? {}).length, `${where} ${status}`).toBeGreaterThan(0);
        }
      }
    }
    expect(doc.components.securitySchemes.apiKey).toEqual(
      expect.objectContaining({ type: "http", scheme: "bearer" }),
    );
    expect(Object.keys(doc.webhooks)).toContain(VERIFICATION_COMPLETED);
  });

  it("lists the stable error codes of each status as an enum", async () => {
    const doc = clientDocument.parse(await (await h.api("/openapi.json")).json());
    const codes = (path: string, method: string, status: string) =>
      errorCodes.parse(doc.paths[path]?.[method]?.responses[status]?.content?.["application/json"]?.schema)
        .properties.error.properties.code.enum;
    expect(codes("/api/verifications", "post", "400")).toEqual(
      expect.arrayContaining([
        "invalid_request",
        "unknown_field",
        "repeated_parameter",
        "invalid_idempotency_key",
      ]),
    );
    expect(codes("/api/verifications", "post", "409")).toEqual([
      "idempotency_conflict",
      "account_not_bound",
      "conflict",
    ]);
    expect(codes("/api/verifications/{id}", "get", "401")).toEqual(["unauthorized"]);
    // The public creations take a purpose too: a reverify of an unbound account is theirs as well.
    const sandbox = clientDocument.parse(openApiDocument({ sandbox: true, demoCreation: true }));
    for (const path of ["/sandbox/verifications", "/demo/verifications"]) {
      expect(
        errorCodes.parse(sandbox.paths[path]?.post?.responses["409"]?.content?.["application/json"]?.schema)
          .properties.error.properties.code.enum,
        path,
      ).toEqual(["account_not_bound", "conflict"]);
    }
    expect(codes("/certifications", "post", "503")).toEqual([
      "upstream_unavailable",
      "store_unavailable",
      "store_busy",
      "store_read_only",
      "store_full",
      "store_unknown_key",
    ]);
    expect(codes("/certifications", "post", "504")).toEqual(["upstream_timeout"]);
    expect(codes("/healthz", "get", "500")).toEqual(["internal_error"]);
  });

  it("documents every answer of a real flow: each status is listed and each body validates against its schema", async () => {
    const doc: unknown = await (await h.api("/openapi.json")).json();
    const answers = answerChecker(doc);
    const { check } = answers;
    const post = (path: string, body: unknown, headers: Record<string, string> = auth) =>
      h.api(path, { method: "POST", headers, body });

    // Operations.
    await check("get", "/healthz", await h.api("/healthz"));
    await check("get", "/readyz", await h.api("/readyz"));
    await check("get", "/metrics", await h.api("/metrics"));
    await check("get", "/openapi.json", await h.api("/openapi.json"));
    await check("get", "/healthz", await h.api("/healthz?a=1&a=2"));
    for (const path of ["/healthz", "/readyz", "/metrics", "/openapi.json"]) {
      const refused = await h.api(`${path}?verbose=1`);
      expect(refused.status).toBe(400);
      await check("get", path, refused);
    }

    // Creation and its refusals.
    const create = "/api/verifications";
    await check("post", create, await post(create, {}, {}));
    await check("post", create, await post(create, { polcy: {} }));
    await check("post", create, await post(create, "{", { ...auth, "content-type": "application/json" }));
    await check("post", create, await post(create, "{}", { ...auth, "content-type": "text/plain" }));
    await check("post", create, await post(create, { note: "x".repeat(20_000) }));
    const v1 = (await check("post", create, await post(create, { account_ref: "oas-1" }))) as Ids;
    const keyed = { ...auth, "idempotency-key": "oas-key-1" };
    await check("post", create, await post(create, { account_ref: "oas-2" }, keyed));
    await check("post", create, await post(create, { account_ref: "oas-2" }, keyed));
    await check("post", create, await post(create, { account_ref: "oas-3" }, keyed));
    const v2 = (await check("post", create, await post(create, { api_version: "v2" }))) as Ids;
    const redirected = (await check(
      "post",
      create,
      await post(create, { return_url: `${RETURN_ORIGIN}/done` }),
    )) as Ids;

    // Reading: pending, then unknown, malformed and with a query.
    const get = "/api/verifications/{id}";
    await check("get", get, await h.api(`/api/verifications/${v1.id}`, { headers: auth }));
    await check("get", get, await h.api("/api/verifications/ver_none", { headers: auth }));
    await check("get", get, await h.api(`/api/verifications/${v1.id}?x=1`, { headers: auth }));
    await check("get", get, await h.api(`/api/verifications/${v1.id}`));

    // V1 completion: a failed attempt, a verification, a replay, an unknown merchant_uid, a duplicate.
    const complete = (body: unknown) => h.api("/certifications", { method: "POST", body });
    await check(
      "post",
      "/certifications",
      await complete({ imp_uid: "imp_none", merchant_uid: v1.merchant_uid }),
    );
    const record = h.emulator.createCertification({ persona: "adult", merchant_uid: v1.merchant_uid ?? "" });
    await check(
      "post",
      "/certifications",
      await complete({ imp_uid: record.imp_uid, merchant_uid: v1.merchant_uid }),
    );
    await check(
      "post",
      "/certifications",
      await complete({ imp_uid: record.imp_uid, merchant_uid: v1.merchant_uid }),
    );
    await check(
      "post",
      "/certifications",
      await complete({ imp_uid: record.imp_uid, merchant_uid: "mid_none" }),
    );
    await check("post", "/certifications", await complete({}));
    const dup = (await check("post", create, await post(create, { account_ref: "oas-dup" }))) as Ids;
    const again = h.emulator.createCertification({ persona: "adult", merchant_uid: dup.merchant_uid ?? "" });
    await check(
      "post",
      "/certifications",
      await complete({ imp_uid: again.imp_uid, merchant_uid: dup.merchant_uid }),
    );
    await check("get", get, await h.api(`/api/verifications/${v1.id}`, { headers: auth }));
    await check("get", get, await h.api(`/api/verifications/${dup.id}`, { headers: auth }));

    // An expected identity that differs: 422 identity_mismatch naming the field, in both views.
    const mismatch = (await check(
      "post",
      create,
      await post(create, { purpose: "check", expected: { name: "다른사람" } }),
    )) as Ids;
    const fourth = h.emulator.createCertification({
      persona: "adult",
      merchant_uid: mismatch.merchant_uid ?? "",
    });
    const refused = await complete({ imp_uid: fourth.imp_uid, merchant_uid: mismatch.merchant_uid });
    expect(await check("post", "/certifications", refused)).toMatchObject({
      error: { code: "identity_mismatch" },
      verification: { mismatched_fields: ["name"] },
    });
    await check("get", get, await h.api(`/api/verifications/${mismatch.id}`, { headers: auth }));

    // The redirect routes: a 303 with a return_url, JSON without.
    const third = h.emulator.createCertification({
      persona: "minor",
      merchant_uid: redirected.merchant_uid ?? "",
    });
    await check(
      "get",
      "/certifications/redirect",
      await h.api(
        `/certifications/redirect?imp_uid=${third.imp_uid}&merchant_uid=${redirected.merchant_uid}`,
      ),
    );
    await check(
      "get",
      "/certifications/redirect",
      await h.api("/certifications/redirect?imp_uid=imp_x&merchant_uid=mid_none"),
    );

    // V2: pending while READY, then verified; its redirect route.
    const idv = v2.identity_verification_id ?? "";
    h.emulator.createIdentityVerification({ identityVerificationId: idv, persona: "minor", status: "READY" });
    const completeV2 = () =>
      h.api("/identity-verifications", { method: "POST", body: { identityVerificationId: idv } });
    await check("post", "/identity-verifications", await completeV2());
    h.emulator.deleteIdentityVerification(idv);
    h.emulator.createIdentityVerification({ identityVerificationId: idv, persona: "minor" });
    await check("post", "/identity-verifications", await completeV2());
    await check(
      "get",
      "/identity-verifications/redirect",
      await h.api(`/identity-verifications/redirect?identityVerificationId=${idv}`),
    );
    await check("get", get, await h.api(`/api/verifications/${v2.id}`, { headers: auth }));

    // Unbinding, then again.
    const unbind = "/api/accounts/{account_ref}";
    await check("delete", unbind, await h.api("/api/accounts/oas-1", { method: "DELETE", headers: auth }));
    await check("delete", unbind, await h.api("/api/accounts/oas-1", { method: "DELETE", headers: auth }));

    // The webhook events the outcomes wrote to the outbox.
    const events = await h.store.claimWebhookEvents({
      now: new Date(8.64e15),
      limit: 50,
      leaseUntil: new Date(8.64e15),
    });
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) answers.checkEvent(event.type, JSON.parse(event.payload));

    expect([...answers.seen].sort()).toEqual(
      expect.arrayContaining([
        "DELETE /api/accounts/{account_ref} 200",
        "DELETE /api/accounts/{account_ref} 404",
        "GET /api/verifications/{id} 200",
        "GET /api/verifications/{id} 400",
        "GET /api/verifications/{id} 401",
        "GET /api/verifications/{id} 404",
        "GET /certifications/redirect 303",
        "GET /certifications/redirect 404",
        "GET /identity-verifications/redirect 409",
        "POST /api/verifications 201",
        "POST /api/verifications 400",
        "POST /api/verifications 401",
        "POST /api/verifications 409",
        "POST /api/verifications 413",
        "POST /api/verifications 415",
        "POST /certifications 200",
        "POST /certifications 400",
        "POST /certifications 404",
        "POST /certifications 409",
        "POST /certifications 422",
        "POST /identity-verifications 200",
        "POST /identity-verifications 202",
      ]),
    );
  });

  it("types the verification events as their documented payloads", () => {
    type Built = ReturnType<typeof completedEvent>;
    expectTypeOf<Extract<Built, { type: "verification.completed" }>>().toExtend<VerificationCompletedEvent>();
    expectTypeOf<Extract<Built, { type: "verification.expired" }>>().toExtend<VerificationExpiredEvent>();
  });
});

interface Ids {
  id: string;
  merchant_uid: string | null;
  identity_verification_id: string | null;
}

const clientDocument = z.object({
  paths: z.record(
    z.string(),
    z.record(
      z.string(),
      z.object({
        operationId: z.string(),
        tags: z.array(z.string()),
        security: z.array(z.record(z.string(), z.array(z.string()))),
        responses: z.record(
          z.string(),
          z.object({
            content: z.record(z.string(), z.object({ schema: z.unknown() })).optional(),
          }),
        ),
      }),
    ),
  ),
  webhooks: z.record(z.string(), z.unknown()),
  components: z.object({ securitySchemes: z.record(z.string(), z.unknown()) }),
});

const errorCodes = z.object({
  properties: z.object({
    error: z.object({ properties: z.object({ code: z.object({ enum: z.array(z.string()) }) }) }),
  }),
});

/** Every operation's request body schema and its responses' descriptions. */
const operationsDocument = z.object({
  paths: z.record(
    z.string(),
    z.record(
      z.string(),
      z.object({
        requestBody: z
          .object({ content: z.record(z.string(), z.object({ schema: z.unknown() })) })
          .optional(),
        responses: z.record(z.string(), z.object({ description: z.string() })),
      }),
    ),
  ),
});

const headersDocument = z.object({
  components: z.object({ parameters: z.record(z.string(), z.looseObject({})) }),
  paths: z.record(
    z.string(),
    z.record(
      z.string(),
      z.object({
        parameters: z.array(z.looseObject({})),
        responses: z.record(
          z.string(),
          z.object({ description: z.string(), headers: z.record(z.string(), z.unknown()) }),
        ),
      }),
    ),
  ),
});
