/**
 * Startup failures that explain themselves: each becomes one line naming the variable at fault and
 * the cause (`DATABASE_URL: cannot connect to 127.0.0.1:5433 (ECONNREFUSED)`), with any password
 * masked. Causes are read from codes (socket `errno` codes, SQLSTATEs, SQLite result codes), never
 * from the drivers' messages, except the server's own message beside its SQLSTATE.
 */
import {
  CertgateError,
  MigrationError,
  MissingDependencyError,
  namedMigrations,
  StartupError,
  UnknownMigrationsError,
  UpstreamError,
} from "./core/errors.js";
import type { Store } from "./core/store.js";
import { type Keyring, keyIdsOf } from "./store/crypto.js";
import { isPostgresUrl, openStore, type SqliteOffload } from "./store/index.js";
import { errorCode } from "./util/error-code.js";

/**
 * `postgres://user:secret@host/db` → `postgres://user:***@host/db`; anything without a password is
 * returned as it is. Follows URL parsing: the authority ends at the first `/`, `?` or `#`, and the
 * user info at its last `@`, so a password that parses is masked whole.
 */
export function maskDatabaseUrl(databaseUrl: string): string {
  const password = databasePassword(databaseUrl);
  return password === undefined ? databaseUrl : databaseUrl.replace(`:${password}@`, ":***@");
}

/** The password of a `scheme://user:password@…` URL as written (percent-encoded or not). */
function databasePassword(databaseUrl: string): string | undefined {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(databaseUrl);
  if (!scheme) return undefined;
  const rest = databaseUrl.slice(scheme[0].length);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  const at = authority.lastIndexOf("@");
  if (at === -1) return undefined;
  const userInfo = authority.slice(0, at);
  const colon = userInfo.indexOf(":");
  return colon === -1 || colon === userInfo.length - 1 ? undefined : userInfo.slice(colon + 1);
}

/** Every text that stands for the password of `databaseUrl`, to be masked wherever it shows. */
function secretsOf(databaseUrl: string | undefined): string[] {
  const password = databaseUrl === undefined ? undefined : databasePassword(databaseUrl);
  if (password === undefined) return [];
  let decoded = password;
  try {
    decoded = decodeURIComponent(password);
  } catch {
    // Not percent-encoded text: the password is masked as written.
  }
  return [...new Set([password, decoded])].filter((s) => s.length > 0);
}

/**
 * Opens (and migrates) the store of `databaseUrl`. With `checkKeys` (the commands whose keyring
 * holds the real secrets and uses them: `serve`, `keys rotate`, `doctor`), also refuses a database
 * whose sealed data is under a key `keyring` does not know ({@link Store.unknownSealedKeyId}); the others
 * (`migrate`, `purge`, `webhooks`) decrypt and hash nothing, and may run without the secret.
 * @throws StartupError naming DATABASE_URL with the cause in one line; the driver's error is its
 *   `cause`. Or naming CERTGATE_SECRET, with `checkKeys`, for an unknown key.
 */
export async function openStoreOrExplain(
  databaseUrl: string,
  keyring: Keyring,
  offload?: SqliteOffload,
  options: { checkKeys?: boolean; sandboxSecretFile?: string | undefined } = {},
): Promise<Store> {
  let store: Store;
  try {
    store = await openStore({ databaseUrl, keyring, offload });
  } catch (error) {
    throw new StartupError("DATABASE_URL", describeDatabaseFailure(error, databaseUrl), { cause: error });
  }
  if (options.checkKeys !== true) return store;
  const unknown = await unknownStoredKey(store, keyring).catch(async (error: unknown) => {
    await store.close().catch(() => undefined);
    throw new StartupError("DATABASE_URL", describeDatabaseFailure(error, databaseUrl), { cause: error });
  });
  if (unknown !== undefined) {
    await store.close().catch(() => undefined);
    // Sandbox without CERTGATE_SECRET: the secret is the one generated into the data directory, so
    // a database kept across data directories is the likely cause, not a secret someone changed.
    const sandbox = options.sandboxSecretFile;
    throw new StartupError(
      "CERTGATE_SECRET",
      sandbox === undefined
        ? `the database holds identities sealed, or persons hashed, under key ${unknown}, which neither CERTGATE_SECRET nor CERTGATE_PREVIOUS_SECRETS derives: the secret changed without the old one. Every stored identity would fail to read, and a returning person would not be recognised (one account per person would fail). Give the old secret back, or list it in CERTGATE_PREVIOUS_SECRETS (certgate keys rotate then reseals under the new one); to let persons hashed under a lost secret go on purpose, see certgate keys forget`
        : `the database holds identities sealed, or persons hashed, under key ${unknown}, which the sandbox secret generated into ${sandbox} does not derive: the database was made with another data directory's secret. Use that data directory (CERTGATE_DATA_DIR), or set CERTGATE_SECRET to its sandbox-secret`,
    );
  }
  return store;
}

