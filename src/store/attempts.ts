/**
 * Failed attempts (core/attempts.ts), in one locked transaction: counted with their audit event, or
 * — once `maxAttempts` were counted — the `too_many_attempts` finish, written as every finish is.
 */
import { attemptLimitSpent } from "../core/attempts.js";
import type { FailedAttemptInput, FailedAttemptResult, Store } from "../core/store.js";
import { finishRow } from "./completion.js";
import type { StoreContext } from "./context.js";
import { msOf } from "./rows.js";
import { auditRow } from "./statements.js";
import { first, later, type Steps } from "./steps.js";

export function attemptMethods(ctx: StoreContext): Pick<Store, "recordFailedAttempt"> {
  const { db, toRecord } = ctx;
  return {
    async recordFailedAttempt(input: FailedAttemptInput): Promise<FailedAttemptResult> {
      const nowMs = msOf(input.now);
      return ctx.steps.transaction(function* (): Steps<FailedAttemptResult> {
        // The same lock as completeVerification: attempts and completions of one verification
        // queue here, so the count never passes the limit and only one of them finishes it.
        const row = yield* first(ctx.statements.lockedVerificationById({ id: input.verificationId }));
        if (row === undefined) return { kind: "not_found" };
        if (row.status !== "pending") return { kind: "replayed", verification: toRecord(row) };

        const failedAttempts = row.failed_attempts + 1;
        const audit = {
          reason: input.reason,
          upstream_id: input.upstreamId ?? null,
          failed_attempts: failedAttempts,
          max_attempts: row.max_attempts,
          api_version: row.api_version,
        };
        yield* later(
          ctx.statements.insertAudit(auditRow(row.id, "verification.attempt_failed", nowMs, audit)),
        );
        if (attemptLimitSpent({ failedAttempts: row.failed_attempts, maxAttempts: row.max_attempts })) {
          const verification = yield* finishRow(
            ctx,
            row,
            { status: "rejected", reason: "too_many_attempts", failedAttempts },
            nowMs,
            input.emitEvent ?? false,
          );
          return { kind: "finished", verification };
        }
        // Guarded as well as locked: a row that is no longer pending or already at its limit is
        // never counted, whatever the isolation level.
        const counted = yield* first(
          db
            .updateTable("verifications")
            .set((eb) => ({ failed_attempts: eb("failed_attempts", "+", 1) }))
            .where("id", "=", row.id)
            .where("status", "=", "pending")
            .where("failed_attempts", "<", row.max_attempts)
            .returningAll(),
        );
        if (counted === undefined) throw new Error("store: verification changed under its lock");
        return { kind: "attempt_failed", verification: toRecord(counted) };
      });
    },
  };
}
