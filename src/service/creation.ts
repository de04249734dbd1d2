/**
 * Creating a verification: the library input, refused when it has an unknown field or an
 * unconfigured API version, turned into the pending {@link NewVerification} the store writes (fresh
 * unguessable ids, the expiry). Also what an Idempotency-Key is to the service.
 */

import { ACCOUNT_REF_RULE, isAccountRef } from "../core/account-ref.js";
import {
  DEFAULT_MAX_ATTEMPTS,
  isValidMaxAttempts,
  MAX_MAX_ATTEMPTS,
  MIN_MAX_ATTEMPTS,
} from "../core/attempts.js";
import { RequestError } from "../core/errors.js";
import { EXPECTED_KEYS, type ExpectedIdentity, validateExpected } from "../core/expected.js";
import { isHttpUrl } from "../core/http-url.js";
import { type PolicyInput, policyFromInput, unknownPolicyKeys } from "../core/policy.js";
import { defaultPurpose, purposeProblem } from "../core/purpose.js";
import { isPurpose, PURPOSES, type Purpose } from "../core/reasons.js";
import { unknownFieldError, unknownKeys } from "../core/unknown-fields.js";
import {
  type ApiVersion,
  MAX_TTL_SECONDS,
  MIN_TTL_SECONDS,
  type NewVerification,
  type VerificationRecord,
} from "../core/verification.js";

/**
 * What {@link VerificationService.create} takes: a policy, and optionally an account, a return URL,
 * a lifetime. The policy may be short (`{ minAge: 19 }`); the service fills the defaults and
 * validates it.
 *
 * @example
 * const input: CreateVerificationInput = {
 *   accountRef: "user-42",
 *   policy: { minAge: { age: 19, rule: "year" } },
 *   returnUrl: "https://shop.example/signup/done",
 * };
 * const verification = await service.create(input);
 */
export interface CreateVerificationInput {
  /**
   * Which PortOne API the browser will use. Default "v1" when V1 is configured, else "v2".
   * V1 binds to a merchant_uid, V2 to an identityVerificationId; certgate issues either.
   */
  apiVersion?: ApiVersion | undefined;
  /**
   * What the person must satisfy ({@link PolicyInput}): a number is an age by the international
   * rule, an `{ age, rule }` picks the rule; absent fields take the defaults (a person key is
   * required when `accountRef` is given). Absent: no age bound.
   */
  policy?: PolicyInput | undefined;
  /**
   * What the verification is for (core/purpose.ts). Default `signup` with an `accountRef`, `check`
   * without. `signup` and `reverify` need an `accountRef`, `check` takes none; a `reverify` needs the
   * account bound to a person already.
   */
  purpose?: Purpose | undefined;
  accountRef?: string | undefined;
  /**
   * What the merchant expects of the verified person (core/expected.ts): at least one of name,
   * birth date ("YYYY-MM-DD"), phone. Kept only as keyed hashes until the verification finishes.
   */
  expected?: ExpectedIdentity | undefined;
  returnUrl?: string | undefined;
  ttlSeconds?: number | undefined;
  /**
   * Failed attempts (an upstream 404, a record bound to another verification) allowed while the
   * verification stays pending; the next one rejects it as `too_many_attempts`. An integer from 1
   * to 20, default 5 (core/attempts.ts).
   */
  maxAttempts?: number | undefined;
}

/** The fields of {@link CreateVerificationInput}; the compiler keeps this list in step with it. */
const CREATE_INPUT_KEYS: Readonly<Record<keyof CreateVerificationInput, true>> = {
  apiVersion: true,
  policy: true,
  purpose: true,
  accountRef: true,
  expected: true,
  returnUrl: true,
  ttlSeconds: true,
  maxAttempts: true,
};

/** How the library spells each expected field. */
const EXPECTED_NAMES = { name: "name", birth_date: "birthDate", phone: "phone" } as const;

/** How long an Idempotency-Key names the verification it created: 24 hours, as Stripe keeps keys. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 3_600_000;

/** An `Idempotency-Key` as the service needs it; the HTTP layer derives scope and fingerprint. */
export interface IdempotencyKey {
  /** Whose key it is: a digest of the caller's API key, so two merchants' keys never meet. */
  scope: string;
  /** The caller's key. */
  key: string;
  /** Digest of the request; the same key with another fingerprint is an `idempotency_conflict`. */
  fingerprint: string;
}

/** The answer of {@link VerificationService.createIdempotent}. */
export interface IdempotentCreation {
  verification: VerificationRecord;
  /** True when the key had already created `verification` (nothing was created now). */
  replayed: boolean;
}

/**
 * The pending verification `input` asks for, created at `context.now()` (read once it is valid).
 * @throws {RequestError} `unknown_field`, or `invalid_request` for an unconfigured `apiVersion`, or a
 *   `maxAttempts` or `ttlSeconds` out of bounds.
 */
