/** Key rotation: re-encrypting the stored personal fields under the keyring's current key. */
import type { Store } from "../core/store.js";
import type { StoreContext } from "./context.js";

export function keyMethods(ctx: StoreContext): Pick<Store, "rotateKeys" | "storedKeyIds"> {
  const { db, keyring } = ctx;
  return {
    async storedKeyIds() {
      // The table's first row with sealed fields (SQLite: rowid order, the oldest; PostgreSQL: heap
      // order, near it): `keys rotate` reseals every row, a purge keeps the row's key id, so before
      // a rotation this is under the oldest key in use, after it under the current one.
      const rows = await db
        .selectFrom("verifications")
        .select("enc_key_id")
        .where("enc_key_id", "is not", null)
        .limit(1)
        .execute();
      return rows.flatMap((row) => (row.enc_key_id === null ? [] : [row.enc_key_id]));
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
            await trx
              .updateTable("verifications")
              .set({
                name_enc: reseal("name", row.name_enc),
                birth_date_enc: reseal("birth_date", row.birth_date_enc),
                phone_enc: reseal("phone", row.phone_enc),
                enc_key_id: keyring.currentKeyId,
              })
              .where("id", "=", row.id)
              .execute();
          }
        });
        reencrypted += rows.length;
      }
      const remaining = await db
        .selectFrom("persons")
        .select((eb) => eb.fn.countAll<number | string>().as("n"))
        .where("key_id", "!=", keyring.currentKeyId)
        .executeTakeFirst();
      return { reencrypted, remainingPersonHashes: Number(remaining?.n ?? 0) };
    },
  };
}
