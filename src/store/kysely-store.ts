/**
 * The one implementation of {@link Store}: Kysely queries shared by SQLite and PostgreSQL, composed
 * here from one file per concern — verifications.ts (create, read, audit trail), idempotency.ts,
 * completion.ts (step 6 of a completion, withdrawal), attempts.ts (failed attempts), outbox.ts
 * (webhook events), retention.ts (purge), recovery.ts (recovery checks, expiry), keys.ts
 * (rotation) — over rows.ts (row mapping) and
 * context.ts (what they share).
 *
 * The guarantees live in unique constraints, reached with `INSERT … ON CONFLICT DO NOTHING` and a
 * re-read, never find-then-create and never a caught unique violation (which would abort a
 * PostgreSQL transaction): the upstream id is consumed once (`consumed_ids` primary key), a person
 * exists once per key (`persons (key_kind, key_scope, key_hash)`), a person holds one account
 * (`accounts.person_id`), an account belongs to one person (`accounts.account_ref`) and an
 * Idempotency-Key names one verification per API key (`idempotency_keys` primary key).
 */
import { type Kysely, sql } from "kysely";
import { StoreError } from "../core/errors.js";
import type { Store } from "../core/store.js";
import { secureRandomBytes } from "../util/random.js";
import { attemptMethods } from "./attempts.js";
import { completionMethods } from "./completion.js";
import { recentRows, type StoreContext } from "./context.js";
import type { Keyring } from "./crypto.js";
import type { DialectName, StoreDialect } from "./dialect.js";
import { withStoreErrors } from "./errors.js";
import { idempotencyMethods } from "./idempotency.js";
import { keyMethods } from "./keys.js";
import { migrateToLatest } from "./migrations.js";
import { outboxMethods } from "./outbox.js";
import { POSTGRES_DIALECT } from "./postgres/dialect.js";
import { recoveryMethods } from "./recovery.js";
import { retentionMethods } from "./retention.js";
import { verificationFromRow } from "./rows.js";
import type { Database } from "./schema.js";
import { SQLITE_DIALECT } from "./sqlite/dialect.js";
import { completionStatements } from "./statements.js";
import { kyselyStepRunner, type StepRunner } from "./steps.js";
import { upstreamDeletionMethods } from "./upstream-deletions.js";
import { verificationMethods } from "./verifications.js";

export interface KyselyStoreOptions {
  /** A Kysely instance over certgate's {@link Database}; the store owns it and destroys it on `close`. */
  db: Kysely<Database>;
  dialect: DialectName | StoreDialect;
  /** Hashes person keys and encrypts identity fields. */
  keyring: Keyring;
  /** Person ids. Default: {@link newPersonId}. */
  newId?: (() => string) | undefined;
  /**
   * Runs the operations written as steps (completion, failed attempts) in one transaction. Default:
   * a Kysely transaction over `db`; the SQLite store passes a synchronous one (store/steps.ts).
   */
  steps?: StepRunner | undefined;
}

/**
 * A new person's id: "prs_", the time in ms as 12 hex digits, then 16 random bytes in base64url.
 * The time first keeps each new person at the end of the persons table's B-tree and of the
 * accounts' person_id index (on SQLite a WITHOUT ROWID table is ordered by its key: migration
 * 0008), so a completion touches the same few pages there however many persons are stored, not a
 * random page of a table of millions. No HTTP answer or webhook carries it (a library user sees it
 * as `VerificationRecord.personId`); it says when the person was first verified, as the row does.
 */
export function newPersonId(nowMs: number = Date.now()): string {
  return `prs_${nowMs.toString(16).padStart(12, "0")}${secureRandomBytes(16).toString("base64url")}`;
}

/**
 * A {@link Store} over `db`. Does not migrate by itself: call `migrate()` (the `open…Store` helpers do).
 * Every method but `migrate` and `close` throws a database fault as a `StoreError` (store/errors.ts).
 *
 * @example
 * const store = createKyselyStore({ db, dialect: "sqlite", keyring });
 * await store.migrate();
 */
export function createKyselyStore(options: KyselyStoreOptions): Store {
  const { db, keyring } = options;
  const dialect = typeof options.dialect === "string" ? DIALECTS[options.dialect] : options.dialect;
  const steps = options.steps ?? kyselyStepRunner(db);
  const ctx: StoreContext = {
    db,
    steps,
    statements: completionStatements(db, dialect),
    dialect,
    keyring,
    newId: options.newId ?? (() => newPersonId()),
    toRecord: (row) => verificationFromRow(row, keyring),
    recent: recentRows(steps.guesses === true),
  };

  const store: Store = {
    dialect: dialect.name,

    async migrate() {
      await migrateToLatest(db, dialect);
    },

    ...verificationMethods(ctx),
    ...idempotencyMethods(ctx),
    ...completionMethods(ctx),
    ...attemptMethods(ctx),
    ...outboxMethods(ctx),
    ...retentionMethods(ctx),
    ...recoveryMethods(ctx),
    ...upstreamDeletionMethods(ctx),
    ...keyMethods(ctx),

    async ping() {
      if (dialect.name !== "postgres") {
        // SQLite: a file it may not write is refused when the store opens (sqlite/index.ts).
        await sql`select 1`.execute(db);
        return;
      }
      // A PostgreSQL that answers but refuses writes (a hot standby after a failover, or
      // default_transaction_read_only) is not ready: every creation and completion would be a 503
      // store_read_only while /readyz kept a load balancer sending them here.
      const { rows } = await sql<{ read_only: string }>`
        select current_setting('transaction_read_only') as read_only`.execute(db);
      if (rows[0]?.read_only === "on") {
        // 25006 is the SQLSTATE PostgreSQL gives the writes it refuses.
        throw new StoreError("read_only", { dialect: "postgres", driverCode: "25006" });
      }
    },

    async close() {
      await db.destroy();
    },
  };
  // Driver faults (connection lost, database down, locked, read-only, full) leave as StoreErrors.
  return Object.freeze(withStoreErrors(store, dialect.name));
}

const DIALECTS: Record<DialectName, StoreDialect> = { sqlite: SQLITE_DIALECT, postgres: POSTGRES_DIALECT };

/**
 * Creates the store and brings its schema up to date (migrations run at startup); closes the
 * connection again if migrating fails, so a failed start leaks no pool or file handle.
 */
export async function openMigratedStore(options: KyselyStoreOptions): Promise<Store> {
  const store = createKyselyStore(options);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
