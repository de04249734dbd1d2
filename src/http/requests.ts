/**
 * Request parsing: every body and query goes through a schema of schemas.ts, and a failure becomes a
 * RequestError naming the fields and problems, never the values sent.
 */
import type { Context } from "hono";
import type { z } from "zod";
import { RequestError } from "../core/errors.js";
import { validateExpected } from "../core/expected.js";
import { type Policy, resolvePolicy, validatePolicy } from "../core/policy.js";
import { defaultPurpose, purposeProblem } from "../core/purpose.js";
import { unknownFieldError } from "../core/unknown-fields.js";
import type { ApiVersion } from "../core/verification.js";
import { concatBytes, readBounded } from "../util/bytes.js";
import { parseJson } from "./json.js";
import { type CreateVerificationBody, EXPECTED_FIELD_NAMES, noBody, POLICY_FIELD_NAMES } from "./schemas.js";

export function toCreateInput(
  body: CreateVerificationBody,
  returnOrigins: readonly string[],
  apiVersions: readonly ApiVersion[],
) {
  if (body.api_version !== undefined && !apiVersions.includes(body.api_version)) {
    throw new RequestError("invalid_request", `PortOne ${body.api_version.toUpperCase()} is not configured`, {
      field: "api_version",
    });
  }
  const p = body.policy ?? {};
  const rule = p.age_rule ?? "international";
  const policy: Policy = resolvePolicy(
    {
      minAge: p.min_age === undefined ? undefined : { age: p.min_age, rule },
      maxAge: p.max_age === undefined ? undefined : { age: p.max_age, rule },
      freshnessSeconds: p.freshness_seconds,
      futureToleranceSeconds: p.future_tolerance_seconds,
      judgeAgeAt: p.judge_age_at,
      requirePersonKey: p.require_person_key,
    },
    { creatingAccount: body.account_ref !== undefined },
  );
  const problems = validatePolicy(policy, { name: (field) => POLICY_FIELD_NAMES[field] });
  if (problems.length > 0) {
    throw new RequestError("invalid_request", `invalid policy: ${problems.join("; ")}`, { problems });
  }
  const purpose = body.purpose ?? defaultPurpose(body.account_ref);
  const problem = purposeProblem(
    { purpose, accountRef: body.account_ref, requirePersonKey: policy.requirePersonKey },
    { purpose: "purpose", accountRef: "account_ref", requirePersonKey: "policy.require_person_key" },
  );
  if (problem !== undefined)
    throw new RequestError("invalid_request", problem.message, { field: problem.field });
  const expected = body.expected && {
    name: body.expected.name,
    birthDate: body.expected.birth_date,
    phone: body.expected.phone,
  };
  const expectedProblems = expected ? validateExpected(expected, (field) => EXPECTED_FIELD_NAMES[field]) : [];
  if (expectedProblems.length > 0) {
    throw new RequestError(
      "invalid_request",
      `invalid expected identity: ${expectedProblems.map((p) => p.message).join("; ")}`,
      { field: expectedProblems[0]?.field, problems: expectedProblems.map((p) => p.message) },
    );
  }
  return {
    apiVersion: body.api_version,
    policy,
    purpose,
    accountRef: body.account_ref,
    expected,
    returnUrl: body.return_url === undefined ? undefined : checkReturnUrl(body.return_url, returnOrigins),
    ttlSeconds: body.expires_in_seconds,
    maxAttempts: body.max_attempts,
  };
}

/**
 * No open redirect: a return_url must be absolute http(s) on one of the configured origins, without
 * credentials.
 */
function checkReturnUrl(raw: string, allowed: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RequestError("invalid_request", "return_url must be an absolute URL", { field: "return_url" });
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || !allowed.includes(url.origin)) {
    throw new RequestError("return_url_not_allowed", "return_url is not on an allowed origin", {
      field: "return_url",
    });
  }
  // `https://user:pass@shop.example/…` has an allowed origin, but the browser would be sent there with
  // credentials in its address bar (and a phishing look-alike's user part): never a return address.
  if (url.username !== "" || url.password !== "") {
    throw new RequestError("return_url_not_allowed", "return_url must not carry a user name or password", {
      field: "return_url",
    });
  }
  return url.toString();
}

/** A body over this many bytes is refused: 413 `payload_too_large`. */
export const BODY_LIMIT_BYTES = 16 * 1024;

/** The refusal of a body over {@link BODY_LIMIT_BYTES}, announced or read. */
export const bodyTooLarge = () =>
  new RequestError("payload_too_large", `body over ${BODY_LIMIT_BYTES} bytes`);
const unreadable = () => new RequestError("invalid_request", "the body could not be read");
// Fatal: a body that is not UTF-8 is refused, never read with U+FFFD in place of its bytes (a name
// so mangled could be stored, and would never match). A leading BOM is still dropped.
const utf8 = new TextDecoder("utf-8", { fatal: true });
const notUtf8 = () => new RequestError("invalid_json", "the body is not valid UTF-8");
const bodies = new WeakMap<Context, Promise<string>>();

