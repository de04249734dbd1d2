/** Retention (PIPA art. 21): destroying the personal fields of verifications past their period. */
import type { Store } from "../core/store.js";
import { insertAudit, type StoreContext } from "./context.js";
import { msOf } from "./rows.js";

export function retentionMethods(ctx: StoreContext): Pick<Store, "purgeIdentities"> {
  const { db } = ctx;
  return {
    async purgeIdentities({ completedBefore, now }) {
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
          await insertAudit(trx, null, "identities.purged", nowMs, { count: purged.length });
        }
        return purged.length;
      });
    },
  };
}
