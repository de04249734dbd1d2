/**
 * Checks real answers against what /openapi.json documents for them: the status must be one the
 * operation lists, and the body must validate (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses) against
 * that status's schema, with every object closed: the document leaves answers open for clients
 * (answers may gain fields), but here a field the document does not name is drift, and fails.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule, { type FormatsPlugin } from "ajv-formats";
import { expect } from "vitest";

// ajv-formats is CommonJS: under NodeNext its default import is typed as the module, though it is the plugin.
const addFormats = addFormatsModule as unknown as FormatsPlugin;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A deep copy of `node` where every schema with `properties` refuses undeclared ones. */
function closeObjects(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closeObjects);
  if (!isObject(node)) return node;
  const copy = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, closeObjects(value)]));
  if (isObject(copy.properties) && copy.additionalProperties === undefined) copy.additionalProperties = false;
  return copy;
}

const pointer = (...segments: string[]) =>
  segments.map((s) => `/${encodeURIComponent(s.replaceAll("~", "~0").replaceAll("/", "~1"))}`).join("");

export interface AnswerChecker {
  /**
   * Asserts that `status` is documented for `method path` (the document's path template) and that
   * the body validates against its schema; returns the body (parsed when JSON).
   */
  check(method: string, path: string, res: Response): Promise<unknown>;
  /** Asserts that `payload` validates against the documented payload of webhook event `type`. */
  checkEvent(type: string, payload: unknown): void;
  /** "METHOD path status" of every answer checked. */
  seen: Set<string>;
}

export function answerChecker(doc: unknown): AnswerChecker {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(closeObjects(doc) as Json, "openapi.json");
  const paths = (doc as { paths: Record<string, Record<string, { responses: Record<string, Json> }>> }).paths;
  const validate = (where: string, at: string, value: unknown) => {
    const valid = ajv.compile({ $ref: `openapi.json#${at}` });
    expect(valid(value), `${where}: ${ajv.errorsText(valid.errors)}`).toBe(true);
  };
  const seen = new Set<string>();
  return {
    seen,
    async check(method, path, res) {
      const where = `${method.toUpperCase()} ${path} ${res.status}`;
      seen.add(where);
      const response = paths[path]?.[method]?.responses[String(res.status)];
      expect(response, `${where} is not documented`).toBeDefined();
      const content = (response?.content ?? {}) as Record<string, unknown>;
      const text = await res.text();
      if (Object.keys(content).length === 0) {
        expect(text, `${where} documents no body`).toBe("");
        return text;
      }
      const type = res.headers.get("content-type") ?? "";
      if ("application/json" in content && type.startsWith("application/json")) {
        const body: unknown = JSON.parse(text);
        validate(
          where,
          pointer(
            "paths",
            path,
            method,
            "responses",
            String(res.status),
            "content",
            "application/json",
            "schema",
          ),
          body,
        );
        return body;
      }
      expect(
        Object.keys(content).some((media) => type.startsWith(media)),
        `${where}: ${type}`,
      ).toBe(true);
      return text;
    },
    checkEvent(type, payload) {
      validate(
        `event ${type}`,
        pointer("webhooks", type, "post", "requestBody", "content", "application/json", "schema"),
        payload,
      );
    },
  };
}
