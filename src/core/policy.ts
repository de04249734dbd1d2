/**
 * The verification policy and the pure decision it makes on an upstream record.
 * Longer than 400 lines by the ORDER OF A COMPLETION below, the contract's one written definition.
 *
 * ORDER OF A COMPLETION, written here once for V1 and V2 alike (part of certgate's contract: a
 * record failing several checks reports the first, in the order 1, 2, 3, 4, 5a–5c, 6a, 5d–5f,
 * 6b–6d). The service (service/verifications.ts) runs steps 1–4, this module step 5, and the store
 * step 6 in one transaction:
 *
 *   1. the verification is found by its bound id (V1 `merchant_uid`, V2 `identityVerificationId`)
 *      and API version; unknown → a 404 `not_found` request error;
 *   2. not pending any more → a replay (`already_used`), nothing written;
 *   3. `expired`                  — the verification's own expiry has passed (no upstream call);
 *   4. the upstream record is fetched with certgate's own credentials:
 *      `not_found`                — PortOne has no such record: a FAILED ATTEMPT (below); any other
 *                                   upstream fault is thrown and leaves the verification pending
 *                                   and retryable;
 *      V2 only: a READY record (the person has not finished) or one whose status certgate does not
 *      know stays `pending`: nothing is written and the same call may be retried. An unknown status
 *      is an unknown answer (DOMAIN.md rule 8), never verified nor a final rejection;
 *   5. {@link evaluatePolicy}, in this order:
 *      5a. `merchant_uid_mismatch` — the record's bound id (V1 `merchant_uid`, V2 the verification
 *                                   id) is absent or differs from the id this verification issued:
 *                                   a FAILED ATTEMPT (below);
 *      5b. `not_certified`         — V1 `certified !== true`, V2 status not VERIFIED: a FAILED
 *                                   ATTEMPT when a person presented it (PortOne lets them try again
 *                                   under the same id), pending and uncounted for recovery;
 *      5c. `stale_certification`   — the verification time is absent, more than `freshnessSeconds`
 *                                   before `now`, or more than `futureToleranceSeconds` after `now`;
 *      5d. `underage`              — below `minAge`;
 *      5e. `overage`               — above `maxAge`;
 *      5f. `no_person_key`         — neither CI nor DI while `requirePersonKey`;
 *   6. the store, in ONE transaction under unique constraints, consumes the upstream id, binds the
 *      person to the account and writes the outcome with its audit (and outbox) event:
 *      6a. `person_mismatch`       — purpose `reverify` only: the verifying person's person key (the
 *                                   same key as sign-up's: CI, else DI scoped by provider) is not
 *                                   that of the person bound to the account, read in this
 *                                   transaction (a person without a key, or an account withdrawn
 *                                   since creation, is a mismatch too). REPORTED BEFORE 5d–5f: those
 *                                   say something about the person (their age, that the provider had
 *                                   no CI or DI), and of anyone but the account's person nothing may
 *                                   be told. So for a `reverify` the service hands the store 5d–5f's
 *                                   rejection with the person key (core/purpose.ts), and the store
 *                                   reports it only for the account's own person. Nothing of the
 *                                   other person is kept: no person row, no identity, no
 *                                   `existing_account_ref`;
 *      6b. `identity_mismatch`     — a field of the expected identity given at creation (name after
 *                                   NFC and whitespace normalisation, birth date, phone by digits;
 *                                   core/expected.ts) differs from the verified one or was not
 *                                   returned; `mismatched_fields` names which. After 5a–6a: the
 *                                   comparison concerns this verification's own, accepted record
 *                                   and, for a `reverify`, the account's own person. The store
 *                                   compares the keyed hashes it holds and drops them with every
 *                                   finish;
 *      6c. `already_used`          — the upstream id (imp_uid / identityVerificationId) was consumed;
 *      6d. `duplicate_account`     — purpose `signup`: the person is already bound to another account
 *                                   (a `reverify` binds nothing: the account is the person's already).
 *
 * A FAILED ATTEMPT (4 `not_found`, 5a) is not this verification's own result, so it does not finish
 * it: the bound id is public, and anyone holding it could otherwise burn the owner's verification.
 * The service counts it and the verification stays pending; the attempt after `maxAttempts` of them
 * (default 5, so the sixth) rejects it as `too_many_attempts` (core/attempts.ts). Checks 5b–6d
 * concern the verification's own record and finish it.
 *
 * Binding comes first because a record bound elsewhere is someone else's: nothing else about it may
 * leak into the answer (not even whether it is certified or how old its owner is).
 *
 * Age is judged on the Asia/Seoul calendar date of the verification time (of `now` when `judgeAgeAt`
 * is "now"). An age rule with no birth date available fails closed: `underage` when the policy has a
 * `minAge`, `overage` when it has only a `maxAge`. Every comparison is written so that a NaN (an
 * unvalidated policy, an invalid Date) rejects rather than accepts.
 */
