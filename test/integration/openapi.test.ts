/** /openapi.json describes every route of the contract, from the schemas the routes parse with. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { completeV1Body, createVerificationBody } from "../../src/http/schemas.js";
import { type Harness, startHarness } from "./harness.js";

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
                      schema: z.object({
                        properties: z.object({
                          verification: z.object({
                            properties: z.object({ attempts_remaining: z.object({}).loose() }),
                          }),
                        }),
                      }),
                    }),
                  }),
                }),
              }),
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