/**
 * A key id of the store's sealed data ({@link Store.unknownSealedKeyId}) that `keyring` does not
 * know, shortened to the 12 hex characters a key id is (a hash of derived material, never the secret).
 */
async function unknownStoredKey(store: Store, keyring: Keyring): Promise<string | undefined> {
  if (store.unknownSealedKeyId === undefined) return undefined;
  const unknown = await store.unknownSealedKeyId(keyIdsOf(keyring));
  return unknown === undefined ? undefined : unknown.replaceAll(/[^0-9a-f]/g, "").slice(0, 12);
}

/**
 * A listen that failed (EADDRINUSE, EACCES, EADDRNOTAVAIL, ENOTFOUND), as a StartupError naming
 * PORT or HOST (or what `names` calls them: the emulator's flags).
 */
export function listenFailure(
  error: unknown,
  host: string,
  port: number,
  names: { host: string; port: string } = { host: "HOST", port: "PORT" },
): StartupError {
  const code = errorCode(error);
  // The address's faults name the host (not this machine's, or a name that does not resolve or
  // cannot be one: ENOTFOUND, EAI_*, getaddrinfo's EINVAL at 256 characters or more); the rest
  // (taken, refused) the port.
  const syscall = (error as { syscall?: unknown } | undefined)?.syscall;
  const hostFault =
    code === "EADDRNOTAVAIL" ||
    code === "ENOTFOUND" ||
    code?.startsWith("EAI_") === true ||
    syscall === "getaddrinfo";
  const variable = hostFault ? names.host : names.port;
  const gloss = code === undefined ? "" : ` (${code}${LISTEN_GLOSS[code] ? `: ${LISTEN_GLOSS[code]}` : ""})`;
  return new StartupError(variable, `cannot listen on ${host}:${port}${gloss}`, { cause: error });
}

const LISTEN_GLOSS: Record<string, string> = {
  EADDRINUSE: "another process listens there",
  EACCES: "permission denied",
  EADDRNOTAVAIL: "not an address of this machine",
};

/** The sandbox's data directory could not be written (its generated secret lives there). */
export function dataDirFailure(error: unknown, dataDir: string): StartupError {
  return new StartupError("CERTGATE_DATA_DIR", `cannot write ${dataDir}${fileCause(error)}`, {
    cause: error,
  });
}

/**
 * A call to PortOne at `baseUrl` (the value of `variable`) that got no answer, as a StartupError
 * naming the variable and the socket's code (`PORTONE_API_URL: cannot reach
 * http://127.0.0.1:1 (ECONNREFUSED)`); any other error is returned as it is (an UpstreamError
 * already names the method, URL and status).
 */
export function upstreamFailure(error: unknown, variable: string, baseUrl: string): unknown {
  if (!(error instanceof UpstreamError) || (error.code !== "unavailable" && error.code !== "timeout"))
    return error;
  // fetch's own refusals carry no code, only a fixed text ("bad port" for a port it blocks).
  const innermost = innermostCause(error);
  const code =
    error.code === "timeout"
      ? "timed out"
      : (errorCode(driverRoot(error.cause)) ??
        (innermost instanceof Error ? firstLine(innermost.message) : undefined));
  if (code === undefined || code === "") return error;
  return new StartupError(variable, `cannot reach ${baseUrl} (${code})`, { cause: error });
}

/**
 * Why the store of `databaseUrl` could not be opened, as the text after `DATABASE_URL: `.
 * Migration failures name the migration; the password never shows.
 */
export function describeDatabaseFailure(error: unknown, databaseUrl: string): string {
  if (error instanceof MissingDependencyError) return error.message;
  const unknown = unknownMigrationsOf(error);
  if (unknown !== undefined) {
    const named = namedMigrations(unknown.migrations);
    return mask(
      unknown.newer
        ? `the database schema is newer than this certgate (it has ${named}, unknown to this version; nothing was changed): upgrade certgate, or restore the database from a backup made before a newer certgate migrated it`
        : `the database lists ${named}, not certgate's (another application's, in the same database or schema; nothing was changed): give certgate a database or PostgreSQL schema of its own`,
      secretsOf(databaseUrl),
    );
  }
  const migration = findInChain(error, (e) => e instanceof MigrationError);
  const prefix =
    migration instanceof MigrationError
      ? migration.migration === undefined
        ? "migrations could not start: "
        : `migration ${migration.migration} failed: `
      : "";
  const driverError = migration instanceof MigrationError ? migration.cause : error;
  const cause = isPostgresUrl(databaseUrl)
    ? describePostgres(driverError, databaseUrl)
    : describeSqlite(driverError, databaseUrl);
  return mask(`${prefix}${cause}`, secretsOf(databaseUrl));
}

