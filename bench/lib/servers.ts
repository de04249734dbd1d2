/**
 * The three kinds of process a run starts — the emulator, certgate, the baseline — and, for each
 * server, how one timed request is prepared (outside the timed part).
 *
 * Every child gets a minimal environment (PATH plus its own variables) and a temp directory as its
 * working directory, so neither a developer's shell variables nor a `.env` in the checkout can
 * change what is measured.
 */
import { mkdirSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { z } from "zod";
import { TEST_MERCHANT } from "../../src/emulator/app.js";
import { benchPerson, createRecords, inParallel } from "./emulator.js";
import { type StartedProcess, startProcess } from "./processes.js";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CERTGATE_MAIN = join(REPO_ROOT, "dist/cli/main.js");

/** Clearly fake values: this benchmark's certgate talks only to a local emulator. */
export const BENCH_SECRET = "bench-only-fake-secret-not-for-production-0000";
export const BENCH_API_KEY = "bench_only_fake_api_key_0000";

/**
 * certgate on SQLite, certgate on PostgreSQL, the guide's server, and the floor (bench/floor/server.ts);
 * with `--ref DIR`, certgate-ref: the build in another checkout, on SQLite, for A/B comparisons.
 */
export type ServerName = "certgate" | "certgate-ref" | "certgate-postgres" | "baseline" | "floor";

/** `dist/cli/main.js` of the checkout at `dir` (a worktree of another commit, built). */
export function certgateMainIn(dir: string): string {
  return join(resolve(dir), "dist/cli/main.js");
}

export interface Server {
  name: ServerName;
  url: string;
  process: StartedProcess;
  /** Path of the timed request. */
  path: string;
  /**
   * Prepares requests number `first` to `first + count - 1`: their upstream records (and certgate's
   * verifications); returns their bodies in order.
   */
  prepare(first: number, count: number): Promise<string[]>;
}

export interface RunDirs {
  /** Temp directory of this run (databases, logs). */
  dir: string;
  /** Directory CPU profiles go to when profiling, else undefined. */
  profileDir?: string | undefined;
}

function baseEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", NODE_ENV: "production" };
}

