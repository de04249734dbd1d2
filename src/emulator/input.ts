/**
 * Reading the admin API's JSON input, shared by the V1, V2 and shared admin routes, the record
 * builders and the fault registry: one error shape, and messages that never echo the input.
 */

import type { Context } from "hono";
import type { z } from "zod";
import { RequestError } from "../core/errors.js";
import { parseJson } from "../http/json.js";
import { readBounded } from "../util/bytes.js";

/** `path: message` for each issue; zod's messages name types and options, never input values. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join(".") || "(body)"}: ${issue.message}`).join("; ");
}

/** `schema`'s reading of `input`, or `RequestError("invalid_request")` naming the fields. */
export function parseOrThrow<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new RequestError("invalid_request", describeIssues(parsed.error));
  return parsed.data;
}

/**
 * The most of a body any emulator route reads. PortOne's requests are a few hundred bytes; without a
 * bound a chunked body of hundreds of MB was read whole (in sandbox mode inside certgate's process,
 * past its own 16 KB limit, which the emulator's routes do not pass through).
 */
export const EMULATOR_BODY_LIMIT_BYTES = 64 * 1024;

const tooLarge = () => new RequestError("payload_too_large", `body over ${EMULATOR_BODY_LIMIT_BYTES} bytes`);

/** The body's bytes, never more than {@link EMULATOR_BODY_LIMIT_BYTES}: `RequestError("payload_too_large")`. */
export async function readBodyBytes(request: Request): Promise<Uint8Array<ArrayBuffer>> {
  const length = request.headers.get("content-length");
  if (length !== null && Number.parseInt(length, 10) > EMULATOR_BODY_LIMIT_BYTES) throw tooLarge();
  if (request.body === null) return new Uint8Array(0);
  return readBounded(request.body, EMULATOR_BODY_LIMIT_BYTES, {
    tooLarge,
    unreadable: () => new RequestError("invalid_request", "the body could not be read"),
  });
}

/** The body as text (UTF-8, as `Request.text()` reads it), under the same bound. */
export async function readBodyText(request: Request): Promise<string> {
  return new TextDecoder().decode(await readBodyBytes(request));
}

/**
 * A form body's (`application/x-www-form-urlencoded` or `multipart/form-data`) text fields, under
 * the same bound; one that cannot be parsed (a multipart body without its boundary) is
 * `RequestError("invalid_request")`, where Hono's `parseBody` threw a 500.
 */
export async function readFormFields(request: Request): Promise<Record<string, string>> {
  const bytes = await readBodyBytes(request);
  let form: FormData;
  try {
    form = await new Response(bytes, {
      headers: { "content-type": request.headers.get("content-type") ?? "" },
    }).formData();
  } catch {
    throw new RequestError("invalid_request", "the form body could not be read");
  }
  const fields: Record<string, string> = {};
  for (const [name, value] of form) if (typeof value === "string") fields[name] = value;
  return fields;
}

/** The status of an emulator's `RequestError`: 404, 413, else 400. */
export function requestErrorStatus(error: RequestError): 400 | 404 | 413 {
  return error.code === "not_found" ? 404 : error.code === "payload_too_large" ? 413 : 400;
}

/**
 * The admin request's JSON body (an empty body is `{}`), read as certgate reads its own (I-JSON:
 * http/json.ts), or `RequestError("invalid_json")`: `{"persona":"adult","persona":"minor"}` made a
 * minor's record, the last name winning, where the sender may have meant either.
 */
export async function readJson(request: Request): Promise<unknown> {
  let text: string;
  try {
    // Strictly, as certgate decodes its own bodies: a byte that is not UTF-8 is not read as U+FFFD.
    text = new TextDecoder("utf-8", { fatal: true }).decode(await readBodyBytes(request));
  } catch (error) {
    if (error instanceof RequestError) throw error;
    throw new RequestError("invalid_json", "the body is not valid UTF-8");
  }
  if (text.trim() === "") return {};
  return parseJson(text);
}

/**
 * `onError` of the V1 and shared admin routes: a `RequestError` answers 404 (`not_found`), 413
 * (`payload_too_large`) or 400 `{ error: { code, message } }`, certgate's error shape; anything else
 * is rethrown.
 */
export function answerAdminError(error: Error, c: Context): Response {
  if (error instanceof RequestError) {
    return c.json({ error: { code: error.code, message: error.message } }, requestErrorStatus(error));
  }
  throw error;
}
