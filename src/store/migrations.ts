/**
 * Versioned schema migrations, in code, shared by SQLite and PostgreSQL. Kysely's `Migrator` records
 * the applied ones in `kysely_migration` and takes a lock (a PostgreSQL advisory lock), so several
 * instances starting at once migrate once. Never edit a released migration: add the next one.
 *
 * Longer than 400 lines: every migration released, in the order they apply, one file to read them in.
 */
import {
  DEFAULT_MIGRATION_TABLE,
  type Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  sql,
} from "kysely";
import { MigrationError, UnknownMigrationsError } from "../core/errors.js";
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
    "0008_sqlite_compact_tables": {
      // SQLite only (PostgreSQL has neither rowids nor sqlite_sequence). A completion inserts a row
      // into persons, consumed_ids and accounts, whose keys are text: as rowid tables each is two
      // B-trees (the rows by rowid, the key's index), as WITHOUT ROWID tables one, keyed by the
      // primary key. audit_events loses AUTOINCREMENT, which updated sqlite_sequence on every insert:
      // an INTEGER PRIMARY KEY still numbers rows max(id) + 1, and audit events are never deleted,
      // so ids stay increasing. About four pages fewer in each completion's WAL append (15.5 → 11.75) and
      // ≈ 10 % less CPU per completion (issue 13). Rows, ids and constraints are kept; the copy takes
      // ≈ 23 s for a million verifications (README: run `certgate migrate` before upgrading).
      up: (db: Kysely<unknown>) =>
        dialect.name === "sqlite" ? rebuildTables(db, COMPACT_TABLES) : Promise.resolve(),
      down: (db: Kysely<unknown>) =>
        dialect.name === "sqlite" ? rebuildTables(db, ROWID_TABLES) : Promise.resolve(),
    },
    "0009_upstream_deletions": {
      // Deletions of PortOne's copies owed by completions (CERTGATE_DELETE_UPSTREAM), until done:
      // written in the completion's transaction, retried by recovery (service/recovery.ts). Without
      // rowid on SQLite, as 0008's tables: one B-tree keyed by the upstream id, not two.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("upstream_deletions")
          .addColumn("upstream_id", "text", (c) => c.primaryKey())
          .addColumn("verification_id", "text", (c) => c.notNull().references("verifications.id"))
          .addColumn("due_at", "bigint", (c) => c.notNull())
          .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .$call((table) => (dialect.name === "sqlite" ? table.modifyEnd(sql`without rowid`) : table))
          .execute();
        await db.schema
          .createIndex("upstream_deletions_due_at")
          .on("upstream_deletions")
          .column("due_at")
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropTable("upstream_deletions").ifExists().execute();
      },
    },
  };
}

/** A SQLite table as a rebuild creates it: its definition after `create table <name> `, its indexes. */
interface TableShape {
  table: string;
  definition: string;
  indexes: string[];
}

const PERSONS_COLUMNS = `("id" text primary key, "key_kind" text not null check (key_kind in ('ci', 'di')), "key_scope" text not null, "key_hash" text not null, "key_id" text not null, "created_at" bigint not null, constraint "persons_key_unique" unique ("key_kind", "key_scope", "key_hash"))`;
const CONSUMED_IDS_COLUMNS = `("upstream_id" text primary key, "verification_id" text not null references "verifications" ("id"), "consumed_at" bigint not null)`;
const ACCOUNTS_COLUMNS = `("account_ref" text primary key, "person_id" text not null unique references "persons" ("id"), "verification_id" text not null, "created_at" bigint not null)`;
const AUDIT_EVENTS_COLUMNS = (id: string) =>
  `(${id}, "verification_id" text, "type" text not null, "data_json" text not null, "created_at" bigint not null)`;
const AUDIT_EVENTS_INDEX = `create index "audit_events_verification_id" on "audit_events" ("verification_id")`;

/** 0008's tables. */
const COMPACT_TABLES: TableShape[] = [
  { table: "persons", definition: `${PERSONS_COLUMNS} without rowid`, indexes: [] },
  { table: "consumed_ids", definition: `${CONSUMED_IDS_COLUMNS} without rowid`, indexes: [] },
  { table: "accounts", definition: `${ACCOUNTS_COLUMNS} without rowid`, indexes: [] },
  {
    table: "audit_events",
    definition: AUDIT_EVENTS_COLUMNS(`"id" integer primary key`),
    indexes: [AUDIT_EVENTS_INDEX],
  },
];

/** The same tables as 0001 created them (0008's down). */
const ROWID_TABLES: TableShape[] = [
  { table: "persons", definition: PERSONS_COLUMNS, indexes: [] },
  { table: "consumed_ids", definition: CONSUMED_IDS_COLUMNS, indexes: [] },
  { table: "accounts", definition: ACCOUNTS_COLUMNS, indexes: [] },
  {
    table: "audit_events",
    definition: AUDIT_EVENTS_COLUMNS(`"id" integer primary key autoincrement`),
    indexes: [AUDIT_EVENTS_INDEX],
  },
];

