/**
 * A JSON-schema validator (ajv) over the committed fixture of PortOne's OpenAPI, adapted to JSON
 * Schema draft-07:
 * - `$ref`s to `#/definitions/…` (Swagger 2.0) and `#/components/schemas/…` (OpenAPI 3.0) point into
 *   one registered document per API;
 * - OpenAPI 3.0 `nullable: true` becomes a `"null"` type; a `discriminator` becomes a `const` on the
 *   tag in each arm, so a tag that the union does not map is refused;
 * - Swagger's string `maxLength: "88"` becomes a number; V1's `allOf` envelopes are merged into one
 *   object so that undeclared fields can be refused;
 * - every object with declared `properties` refuses undeclared ones (`additionalProperties: false`):
 *   PortOne may add fields, but the emulator must serve only documented ones.
 * Plus the exceptions of `exceptions.ts`, by id, and nothing else.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule, { type FormatsPlugin } from "ajv-formats";
import fixture from "./portone-openapi.fixture.json" with { type: "json" };

// ajv-formats is CommonJS: under NodeNext its default import is typed as the module, though it is the plugin.
const addFormats = addFormatsModule as unknown as FormatsPlugin;

export type Api = "v1" | "v2";
type Schema = Record<string, unknown>;
type Json = unknown;

const isObject = (value: unknown): value is Schema =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A deep copy of `node` with `visit` applied bottom-up to every object. */
function transform(node: Json, visit: (schema: Schema) => Schema): Json {
  if (Array.isArray(node)) return node.map((item) => transform(item, visit));
  if (!isObject(node)) return node;
  const copy: Schema = {};
  for (const [key, value] of Object.entries(node)) copy[key] = transform(value, visit);
  return visit(copy);
}

const V1_ID = "https://certgate.invalid/portone/v1.json";
const V2_ID = "https://certgate.invalid/portone/v2.json";

/** The draft-07 schemas of one API's definitions, adapted as the module comment says. */
function adaptDefinitions(api: Api): Record<string, Schema> {
  const source = (api === "v1" ? fixture.v1.definitions : fixture.v2.components.schemas) as Record<
    string,
    Schema
  >;
  const prefix = api === "v1" ? "#/definitions/" : "#/components/schemas/";
  const id = api === "v1" ? V1_ID : V2_ID;
  const visit = (schema: Schema): Schema => {
    const out = { ...schema };
    if (typeof out.$ref === "string" && out.$ref.startsWith(prefix))
      out.$ref = `${id}#/definitions/${out.$ref.slice(prefix.length)}`;
    for (const key of ["maxLength", "minLength"])
      if (typeof out[key] === "string") out[key] = Number(out[key]);
    if (out.nullable === true) {
      delete out.nullable;
      if (typeof out.type === "string") out.type = [out.type, "null"];
      else return { anyOf: [out, { type: "null" }] };
    }
    if (isObject(out.discriminator) && Array.isArray(out.oneOf)) {
      const { propertyName, mapping } = out.discriminator as { propertyName: string; mapping: Schema };
      delete out.discriminator;
      out.oneOf = Object.entries(mapping).map(([tag, ref]) => ({
        allOf: [
          { $ref: `${id}#/definitions/${String(ref).slice(prefix.length)}` },
          // Open: the arm itself refuses undeclared fields.
          {
            required: [propertyName],
            properties: { [propertyName]: { const: tag } },
            additionalProperties: true,
          },
        ],
      }));
    }
    return out;
  };
  const adapted = transform(source, visit) as Record<string, Schema>;
  if (api === "v1") adaptV1(adapted);
  for (const schema of Object.values(adapted)) closeObjects(schema);
  return adapted;
}

/** V1: merged `allOf` envelopes, and the exceptions `v1-nulls` and `v1-legacy-birth`. */
function adaptV1(definitions: Record<string, Schema>) {
  const resolve = (schema: Schema): Schema => {
    const ref = typeof schema.$ref === "string" ? schema.$ref.split("/").pop() : undefined;
    return ref ? (definitions[ref] ?? schema) : schema;
  };
  for (const [name, schema] of Object.entries(definitions)) {
    if (!Array.isArray(schema.allOf)) continue;
    const merged: Schema = { type: "object", properties: {}, required: [] };
    for (const part of schema.allOf as Schema[]) {
      const resolved = resolve(part);
      Object.assign(merged.properties as Schema, resolved.properties);
      (merged.required as string[]).push(...((resolved.required as string[] | undefined) ?? []));
    }
    definitions[name] = merged;
  }
  // Exception v1-legacy-birth.
  const certification = definitions.CertificationAnnotation;
  if (certification) (certification.properties as Schema).birth = { type: "integer" };
  // Exception v1-nulls: a field that is not required may be null.
  for (const schema of Object.values(definitions)) {
    const required = new Set((schema.required as string[] | undefined) ?? []);
    for (const [field, property] of Object.entries((schema.properties as Schema | undefined) ?? {})) {
      if (required.has(field) || !isObject(property)) continue;
      (schema.properties as Schema)[field] =
        typeof property.type === "string"
          ? { ...property, type: [property.type, "null"] }
          : { anyOf: [property, { type: "null" }] };
    }
  }
}

/** Objects with declared properties refuse undeclared ones (in place, recursively). */
function closeObjects(node: Json) {
  if (Array.isArray(node)) for (const item of node) closeObjects(item);
  if (!isObject(node)) return;
  if (isObject(node.properties) && node.additionalProperties === undefined) node.additionalProperties = false;
  for (const value of Object.values(node)) closeObjects(value);
}

function createAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  ajv.addSchema({ $id: V1_ID, definitions: adaptDefinitions("v1") });
  ajv.addSchema({ $id: V2_ID, definitions: adaptDefinitions("v2") });
  return ajv;
}

const ajv = createAjv();

/** The fixture's operation `operationId` of `api`: its path, method and raw operation object. */
export function operation(api: Api, operationId: string) {
  const paths = (api === "v1" ? fixture.v1.paths : fixture.v2.paths) as Record<
    string,
    Record<string, Schema>
  >;
  for (const [path, item] of Object.entries(paths))
    for (const [method, op] of Object.entries(item))
      if (op.operationId === operationId) return { path, method: method.toUpperCase(), op };
  throw new Error(`${api} ${operationId}: not in the fixture`);
}

/** Every operationId of the fixture, by API. */
export function operationIds(api: Api): string[] {
  const paths = (api === "v1" ? fixture.v1.paths : fixture.v2.paths) as Record<
    string,
    Record<string, Schema>
  >;
  return Object.values(paths).flatMap((item) => Object.values(item).map((op) => String(op.operationId)));
}

const compiled = new Map<string, ValidateFunction>();
function compile(key: string, schema: Schema): ValidateFunction {
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(key, validate);
  }
  return validate;
}

/** Rewrites an operation's `$ref`s to the registered documents, and closes its inline objects. */
function operationSchema(api: Api, schema: Schema): Schema {
  const prefix = api === "v1" ? "#/definitions/" : "#/components/schemas/";
  const id = api === "v1" ? V1_ID : V2_ID;
  const out = transform(schema, (node) =>
    typeof node.$ref === "string" && node.$ref.startsWith(prefix)
      ? { ...node, $ref: `${id}#/definitions/${node.$ref.slice(prefix.length)}` }
      : node,
  ) as Schema;
  closeObjects(out);
  return out;
}

/** A V1 failure: PortOne documents these statuses without a schema, but always in its envelope. */
const V1_FAILURE_ENVELOPE: Schema = {
  type: "object",
  required: ["code", "message", "response"],
  additionalProperties: false,
  properties: {
    code: { type: "integer", not: { const: 0 } },
    message: { type: "string" },
    response: { type: "null" },
  },
};

/** The statuses `operationId` documents, plus the excepted ones. */
export function documentedStatuses(api: Api, operationId: string): number[] {
  const { op } = operation(api, operationId);
  const statuses = Object.keys(op.responses as Schema).map(Number);
  // Exception v1-get-token-400.
  if (api === "v1" && operationId === "getToken") statuses.push(400);
  return statuses.sort((a, b) => a - b);
}

/**
 * Problems of a response (`[]` when it conforms): an undocumented status, or a body that fails the
 * status's schema (V2) or, for a V1 status documented without one, the V1 failure envelope.
 */
export function responseProblems(api: Api, operationId: string, status: number, body: unknown): string[] {
  if (!documentedStatuses(api, operationId).includes(status))
    return [`status ${status} is not documented for ${operationId}`];
  const { op } = operation(api, operationId);
  const response = (op.responses as Record<string, Schema>)[String(status)] ?? {};
  let schema: Schema | undefined;
  if (api === "v1") schema = isObject(response.schema) ? response.schema : undefined;
  else
    schema = ((response.content as Schema | undefined)?.["application/json"] as Schema | undefined)?.schema as
      | Schema
      | undefined;
  if (!schema && api === "v1") schema = status === 200 ? undefined : V1_FAILURE_ENVELOPE;
  if (!schema) return [`no schema for ${operationId} ${status}`];
  const validate = compile(`${api} ${operationId} ${status}`, operationSchema(api, schema));
  return validate(body) ? [] : describe(validate.errors);
}

/**
 * Problems of a request (`[]` when it conforms): V1's form parameters, V2's JSON body. The tests
 * check their own requests with this, so "accepted" means "accepted as PortOne documents it".
 */
export function requestProblems(api: Api, operationId: string, body: unknown): string[] {
  const { op } = operation(api, operationId);
  let schema: Schema;
  if (api === "v1") {
    const params = ((op.parameters as Schema[] | undefined) ?? []).filter((p) => p.in === "formData");
    schema = {
      type: "object",
      required: params.filter((p) => p.required === true).map((p) => p.name),
      properties: Object.fromEntries(
        params.map((p) => [p.name, { type: p.type, ...(p.enum ? { enum: p.enum } : {}) }]),
      ),
    };
  } else {
    const content = (op.requestBody as Schema | undefined)?.content as Schema | undefined;
    const json = content?.["application/json"] as Schema | undefined;
    schema = (json?.schema as Schema | undefined) ?? { type: "object", properties: {} };
  }
  const validate = compile(`${api} ${operationId} request`, operationSchema(api, schema));
  return validate(body) ? [] : describe(validate.errors);
}

function describe(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((error) => `${error.instancePath || "(body)"} ${error.message ?? error.keyword}`);
}

/** The error `type`s a V2 operation documents: the tags of its error unions, over every status. */
export function documentedErrorTypes(operationId: string): string[] {
  const { op } = operation("v2", operationId);
  const schemas = fixture.v2.components.schemas as Record<string, Schema>;
  const types = new Set<string>();
  for (const [status, response] of Object.entries(op.responses as Record<string, Schema>)) {
    if (status === "200") continue;
    const json = (response.content as Schema | undefined)?.["application/json"] as Schema | undefined;
    const ref = String((json?.schema as Schema | undefined)?.$ref ?? "");
    const union = schemas[ref.split("/").pop() ?? ""];
    const mapping = (union?.discriminator as { mapping?: Schema } | undefined)?.mapping ?? {};
    for (const type of Object.keys(mapping)) types.add(type);
  }
  return [...types].sort();
}
