/**
 * Step 6 of a completion (the order is in core/policy.ts): what one completion writes, decided from
 * the service's decision and the facts only the database can establish race-free inside its
 * transaction — whether the upstream id was consumed now (6a `already_used`) and whose account the
 * person holds (6b `duplicate_account`). The store gathers the facts (store/completion.ts); these
 * pure functions decide.
 */
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
}

/**
 * The settlement once the upstream id was offered for consumption (`consumed`: whether this
 * completion consumed it; undefined when there was none to consume), or the person key to bind first
 * ({@link settleBinding} then decides). The service's reasons come first in the order of checks; the
 * store's only after.
 */
export function settleBeforeBinding(
  decision: CompletionDecision,
  upstreamId: string | undefined,
  consumed: boolean | undefined,
): Settlement | { bind: PersonKey; upstreamId: string | undefined; identity: VerifiedIdentity } {
  const kept = consumed === true ? upstreamId : undefined;
  if (!decision.ok) {
    return {
      status: decision.reason === "expired" ? "expired" : "rejected",
      reason: decision.reason,
      upstreamId: kept,
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
