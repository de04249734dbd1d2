/**
 * Deletions of PortOne's copies that completions owe (`CERTGATE_DELETE_UPSTREAM`): the completion's
 * transaction writes one when it consumes an upstream id (completion.ts); the service deletes at
 * once and settles it; recovery claims the ones left (service/recovery.ts) under a lease, as it
 * claims V2 checks (recovery.ts), and tries again with backoff until PortOne's copy is gone.
 */
import type { Store } from "../core/store.js";
import { insertAudit, type StoreContext } from "./context.js";
import { dateOf, msOf } from "./rows.js";

/** The audit event of a settled deletion: ids only. */
export const UPSTREAM_DELETED = "upstream.deleted";

export function upstreamDeletionMethods(
  ctx: StoreContext,
): Pick<
  Store,
  "claimUpstreamDeletions" | "scheduleUpstreamDeletion" | "markUpstreamDeleted" | "upstreamDeletionBacklog"
> {
  const { db } = ctx;
  return {
    async claimUpstreamDeletions({ now, limit, leaseUntil }) {
      const nowMs = msOf(now);
      // The recovery claim's statement (recovery.ts): the due condition repeated outside the
      // subquery, so on PostgreSQL a row another instance claimed meanwhile is skipped.
      const due = db
        .selectFrom("upstream_deletions")
        .select("upstream_id")
        .where("due_at", "<=", nowMs)
        .orderBy("due_at")
        .orderBy("upstream_id")
        .limit(limit);
      const rows = await db
        .updateTable("upstream_deletions")
        .set((eb) => ({ due_at: msOf(leaseUntil), attempts: eb("attempts", "+", 1) }))
        .where("upstream_id", "in", due)
        .where("due_at", "<=", nowMs)
        .returning(["upstream_id", "verification_id", "attempts"])
        .execute();
      return rows.map((row) => ({
        upstreamId: row.upstream_id,
        verificationId: row.verification_id,
        attempts: Number(row.attempts),
      }));
    },

    async scheduleUpstreamDeletion({ upstreamId, dueAt, attempts }) {
      // The count the claim made is its fencing token (recovery.ts): a later claim counted one more.
      await db
        .updateTable("upstream_deletions")
        .set({ due_at: msOf(dueAt) })
        .where("upstream_id", "=", upstreamId)
        .where("attempts", "=", attempts)
        .execute();
    },

    async upstreamDeletionBacklog() {
      const row = await db
        .selectFrom("upstream_deletions")
        .select((eb) => [eb.fn.countAll().as("owed"), eb.fn.min("created_at").as("oldest")])
        .executeTakeFirst();
      // PostgreSQL answers count(*) and a bigint min as strings, SQLite as numbers.
      const oldest = row?.oldest === null || row?.oldest === undefined ? undefined : Number(row.oldest);
      return {
        owed: Number(row?.owed ?? 0),
        oldestCreatedAt: oldest === undefined ? undefined : dateOf(oldest),
      };
    },

    async markUpstreamDeleted(upstreamId, now, how) {
      return db.transaction().execute(async (trx) => {
        const removed = await trx
          .deleteFrom("upstream_deletions")
          .where("upstream_id", "=", upstreamId)
          .returning(["verification_id", "attempts"])
          .executeTakeFirst();
        if (removed === undefined) return false;
        await insertAudit(ctx, trx, removed.verification_id, UPSTREAM_DELETED, msOf(now), {
          api_version: "v1",
          attempts: Number(removed.attempts),
          upstream: how,
        });
        return true;
      });
    },
  };
}
