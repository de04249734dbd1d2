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
import { type CreateVerificationBody, EXPECTED_FIELD_NAMES, POLICY_FIELD_NAMES } from "./schemas.js";

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

/** No open redirect: a return_url must be absolute http(s) on one of the configured origins. */
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
  return url.toString();
}

export async function readJson<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/(.+\+)?json\s*(;|$)/i.test(type)) {
    throw new RequestError("unsupported_media_type", "send the body as application/json");
  }
  const text = await c.req.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RequestError("invalid_json", "the body is not valid JSON");
  }
  return parse(schema, value, "body");
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
