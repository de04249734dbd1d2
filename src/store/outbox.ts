/**
 * The webhook outbox: an event is written in its outcome's transaction (completion.ts), then claimed
 * under a lease and marked by the dispatcher (service/webhooks.ts). The payload is the core's
 * (core/webhook-event.ts); the store only writes it.
 */
import type { Transaction } from "kysely";
import type { Store } from "../core/store.js";
import { secureRandomBytes } from "../util/random.js";
import type { StoreContext } from "./context.js";
import { dateOf, msOf } from "./rows.js";
import type { Database } from "./schema.js";

/** A stable event id: 16 random bytes, base64url. */
export function newEventId(): string {
  return `evt_${secureRandomBytes(16).toString("base64url")}`;
}

/** Writes `event` (its JSON is the delivered body) to the outbox, due at once. */
export async function insertOutboxEvent(
  trx: Transaction<Database>,
  verificationId: string,
  event: { id: string; type: string },
  nowMs: number,
): Promise<void> {
  await trx
    .insertInto("webhook_outbox")
    .values({
      id: event.id,
      verification_id: verificationId,
      type: event.type,
      payload_json: JSON.stringify(event),
      attempts: 0,
      created_at: nowMs,
      next_attempt_at: nowMs,
    })
    .execute();
}

export function outboxMethods(
  ctx: StoreContext,
): Pick<Store, "claimWebhookEvents" | "markWebhookDelivered" | "markWebhookFailed" | "webhookBacklog"> {
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

    async markWebhookDelivered(id, now) {
      await db
        .updateTable("webhook_outbox")
        .set((eb) => ({ delivered_at: msOf(now), attempts: eb("attempts", "+", 1) }))
        .where("id", "=", id)
        .execute();
    },

    async markWebhookFailed(id, { nextAttemptAt, status }) {
      await db
        .updateTable("webhook_outbox")
        .set((eb) => ({
          next_attempt_at: msOf(nextAttemptAt),
          attempts: eb("attempts", "+", 1),
          last_status: status ?? 0,
        }))
        .where("id", "=", id)
        .execute();
    },
  };
}