import { type AgeRule, ageUnder, internationalAge, yearAge } from "./age.js";
import { seoulDate } from "./calendar.js";
import { RequestError } from "./errors.js";
import { type PersonKey, personKeyOf, type UpstreamResult, type VerifiedIdentity } from "./identity.js";
import type { RejectionReason } from "./reasons.js";
import { unknownFieldError, unknownKeys } from "./unknown-fields.js";

export type { AgeRule } from "./age.js";

/**
 * One age bound: `age` in whole years counted by `rule`. Bounds are inclusive.
 *
 * @example
 * import type { AgeBound } from "certgate";
 * const adult: AgeBound = { age: 19, rule: "year" };
 * await service.create({ policy: { minAge: adult } });
 */
export interface AgeBound {
  age: number;
  rule: AgeRule;
}

/**
 * What a verification must satisfy. Build one with {@link resolvePolicy}, check it with {@link validatePolicy}.
 *
 * @example
 * import { type Policy, resolvePolicy, validatePolicy } from "certgate";
 * const policy: Policy = resolvePolicy({ maxAge: { age: 18, rule: "international" } }, { creatingAccount: false });
 * validatePolicy(policy); // []
 */
export interface Policy {
  /** Accept only persons at least this old (e.g. `{ age: 19, rule: "year" }` for adult services). */
  minAge?: AgeBound | undefined;
  /** Accept only persons at most this old (youth-only services). */
  maxAge?: AgeBound | undefined;
  /** How old the upstream verification may be, in seconds. Default 600 (10 minutes). */
  freshnessSeconds: number;
  /** How far in the future the verification time may lie (clock skew), in seconds. Default 60. */
  futureToleranceSeconds: number;
  /** The moment whose Seoul date age is judged on. Default "verification" (`certified_at`). */
  judgeAgeAt: "verification" | "now";
  /** Reject a person with neither CI nor DI (`no_person_key`). Default: true when creating an account. */
  requirePersonKey: boolean;
}

/**
 * The defaults, as for a sign-up (an account is being created, so a person key is required).
 *
 * @example
 * import { DEFAULT_POLICY } from "certgate";
 * DEFAULT_POLICY.freshnessSeconds; // 600
 */
export const DEFAULT_POLICY: Policy = Object.freeze({
  freshnessSeconds: 600,
  futureToleranceSeconds: 60,
  judgeAgeAt: "verification",
  requirePersonKey: true,
});

/** The fields of {@link Policy}; the compiler keeps this list in step with the interface. */
const POLICY_KEYS: Readonly<Record<keyof Policy, true>> = {
  minAge: true,
  maxAge: true,
  freshnessSeconds: true,
  futureToleranceSeconds: true,
  judgeAgeAt: true,
  requirePersonKey: true,
};
const AGE_BOUND_KEYS: Readonly<Record<keyof AgeBound, true>> = { age: true, rule: true };
const RESOLVE_OPTION_KEYS: Readonly<Record<"creatingAccount", true>> = { creatingAccount: true };

/**
 * The keys of `policy` (and of its age bounds) that are no field of {@link Policy}, as dotted camelCase
 * paths under `prefix` ("minage", "minAge.rul"; with prefix "policy.": "policy.minage"). For callers
 * that take a policy from JavaScript and must refuse a misspelt key rather than drop it.
 */
export function unknownPolicyKeys(policy: unknown, prefix = ""): string[] {
  if (typeof policy !== "object" || policy === null) return [];
  const bounds = policy as { minAge?: unknown; maxAge?: unknown };
  return [
    ...unknownKeys(policy, POLICY_KEYS, prefix),
    ...unknownKeys(bounds.minAge, AGE_BOUND_KEYS, `${prefix}minAge.`),
    ...unknownKeys(bounds.maxAge, AGE_BOUND_KEYS, `${prefix}maxAge.`),
  ];
}

