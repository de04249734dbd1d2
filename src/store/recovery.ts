/**
 * What recovery and the expiry sweeper ask of the store (service/recovery.ts): claiming due checks
 * of pending V2 verifications under a lease, rescheduling them, and finding expired pending ones.
 * Finishing them is the completion transaction's (completion.ts), as for every other finish.
 */
import type { ExpressionBuilder } from "kysely";
import type { Store } from "../core/store.js";
import type { StoreContext } from "./context.js";
import { msOf } from "./rows.js";
import type { Database } from "./schema.js";

export function recoveryMethods(
  ctx: StoreContext,
): Pick<Store, "claimRecoveryChecks" | "scheduleRecoveryCheck" | "listExpiredVerifications"> {
  const { db, toRecord } = ctx;
  return {
    async claimRecoveryChecks({ now, limit, leaseUntil, createdBefore }) {
      const nowMs = msOf(now);
      const createdBeforeMs = msOf(createdBefore);
      // The outbox's claim (outbox.ts): one UPDATE … WHERE id IN (due ids) … RETURNING, the due
      // condition repeated outside. On PostgreSQL a concurrent claim of a row waits for its lock,
      // re-checks the outer WHERE on the new version and skips it (its next check is now the
      // other claimer's lease); SQLite runs one statement at a time.
      const checkDue = (eb: ExpressionBuilder<Database, "verifications">) =>
        eb.or([
          eb("next_check_at", "<=", nowMs),
          eb.and([eb("next_check_at", "is", null), eb("created_at", "<=", createdBeforeMs)]),
        ]);
      const due = db
        .selectFrom("verifications")
        .select("id")
        .where("status", "=", "pending")
        .where("api_version", "=", "v2")
        .where("expires_at", ">", nowMs)
        .where(checkDue)
        .orderBy("created_at")
        .orderBy("id")
        .limit(limit);
      const rows = await db
        .updateTable("verifications")
        .set((eb) => ({ next_check_at: msOf(leaseUntil), recovery_checks: eb("recovery_checks", "+", 1) }))
        .where("id", "in", due)
        .where("status", "=", "pending")
        .where("expires_at", ">", nowMs)
        .where(checkDue)
        .returningAll()
        .execute();
      return rows.map((row) => ({ verification: toRecord(row), checks: Number(row.recovery_checks) }));
    },

    async scheduleRecoveryCheck({ verificationId, nextCheckAt, checks }) {
      // The count the claim made is its fencing token: a later claim counted one more.
      await db
        .updateTable("verifications")
        .set({ next_check_at: msOf(nextCheckAt) })
        .where("id", "=", verificationId)
        .where("status", "=", "pending")
        .where("recovery_checks", "=", checks)
        .execute();
    },

    async listExpiredVerifications({ now, limit }) {
      const rows = await db
        .selectFrom("verifications")
        .select("id")
        .where("status", "=", "pending")
        .where("expires_at", "<", msOf(now))
        .orderBy("expires_at")
        .orderBy("id")
        .limit(limit)
        .execute();
      return rows.map((row) => row.id);
    },
  };
}
