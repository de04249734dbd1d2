/**
 * The webhook outbox: an event is written in its outcome's transaction (completion.ts), then claimed
 * under a lease and marked by the dispatcher (service/webhooks.ts). The payload is the core's
 * (core/webhook-event.ts); the store only writes it.
 */
import type { Store } from "../core/store.js";
import { secureRandomBytes } from "../util/random.js";
import type { StoreContext } from "./context.js";
import { dateOf, msOf } from "./rows.js";

/** A stable event id: 16 random bytes, base64url. */
export function newEventId(): string {
  return `evt_${secureRandomBytes(16).toString("base64url")}`;
}

export function outboxMethods(
  ctx: StoreContext,
): Pick<
  Store,
  | "claimWebhookEvents"
  | "markWebhookDelivered"
  | "markWebhookFailed"
  | "listWebhookEvents"
  | "requeueWebhookEvents"
  | "webhookBacklog"
> {
  const { db } = ctx;
  return {
    async claimWebhookEvents({ now, limit, leaseUntil }) {
      // One UPDATE … WHERE id IN (due ids) … RETURNING: atomic on both dialects. On PostgreSQL a
      // concurrent claim of the same rows waits for the row locks, then re-checks the outer WHERE and
      // skips rows whose next attempt has just moved to the other claimer's lease.
      const due = db
        .selectFrom("webhook_outbox")
        .select("id")
        .where("delivered_at", "is", null)
        .where("next_attempt_at", "<=", msOf(now))
        .orderBy("created_at")
        .orderBy("id")
        .limit(limit);
      const rows = await db
        .updateTable("webhook_outbox")
        .set({ next_attempt_at: msOf(leaseUntil) })
        .where("id", "in", due)
        .where("delivered_at", "is", null)
        .where("next_attempt_at", "<=", msOf(now))
        .returningAll()
        .execute();
      return rows
        .sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map((r) => ({
          id: r.id,
          verificationId: r.verification_id,
          type: r.type,
          payload: r.payload_json,
          attempts: r.attempts,
          createdAt: dateOf(r.created_at),
        }));
    },

    async webhookBacklog() {
      const row = await db
        .selectFrom("webhook_outbox")
        .select((eb) => [eb.fn.countAll().as("pending"), eb.fn.min("created_at").as("oldest")])
        .where("delivered_at", "is", null)
        .executeTakeFirst();
      // PostgreSQL answers count(*) and a bigint min as strings, SQLite as numbers.
      const oldest = row?.oldest === null || row?.oldest === undefined ? undefined : Number(row.oldest);
      return {
        pending: Number(row?.pending ?? 0),
        oldestCreatedAt: oldest === undefined ? undefined : dateOf(oldest),
      };
    },

    async markWebhookDelivered(id, now, leaseUntil) {
      await db
        .updateTable("webhook_outbox")
        .set((eb) => ({ delivered_at: msOf(now), attempts: eb("attempts", "+", 1) }))
        .where("id", "=", id)
        .$if(leaseUntil !== undefined, (qb) => qb.where("next_attempt_at", "=", msOf(leaseUntil ?? now)))
        .execute();
    },

    async markWebhookFailed(id, { nextAttemptAt, status, leaseUntil }) {
      await db
        .updateTable("webhook_outbox")
        .set((eb) => ({
          next_attempt_at: msOf(nextAttemptAt),
          attempts: eb("attempts", "+", 1),
          last_status: status ?? 0,
        }))
        .where("id", "=", id)
        // The claim set next_attempt_at to its lease; a replay or a later claim has moved it since.
        .$if(leaseUntil !== undefined, (qb) =>
          qb.where("next_attempt_at", "=", msOf(leaseUntil ?? nextAttemptAt)),
        )
        .execute();
    },

    async listWebhookEvents({ since, limit }) {
      const rows = await db
        .selectFrom("webhook_outbox")
        .select(["id", "type", "verification_id", "created_at", "attempts", "delivered_at", "last_status"])
        .$if(since !== undefined, (qb) => qb.where("created_at", ">=", msOf(since ?? new Date(0))))
        // With `since` the oldest after it; without, the most recent (reversed below).
        .orderBy("created_at", since === undefined ? "desc" : "asc")
        .orderBy("id", since === undefined ? "desc" : "asc")
        .limit(limit)
        .execute();
      if (since === undefined) rows.reverse();
      return rows.map((r) => ({
        id: r.id,
        type: r.type,
        verificationId: r.verification_id,
        createdAt: dateOf(r.created_at),
        attempts: Number(r.attempts),
        deliveredAt: r.delivered_at === null ? undefined : dateOf(r.delivered_at),
        lastStatus: r.last_status === null ? undefined : Number(r.last_status),
      }));
    },

    async requeueWebhookEvents({ id, since }) {
      if (id === undefined && since === undefined) return 0;
      const result = await db
        .updateTable("webhook_outbox")
        // Due as when it was new: on any dispatcher's clock, whatever the command's clock says.
        .set((eb) => ({
          delivered_at: null,
          next_attempt_at: eb.ref("created_at"),
          attempts: 0,
          last_status: null,
        }))
        .$if(id !== undefined, (qb) => qb.where("id", "=", id ?? ""))
        .$if(since !== undefined, (qb) => qb.where("created_at", ">=", msOf(since ?? new Date(0))))
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}