/**
 * The refusal of a database whose migrations this certgate does not know ({@link
 * UnknownMigrationsError}) anywhere in `error`'s causes; undefined for any other failure. Its fix is
 * an upgrade, or a database of certgate's own, not a permission.
 */
export function unknownMigrationsOf(error: unknown): UnknownMigrationsError | undefined {
  const found = findInChain(error, (e) => e instanceof UnknownMigrationsError);
  return found instanceof UnknownMigrationsError ? found : undefined;
}

function describePostgres(error: unknown, databaseUrl: string): string {
  const target = postgresTarget(databaseUrl);
  if (target === undefined) return "is not a valid postgres:// URL";
  const where = `${target.host}:${target.port}`;
  const root = driverRoot(error);
  const code = errorCode(root);
  if (code === "ERR_INVALID_URL") return "is not a valid postgres:// URL";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_FAIL" || code === "EAI_NONAME") {
    const gloss = code === "EAI_AGAIN" ? ": the DNS lookup failed for now" : ": no such host";
    return `cannot resolve host ${target.host} (${code}${gloss})`;
  }
  if (code !== undefined && /^E[A-Z]+$/.test(code)) {
    const address = addressOf(root) ?? where;
    return `cannot connect to ${address} (${code})`;
  }
  if (code !== undefined && /^[0-9A-Z]{5}$/.test(code)) {
    const server = serverMessage(root);
    if (code === "3D000") return `database "${target.database}" does not exist on ${where} (3D000)`;
    if (code.startsWith("28")) {
      return `login refused for role "${target.user}" on ${where} (${code}${server ? `: ${server}` : ""})`;
    }
    return `PostgreSQL at ${where} refused (${code}${server ? `: ${server}` : ""})`;
  }
  const message = root instanceof Error ? firstLine(root.message) : "";
  if (/^timeout exceeded when trying to connect/.test(message))
    return `cannot connect to ${where} (timed out)`;
  if (/^Connection terminated/.test(message)) return `the connection to ${where} was closed by the server`;
  // pg's own code-less connection errors (TLS refused, authentication method unsupported…) name no value.
  return message ? `cannot connect to ${where} (${message})` : `cannot open the database at ${where}`;
}

function describeSqlite(error: unknown, filename: string): string {
  const root = driverRoot(error);
  const code = errorCode(root) ?? "";
  const syscall = root !== null && typeof root === "object" && "syscall" in root ? String(root.syscall) : "";
  const path = root !== null && typeof root === "object" && "path" in root ? String(root.path) : filename;
  if (syscall === "mkdir") return `cannot create the directory ${path} for the SQLite file${fileCause(root)}`;
  if (code.startsWith("E")) return `cannot open the SQLite file ${filename}${fileCause(root)}`;
  const primary = /^SQLITE_[A-Z]+/.exec(code)?.[0];
  switch (primary) {
    case "SQLITE_CANTOPEN":
      return `cannot open the SQLite file ${filename} (${code}: its directory is missing or not writable)`;
    case "SQLITE_NOTADB":
      return `${filename} is not a SQLite database (${code})`;
    case "SQLITE_CORRUPT":
      return `the SQLite file ${filename} is corrupt (${code})`;
    case "SQLITE_READONLY":
      return `the SQLite file ${filename} is read-only (${code})`;
    case "SQLITE_BUSY":
    case "SQLITE_LOCKED":
      return `the SQLite file ${filename} is locked by another connection (${code})`;
    case "SQLITE_FULL":
      return `the disk of ${filename} is full (${code})`;
    case "SQLITE_IOERR":
      return `I/O error on the SQLite file ${filename} (${code})`;
    case undefined:
      break;
    default:
      return `SQLite error on ${filename} (${code}${root instanceof Error ? `: ${firstLine(root.message)}` : ""})`;
  }
  return `cannot open the SQLite file ${filename}${root instanceof Error ? ` (${root.name})` : ""}`;
}

const FILE_GLOSS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOTDIR: "a part of the path is a file, not a directory",
  EEXIST: "a file of that name is in the way",
  ENOSPC: "no space left",
  ENOENT: "no such file or directory",
};

