/**
 * The outcome of presenting a result for a verification: the one outcome type, which the service
 * answers (`completeV1` / `completeV2`) and http/responses.ts alone turns into a status code.
 *
 * The store's answers (core/store.ts) say what its transaction did, in the same words: `finished`,
 * `replayed`, `attempt_failed` (the service adds the reason it knows); `not_found` is thrown as a
 * request error, and `pending` is the service's alone (the store is not called). One vocabulary
 * from the database to the HTTP mapper.
 */
import type { FailedAttemptReason } from "./attempts.js";
import type { VerificationRecord } from "./verification.js";

/**
 * What a completion answers; a fault (PortOne down, the database down, no such verification) is
 * thrown instead.
 *
 * @example
 * import type { CompletionOutcome } from "certgate";
 * const outcome: CompletionOutcome = await service.completeV1({ impUid, merchantUid });
 * switch (outcome.kind) {
 *   case "finished": // verified, rejected (outcome.verification.reason) or expired
 *   case "replayed": // already completed: never create the account twice
 *   case "pending": // V2: the person has not finished; retry later
 *   case "attempt_failed": // not this verification's record; it stays pending
 * }
 */
export type CompletionOutcome =
  /** This call finished the verification (verified, rejected or expired). */
  | { kind: "finished"; verification: VerificationRecord }
  /** The verification had already finished: this attempt is a replay (`already_used`). */
  | { kind: "replayed"; verification: VerificationRecord }
  /**
   * V2: the upstream record is not finished (READY) or has a status certgate does not know.
   * Nothing was written; the verification stays pending and the same call may be retried.
   */
  | { kind: "pending"; verification: VerificationRecord }
  /**
   * The attempt was not this verification's own result (`reason`): a failed attempt was counted and
   * the verification stays pending (`verification.failedAttempts` / `maxAttempts` say how many are
   * left). Once the limit is spent the next such attempt is `finished` as `too_many_attempts`.
   */
  | { kind: "attempt_failed"; reason: FailedAttemptReason; verification: VerificationRecord };
