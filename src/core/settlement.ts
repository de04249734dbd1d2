/**
 * Step 6 of a completion (the order is in core/policy.ts): what one completion writes, decided from
 * the service's decision and the facts only the database can establish race-free inside its
 * transaction — for a `reverify`, whether the verifying person is the one bound to the account
 * (6a `person_mismatch`); whether the expected identity, kept as keyed hashes, matches (6b
 * `identity_mismatch`); whether the upstream id was consumed now (6c `already_used`) and whose
 * account the person holds (6d `duplicate_account`). The store gathers the facts
 * (store/completion.ts); these pure functions (and core/expected.ts's comparison) decide.
 */
import type { ExpectedField } from "./expected.js";
import type { PersonKey, VerifiedIdentity } from "./identity.js";
import type { RejectionReason, VerificationStatus } from "./reasons.js";
import type { CompletionDecision } from "./verification.js";

/** What one completion writes, decided inside its transaction. */
export interface Settlement {
  status: Exclude<VerificationStatus, "pending">;
  reason?: RejectionReason | undefined;
  /** Set only when this completion consumed it. */
  upstreamId?: string | undefined;
  personId?: string | undefined;
  existingAccountRef?: string | undefined;
  identity?: VerifiedIdentity | undefined;
  /** Set when this outcome also counts a failed attempt (`too_many_attempts`). */
  failedAttempts?: number | undefined;
  /** With `identity_mismatch`: the expected fields that differed. */
  mismatchedFields?: ExpectedField[] | undefined;
}

/**
 * Step 6a, for a `reverify` whose decision carries the verifying person's key: `person_mismatch`
 * unless `personId` (that key's person, undefined when certgate knows no such person) is
 * `accountPersonId` (the person bound to the verification's account, read in the transaction;
 * undefined when the account is not bound, e.g. withdrawn since creation). Undefined when the check
 * passes. The rejection carries nothing about the person: no person id, no identity, no account.
 */
export function settlePersonCheck(input: {
  personId: string | undefined;
  accountPersonId: string | undefined;
  upstreamId: string | undefined;
  consumed: boolean | undefined;
}): Settlement | undefined {
  const { personId, accountPersonId } = input;
  if (personId !== undefined && personId === accountPersonId) return undefined;
  return {
    status: "rejected",
    reason: "person_mismatch",
    upstreamId: input.consumed === true ? input.upstreamId : undefined,
  };
}

/**
 * The settlement once the upstream id was offered for consumption (`consumed`: whether this
 * completion consumed it; undefined when there was none to consume) and the expected identity
 * compared (`mismatched`: the fields that differed, core/expected.ts), or the person key to bind
 * first ({@link settleBinding} then decides). The service's reasons come first in the order of
 * checks; the store's only after.
 */
export function settleBeforeBinding(
  decision: CompletionDecision,
  upstreamId: string | undefined,
  consumed: boolean | undefined,
  mismatched: readonly ExpectedField[] = [],
): Settlement | { bind: PersonKey; upstreamId: string | undefined; identity: VerifiedIdentity } {
  const kept = consumed === true ? upstreamId : undefined;
  if (!decision.ok) {
    return {
      status: decision.reason === "expired" ? "expired" : "rejected",
      reason: decision.reason,
      upstreamId: kept,
    };
  }
  if (mismatched.length > 0) {
    return {
      status: "rejected",
      reason: "identity_mismatch",
      upstreamId: kept,
      mismatchedFields: [...mismatched],
    };
  }
  if (consumed === false) return { status: "rejected", reason: "already_used" };
  if (decision.personKey === undefined)
    return { status: "verified", upstreamId: kept, identity: decision.identity };
  return { bind: decision.personKey, upstreamId: kept, identity: decision.identity };
}

/**
 * The settlement once the person is known (`personId`). Without an account to bind (`accountRef`
 * undefined), `held` is the account the person already holds, reported as `existingAccountRef`.
 * With one, `held` is the account the person holds after the bind was tried: this one means bound;
 * another, or none (the account belongs to another person), is one account per person broken.
 */
export function settleBinding(input: {
  upstreamId: string | undefined;
  identity: VerifiedIdentity;
  personId: string;
  accountRef: string | undefined;
  held: string | undefined;
}): Settlement {
  const { upstreamId, identity, personId, accountRef, held } = input;
  if (accountRef === undefined) {
    return { status: "verified", upstreamId, personId, existingAccountRef: held, identity };
  }
  if (held === accountRef) return { status: "verified", upstreamId, personId, identity };
  return { status: "rejected", reason: "duplicate_account", upstreamId, personId, existingAccountRef: held };
}