function fileCause(error: unknown): string {
  const code = errorCode(error);
  if (code === undefined) return "";
  return ` (${code}${FILE_GLOSS[code] ? `: ${FILE_GLOSS[code]}` : ""})`;
}

/** Host, port, database and user of a postgres:// URL, with libpq's defaults; undefined if it does not parse. */
function postgresTarget(databaseUrl: string) {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    return undefined;
  }
  const user = decodeURIComponent(url.username) || "postgres";
  const database = decodeURIComponent(url.pathname.replace(/^\//, "")) || user;
  return { host: url.hostname || "localhost", port: url.port || "5432", database, user };
}

/**
 * The error that says what went wrong: through wrappers' `cause` (a StoreError, pg-pool's connect
 * timeout) and into the first attempt of an AggregateError (a name with several addresses), down
 * to the first error that carries a code.
 */
function driverRoot(error: unknown): unknown {
  const coded = findInChain(error, (e) => errorCode(e) !== undefined && !(e instanceof CertgateError));
  return coded ?? error;
}

function findInChain(error: unknown, test: (e: unknown) => boolean): unknown {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const e = queue.shift();
    if (e === null || typeof e !== "object" || seen.has(e)) continue;
    seen.add(e);
    if (test(e)) return e;
    if (e instanceof AggregateError) queue.push(...e.errors);
    if ("cause" in e) queue.push(e.cause);
  }
  return undefined;
}

function innermostCause(error: unknown): unknown {
  let e = error;
  for (let depth = 0; depth < 8 && e instanceof Error && e.cause !== undefined; depth++) e = e.cause;
  return e;
}

function addressOf(error: unknown): string | undefined {
  if (error === null || typeof error !== "object" || !("address" in error)) return undefined;
  const port = "port" in error ? `:${String(error.port)}` : "";
  return `${String(error.address)}${port}`;
}

/** PostgreSQL's own message beside a SQLSTATE: names roles and databases, never a password. */
function serverMessage(error: unknown): string {
  return error instanceof Error ? firstLine(error.message) : "";
}

function firstLine(text: string): string {
  return (text.split("\n")[0] ?? "").trim();
}

/**
 * `text` with each secret masked: always inside a URL's user info (`:secret@`), and anywhere else
 * too once it is 4 characters or more (a shorter one would mask letters of ordinary words; a
 * driver's message quoting it bare is not known to happen).
 */
function mask(text: string, secrets: readonly string[]): string {
  let masked = text;
  for (const secret of secrets) {
    masked = masked.replaceAll(`:${secret}@`, ":***@");
    if (secret.length >= 4) masked = masked.replaceAll(secret, "***");
  }
  return masked;
}

export interface StartupReportOptions {
  /** Add the stack of the error and of each of its causes (`--verbose`, `LOG_LEVEL=debug`). */
  verbose: boolean;
  /** DATABASE_URL, whose password is masked wherever it shows. */
  databaseUrl?: string | undefined;
  /** Whether the error's message was written for the operator (certgate's own errors, usage errors). */
  printable: boolean;
}

/**
 * What the `certgate` command prints on stderr when it fails: one line `certgate: …`, then with
 * `verbose` the stacks (masked alike). A printable error shows its message; anything else only
 * its class name, since its message was never written for an operator to read.
 */
export function formatStartupFailure(error: unknown, options: StartupReportOptions): string {
  const secrets = secretsOf(options.databaseUrl);
  const message =
    options.printable && error instanceof Error
      ? error.message
      : `unexpected error (${error instanceof Error ? error.name : "unknown"})${options.verbose ? "" : "; --verbose shows the stack"}`;
  const line = `certgate: ${firstLine(message)}\n`;
  if (!options.verbose) return mask(line, secrets);
  const database =
    error instanceof StartupError && error.component === "DATABASE_URL" && options.databaseUrl !== undefined
      ? `DATABASE_URL is ${maskDatabaseUrl(options.databaseUrl)}\n`
      : "";
  return mask(`${line}${database}${stacks(error)}`, secrets);
}

function stacks(error: unknown): string {
  const lines: string[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown, label: string, depth: number) => {
    if (seen.has(e) || depth > 8) return;
    seen.add(e);
    const text = e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e);
    lines.push(`${label}${text}`);
    if (e instanceof AggregateError) for (const inner of e.errors) visit(inner, "  attempt: ", depth + 1);
    if (e instanceof Error && e.cause !== undefined) visit(e.cause, "caused by: ", depth + 1);
  };
  visit(error, "", 0);
  return `${lines.join("\n")}\n`;
}