function profileArgs(name: string, profileDir: string | undefined): string[] {
  return profileDir
    ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.cpuprofile`]
    : [];
}

/** `certgate emulator --port 0` from the build; resolves with it and its URL. */
export async function startEmulator(dirs: RunDirs): Promise<{ process: StartedProcess; url: string }> {
  const started = await startProcess({
    args: [CERTGATE_MAIN, "emulator", "--port", "0", "--host", "127.0.0.1"],
    env: baseEnv(),
    cwd: dirs.dir,
    logFile: join(dirs.dir, "emulator.log"),
    readyText: "PortOne emulator is serving",
  });
  return { process: started, url: z.object({ url: z.string() }).parse(started.ready).url };
}

/**
 * `certgate serve` from the build in production mode against the emulator, on a SQLite file.
 * `databaseFile` may already exist (migrated and seeded, for the persons-scale runs).
 */
export async function startCertgate(
  dirs: RunDirs,
  emulatorUrl: string,
  options: {
    databaseFile: string;
    runId: string;
    profileName?: string;
    name?: ServerName;
    /** Another build's cli/main.js (certgate-ref); default this checkout's. */
    main?: string;
    /** What runs node (processes.ts StartOptions.wrapper). */
    wrapper?: string[];
  },
): Promise<Server> {
  const started = await startProcess({
    wrapper: options.wrapper,
    timeoutMs: options.wrapper ? 120_000 : undefined,
    args: [
      ...profileArgs(options.profileName ?? "certgate", dirs.profileDir),
      options.main ?? CERTGATE_MAIN,
      "serve",
    ],
    env: certgateEnv(dirs.dir, emulatorUrl, options.databaseFile),
    cwd: dirs.dir,
    logFile: join(dirs.dir, "certgate.log"),
    readyText: "certgate is serving",
  });
  const url = z.object({ url: z.string() }).parse(started.ready).url;
  const created = z.object({ merchant_uid: z.string() });
  return {
    name: options.name ?? "certgate",
    url,
    process: started,
    path: "/certifications",
    async prepare(first, count) {
      // The merchant backend creates each verification (one account per person: account_ref) …
      const merchantUids = await inParallel(count, CREATE_PARALLEL, async (i) => {
        const response = await fetch(`${url}/api/verifications`, {
          method: "POST",
          headers: { authorization: `Bearer ${BENCH_API_KEY}`, "content-type": "application/json" },
          body: JSON.stringify({
            account_ref: `bench-${options.runId}-${first + i}`,
            policy: { min_age: 19, age_rule: "year" },
          }),
        });
        if (response.status !== 201)
          throw new Error(`certgate: creating a verification answered ${response.status}`);
        return created.parse(await response.json()).merchant_uid;
      });
      // … and each person verifies at PortOne: a record bound to that merchant_uid.
      const impUids = await createRecords(
        emulatorUrl,
        merchantUids.map((merchantUid, i) => ({
          person: benchPerson(options.runId, first + i),
          merchantUid,
        })),
      );
      return impUids.map((impUid, i) => JSON.stringify({ imp_uid: impUid, merchant_uid: merchantUids[i] }));
    },
  };
}

/** The environment of `certgate serve` (also used for `certgate migrate`). */
export function certgateEnv(dir: string, emulatorUrl: string, databaseFile: string): Record<string, string> {
  return {
    ...baseEnv(),
    CERTGATE_MODE: "production",
    CERTGATE_SECRET: BENCH_SECRET,
    CERTGATE_API_KEYS: BENCH_API_KEY,
    CERTGATE_DATA_DIR: dir,
    PORTONE_API_KEY: TEST_MERCHANT.impKey,
    PORTONE_API_SECRET: TEST_MERCHANT.impSecret,
    PORTONE_IMP_CODE: TEST_MERCHANT.impCode,
    PORTONE_API_URL: emulatorUrl,
    DATABASE_URL: databaseFile,
    PORT: "0",
    HOST: "127.0.0.1",
  };
}

/** certgate's verifications a prepare creates at a time (its creations are one request each). */
const CREATE_PARALLEL = 16;

/** certgate's `node dist/cli/main.js` plus arguments, for one-shot commands (migrate). */
export const certgateCommand = (...args: string[]) => [CERTGATE_MAIN, ...args];

/**
 * A bench server of bench/<name>/server.ts, transpiled to JavaScript, in its own process, pointed at
 * the emulator with the test merchant's V1 keys; `prepare` makes each timed request's body.
 */
async function startCompiledServer(
  name: "baseline" | "floor",
  dirs: RunDirs,
  emulatorUrl: string,
  options: { profileName?: string | undefined; env?: Record<string, string>; wrapper?: string[] | undefined },
  prepare: Server["prepare"],
): Promise<Server> {
  const started = await startProcess({
    wrapper: options.wrapper,
    timeoutMs: options.wrapper ? 120_000 : undefined,
    args: [...profileArgs(options.profileName ?? name, dirs.profileDir), compiledServer(name)],
    env: {
      ...baseEnv(),
      PORT: "0",
      HOST: "127.0.0.1",
      IAMPORT_API_URL: emulatorUrl,
      IMP_KEY: TEST_MERCHANT.impKey,
      IMP_SECRET: TEST_MERCHANT.impSecret,
      ...options.env,
    },
    cwd: dirs.dir,
    logFile: join(dirs.dir, `${name}.log`),
    readyText: `${name} is serving`,
  });
  const url = z.object({ url: z.string() }).parse(started.ready).url;
  return { name, url, process: started, path: "/certifications", prepare };
}

/** The baseline (bench/baseline/server.ts): the guide's sample server. */
export function startBaseline(
  dirs: RunDirs,
  emulatorUrl: string,
  options: { runId: string; profileName?: string; wrapper?: string[] },
): Promise<Server> {
  const env = { DATABASE_FILE: join(dirs.dir, "baseline-users.sqlite") };
  return startCompiledServer(
    "baseline",
    dirs,
    emulatorUrl,
    { profileName: options.profileName, env, wrapper: options.wrapper },
    async (first, count) => {
      const specs = Array.from({ length: count }, (_, i) => ({
        person: benchPerson(options.runId, first + i),
      }));
      const impUids = await createRecords(emulatorUrl, specs);
      return impUids.map((impUid) => JSON.stringify({ imp_uid: impUid }));
    },
  );
}

/**
 * The floor (bench/floor/server.ts): a Hono route, one upstream GET with a cached token through a
 * keep-alive agent, an answer.
 */
export function startFloor(
  dirs: RunDirs,
  emulatorUrl: string,
  options: { runId: string; profileName?: string; wrapper?: string[] },
): Promise<Server> {
  const serverOptions = { profileName: options.profileName, wrapper: options.wrapper };
  return startCompiledServer("floor", dirs, emulatorUrl, serverOptions, async (first, count) => {
    const specs = Array.from({ length: count }, (_, i) => ({
      person: benchPerson(options.runId, first + i),
      merchantUid: `floor-${options.runId}-${first + i}`,
    }));
    const impUids = await createRecords(emulatorUrl, specs);
    return impUids.map((impUid, i) =>
      JSON.stringify({ imp_uid: impUid, merchant_uid: specs[i]?.merchantUid }),
    );
  });
}

const compiledFiles = new Map<string, string>();

/**
 * bench/<name>/server.ts as plain ESM JavaScript, written once per benchmark into
 * node_modules/.cache (ignored by git, and inside the checkout so `express`, `hono` etc. resolve).
 * Plain JavaScript, not tsx: a loader would add its own CPU and memory to the server's figures.
 */
function compiledServer(name: "baseline" | "floor"): string {
  const known = compiledFiles.get(name);
  if (known !== undefined) return known;
  const source = ts.sys.readFile(join(REPO_ROOT, `bench/${name}/server.ts`));
  if (source === undefined) throw new Error(`bench/${name}/server.ts not found`);
  const output = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const dir = join(REPO_ROOT, "node_modules/.cache/certgate-bench");
  mkdirSync(dir, { recursive: true });
  // One file per invocation: two benchmarks running at once must not delete each other's.
  const file = join(dir, `${name}-server-${process.pid}.mjs`);
  writeFileSync(file, output);
  compiledFiles.set(name, file);
  return file;
}

/** Removes this invocation's transpiled servers, and their directory once empty (part of the cleanup). */
export function removeCompiledBaseline(): void {
  for (const file of compiledFiles.values()) {
    rmSync(file, { force: true });
    try {
      rmdirSync(dirname(file));
    } catch {
      // Not empty: another benchmark is running.
    }
  }
  compiledFiles.clear();
}