/**
 * Fills the absent fields of `partial` with the defaults. `requirePersonKey` defaults to
 * `opts.creatingAccount`: without an account to bind, a keyless person can still be verified (the
 * outcome just cannot say whether they already have an account). Does not validate: call
 * {@link validatePolicy} on the result and answer 400 on problems.
 *
 * @throws {RequestError} code `unknown_field` when `partial`, one of its age bounds or `opts` has a
 *   key that is not one of theirs (a JavaScript caller's `{ minage: 19 }`): a misspelt key is never
 *   dropped, since that would switch the check off. `details.field` names the first such key in
 *   camelCase as written ("minage", "minAge.rul"), `details.fields` all of them.
 * @example resolvePolicy({ minAge: { age: 19, rule: "year" } }, { creatingAccount: true })
 */
export function resolvePolicy(partial: Partial<Policy>, opts: { creatingAccount: boolean }): Policy {
  const unknown = [...unknownPolicyKeys(partial), ...unknownKeys(opts, RESOLVE_OPTION_KEYS)];
  if (unknown.length > 0) throw unknownFieldError(unknown);
  return {
    minAge: partial.minAge,
    maxAge: partial.maxAge,
    freshnessSeconds: partial.freshnessSeconds ?? DEFAULT_POLICY.freshnessSeconds,
    futureToleranceSeconds: partial.futureToleranceSeconds ?? DEFAULT_POLICY.futureToleranceSeconds,
    judgeAgeAt: partial.judgeAgeAt ?? DEFAULT_POLICY.judgeAgeAt,
    requirePersonKey: partial.requirePersonKey ?? opts.creatingAccount,
  };
}

/**
 * A policy as a library caller writes it: every field optional, an age bound either a number (counted
 * by the international rule, 만 나이, as the HTTP API's `min_age` without `age_rule`) or an
 * {@link AgeBound}. A full {@link Policy} is one too. {@link policyFromInput} turns it into a policy.
 *
 * @example
 * const adult: PolicyInput = { minAge: { age: 19, rule: "year" } }; // 청소년보호법: year age
 * const over14: PolicyInput = { minAge: 14, freshnessSeconds: 300 }; // international age
 */
export interface PolicyInput {
  minAge?: number | AgeBound | undefined;
  maxAge?: number | AgeBound | undefined;
  freshnessSeconds?: number | undefined;
  futureToleranceSeconds?: number | undefined;
  judgeAgeAt?: "verification" | "now" | undefined;
  requirePersonKey?: boolean | undefined;
}

/**
 * The {@link Policy} `input` describes: a numeric bound becomes `{ age, rule: "international" }`, the
 * absent fields take the defaults ({@link resolvePolicy}), and the result is validated.
 *
 * @param opts.field how messages name the policy ("policy" by default): unknown keys are reported
 *   as `policy.minage`.
 * @throws {RequestError} `unknown_field` for a key that is no field of a policy (never dropped);
 *   `invalid_request` when `input` is not an object or the policy is invalid, with
 *   `details.problems` listing every problem.
 * @example
 * policyFromInput({ minAge: 19 }, { creatingAccount: true }).minAge // { age: 19, rule: "international" }
 */
export function policyFromInput(
  input: PolicyInput | undefined,
  opts: { creatingAccount: boolean; field?: string },
): Policy {
  const field = opts.field ?? "policy";
  if (input === undefined) return resolvePolicy({}, { creatingAccount: opts.creatingAccount });
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new RequestError("invalid_request", `${field} must be an object`, { field });
  }
  const unknown = unknownPolicyKeys(input, `${field}.`);
  if (unknown.length > 0) throw unknownFieldError(unknown);
  const bound = (b: number | AgeBound | undefined) =>
    typeof b === "number" ? { age: b, rule: "international" as const } : b;
  const policy = resolvePolicy(
    { ...input, minAge: bound(input.minAge), maxAge: bound(input.maxAge) },
    { creatingAccount: opts.creatingAccount },
  );
  const problems = validatePolicy(policy, { name: (name) => `${field}.${name}` });
  if (problems.length > 0) {
    throw new RequestError("invalid_request", `invalid ${field}: ${problems.join("; ")}`, { problems });
  }
  return policy;
}

