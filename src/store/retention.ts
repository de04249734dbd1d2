/** Retention (PIPA art. 21): destroying the personal fields of verifications past their period. */
import type { Store } from "../core/store.js";
import { identityPurgedEvent } from "../core/webhook-event.js";
import { insertAudit, insertOutboxEvent, type StoreContext } from "./context.js";
import { newEventId } from "./outbox.js";
import { msOf } from "./rows.js";

/**
 * Verifications purged per transaction. A backlog (the first purge of a large database, a retention
 * shortened) is destroyed in transactions of this many, each short: one UPDATE over a million rows
 * held the write lock (SQLite) or its row locks for its whole run, and outlived a bounded query.
 * Each batch has its audit event (with its count) and its webhook events.
 */
export const PURGE_BATCH = 1_000;

export function retentionMethods(ctx: StoreContext): Pick<Store, "purgeIdentities"> {
  return {
    async purgeIdentities(input) {
      let total = 0;
      let after: string | undefined;
      for (;;) {
        const batch = await purgeBatch(ctx, input, after);
        total += batch.purged;
        if (batch.last === undefined) return total;
        after = batch.last;
      }
    },
  };
}

/**
 * One transaction: up to {@link PURGE_BATCH} due verifications after `after` in id order purged,
 * with their events; `last` is the last id it looked at (the next batch's `after`), undefined when
 * fewer than a batch were due. The cursor makes each batch start where the one before stopped: a
 * batch that only filtered would step again past every row the batches before it purged, a backlog
 * of a million read ≈ 5 × 10⁸ rows.
 */
async function purgeBatch(
  ctx: StoreContext,
  { completedBefore, now, emitEvents }: Parameters<Store["purgeIdentities"]>[0],
  after: string | undefined,
): Promise<{ purged: number; last: string | undefined }> {
  const nowMs = msOf(now);
  return ctx.db.transaction().execute(async (trx) => {
    const due = await trx
      .selectFrom("verifications")
      .select("id")
      .$if(after !== undefined, (query) => query.where("id", ">", after ?? ""))
      .where("completed_at", "<", msOf(completedBefore))
      .where("purged_at", "is", null)
      .where((eb) =>
        eb.or([
          eb("name_enc", "is not", null),
          eb("birth_date_enc", "is not", null),
          eb("phone_enc", "is not", null),
        ]),
      )
      .orderBy("id")
      .limit(PURGE_BATCH)
      .execute();
    if (due.length === 0) return { purged: 0, last: undefined };
    const purged = await trx
      .updateTable("verifications")
      .set({ name_enc: null, birth_date_enc: null, phone_enc: null, purged_at: nowMs })
      .where(
        "id",
        "in",
        due.map((row) => row.id),
      )
      // Again here: on PostgreSQL a row another instance purged meanwhile is re-read after its lock.
      .where("purged_at", "is", null)
      .returning("id")
      .execute();
    if (purged.length > 0) {
      await insertAudit(ctx, trx, null, "identities.purged", nowMs, { count: purged.length });
    }
    if (emitEvents === true) {
      // One event per verification, in the purge's transaction: a receiver that keeps a copy of
      // the identity (read through the API) learns it must destroy its copy too.
      for (const { id } of purged) {
        await insertOutboxEvent(ctx, trx, id, identityPurgedEvent(id, newEventId(), now), nowMs);
      }
    }
    return { purged: purged.length, last: due.length < PURGE_BATCH ? undefined : due[due.length - 1]?.id };
  });
}