/**
 * Rebuilds SQLite tables into `shapes`, keeping their rows, in one transaction — SQLite's own
 * procedure for a change ALTER TABLE cannot make (sqlite.org/lang_altertable.html#otheralter):
 * foreign keys off (outside the transaction: the pragma is a no-op inside one; Kysely runs SQLite
 * migrations outside one), create the new table, copy, drop the old, rename, recreate its indexes,
 * check every foreign key, commit, foreign keys on again. A table already in its shape is left as
 * it is, so a migration that committed but was not recorded (the process died in between) runs
 * again as a no-op.
 */
async function rebuildTables(db: Kysely<unknown>, shapes: TableShape[]): Promise<void> {
  await sql`pragma foreign_keys = off`.execute(db);
  try {
    await db.transaction().execute(async (trx) => {
      for (const { table, definition, indexes } of shapes) {
        const current = await sql<{
          sql: string;
        }>`select sql from sqlite_master where type = 'table' and name = ${table}`.execute(trx);
        if (current.rows[0]?.sql === `CREATE TABLE "${table}" ${definition}`) continue;
        const rebuilt = `${table}_rebuilt`;
        await sql.raw(`create table "${rebuilt}" ${definition}`).execute(trx);
        await sql.raw(`insert into "${rebuilt}" select * from "${table}"`).execute(trx);
        await sql.raw(`drop table "${table}"`).execute(trx);
        await sql.raw(`alter table "${rebuilt}" rename to "${table}"`).execute(trx);
        for (const index of indexes) await sql.raw(index).execute(trx);
      }
      const broken = await sql`pragma foreign_key_check`.execute(trx);
      if (broken.rows.length > 0)
        throw new Error(`foreign key check failed after rebuild: ${broken.rows.length} rows`);
    });
  } finally {
    await sql`pragma foreign_keys = on`.execute(db);
  }
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
  // lock ran. Nothing was done, so trying again is safe, for up to 10 s: ten tries (under a second)
  // were all unlucky on a loaded machine while another suite churned schemas (CI, twice).
  // Not when the connection has no schema at all (a search_path naming none): Kysely then fails on
  // the same code creating its table, and no wait will change that.
  const retryUntil =
    Date.now() + (dialect.name === "postgres" && migrationTableSchema === undefined ? 0 : 10_000);
  for (let attempt = 1; Date.now() < retryUntil && isSchemaDroppedMeanwhile(error); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(20 * attempt, 200)));
    ({ error, results } = await migrator.migrateToLatest());
  }
  if (error !== undefined) {
    // A database a newer certgate migrated: Kysely refuses it ("previously executed migration … is
    // missing") before running anything. Told apart by reading the applied names, not its message.
    const unknown = await unknownAppliedMigrations(db, migrations, migrationTableSchema);
    if (unknown.length > 0) {
      // Newer only when each is named as certgate names its migrations and sorts after this
      // build's last; anything else is another application's, and an upgrade would not help.
      const last = Object.keys(migrations).sort().at(-1) ?? "";
      const newer = unknown.every((name) => /^\d{4}_[a-z][a-z0-9_]*$/.test(name) && name > last);
      throw new MigrationError(undefined, { cause: new UnknownMigrationsError(unknown, newer) });
    }
    const failed = results?.find((result) => result.status === "Error")?.migrationName;
    throw new MigrationError(failed, { cause: error });
  }
}

/**
 * The names in `kysely_migration` that are not among `migrations`, sorted, each cut to what a
 * migration name is made of (the table is the database's: its text is not trusted to be one
 * line). Empty when the table cannot be read (its absence, the fault that failed the migration).
 */
async function unknownAppliedMigrations(
  db: Kysely<Database>,
  migrations: Record<string, Migration>,
  schema: string | undefined,
): Promise<string[]> {
  const table =
    schema === undefined ? sql.id(DEFAULT_MIGRATION_TABLE) : sql.id(schema, DEFAULT_MIGRATION_TABLE);
  try {
    const { rows } = await sql<{ name: unknown }>`select name from ${table}`.execute(db);
    const names = rows.map((row) => String(row.name)).filter((name) => !Object.hasOwn(migrations, name));
    return [...new Set(names.map((name) => name.replaceAll(/[^\w.-]/g, "?").slice(0, 64)))].sort();
  } catch {
    return [];
  }
}

/** PostgreSQL's invalid_schema_name, raised before any migration ran (results is empty). */
function isSchemaDroppedMeanwhile(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === "3F000";
}

function sqlIn(column: string, values: readonly string[]) {
  return sql.raw(`${column} in (${values.map((value) => `'${value}'`).join(", ")})`);
}