/**
 * `value` as a {@link Policy} when it has a policy's shape, for a policy that comes back from outside
 * the type system (a stored row's JSON): the age bounds' `age` numbers and {@link AgeRule}s, the
 * durations numbers, `judgeAgeAt` known, `requirePersonKey` a boolean. Keys that are no field of a
 * policy are dropped. Ranges are {@link validatePolicy}'s to judge.
 *
 * @throws TypeError naming the first field of the wrong shape (never its value).
 */
export function parsePolicy(value: unknown): Policy {
  const record = objectOrThrow(value, "policy");
  const bound = (field: "minAge" | "maxAge"): AgeBound | undefined => {
    const raw = record[field];
    if (raw === undefined) return undefined;
    const b = objectOrThrow(raw, field);
    if (typeof b.age !== "number") throw new TypeError(`policy: ${field}.age is not a number`);
    if (b.rule !== "year" && b.rule !== "international") {
      throw new TypeError(`policy: ${field}.rule is not an age rule`);
    }
    return { age: b.age, rule: b.rule };
  };
  const minAge = bound("minAge");
  const maxAge = bound("maxAge");
  for (const field of ["freshnessSeconds", "futureToleranceSeconds"] as const) {
    if (typeof record[field] !== "number") throw new TypeError(`policy: ${field} is not a number`);
  }
  if (record.judgeAgeAt !== "verification" && record.judgeAgeAt !== "now") {
    throw new TypeError("policy: judgeAgeAt is not known");
  }
  if (typeof record.requirePersonKey !== "boolean") {
    throw new TypeError("policy: requirePersonKey is not a boolean");
  }
  return {
    ...(minAge === undefined ? {} : { minAge }),
    ...(maxAge === undefined ? {} : { maxAge }),
    freshnessSeconds: record.freshnessSeconds as number,
    futureToleranceSeconds: record.futureToleranceSeconds as number,
    judgeAgeAt: record.judgeAgeAt,
    requirePersonKey: record.requirePersonKey,
  };
}

function objectOrThrow(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`policy: ${what} is not an object`);
  }
  return value as Record<string, unknown>;
}

/** Largest accepted age bound; anything above is a typo, not a policy. */
export const MAX_POLICY_AGE = 150;
/** Longest freshness window: a day. A record older than that is not a verification of now. */
export const MAX_FRESHNESS_SECONDS = 86_400;
/** Largest tolerance for a record dated ahead of this clock: an hour, for clock skew only. */
export const MAX_FUTURE_TOLERANCE_SECONDS = 3_600;

/** A field of {@link Policy} as {@link validatePolicy} names it by default (a dotted camelCase path). */
export type PolicyField =
  | "minAge.age"
  | "minAge.rule"
  | "maxAge.age"
  | "maxAge.rule"
  | "freshnessSeconds"
  | "futureToleranceSeconds"
  | "judgeAgeAt"
  | "requirePersonKey";

/**
 * The problems of `policy`, as messages naming the field (empty when valid): ages are integers in
 * 0..{@link MAX_POLICY_AGE} with a known rule, `minAge.age <= maxAge.age`, durations non-negative
 * safe integers, `judgeAgeAt` known.
 *
 * @param opts.name how a message names a field; default its {@link PolicyField} path. A surface with
 *   its own spelling passes its names, so messages use the caller's (HTTP: "policy.min_age").
 * @example validatePolicy(policy) // ["minAge.age must not exceed maxAge.age"]
 */
