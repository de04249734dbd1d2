/** Key rotation: re-encrypting the stored personal fields under the keyring's current key. */
import { sql } from "kysely";
import type { Store } from "../core/store.js";
import type { StoreContext } from "./context.js";

/**
 * The key id of a person row whose key was forgotten on purpose (`certgate keys forget`,
 * {@link Store.forgetPersonHashes}): no key of any keyring is named so, so the row is never found
 * again, and the startup check no longer counts it as unknown.
 */
export const FORGOTTEN_KEY_ID = "forgotten";

/** Person rows updated per statement by forgetPersonHashes: short write locks on a large table. */
const FORGET_BATCH = 5_000;

export function keyMethods(
  ctx: StoreContext,
): Pick<Store, "rotateKeys" | "unknownSealedKeyId" | "forgetPersonHashes"> {
  const { db, keyring } = ctx;
  return {
    async unknownSealedKeyId(known) {
      // Every row, not a sample: a rotation interrupted between its batches, or PostgreSQL's heap
      // order, leaves rows under an old key anywhere in the table.
      const row = await db
        .selectFrom("verifications")
        .select("enc_key_id")
        .where("enc_key_id", "is not", null)
        .$if(known.length > 0, (query) => query.where("enc_key_id", "not in", [...known]))
        .where((eb) =>
          eb.or([
            eb("name_enc", "is not", null),
            eb("birth_date_enc", "is not", null),
            eb("phone_enc", "is not", null),
          ]),
        )
        .limit(1)
        .executeTakeFirst();
      if (row?.enc_key_id != null) return row.enc_key_id;
      // Persons too: a secret changed after every sealed field was purged (or before any was
      // sealed) left nothing above to notice it, and every returning person would be matched anew.
      const person = await db
        .selectFrom("persons")
        .select("key_id")
        .where("key_id", "not in", [...known, FORGOTTEN_KEY_ID])
        .limit(1)
        .executeTakeFirst();
      return person?.key_id;
    },

    async forgetPersonHashes(known) {
      let forgotten = 0;
      for (;;) {
        const { numUpdatedRows } = await db
          .updateTable("persons")
          .set({ key_id: FORGOTTEN_KEY_ID })
          .where("id", "in", (eb) =>
            eb
              .selectFrom("persons")
              .select("id")
              .where("key_id", "not in", [...known, FORGOTTEN_KEY_ID])
              .limit(FORGET_BATCH),
          )
          .executeTakeFirst();
        forgotten += Number(numUpdatedRows);
        if (Number(numUpdatedRows) < FORGET_BATCH) return forgotten;
      }
    },

    async rotateKeys() {
      let reencrypted = 0;
      for (;;) {
        const rows = await db
          .selectFrom("verifications")
          .select(["id", "name_enc", "birth_date_enc", "phone_enc"])
          .where("enc_key_id", "is not", null)
          .where("enc_key_id", "!=", keyring.currentKeyId)
          .limit(500)
          .execute();
        if (rows.length === 0) break;
        await db.transaction().execute(async (trx) => {
          for (const row of rows) {
            const reseal = (column: string, value: string | null) => {
              if (value === null) return null;
              const context = `verifications/${row.id}/${column}`;
              return keyring.encrypt(keyring.decrypt(value, context), context);
            };
            // Only while the row still holds what was read (outside this transaction): a purge
            // that committed meanwhile emptied it, and writing the re-sealed fields back would keep
            // purged personal data for good. Such a row is read again by the next batch.
            const unchanged = (column: "name_enc" | "birth_date_enc" | "phone_enc") =>
              row[column] === null
                ? sql<boolean>`${sql.ref(column)} is null`
                : sql<boolean>`${sql.ref(column)} = ${row[column]}`;
            const { numUpdatedRows } = await trx
              .updateTable("verifications")
              .set({
                name_enc: reseal("name", row.name_enc),
                birth_date_enc: reseal("birth_date", row.birth_date_enc),
                phone_enc: reseal("phone", row.phone_enc),
                enc_key_id: keyring.currentKeyId,
              })
              .where("id", "=", row.id)
              .where(unchanged("name_enc"))
              .where(unchanged("birth_date_enc"))
              .where(unchanged("phone_enc"))
              .executeTakeFirst();
            // A row changed meanwhile is not counted here; the next batch reads and counts it.
            reencrypted += Number(numUpdatedRows);
          }
        });
      }
      const remaining = await db
        .selectFrom("persons")
        .select((eb) => eb.fn.countAll<number | string>().as("n"))
        .where("key_id", "not in", [keyring.currentKeyId, FORGOTTEN_KEY_ID])
        .executeTakeFirst();
      return { reencrypted, remainingPersonHashes: Number(remaining?.n ?? 0) };
    },
  };
}
