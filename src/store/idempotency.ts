/**
 * Creation under an Idempotency-Key: the key is claimed in the verification's own transaction under
 * the `idempotency_keys` primary key, so one key names one verification across instances.
 */
import { DuplicateIdError } from "../core/errors.js";
import type { IdempotentCreationInput, IdempotentCreationResult, Store } from "../core/store.js";
import { readVerification, type StoreContext } from "./context.js";
import { msOf } from "./rows.js";
import { insertVerification } from "./verifications.js";

export function idempotencyMethods(
  ctx: StoreContext,
): Pick<Store, "createIdempotentVerification" | "purgeIdempotencyKeys"> {
  const { db, toRecord } = ctx;
  return {
    async createIdempotentVerification(input: IdempotentCreationInput): Promise<IdempotentCreationResult> {
      const claimKey = { api_key_digest: input.scope, idempotency_key: input.key };
      const trx = await db.startTransaction().execute();
      try {
        // The verification first (the key row references it), then the key under its primary key.
        // PostgreSQL: a concurrent claim of the same key waits here for this transaction, then sees
        // the committed row (READ COMMITTED) and does nothing. An expired row is taken over.
        const inserted = await insertVerification(ctx, trx, input.verification);
        if (inserted === undefined) {
          throw new DuplicateIdError();
        }
        const claimed = await trx
          .insertInto("idempotency_keys")
          .values({
            ...claimKey,
            fingerprint: input.fingerprint,
            verification_id: inserted.id,
            created_at: msOf(input.verification.createdAt),
          })
          .onConflict((oc) =>
            oc
              .columns(["api_key_digest", "idempotency_key"])
              .doUpdateSet((eb) => ({
                fingerprint: eb.ref("excluded.fingerprint"),
                verification_id: eb.ref("excluded.verification_id"),
                created_at: eb.ref("excluded.created_at"),
              }))
              .where("idempotency_keys.created_at", "<", msOf(input.expiredBefore)),
          )
          .returning("verification_id")
          .executeTakeFirst();
        if (claimed !== undefined) {
          await trx.commit().execute();
          return { kind: "created", verification: toRecord(inserted) };
        }
        // The key is held: the verification inserted above is rolled back, the holder's is answered.
        const held = await trx
          .selectFrom("idempotency_keys")
          .select(["fingerprint", "verification_id"])
          .where("api_key_digest", "=", claimKey.api_key_digest)
          .where("idempotency_key", "=", claimKey.idempotency_key)
          .executeTakeFirst();
        if (held === undefined) throw new Error("store: idempotency key missing after conflict");
        const prior =
          held.fingerprint === input.fingerprint
            ? await readVerification(ctx, trx, held.verification_id)
            : undefined;
        await trx.rollback().execute();
        if (held.fingerprint !== input.fingerprint) return { kind: "conflict" };
        if (prior === undefined) throw new Error("store: verification of an idempotency key missing");
        return { kind: "replayed", verification: toRecord(prior) };
      } catch (error) {
        if (!trx.isCommitted && !trx.isRolledBack) await trx.rollback().execute();
        throw error;
      }
    },

    async purgeIdempotencyKeys({ createdBefore }) {
      const deleted = await db
        .deleteFrom("idempotency_keys")
        .where("created_at", "<", msOf(createdBefore))
        .executeTakeFirst();
      return Number(deleted.numDeletedRows);
    },
  };
}