export function buildNewVerification(
  input: CreateVerificationInput,
  context: {
    apiVersions: readonly ApiVersion[];
    now: () => Date;
    ttlSeconds: number;
    newId: (prefix: string) => string;
  },
): NewVerification {
  const { apiVersions, newId } = context;
  // JavaScript callers: the shapes the HTTP body's schema checks are checked here too, never stored
  // as given (a number as account_ref was stored as "42.0"; a return address that is not a URL made
  // the person's way back a 500 after the verification had been recorded).
  const given: unknown = input;
  if (typeof given !== "object" || given === null || Array.isArray(given)) {
    throw new RequestError("invalid_request", "the creation input must be an object");
  }
  if (input.apiVersion !== undefined && input.apiVersion !== "v1" && input.apiVersion !== "v2") {
    throw new RequestError("invalid_request", 'apiVersion must be "v1" or "v2"', { field: "apiVersion" });
  }
  if (input.accountRef !== undefined && !isAccountRef(input.accountRef)) {
    throw new RequestError("invalid_request", ACCOUNT_REF_RULE, {
      field: "accountRef",
    });
  }
  if (input.returnUrl !== undefined && !isReturnAddress(input.returnUrl)) {
    throw new RequestError(
      "invalid_request",
      "returnUrl must be an absolute http(s) URL of at most 18432 characters, without a user name or password",
      { field: "returnUrl" },
    );
  }
  const unknown = [
    ...unknownKeys(input, CREATE_INPUT_KEYS),
    ...unknownPolicyKeys(input.policy, "policy."),
    ...unknownKeys(input.expected, EXPECTED_KEYS, "expected."),
  ];
  if (unknown.length > 0) throw unknownFieldError(unknown);
  const policy = policyFromInput(input.policy, { creatingAccount: input.accountRef !== undefined });
  const apiVersion = input.apiVersion ?? apiVersions[0] ?? "v1";
  if (!apiVersions.includes(apiVersion)) {
    throw new RequestError("invalid_request", `PortOne ${apiVersion.toUpperCase()} is not configured`, {
      field: "apiVersion",
    });
  }
  const maxAttempts = input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!isValidMaxAttempts(maxAttempts)) {
    throw new RequestError(
      "invalid_request",
      `maxAttempts must be an integer from ${MIN_MAX_ATTEMPTS} to ${MAX_MAX_ATTEMPTS}`,
      { field: "maxAttempts" },
    );
  }
  const purpose = input.purpose ?? defaultPurpose(input.accountRef);
  if (!isPurpose(purpose)) {
    throw new RequestError("invalid_request", `purpose must be one of ${PURPOSES.join(", ")}`, {
      field: "purpose",
    });
  }
  const problem = purposeProblem(
    { purpose, accountRef: input.accountRef, requirePersonKey: policy.requirePersonKey },
    { purpose: "purpose", accountRef: "accountRef", requirePersonKey: "policy.requirePersonKey" },
  );
  if (problem !== undefined)
    throw new RequestError("invalid_request", problem.message, { field: problem.field });
  if (input.expected !== undefined) {
    // JavaScript callers: anything but an object of strings is refused here, never read (the HTTP
    // body's schema checks the same before it gets this far).
    const given: unknown = input.expected;
    if (typeof given !== "object" || given === null || Array.isArray(given)) {
      throw new RequestError("invalid_request", "expected must be an object of name, birthDate and phone", {
        field: "expected",
      });
    }
    const problems = validateExpected(input.expected, (field) => `expected.${EXPECTED_NAMES[field]}`);
    if (problems.length > 0) {
      throw new RequestError("invalid_request", problems.map((p) => p.message).join("; "), {
        field: problems[0]?.field,
        problems: problems.map((p) => p.message),
      });
    }
  }
  const ttlSeconds = input.ttlSeconds ?? context.ttlSeconds;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < MIN_TTL_SECONDS || ttlSeconds > MAX_TTL_SECONDS) {
    throw new RequestError(
      "invalid_request",
      `ttlSeconds must be an integer from ${MIN_TTL_SECONDS} to ${MAX_TTL_SECONDS}`,
      { field: "ttlSeconds" },
    );
  }
  const createdAt = context.now();
  return {
    id: newId("ver"),
    apiVersion,
    // V2 lets the merchant choose the id: certgate's is as unguessable as a merchant_uid.
    boundId: newId(apiVersion === "v1" ? "mid" : "idv"),
    policy,
    purpose,
    accountRef: input.accountRef,
    expected: input.expected,
    returnUrl: input.returnUrl,
    maxAttempts,
    createdAt,
    expiresAt: new Date(createdAt.getTime() + ttlSeconds * 1000),
  };
}

/**
 * The longest return address, in characters once normalized: the HTTP body's `return_url` is at most
 * 2,048 characters as sent, and each can become 9 when `new URL` percent-encodes it (a Hangul
 * syllable is three UTF-8 bytes, `%XX` each).
 */
const MAX_RETURN_URL_LENGTH = 2_048 * 9;

/**
 * Whether `value` can be a return address: absolute http(s), at most {@link MAX_RETURN_URL_LENGTH}
 * characters, without credentials. Which origins are allowed is createHttpApp's `returnOrigins` (the browser's request
 * names it there); a library caller names its own.
 */
function isReturnAddress(value: unknown): boolean {
  if (typeof value !== "string" || value.length > MAX_RETURN_URL_LENGTH || !isHttpUrl(value)) return false;
  const url = new URL(value);
  return url.username === "" && url.password === "";
}
