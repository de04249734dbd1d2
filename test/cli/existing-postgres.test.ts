/**
 * The commands that act on an existing database (`purge`, `keys rotate`, `keys forget`, `webhooks
 * list|replay`) on a PostgreSQL schema that holds no certgate tables — a mistyped search_path, or
 * the application's own database: each exits 1 naming DATABASE_URL and creates nothing. They used
 * to migrate it in place and report success on nothing ("requeued 0 events", exit 0), as they did
 * with an empty SQLite file. Once `migrate` has made the tables, they run.
 */
import { describe, expect, it } from "vitest";
import { runCertgate } from "./run-certgate.js";
import { throwawaySchema } from "./throwaway-schema.js";

const SECRET = "the-secret-of-the-existing-postgres-test";
const COMMANDS: [string[], Record<string, string>][] = [
  [["purge"], {}],
  [["webhooks", "list"], {}],
  [["webhooks", "replay", "--since", "2026-01-01"], {}],
  [["keys", "forget", "--yes"], { CERTGATE_SECRET: SECRET }],
];

describe("maintenance commands on a PostgreSQL schema without certgate's tables", { timeout: 60_000 }, () => {
  const { schema, admin, url } = throwawaySchema("certgate_existing");
  const tables = async () =>
    Number(
      (
        await admin.query<{ n: string }>(
          "select count(*) as n from information_schema.tables where table_schema = $1",
          [schema],
        )
      ).rows[0]?.n,
    );

  it.each(COMMANDS)("%j exits 1 naming DATABASE_URL and creates nothing", async (args, env) => {
    const { status, stderr } = await runCertgate(args, { DATABASE_URL: url.toString(), ...env });
    expect(status).toBe(1);
    expect(stderr.trim()).toMatch(
      new RegExp(
        `^certgate: DATABASE_URL: the PostgreSQL database .* holds no certgate tables .*certgate ${args[0]}`,
      ),
    );
    expect(await tables()).toBe(0);
  });

  it("runs once migrate has made the tables", async () => {
    expect((await runCertgate(["migrate"], { DATABASE_URL: url.toString() })).status).toBe(0);
    expect(await tables()).toBeGreaterThan(0);
    const replay = await runCertgate(["webhooks", "replay", "--since", "2026-01-01"], {
      DATABASE_URL: url.toString(),
    });
    expect(replay.status).toBe(0);
    expect(replay.stdout).toContain("requeued 0 events");
  });
});
