/**
 * A PostgreSQL server owned by one test: `initdb` into a temp directory and `pg_ctl start` on a free
 * port, so the test can kill -9 it and start it again on the same data directory without touching
 * the shared server on 5432. The binaries are Debian's (`/usr/lib/postgresql/<version>/bin`); they
 * refuse to run as root, so every one runs as the `postgres` OS user (`runuser`) on a directory
 * chowned to it. Trust auth, listening on 127.0.0.1 only, with its socket in the temp directory.
 *
 * `fsync=off`: what this server survives is its processes being killed, never the machine losing
 * power, and the kernel keeps every page a killed process wrote; crash recovery from the WAL still
 * runs on each restart after a kill.
 */
import { execFile } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import type { TestDatabase } from "./service-process.js";

const run = promisify(execFile);

/** The newest installed PostgreSQL's bin directory. */
function binDir(): string {
  const root = "/usr/lib/postgresql";
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "pg_ctl")))
    .sort((a, b) => Number(b) - Number(a));
  const newest = versions[0];
  if (newest === undefined) throw new Error(`no PostgreSQL under ${root}`);
  return join(root, newest, "bin");
}

/** A port nothing listens on: bound by the OS on 127.0.0.1, then released. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

export interface OwnPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string;
  port: number;
  /** Whether the postmaster is meant to be up (started and not killed since). */
  readonly running: boolean;
  /** `pg_ctl start -w`: resolves once it accepts connections (crash recovery done). */
  start(): Promise<void>;
  /** SIGKILL to the postmaster and every backend at once, then waits until all are gone. */
  kill9(): Promise<void>;
  /**
   * SIGSTOP (`true`) or SIGCONT (`false`) to the postmaster and every backend: a server that stops
   * answering without closing a connection, as a frozen VM does.
   */
  freeze(frozen: boolean): void;
  /** Immediate stop and removal of the data directory: for afterAll. */
  remove(): Promise<void>;
}

const POSTGRES_UID_LOOKUP = ["-u", "postgres"];

function asPostgres(command: string, args: string[], cwd: string) {
  return run("runuser", [...POSTGRES_UID_LOOKUP, "--", command, ...args], { cwd, timeout: 120_000 });
}

/** Pids of the processes whose parent is `pid` (the postmaster's backends and workers). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the command (which may hold spaces) in parentheses: state, ppid, …
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/**
 * Creates the cluster and starts it.
 * @example const pg = await startOwnPostgres(); … await pg.kill9(); await pg.start(); … await pg.remove();
 */
export async function startOwnPostgres(): Promise<OwnPostgres> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), "certgate-own-pg-"));
  const data = join(dir, "data");
  const passwd = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((line) => line.startsWith("postgres:"));
  const [, , uid, gid] = passwd?.split(":") ?? [];
  if (uid === undefined || gid === undefined) throw new Error("no postgres OS user");
  chownSync(dir, Number(uid), Number(gid));
  await asPostgres(
    join(bin, "initdb"),
    ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"],
    dir,
  );
  const port = await freePort();
  let running = false;

  const own: OwnPostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    get running() {
      return running;
    },
    async start() {
      const options = [
        `-p ${port}`,
        "-c listen_addresses=127.0.0.1",
        `-c unix_socket_directories=${dir}`,
        "-c fsync=off",
        "-c max_connections=50",
      ].join(" ");
      await asPostgres(
        join(bin, "pg_ctl"),
        ["start", "-w", "-t", "60", "-D", data, "-l", join(dir, "server.log"), "-o", options],
        dir,
      );
      running = true;
    },
    async kill9() {
      const pidFile = join(data, "postmaster.pid");
      const postmaster = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
      const victims = [postmaster, ...childrenOf(postmaster)];
      for (const pid of victims) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      running = false;
      // A restart refuses to start while a backend of the old server still holds its shared memory.
      const deadline = Date.now() + 30_000;
      while (victims.some(alive)) {
        if (Date.now() > deadline) throw new Error("PostgreSQL processes survived SIGKILL");
        await new Promise((r) => setTimeout(r, 20));
      }
      // The killed postmaster may linger as a zombie (a container's init need not reap orphans),
      // and PostgreSQL takes a lock file whose pid still answers kill(0) for a running server:
      // remove both lock files, as an operator does after a crash once no process is left.
      rmSync(pidFile, { force: true });
      rmSync(join(dir, `.s.PGSQL.${port}.lock`), { force: true });
    },
    freeze(frozen) {
      const postmaster = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
      for (const pid of [postmaster, ...childrenOf(postmaster)]) {
        try {
          process.kill(pid, frozen ? "SIGSTOP" : "SIGCONT");
        } catch {
          // gone meanwhile
        }
      }
    },
    async remove() {
      if (existsSync(join(data, "postmaster.pid"))) {
        await asPostgres(join(bin, "pg_ctl"), ["stop", "-m", "immediate", "-D", data], dir).catch(() => {});
      }
      running = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await own.start();
  } catch (error) {
    await own.remove();
    throw error;
  }
  return own;
}

/**
 * The own server's database as service-process.ts's {@link TestDatabase}, for `checkInvariants`:
 * each query on a connection of its own, so it works across kills and restarts.
 */
export function ownTestDatabase(own: OwnPostgres): TestDatabase {
  return {
    kind: "postgres",
    url: own.url,
    sqliteFile: undefined,
    schema: undefined,
    async query<T>(text: string) {
      const client = new pg.Client(own.url);
      client.on("error", () => {});
      await client.connect();
      try {
        return (await client.query(text)).rows as T[];
      } finally {
        await client.end();
      }
    },
    integrityCheck() {
      throw new Error("integrity_check is SQLite's");
    },
    drop: () => own.remove(),
  };
}

/**
 * Terminates the backends of the shared server that carry `applicationName`, in `which` state
 * ("idle", or anything else for "busy"); returns how many ended. Two statements on purpose: in one,
 * PostgreSQL may evaluate pg_terminate_backend before the filter and end other sessions of the server.
 */
export async function terminateOwnBackends(
  admin: pg.Client,
  applicationName: string,
  which: "idle" | "busy",
): Promise<number> {
  const own = await admin.query<{ pid: number }>(
    `select pid from pg_stat_activity
     where application_name = $1 and ${which === "idle" ? "state = 'idle'" : "state <> 'idle'"}`,
    [applicationName],
  );
  if (own.rows.length === 0) return 0;
  const ended = await admin.query<{ ok: boolean }>(
    "select pg_terminate_backend(pid) as ok from unnest($1::int[]) as pid",
    [own.rows.map((r) => r.pid)],
  );
  return ended.rows.filter((r) => r.ok).length;
}
