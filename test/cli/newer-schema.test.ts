import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { runCertgate } from "./run-certgate.js";
import { throwawaySchema } from "./throwaway-schema.js";

const dir = mkdtempSync(join(tmpdir(), "certgate-newer-schema-"));
const FUTURE = "0099_future";
const REFUSAL = `the database schema is newer than this certgate (it has migration ${FUTURE}, unknown to this version; nothing was changed): upgrade certgate, or restore the database from a backup made before a newer certgate migrated it`;
const DOCTOR_FIX =
  "fix: upgrade certgate to the version that migrated this database (or a later one), or restore the database from a backup made before it was migrated";

/** Every command that opens the database, with what it needs to get that far. */
const COMMANDS: [string, string[], Record<string, string>][] = [
  ["migrate", ["migrate"], {}],
  ["serve", ["serve"], { PORT: "0", HOST: "127.0.0.1" }],
  ["purge", ["purge"], {}],
  ["webhooks list", ["webhooks", "list"], {}],
  ["webhooks replay", ["webhooks", "replay", "--since", "2026-01-01"], {}],
  [
    "keys rotate",
    ["keys", "rotate"],
    {
      CERTGATE_SECRET: "the-new-secret-of-this-test-1111111111",
      CERTGATE_PREVIOUS_SECRETS: "the-old-secret-of-this-test-0000000000",
    },
  ],
];

function certgate(args: string[], env: Record<string, string>) {
  return runCertgate(args, { CERTGATE_DATA_DIR: join(dir, "data"), ...env });
}

async function expectRefusals(databaseUrl: string, applied: () => Promise<string[]>) {
  const before = await applied();
  expect(before).toContain(FUTURE);
  for (const [name, args, env] of COMMANDS) {
    const { status, stderr } = await certgate(args, { DATABASE_URL: databaseUrl, ...env });
    expect({ name, status, stderr }).toEqual({
      name,
      status: 1,
      stderr: `certgate: DATABASE_URL: ${REFUSAL}\n`,
    });
  }
  const doctor = await certgate(["doctor"], { DATABASE_URL: databaseUrl });
  expect(doctor.status).toBe(1);
  expect(doctor.stdout).toMatch(/^fail\s+database\s+DATABASE_URL: the database schema is newer/m);
  expect(doctor.stdout).toContain(`DATABASE_URL: ${REFUSAL}\n`);
  expect(doctor.stdout).toContain(DOCTOR_FIX);
  expect(doctor.stdout).not.toMatch(/create tables|permission|writable|start the database/);
  // Refused before any migration ran: the bookkeeping is as it was.
  expect(await applied()).toEqual(before);
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Each command spawns the real certgate through tsx: seconds each on a loaded machine.
describe("a database migrated by a newer certgate", { timeout: 180_000 }, () => {
  it("SQLite: every command refuses it naming the unknown migration; doctor says upgrade", async () => {
    const file = join(dir, "newer.sqlite");
    expect((await certgate(["migrate"], { DATABASE_URL: file })).status).toBe(0);
    const write = new BetterSqlite3(file);
    write.prepare("insert into kysely_migration (name, timestamp) values (?, ?)").run(FUTURE, "x");
    write.close();
    const applied = async () => {
      const read = new BetterSqlite3(file, { readonly: true });
      try {
        const rows = read.prepare("select name from kysely_migration order by name").all();
        return rows.map((row) => (row as { name: string }).name);
      } finally {
        read.close();
      }
    };
    await expectRefusals(file, applied);
  });

  describe("PostgreSQL", () => {
    const { schema, admin, url } = throwawaySchema("certgate_newer");

    it("every command refuses it naming the unknown migration; doctor says upgrade", async () => {
      expect((await certgate(["migrate"], { DATABASE_URL: url.toString() })).status).toBe(0);
      await admin.query(`insert into ${schema}.kysely_migration (name, timestamp) values ($1, $2)`, [
        FUTURE,
        new Date().toISOString(),
      ]);
      const applied = async () =>
        (
          await admin.query<{ name: string }>(`select name from ${schema}.kysely_migration order by name`)
        ).rows.map((row) => row.name);
      await expectRefusals(url.toString(), applied);
    });
  });
});

describe("migrations that are not certgate's", { timeout: 60_000 }, () => {
  /** A migrated SQLite file whose kysely_migration also lists `names`. */
  async function withApplied(file: string, names: string[]) {
    expect((await certgate(["migrate"], { DATABASE_URL: file })).status).toBe(0);
    const write = new BetterSqlite3(file);
    for (const name of names)
      write.prepare("insert into kysely_migration (name, timestamp) values (?, ?)").run(name, "x");
    write.close();
  }

  it("another application's, in the same file: no upgrade advised, a database of its own", async () => {
    const file = join(dir, "shared.sqlite");
    await withApplied(file, ["2024_01_create_orders"]);
    const refusal =
      "the database lists migration 2024_01_create_orders, not certgate's (another application's, in the same database or schema; nothing was changed): give certgate a database or PostgreSQL schema of its own";
    const { status, stderr } = await certgate(["migrate"], { DATABASE_URL: file });
    expect({ status, stderr }).toEqual({ status: 1, stderr: `certgate: DATABASE_URL: ${refusal}\n` });
    const doctor = await certgate(["doctor"], { DATABASE_URL: file });
    expect(doctor.stdout).toContain(`DATABASE_URL: ${refusal}\n`);
    expect(doctor.stdout).toContain(
      "fix: point DATABASE_URL at a database (or PostgreSQL schema) of certgate's own",
    );
    expect(doctor.stdout).not.toMatch(/upgrade|restore the database/);
  });

  it("a name with a newline and markup stays on one line, cut to a name's characters", async () => {
    const file = join(dir, "odd-name.sqlite");
    await withApplied(file, ["0100_x\nforged: y"]);
    const { status, stderr } = await certgate(["migrate"], { DATABASE_URL: file });
    expect(status).toBe(1);
    // Not a name certgate gives a migration, once cut to one: not called newer.
    expect(stderr).toBe(
      "certgate: DATABASE_URL: the database lists migration 0100_x?forged??y, not certgate's (another application's, in the same database or schema; nothing was changed): give certgate a database or PostgreSQL schema of its own\n",
    );
  });
});
