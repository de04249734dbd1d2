/** Retention (PIPA art. 21): destroying the personal fields of verifications past their period. */
import type { Store } from "../core/store.js";
import { identityPurgedEvent } from "../core/webhook-event.js";
import { insertAudit, insertOutboxEvent, type StoreContext } from "./context.js";
import { newEventId } from "./outbox.js";
import { msOf } from "./rows.js";

export function retentionMethods(ctx: StoreContext): Pick<Store, "purgeIdentities"> {
  const { db } = ctx;
  return {
    async purgeIdentities({ completedBefore, now, emitEvents }) {
      const nowMs = msOf(now);
      return db.transaction().execute(async (trx) => {
        const purged = await trx
          .updateTable("verifications")
          .set({ name_enc: null, birth_date_enc: null, phone_enc: null, purged_at: nowMs })
          .where("completed_at", "<", msOf(completedBefore))
          .where("purged_at", "is", null)
          .where((eb) =>
            eb.or([
              eb("name_enc", "is not", null),
              eb("birth_date_enc", "is not", null),
              eb("phone_enc", "is not", null),
            ]),
          )
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
        return purged.length;
      });
    },
  };
}
