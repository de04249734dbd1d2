/**
 * Reading the admin API's JSON input, shared by the V1, V2 and shared admin routes, the record
 * builders and the fault registry: one error shape, and messages that never echo the input.
 */
import type { Context } from "hono";
import type { z } from "zod";
import { RequestError } from "../core/errors.js";

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

/** The request's JSON body (an empty body is `{}`), or `RequestError("invalid_json")`. */
export async function readJson(request: Request): Promise<unknown> {
  const text = await request.text();
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the input; the input is not ours to echo.
    throw new RequestError("invalid_json", "body is not JSON");
  }
}

/**
 * `onError` of the V1 and shared admin routes: a `RequestError` answers 404 (`not_found`) or 400
 * `{ error: { code, message } }`, certgate's error shape; anything else is rethrown.
 */
export function answerAdminError(error: Error, c: Context): Response {
  if (error instanceof RequestError) {
    return c.json(
      { error: { code: error.code, message: error.message } },
      error.code === "not_found" ? 404 : 400,
    );
  }
  throw error;
}
