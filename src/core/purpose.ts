/**
 * What a verification is for. The purpose is explicit, stored with the verification and shown in
 * its outcome and webhook event:
 * - `signup`: bind the verifying person to `accountRef` (one account per person);
 * - `reverify`: the verifying person must be the one already bound to `accountRef` (password reset,
 *   account recovery, a change of phone or payout details). Anyone else is `person_mismatch`, and
 *   nothing about them is kept or told;
 * - `check`: age or identity only; no account is bound (the outcome still reports the account the
 *   person holds, the guide's "existing user" branch).
 *
 * Where the reverify check sits among the others is written in core/policy.ts ("ORDER OF A
 * COMPLETION").
 */
import { type PersonKey, personKeyOf, type VerifiedIdentity } from "./identity.js";
import type { PolicyDecision } from "./policy.js";
import type { Purpose } from "./reasons.js";
import type { CompletionDecision } from "./verification.js";

/** Today's behaviour when no purpose is given: `signup` with an account, `check` without. */
export function defaultPurpose(accountRef: string | undefined): Purpose {
  return accountRef === undefined ? "check" : "signup";
}

/** How a surface spells the fields {@link purposeProblem} names (library: camelCase; HTTP: snake_case). */
export interface PurposeFieldNames {
  purpose: string;
  accountRef: string;
  requirePersonKey: string;
}

/**
 * Why `purpose` cannot be used as given, as a message naming the field in `names`' spelling, or
 * undefined when it can: `signup` and `reverify` need an account, `check` binds none, and a
 * `reverify` that does not require a person key could not tell who verified.
 */
export function purposeProblem(
  input: { purpose: Purpose; accountRef: string | undefined; requirePersonKey: boolean },
  names: PurposeFieldNames,
): { field: string; message: string } | undefined {
  const { purpose, accountRef } = input;
  if (purpose !== "check" && accountRef === undefined) {
    return { field: names.purpose, message: `${names.purpose} "${purpose}" requires ${names.accountRef}` };
  }
  if (purpose === "check" && accountRef !== undefined) {
    return {
      field: names.purpose,
      message: `${names.purpose} "check" binds no account: leave out ${names.accountRef}`,
    };
  }
  if (purpose === "reverify" && !input.requirePersonKey) {
    return {
      field: names.requirePersonKey,
      message: `${names.purpose} "reverify" compares person keys: ${names.requirePersonKey} cannot be false`,
    };
  }
  return undefined;
}

/**
 * The rejections of {@link evaluatePolicy} that say something about the person (their age, that the
 * provider had no CI or DI for them). For a `reverify` they are reported only once the person is
 * known to be the account's: for anyone else the answer is `person_mismatch` and nothing more.
 */
const ABOUT_THE_PERSON = new Set<string>(["underage", "overage", "no_person_key"]);

/**
 * The decision the store settles, from the policy's and the purpose. For `signup` and `check` it is
 * the policy's. For `reverify`:
 * - accepted: the store checks the person against the account (`person_mismatch` unless the same);
 * - a rejection about the record (not certified, stale): as the policy said;
 * - a rejection about the person: it carries the person key, so the store reports it only for the
 *   account's own person; a person without a key cannot be the account's, so `person_mismatch`.
 */
export function completionDecisionFor(
  purpose: Purpose,
  decision: PolicyDecision,
  identity: VerifiedIdentity,
): CompletionDecision {
  if (decision.ok) {
    if (purpose === "reverify" && decision.personKey === undefined) {
      return { ok: false, reason: "person_mismatch" };
    }
    return { ok: true, identity: decision.identity, personKey: decision.personKey };
  }
  if (purpose !== "reverify" || !ABOUT_THE_PERSON.has(decision.reason)) {
    return { ok: false, reason: decision.reason };
  }
  const personKey = personKeyOf(identity);
  if (personKey === undefined) return { ok: false, reason: "person_mismatch" };
  return { ok: false, reason: decision.reason, personKey };
}

/**
 * Whether a `reverify` completion must find the verifying person bound to its account before
 * anything else is reported (`person_mismatch` otherwise), and by which key: an accepted decision,
 * or a rejection about the person. Undefined when there is nothing to check (another purpose, or a
 * rejection about the record). An accepted decision without a key is checked too, and fails: a person
 * certgate cannot name cannot be the account's.
 */
export function personCheckOf(
  purpose: Purpose,
  decision: CompletionDecision,
): { personKey: PersonKey | undefined } | undefined {
  if (purpose !== "reverify") return undefined;
  if (decision.ok || decision.personKey !== undefined) return { personKey: decision.personKey };
  return undefined;
}