export function validatePolicy(
  policy: Policy,
  opts: { name?: (field: PolicyField) => string } = {},
): string[] {
  const name = opts.name ?? ((field: PolicyField) => field);
  const problems: string[] = [];
  for (const [field, bound] of [
    ["minAge", policy.minAge],
    ["maxAge", policy.maxAge],
  ] as const) {
    if (bound === undefined) continue;
    if (typeof bound !== "object" || bound === null) {
      // From JavaScript: `minAge: null` or `"19"` is refused, never read as "no bound".
      problems.push(`${name(`${field}.age`)} must be an integer from 0 to ${MAX_POLICY_AGE}`);
      continue;
    }
    if (!Number.isInteger(bound.age) || bound.age < 0 || bound.age > MAX_POLICY_AGE) {
      problems.push(`${name(`${field}.age`)} must be an integer from 0 to ${MAX_POLICY_AGE}`);
    }
    if (bound.rule !== "year" && bound.rule !== "international") {
      problems.push(`${name(`${field}.rule`)} must be "year" or "international"`);
    }
  }
  if (policy.minAge && policy.maxAge && !(policy.minAge.age <= policy.maxAge.age)) {
    problems.push(`${name("minAge.age")} must not exceed ${name("maxAge.age")}`);
  }
  // The HTTP API's bounds, for every caller: from JavaScript `freshnessSeconds: 1e15` verified a
  // record certified ten years ago, and `futureToleranceSeconds: 1e15` one dated ten years ahead.
  for (const [field, max] of [
    ["freshnessSeconds", MAX_FRESHNESS_SECONDS],
    ["futureToleranceSeconds", MAX_FUTURE_TOLERANCE_SECONDS],
  ] as const) {
    const value = policy[field];
    if (!Number.isInteger(value) || value < 0 || value > max)
      problems.push(`${name(field)} must be an integer from 0 to ${max}`);
  }
  if (policy.judgeAgeAt !== "verification" && policy.judgeAgeAt !== "now") {
    problems.push(`${name("judgeAgeAt")} must be "verification" or "now"`);
  }
  if (typeof policy.requirePersonKey !== "boolean") {
    problems.push(`${name("requirePersonKey")} must be a boolean`);
  }
  return problems;
}

/** The rejections {@link evaluatePolicy} can decide; the others belong to the service and the store. */
export type PolicyRejection = Extract<
  RejectionReason,
  "merchant_uid_mismatch" | "not_certified" | "stale_certification" | "underage" | "overage" | "no_person_key"
>;

/**
 * The outcome of {@link evaluatePolicy}. When accepted: the identity, its person key (absent only
 * when the policy does not require one) and the person's ages on the judging date (absent when there
 * is no birth date and the policy has no age rule).
 */
export type PolicyDecision =
  | {
      ok: true;
      identity: VerifiedIdentity;
      personKey: PersonKey | undefined;
      age: { year: number; international: number } | undefined;
    }
  | { ok: false; reason: PolicyRejection };

/**
 * Applies `policy` to an upstream record, in the order given at the top of this module.
 *
 * @param input.result the mapped upstream record ({@link fromV1Certification} / `fromV2IdentityVerification`).
 * @param input.expectedBoundId the id this verification issued (V1 merchant_uid, V2 identityVerificationId).
 * @param input.now the current instant (injected clock).
 * @example
 * const decision = evaluatePolicy({ result, expectedBoundId: verification.merchantUid, policy, now: clock() });
 * if (!decision.ok) return reject(decision.reason);
 */
export function evaluatePolicy(input: {
  result: UpstreamResult;
  expectedBoundId: string;
  policy: Policy;
  now: Date;
}): PolicyDecision {
  const { result, expectedBoundId, policy, now } = input;
  const { identity } = result;

  if (!expectedBoundId || result.boundId !== expectedBoundId) return reject("merchant_uid_mismatch");
  if (result.certified !== true) return reject("not_certified");

  const verifiedAt = identity.verifiedAt;
  if (verifiedAt === undefined) return reject("stale_certification");
  const elapsedMs = now.getTime() - verifiedAt.getTime();
  const fresh =
    elapsedMs <= policy.freshnessSeconds * 1000 && -elapsedMs <= policy.futureToleranceSeconds * 1000;
  if (!fresh) return reject("stale_certification");

  const judgedOn = seoulDate(policy.judgeAgeAt === "now" ? now : verifiedAt);
  const birth = identity.birthDate;
  // Without a birth date every age is NaN, and NaN meets no bound: age rules fail closed.
  const ageBy = (rule: AgeRule) => (birth === undefined ? Number.NaN : ageUnder(rule, birth, judgedOn));
  if (policy.minAge && !(ageBy(policy.minAge.rule) >= policy.minAge.age)) return reject("underage");
  if (policy.maxAge && !(ageBy(policy.maxAge.rule) <= policy.maxAge.age)) return reject("overage");

  const personKey = personKeyOf(identity);
  if (personKey === undefined && policy.requirePersonKey !== false) return reject("no_person_key");

  return {
    ok: true,
    identity,
    personKey,
    age:
      birth === undefined
        ? undefined
        : { year: yearAge(birth, judgedOn), international: internationalAge(birth, judgedOn) },
  };
}

function reject(reason: PolicyRejection): PolicyDecision {
  return { ok: false, reason };
}
