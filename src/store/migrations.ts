/**
 * Versioned schema migrations, in code, shared by SQLite and PostgreSQL. Kysely's `Migrator` records
 * the applied ones in `kysely_migration` and takes a lock (a PostgreSQL advisory lock), so several
 * instances starting at once migrate once. Never edit a released migration: add the next one.
 */
import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from "kysely";
import { MigrationError } from "../core/errors.js";
import type { StoreDialect } from "./dialect.js";
import type { Database } from "./schema.js";

/** The migrations of `dialect`, by name; names sort in the order they apply. */
export function createMigrations(dialect: StoreDialect): Record<string, Migration> {
  return {
    "0001_initial": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("persons")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("key_kind", "text", (c) => c.notNull().check(sqlIn("key_kind", ["ci", "di"])))
          .addColumn("key_scope", "text", (c) => c.notNull())
          .addColumn("key_hash", "text", (c) => c.notNull())
          .addColumn("key_id", "text", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addUniqueConstraint("persons_key_unique", ["key_kind", "key_scope", "key_hash"])
          .execute();

        await db.schema
          .createTable("verifications")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("api_version", "text", (c) => c.notNull())
          .addColumn("bound_id", "text", (c) => c.notNull().unique())
          .addColumn("status", "text", (c) =>
            c.notNull().check(sqlIn("status", ["pending", "verified", "rejected", "expired"])),
          )
          .addColumn("reason", "text")
          .addColumn("policy_json", "text", (c) => c.notNull())
          .addColumn("account_ref", "text")
          .addColumn("return_url", "text")
          .addColumn("upstream_id", "text")
          .addColumn("person_id", "text", (c) => c.references("persons.id"))
          .addColumn("existing_account_ref", "text")
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("expires_at", "bigint", (c) => c.notNull())
          .addColumn("completed_at", "bigint")
          .addColumn("name_enc", "text")
          .addColumn("birth_date_enc", "text")
          .addColumn("phone_enc", "text")
          .addColumn("enc_key_id", "text")
          .addColumn("gender", "text")
          .addColumn("foreigner", "integer")
          .addColumn("carrier", "text")
          .addColumn("provider", "text")
          .addColumn("verified_at", "bigint")
          .addColumn("purged_at", "bigint")
          .execute();
        await db.schema
          .createIndex("verifications_status_completed_at")
          .on("verifications")
          .columns(["status", "completed_at"])
          .execute();

        await db.schema
          .createTable("consumed_ids")
          .addColumn("upstream_id", "text", (c) => c.primaryKey())
          .addColumn("verification_id", "text", (c) => c.notNull().references("verifications.id"))
          .addColumn("consumed_at", "bigint", (c) => c.notNull())
          .execute();

        await db.schema
          .createTable("accounts")
          .addColumn("account_ref", "text", (c) => c.primaryKey())
          .addColumn("person_id", "text", (c) => c.notNull().unique().references("persons.id"))
          .addColumn("verification_id", "text", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .execute();

        await db.schema
          .createTable("audit_events")
          .addColumn("id", "integer", (c) => dialect.autoIncrementPrimaryKey(c))
          .addColumn("verification_id", "text")
          .addColumn("type", "text", (c) => c.notNull())
          .addColumn("data_json", "text", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("audit_events_verification_id")
          .on("audit_events")
          .column("verification_id")
          .execute();
      },
      async down(db: Kysely<unknown>) {
        for (const table of ["audit_events", "accounts", "consumed_ids", "verifications", "persons"]) {
          await db.schema.dropTable(table).ifExists().execute();
        }
      },
    },
    "0002_webhook_outbox": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("webhook_outbox")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("verification_id", "text", (c) => c.notNull().references("verifications.id"))
          .addColumn("type", "text", (c) => c.notNull())
          .addColumn("payload_json", "text", (c) => c.notNull())
          .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
          .addColumn("delivered_at", "bigint")
          .addColumn("last_status", "integer")
          .execute();
        await db.schema
          .createIndex("webhook_outbox_due")
          .on("webhook_outbox")
          .columns(["delivered_at", "next_attempt_at"])
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropTable("webhook_outbox").ifExists().execute();
      },
    },
    "0003_verification_attempts": {
      // Failed attempts (core/attempts.ts). One column per ALTER: SQLite adds one at a time. Rows
      // from before start at 0 of the default 5 (a literal: a released migration never changes).
      async up(db: Kysely<unknown>) {
        await db.schema
          .alterTable("verifications")
          .addColumn("failed_attempts", "integer", (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema
          .alterTable("verifications")
          .addColumn("max_attempts", "integer", (c) => c.notNull().defaultTo(5))
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.alterTable("verifications").dropColumn("max_attempts").execute();
        await db.schema.alterTable("verifications").dropColumn("failed_attempts").execute();
      },
    },
    "0004_idempotency_keys": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("idempotency_keys")
          .addColumn("api_key_digest", "text", (c) => c.notNull())
          .addColumn("idempotency_key", "text", (c) => c.notNull())
          .addColumn("fingerprint", "text", (c) => c.notNull())
          .addColumn("verification_id", "text", (c) => c.notNull().references("verifications.id"))
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("idempotency_keys_pk", ["api_key_digest", "idempotency_key"])
          .execute();
        await db.schema
          .createIndex("idempotency_keys_created_at")
          .on("idempotency_keys")
          .column("created_at")
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropTable("idempotency_keys").ifExists().execute();
      },
    },
    "0005_purposes_and_expected_identity": {
      // Purposes (core/purpose.ts) and expected identity (core/expected.ts). Rows from before get
      // the purpose they had in effect: "signup" with an account, "check" without.
      async up(db: Kysely<unknown>) {
        await db.schema
          .alterTable("verifications")
          .addColumn("purpose", "text", (c) =>
            c
              .notNull()
              .defaultTo("check")
              .check(sqlIn("purpose", ["signup", "reverify", "check"])),
          )
          .execute();
        await sql`update verifications set purpose = 'signup' where account_ref is not null`.execute(db);
        for (const column of [
          "expected_name_hash",
          "expected_birth_date_hash",
          "expected_phone_hash",
          "mismatched_fields",
        ]) {
          await db.schema.alterTable("verifications").addColumn(column, "text").execute();
        }
      },
      async down(db: Kysely<unknown>) {
        for (const column of [
          "mismatched_fields",
          "expected_phone_hash",
          "expected_birth_date_hash",
          "expected_name_hash",
          "purpose",
        ]) {
          await db.schema.alterTable("verifications").dropColumn(column).execute();
        }
      },
    },
    "0006_recovery_checks": {
      // Recovery of V2 results (service/recovery.ts): when certgate next asks PortOne about a pending
      // V2 verification (null: not asked yet, due once its first delay has passed) and how often it
      // has asked (its backoff). The sweeper and the recovery claim find their rows by index.
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("verifications").addColumn("next_check_at", "bigint").execute();
        await db.schema
          .alterTable("verifications")
          .addColumn("recovery_checks", "integer", (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema
          .createIndex("verifications_status_expires_at")
          .on("verifications")
          .columns(["status", "expires_at"])
          .execute();
        await db.schema
          .createIndex("verifications_recovery_due")
          .on("verifications")
          .columns(["status", "api_version", "next_check_at"])
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropIndex("verifications_recovery_due").ifExists().execute();
        await db.schema.dropIndex("verifications_status_expires_at").ifExists().execute();
        await db.schema.alterTable("verifications").dropColumn("recovery_checks").execute();
        await db.schema.alterTable("verifications").dropColumn("next_check_at").execute();
      },
    },
    "0007_pending_indexes": {
      // Only pending verifications are looked up by status (the expiry sweeper, the recovery claim),
      // so only they are indexed: a completion then removes its row from one small index instead of
      // moving it between the halves of three (status first), each move a page or two more in the
      // COMMIT's WAL append — the store's completion path ≈ 15 % faster (issue 13). The sweeper
      // reads the pending rows by expiry; the recovery claim reads the pending V2 rows by expiry
      // (its own index: V1 rows, which it never claims, may be many more). The index on (status,
      // completed_at) served no query: retention selects by completed_at alone.
      async up(db: Kysely<unknown>) {
        for (const index of [
          "verifications_status_completed_at",
          "verifications_status_expires_at",
          "verifications_recovery_due",
        ]) {
          await db.schema.dropIndex(index).execute();
        }
        await db.schema
          .createIndex("verifications_pending_expires_at")
          .on("verifications")
          .column("expires_at")
          .where(sql.ref("status"), "=", "pending")
          .execute();
        await db.schema
          .createIndex("verifications_pending_v2_expires_at")
          .on("verifications")
          .column("expires_at")
          .where(sql.ref("status"), "=", "pending")
          .where(sql.ref("api_version"), "=", "v2")
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropIndex("verifications_pending_v2_expires_at").execute();
        await db.schema.dropIndex("verifications_pending_expires_at").execute();
        await db.schema
          .createIndex("verifications_status_completed_at")
          .on("verifications")
          .columns(["status", "completed_at"])
          .execute();
        await db.schema
          .createIndex("verifications_status_expires_at")
          .on("verifications")
          .columns(["status", "expires_at"])
          .execute();
        await db.schema
          .createIndex("verifications_recovery_due")
          .on("verifications")
          .columns(["status", "api_version", "next_check_at"])
          .execute();
      },
    },
  };
}

