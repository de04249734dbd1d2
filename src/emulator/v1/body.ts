import type { Context } from "hono";
import { readBodyText, readFormFields } from "../input.js";

/**
 * The request's parameters from a JSON or `application/x-www-form-urlencoded` (or multipart) body,
 * as PortOne accepts both. An empty body is `{}`; a body that is not a JSON object is `undefined`.
 * A body over the emulator's bound, or a form that cannot be parsed, throws its `RequestError`
 * (answered by the emulator's `onError`).
 */
export async function readV1Params(c: Context): Promise<Record<string, unknown> | undefined> {
  const contentType = c.req.header("content-type") ?? "";
  if (/application\/x-www-form-urlencoded|multipart\/form-data/i.test(contentType)) {
    return readFormFields(c.req.raw);
  }
  const text = await readBodyText(c.req.raw);
  if (text.trim() === "") return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return isPlainObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