/**
 * The request body as UTF-8 text (a leading BOM dropped, as `Request.text()` does), read once per
 * request whoever asks, and never more than {@link BODY_LIMIT_BYTES} of it: a longer body is a 413
 * `payload_too_large` as soon as the limit is crossed, whether or not it announced its length.
 *
 * Served by @hono/node-server (certgate's own server, {@link toNodeHandler} mounts), the body is read
 * straight from Node's `IncomingMessage` while nothing else has started reading it: building the
 * web `Request` and its stream for a body of a few dozen bytes was ≈ 8 % of a completion's CPU
 * (issue 13's profile). Anywhere else (`app.fetch` on a web runtime, a host that already read the
 * stream) it is read from the `Request`, under the same limit.
 */
export function readBodyText(c: Context): Promise<string> {
  let body = bodies.get(c);
  if (body === undefined) {
    const incoming = unreadIncoming(c.env);
    body = incoming ? readIncoming(incoming) : readRequest(c.req.raw);
    bodies.set(c, body);
  }
  return body;
}

/** The parts of a Node `Readable` read here (no `node:http` import: the app also runs on web runtimes). */
interface NodeBody {
  readonly readableEnded: boolean;
  readonly readableFlowing: boolean | null;
  on(event: string, listener: (...args: never[]) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
}

/** @hono/node-server's `env.incoming`, when no one (a host's body parser, `c.req.raw.body`) has touched its body. */
function unreadIncoming(env: unknown): NodeBody | undefined {
  const incoming =
    typeof env === "object" && env !== null ? (env as { incoming?: unknown }).incoming : undefined;
  if (typeof incoming !== "object" || incoming === null || "rawBody" in incoming) return undefined;
  const body = incoming as Partial<NodeBody>;
  const untouched = body.readableEnded === false && body.readableFlowing === null;
  return untouched && typeof body.on === "function" && typeof body.off === "function"
    ? (body as NodeBody)
    : undefined;
}

function readIncoming(incoming: NodeBody): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    // Once settled, the listeners go; what is left of a refused body is drained by @hono/node-server.
    const settle = (outcome: () => void) => {
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("error", onFailure);
      incoming.off("close", onFailure);
      outcome();
    };
    const onData = (chunk: Uint8Array) => {
      size += chunk.byteLength;
      if (size > BODY_LIMIT_BYTES) settle(() => reject(bodyTooLarge()));
      else chunks.push(chunk);
    };
    const onEnd = () =>
      settle(() => {
        try {
          resolve(decode(concatBytes(chunks, size)));
        } catch (error) {
          reject(error);
        }
      });
    // An aborted upload ("close" before "end"), or a socket error.
    const onFailure = () => settle(() => reject(unreadable()));
    incoming.on("data", onData);
    incoming.on("end", onEnd);
    incoming.on("error", onFailure);
    incoming.on("close", onFailure);
  });
}

async function readRequest(request: Request): Promise<string> {
  if (request.body === null) return "";
  return decode(await readBounded(request.body, BODY_LIMIT_BYTES, { tooLarge: bodyTooLarge, unreadable }));
}

/** The body's text; a 400 `invalid_json` when its bytes are not UTF-8. */
function decode(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw notUtf8();
  }
}

export async function readJson<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/(.+\+)?json\s*(;|$)/i.test(type)) {
    throw new RequestError("unsupported_media_type", "send the body as application/json");
  }
  // The body is read as UTF-8 (JSON's one encoding, RFC 8259): bytes a sender says are in
  // another charset would be silently read as something else, and a compressed body is not JSON.
  const charsets = [...type.matchAll(/;\s*charset\s*=\s*"?([^";\s]*)/gi)].map((match) => match[1]);
  const charset = charsets[0];
  if (charsets.length > 1 || (charset !== undefined && !/^utf-?8$/i.test(charset))) {
    throw new RequestError("unsupported_media_type", "send the body as application/json in UTF-8");
  }
  const encoding = c.req.header("content-encoding");
  if (encoding !== undefined && !/^\s*identity\s*$/i.test(encoding)) {
    throw new RequestError("unsupported_media_type", "send the body without a Content-Encoding");
  }
  return parse(schema, parseJson(await readBodyText(c)), "body");
}

/**
 * For a route that takes no body: an empty one, or `{}` from a client that always sends JSON, is
 * accepted; anything else is refused as any body is (415, 400 `invalid_json`, 400 `unknown_field`),
 * never ignored.
 */
export async function refuseBody(c: Context): Promise<void> {
  if ((await readBodyText(c)) !== "") await readJson(c, noBody);
}

/**
 * Parses through a schema; a failure names the fields and problems, never the values sent. Unknown
 * fields (a strict schema's `unrecognized_keys`) are reported first, whatever else is wrong, as
 * `unknown_field` with each field's full path as sent ("policy.minAge").
 */
export function parse<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const unknown = result.error.issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => [...issue.path, key].map(String).join("."))
      : [],
  );
  if (unknown.length > 0) throw unknownFieldError(unknown);
  const issues = result.error.issues.map((i) => ({ path: i.path.join("."), problem: i.code }));
  const fields = issues.map((i) => i.path || where).join(", ");
  throw new RequestError("invalid_request", `invalid ${where}: ${fields}`, { issues });
}