/**
 * Applies the pending migrations of `dialect` to `db`.
 * @throws MigrationError naming the failed migration (with the driver error as `cause`).
 */
export async function migrateToLatest(db: Kysely<Database>, dialect: StoreDialect): Promise<void> {
  const migrations = createMigrations(dialect);
  const provider: MigrationProvider = { getMigrations: async () => migrations };
  // PostgreSQL: keep Kysely's bookkeeping tables in the schema the connection works in. Without
  // this, Kysely looks for them in every schema and, seeing another tenant's (or test's), skips
  // creating its own.
  const migrationTableSchema =
    dialect.name === "postgres"
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
      : undefined;
  const migrator = new Migrator({
    db,
    provider,
    ...(migrationTableSchema ? { migrationTableSchema } : {}),
  });
  let { error, results } = await migrator.migrateToLatest();
  // Kysely's introspector lists the tables of EVERY schema and calls has_schema_privilege by name:
  // a schema another tenant (or test) drops at that moment raises 3F000 before any migration or
  // lock ran. Nothing was done, so trying again is safe; a bounded number of times.
  for (let attempt = 1; attempt < 10 && isSchemaDroppedMeanwhile(error); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    ({ error, results } = await migrator.migrateToLatest());
  }
  if (error !== undefined) {
    const failed = results?.find((result) => result.status === "Error")?.migrationName;
    throw new MigrationError(failed, { cause: error });
  }
}

/** PostgreSQL's invalid_schema_name, raised before any migration ran (results is empty). */
function isSchemaDroppedMeanwhile(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === "3F000";
}

function sqlIn(column: string, values: readonly string[]) {
  return sql.raw(`${column} in (${values.map((value) => `'${value}'`).join(", ")})`);
}
