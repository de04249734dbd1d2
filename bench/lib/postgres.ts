/**
 * A fresh PostgreSQL database for each certgate-on-PostgreSQL run, on the server at
 * `BENCH_POSTGRES_URL` (default postgres://postgres@127.0.0.1:5432/postgres), dropped after the run.
 * Never touches the server's configuration; only CREATE DATABASE and DROP DATABASE.
 */
import pg from "pg";

export const ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

async function admin<T>(task: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await task(client);
  } finally {
    await client.end();
  }
}

/** Databases created and not dropped yet (dropped by {@link dropLiveBenchDatabases} on SIGINT). */
const live = new Set<string>();

/** Creates database `certgate_bench_<suffix>` and returns its URL. */
export async function createBenchDatabase(suffix: string): Promise<{ url: string; name: string }> {
  const name = `certgate_bench_${suffix.toLowerCase().replaceAll(/[^a-z0-9_]/g, "_")}`;
  live.add(name);
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), name };
}

/** Drops the database (the server process using it has stopped). */
export async function dropBenchDatabase(name: string): Promise<void> {
  await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  live.delete(name);
}

/** Drops every database of this benchmark still there (an interrupted run); errors are ignored. */
export async function dropLiveBenchDatabases(): Promise<void> {
  for (const name of [...live]) await dropBenchDatabase(name).catch(() => {});
}
