/**
 * A client generated from the served /openapi.json works, typed: openapi-typescript turns the
 * document into types, a small merchant program written against them with openapi-fetch is
 * type-checked by the TypeScript compiler (typed bodies, enum error codes, no unknown body field),
 * and then runs against the real certgate over a socket: create, complete, read.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import openapiTS, { astToString, type OpenAPI3 } from "openapi-typescript";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { API_KEY, type Harness, startHarness } from "./harness.js";

/** The merchant's program, as a team would write it against the generated types. */
const USAGE = `
import createClient from "openapi-fetch";
import type { components, paths } from "./certgate.js";

type Verification = components["schemas"]["Verification"];
type CreateBody = paths["/api/verifications"]["post"]["requestBody"]["content"]["application/json"];

export async function signUp(baseUrl: string, apiKey: string, personaRecord: (merchantUid: string) => string) {
  const client = createClient<paths>({ baseUrl, headers: { Authorization: \`Bearer \${apiKey}\` } });

  const created = await client.POST("/api/verifications", {
    body: { account_ref: "client-1", policy: { min_age: 19, age_rule: "year" } },
  });
  if (created.error) {
    // @ts-expect-error error codes are an enum: this is not one the route answers
    if (created.error.error.code === "no_such_code") throw new Error("unreachable");
    throw new Error(created.error.error.code);
  }
  const { data } = created;
  const id: string = data.id;
  const status: "pending" = data.status;
  // @ts-expect-error the answer has no such field
  void data.no_such_field;
  if (data.api_version !== "v1") throw new Error("expected V1");
  const merchantUid: string = data.merchant_uid;
  const impCode: string = data.sdk.imp_code;

  const impUid = personaRecord(merchantUid);
  const completed = await client.POST("/certifications", { body: { imp_uid: impUid, merchant_uid: merchantUid } });
  if (completed.error) throw new Error(completed.error.error.code);
  const completedStatus: "pending" | "verified" | "rejected" | "expired" = completed.data.verification.status;

  const got = await client.GET("/api/verifications/{id}", { params: { path: { id } } });
  if (got.error) {
    const code: "invalid_request" | "unknown_field" | "repeated_parameter" | "unauthorized" | "not_found"
      | "invalid_json" | "payload_too_large" | "unsupported_media_type"
      | "store_unavailable" | "store_busy" | "store_read_only" | "store_full" | "store_unknown_key"
      | "internal_error" = got.error.error.code;
    throw new Error(code);
  }
  const verification: Verification = got.data.verification;
  const name: string | null | undefined = verification.identity?.name;
  return { id, status, impCode, completedStatus, verified: verification.status, named: typeof name === "string" };
}

export async function mistakes(baseUrl: string) {
  const client = createClient<paths>({ baseUrl });
  // @ts-expect-error the creation body takes no unknown field (minAge is policy.min_age)
  const body: CreateBody = { minAge: 19 };
  await client.POST("/api/verifications", { body });
  // @ts-expect-error the path needs its id
  await client.GET("/api/verifications/{id}", {});
}
`;

const root = resolve(import.meta.dirname, "../..");

/** Generates the types of `doc` and the usage file into `dir`; returns the compiler's diagnostics. */
async function generateAndCheck(dir: string, doc: unknown): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "certgate.ts"), astToString(await openapiTS(doc as OpenAPI3)));
  writeFileSync(join(dir, "usage.ts"), USAGE);
  const program = ts.createProgram([join(dir, "usage.ts")], {
    strict: true,
    noEmit: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ["lib.es2023.d.ts", "lib.dom.d.ts"],
    types: [],
    skipLibCheck: true,
  });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
    return `${d.file?.fileName ?? ""}:${line}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
  });
}

const signUpModule = z.object({
  signUp: z.custom<
    (
      baseUrl: string,
      apiKey: string,
      record: (merchantUid: string) => string,
    ) => Promise<Record<string, unknown>>
  >((value) => typeof value === "function"),
});

/** Type-checking with the TypeScript compiler takes seconds alone, far more on a loaded machine. */
const COMPILE_TIMEOUT_MS = 180_000;

describe("a client generated from /openapi.json", { timeout: COMPILE_TIMEOUT_MS }, () => {
  let h: Harness;
  let dir: string;
  beforeAll(async () => {
    h = await startHarness("sqlite");
    // Inside the repository (test-artifacts/ is ignored by git), so the program resolves openapi-fetch.
    mkdirSync(join(root, "test-artifacts"), { recursive: true });
    dir = mkdtempSync(join(root, "test-artifacts", "openapi-client-"));
  });
  afterAll(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("type-checks a merchant program with typed bodies and error codes, and runs it against certgate", async () => {
    const doc: unknown = await (await h.api("/openapi.json")).json();
    expect(await generateAndCheck(join(dir, "served"), doc)).toEqual([]);

    const { signUp } = signUpModule.parse(await import(pathToFileURL(join(dir, "served", "usage.ts")).href));
    const result = await signUp(
      h.url,
      API_KEY,
      (merchantUid) =>
        h.emulator.createCertification({ persona: "adult", merchant_uid: merchantUid }).imp_uid,
    );
    expect(result).toEqual({
      id: expect.stringMatching(/^ver_/),
      status: "pending",
      impCode: expect.any(String),
      completedStatus: "verified",
      verified: "verified",
      named: true,
    });
  });

  it("would fail on a document without answer schemas (the merchant API's `content?: never`)", async () => {
    const doc = z
      .object({
        paths: z.record(
          z.string(),
          z.record(z.string(), z.looseObject({ responses: z.record(z.string(), z.looseObject({})) })),
        ),
      })
      .loose()
      .parse(await (await h.api("/openapi.json")).json());
    for (const operations of Object.values(doc.paths))
      for (const op of Object.values(operations))
        for (const response of Object.values(op.responses)) delete response.content;
    const diagnostics = await generateAndCheck(join(dir, "bare"), doc);
    expect(diagnostics.join("\n")).toMatch(
      /does not exist on type 'never'|is possibly 'undefined'|Unused '@ts-expect-error'/,
    );
  });
});
