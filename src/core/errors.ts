/**
 * Every error class certgate throws, in one place. Longer than 400 lines on purpose: the classes
 * and their closed code lists are the contract, read together.
 *
 * Expected outcomes (a rejected verification, an underage person) are values, never errors.
 * These classes are for faults: talking to PortOne, configuration, and bad requests. Each has a
 * closed `code` union so callers switch on codes, never on messages. Messages name the method,
 * the URL path and the status; they never carry keys, secrets, tokens or personal data.
 */

/**
 * Base class: `code` is a stable snake_case string from a closed set.
 *
 * @example
 * import { CertgateError } from "certgate";
 * try {
 *   await service.create({ policy: { minAge: 19 } });
 * } catch (err) {
 *   if (err instanceof CertgateError) console.warn(err.code); // a stable snake_case code
 * }
 */
export abstract class CertgateError extends Error {
  abstract readonly code: string;
}

/**
 * A fault talking to PortOne (V1 or V2).
 * - `unauthorized`: 401, still 401 after one token refresh, or the key/secret was refused.
 * - `forbidden`: 403 (V2).
 * - `not_found`: 404. A 404 is never success.
 * - `bad_request`: 400 from PortOne.
 * - `timeout`: no answer within the configured bound.
 * - `unavailable`: network error, dropped connection, or 5xx (after bounded retries).
 * - `invalid_response`: a body that is not JSON or fails the schema.
 * - `api_error`: HTTP 200 with `code != 0`, or another 4xx; `apiCode`/`apiMessage` hold PortOne's.
 *
 * @example
 * import { UpstreamError, type UpstreamErrorCode } from "certgate";
 * const retryable: UpstreamErrorCode[] = ["timeout", "unavailable"];
 * if (err instanceof UpstreamError && retryable.includes(err.code)) {
 *   // PortOne is slow or down: the verification stays pending, ask the person to retry
 * }
 */
export type UpstreamErrorCode =
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "bad_request"
  | "timeout"
  | "unavailable"
  | "invalid_response"
  | "api_error";

export interface UpstreamErrorDetails {
  /** HTTP method of the failed call. */
  method: string;
  /** URL of the failed call, without query string (which could carry ids a log need not see). */
  url: string;
  /** HTTP status when one was received. */
  status?: number | undefined;
  /** PortOne's own code: V1 `code` (number), V2 `type` (string). */
  apiCode?: number | string | undefined;
  /** PortOne's own message. PortOne's messages carry no personal data. */
  apiMessage?: string | undefined;
  /** Number of attempts made (retries included). */
  attempts?: number | undefined;
  cause?: unknown;
}

/**
 * A fault talking to PortOne; `code` says which (see {@link UpstreamErrorCode}).
 *
 * @example
 * import { UpstreamError } from "certgate";
 * try {
 *   await portone.getCertification(impUid);
 * } catch (err) {
 *   if (err instanceof UpstreamError && err.code === "not_found") {
 *     // no such imp_uid for this merchant
 *   } else throw err;
 * }
 */
export class UpstreamError extends CertgateError {
  override readonly name = "UpstreamError";
  readonly code: UpstreamErrorCode;
  readonly method: string;
  readonly url: string;
  readonly status: number | undefined;
  readonly apiCode: number | string | undefined;
  readonly apiMessage: string | undefined;
  readonly attempts: number | undefined;

  constructor(code: UpstreamErrorCode, details: UpstreamErrorDetails, summary?: string) {
    const where = `${details.method} ${stripQuery(details.url)}`;
    const status = details.status === undefined ? "" : ` → ${details.status}`;
    const api =
      details.apiCode === undefined
        ? ""
        : ` (PortOne code ${details.apiCode}${details.apiMessage ? `: ${details.apiMessage}` : ""})`;
    super(`PortOne ${code}: ${where}${status}${api}${summary ? ` — ${summary}` : ""}`, {
      cause: details.cause,
    });
    this.code = code;
    this.method = details.method;
    this.url = stripQuery(details.url);
    this.status = details.status;
    this.apiCode = details.apiCode;
    this.apiMessage = details.apiMessage;
    this.attempts = details.attempts;
  }
}

/**
 * Invalid configuration: names the variable, never echoes its value (it may be a secret).
 *
 * @example
 * import { ConfigError, createV1Client } from "certgate";
 * try {
 *   createV1Client({ apiKey: "", apiSecret: "" });
 * } catch (err) {
 *   if (err instanceof ConfigError) console.error(err.variable); // "apiKey"
 * }
 */
export class ConfigError extends CertgateError {
  override readonly name = "ConfigError";
  readonly code = "invalid_config" as const;
  readonly variable: string;
  /** The message without the variable: to restate it under another name (a field as its variable). */
  readonly problem: string;

  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.variable = variable;
    this.problem = problem;
  }
}

/**
 * Starting failed because of what a variable points at, not its syntax: the database of
 * DATABASE_URL cannot be reached or opened, PORT cannot be listened on, CERTGATE_DATA_DIR cannot be
 * written. The message is one line, `COMPONENT: cause` (`DATABASE_URL: cannot connect to
 * 127.0.0.1:5433 (ECONNREFUSED)`), with any password masked; the driver's error is the `cause`.
 *
 * @example
 * import { StartupError, startCertgate } from "certgate";
 * try {
 *   await startCertgate(config, { logger });
 * } catch (err) {
 *   // "DATABASE_URL: cannot connect to 127.0.0.1:5432 (ECONNREFUSED)"
 *   if (err instanceof StartupError) console.error(err.message);
 *   process.exitCode = 1;
 * }
 */
export class StartupError extends CertgateError {
  override readonly name = "StartupError";
  readonly code = "startup_failed" as const;
  /** The variable (or component) at fault, e.g. "DATABASE_URL". */
  readonly component: string;

  constructor(component: string, problem: string, options?: { cause?: unknown }) {
    super(`${component}: ${problem}`, options);
    this.component = component;
  }
}

/**
 * Why a webhook delivery was refused by `verifyWebhook`:
 * - `missing_header`: `webhook-id`, `webhook-timestamp` or `webhook-signature` is absent, or the
 *   timestamp is not a whole number of seconds.
 * - `stale_timestamp`: the timestamp is further from now than the tolerance (a replay, or a clock off).
 * - `bad_signature`: no `v1,` signature matches the body under the secret.
 * - `malformed_body`: signed, but not JSON or not the shape of a certgate event.
 * - `unknown_event`: signed and well-formed, but of a `type` this version of certgate does not know
 *   (`eventType` says which): upgrade certgate on the receiving side.
 */
export type WebhookVerificationFailureReason =
  | "missing_header"
  | "stale_timestamp"
  | "bad_signature"
  | "malformed_body"
  | "unknown_event";

/**
 * A webhook delivery that did not verify; `reason` says why (see
 * {@link WebhookVerificationFailureReason}). Answer it with a 400 and do not act on the body.
 *
 * @example
 * try {
 *   const event = await verifyWebhook({ secret, body, headers: request.headers });
 * } catch (error) {
 *   if (error instanceof WebhookVerificationError) return new Response(error.reason, { status: 400 });
 *   throw error;
 * }
 */
export class WebhookVerificationError extends CertgateError {
  override readonly name = "WebhookVerificationError";
  readonly code = "webhook_verification_failed" as const;
  readonly reason: WebhookVerificationFailureReason;
  /** For `unknown_event`: the event's `type`. */
  readonly eventType: string | undefined;

  constructor(reason: WebhookVerificationFailureReason, options?: { eventType?: string; cause?: unknown }) {
    super(`webhook not verified: ${reason}${options?.eventType ? ` (${options.eventType})` : ""}`, {
      cause: options?.cause,
    });
    this.reason = reason;
    this.eventType = options?.eventType;
  }
}

/** The optional peer dependencies certgate loads only when a store of their kind opens. */
export type PeerDependency = "better-sqlite3" | "pg";

/**
 * An optional peer dependency is not installed: `better-sqlite3` for a SQLite store, `pg` for a
 * PostgreSQL one. certgate does not install them itself, so a client-only install stays free of
 * database drivers and native modules; the message is one line that says what to install.
 *
 * @example
 * try {
 *   await openStore({ databaseUrl: "./data/certgate.db", keyring });
 * } catch (error) {
 *   if (error instanceof MissingDependencyError) console.error(error.message);
 *   // better-sqlite3 is not installed: a SQLite store needs it (npm install better-sqlite3)
 * }
 */
export class MissingDependencyError extends CertgateError {
  override readonly name = "MissingDependencyError";
  readonly code = "missing_dependency" as const;
  /** The package to install. */
  readonly dependency: PeerDependency;

  constructor(dependency: PeerDependency, neededFor: string, options?: { cause?: unknown }) {
    super(`${dependency} is not installed: ${neededFor} needs it (npm install ${dependency})`, options);
    this.dependency = dependency;
  }
}

/**
 * A schema migration failed. `migration` names it, or is undefined when the migrations could not
 * start (Kysely's bookkeeping tables or lock); the driver's error is the `cause`.
 *
 * @example
 * import { MigrationError, openStore } from "certgate";
 * try {
 *   await openStore({ databaseUrl: "./data/certgate.db", keyring });
 * } catch (err) {
 *   if (err instanceof MigrationError) console.error(err.migration, err.cause);
 * }
 */
export class MigrationError extends CertgateError {
  override readonly name = "MigrationError";
  readonly code = "migration_failed" as const;
  readonly migration: string | undefined;

  constructor(migration: string | undefined, options?: { cause?: unknown }) {
    super(
      migration === undefined ? "store migrations could not start" : `store migration ${migration} failed`,
      options,
    );
    this.migration = migration;
  }
}

/**
 * A stored field is sealed under a key this process's secrets do not derive: an instance still on
 * an old `CERTGATE_SECRET` alone while others seal under a new one (a rolling secret change done in
 * the wrong order), or after a rotation. Answered as 503 `store_unknown_key`, retryable on an
 * instance with the secrets; `keyId` is the key's id (a hash prefix, never a secret).
 */
export class UnknownKeyError extends CertgateError {
  override readonly name = "UnknownKeyError";
  readonly code = "unknown_key" as const;
  readonly keyId: string;

  constructor(storedKeyId: string) {
    // Read from a stored ciphertext, so from the database: only a key id's characters are kept.
    const keyId = storedKeyId.replace(/[^0-9a-f]/gi, "").slice(0, 12);
    super(
      `unknown key id ${keyId}: a stored field is sealed under a key CERTGATE_SECRET and CERTGATE_PREVIOUS_SECRETS do not derive`,
    );
    this.keyId = keyId;
  }
}

/**
 * The cause of a {@link MigrationError} when the database's migration table (`kysely_migration`)
 * lists migrations this certgate does not know; nothing was migrated. `newer`: each is named as
 * certgate names its migrations and comes after this build's last, so a newer certgate applied
 * them: upgrade, or restore a backup from before. Otherwise they are not certgate's (another
 * application's Kysely migrations in the same SQLite file or PostgreSQL schema): certgate needs a
 * database or schema of its own. `migrations` holds their names, sanitised to one line.
 */
export class UnknownMigrationsError extends Error {
  override readonly name = "UnknownMigrationsError";
  readonly migrations: readonly string[];
  readonly newer: boolean;

  constructor(migrations: readonly string[], newer: boolean) {
    super(
      `${newer ? "the database schema is newer than this certgate" : "the database lists migrations that are not certgate's"} (${namedMigrations(migrations)})`,
    );
    this.migrations = migrations;
    this.newer = newer;
  }
}

/** "migration a" / "migrations a, b, c and 2 more": at most three names. */
export function namedMigrations(migrations: readonly string[]): string {
  const shown = migrations.slice(0, 3).join(", ");
  const more = migrations.length > 3 ? ` and ${migrations.length - 3} more` : "";
  return `${migrations.length === 1 ? "migration" : "migrations"} ${shown}${more}`;
}

/**
 * A request certgate refuses. The HTTP layer maps each code to its status in one place.
 *
 * @example
 * import { RequestError, type RequestErrorCode } from "certgate";
 * const clientFault: RequestErrorCode = "unknown_field";
 * if (err instanceof RequestError && err.code === clientFault) console.warn(err.details?.field);
 */
export type RequestErrorCode =
  | "invalid_request" // 400: fields missing, wrong types, too long
  | "unknown_field" // 400: a field certgate does not know (a typo must never switch a check off)
  | "repeated_parameter" // 400: a query key given more than once (which value counts is ambiguous)
  | "invalid_json" // 400: body is not JSON
  | "unsupported_media_type" // 415
  | "payload_too_large" // 413
  | "unauthorized" // 401: missing or unknown API key
  | "forbidden" // 403
  | "return_url_not_allowed" // 400: a return_url outside the configured origins (no open redirect)
  | "not_found" // 404
  | "method_not_allowed" // 405: a path served under other methods (`Allow` names them)
  | "conflict" // 409
  | "invalid_idempotency_key" // 400: an Idempotency-Key that is not 1–255 printable ASCII, or on a route without idempotency
  | "idempotency_conflict" // 409: an Idempotency-Key reused with another body within its 24 hours
  | "account_not_bound" // 409: a `reverify` of an account no person is bound to
  | "refresh_unsupported"; // 409: a refresh of a V1 verification (V1 has no lookup by merchant_uid)

/**
 * Thrown over HTTP and by the library API alike. Over HTTP, `details` names the field in the
 * caller's spelling: `unknown_field` carries `details.field` (the first unknown field's dotted path,
 * e.g. "policy.minAge") and `details.fields` (all of them); `repeated_parameter` carries
 * `details.parameter`. From TypeScript (`resolvePolicy`, `service.create`) the names are camelCase.
 *
 * @example
 * import { RequestError, toErrorResponse } from "certgate";
 * try {
 *   await service.create({ policy: { minAge: 200 } });
 * } catch (err) {
 *   if (err instanceof RequestError) {
 *     const { status, body } = toErrorResponse(err); // 400 { error: { code: "invalid_request", … } }
 *   }
 * }
 */
export class RequestError extends CertgateError {
  override readonly name = "RequestError";
  readonly code: RequestErrorCode;
  /** Optional machine-readable detail, e.g. which field failed. Never personal data. */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: RequestErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

/**
 * A fault of the database, not of the request: the store could not do its work right now. Answered
 * 503 (`store_<code>`); the request may be retried as is. A transaction cut off by one rolls back,
 * so nothing is half-written (a COMMIT whose answer was lost may still have landed: a retry then
 * reads the committed outcome, as after a crash).
 * - `unavailable`: the database cannot be reached or dropped the connection — refused, reset,
 *   terminated (`pg_terminate_backend`), restarting, shutting down, out of connections, a connect
 *   timeout, SQLite unable to open or read its file (I/O error).
 * - `busy`: SQLite's file is locked by another connection past `busy_timeout` (SQLITE_BUSY,
 *   SQLITE_LOCKED); PostgreSQL's lock_not_available.
 * - `read_only`: the database refuses writes (SQLITE_READONLY; PostgreSQL read_only_sql_transaction,
 *   e.g. a hot standby after a failover).
 * - `full`: no space left (SQLITE_FULL, PostgreSQL disk_full).
 *
 * Errors a driver raises for certgate's own mistakes (a syntax error, a violated constraint) are
 * not StoreErrors: they stay unexpected, a logged 500.
 *
 * @example
 * import { StoreError, type StoreErrorCode } from "certgate";
 * const transient: StoreErrorCode[] = ["unavailable", "busy"];
 * if (err instanceof StoreError && transient.includes(err.code)) {
 *   // retry the request after a second
 * }
 */
export type StoreErrorCode = "unavailable" | "busy" | "read_only" | "full";

export interface StoreErrorDetails {
  dialect: "sqlite" | "postgres";
  /**
   * The driver's own code, from a closed vocabulary that never carries data: a SQLSTATE
   * (`57P01`), a socket error (`ECONNREFUSED`), a SQLite code (`SQLITE_BUSY`), or the name of one
   * of pg's code-less connection errors (`connection_terminated`).
   */
  driverCode?: string | undefined;
  /** The driver's error. Its message may name the host and port, so it is never shown to a caller. */
  cause?: unknown;
}

/**
 * A fault of the database, not of the request: `code` says which (see {@link StoreErrorCode}).
 *
 * @example
 * import { StoreError } from "certgate";
 * try {
 *   await service.get("ver_abc");
 * } catch (err) {
 *   if (err instanceof StoreError) console.warn(err.code, err.dialect); // "unavailable" "postgres"
 * }
 */
export class StoreError extends CertgateError {
  override readonly name = "StoreError";
  readonly code: StoreErrorCode;
  readonly dialect: "sqlite" | "postgres";
  readonly driverCode: string | undefined;

  constructor(code: StoreErrorCode, details: StoreErrorDetails) {
    const driver = details.driverCode === undefined ? "" : ` ${details.driverCode}`;
    super(`store ${code} (${details.dialect}${driver})`, { cause: details.cause });
    this.code = code;
    this.dialect = details.dialect;
    this.driverCode = details.driverCode;
  }
}

/**
 * The store was asked to create a verification whose id or bound id is already taken. Ids are 144
 * random bits, so this is a fault (a broken id source, a replayed insert), not an outcome; the HTTP
 * layer answers it as 409 `conflict`.
 *
 * @example
 * import { DuplicateIdError } from "certgate";
 * try {
 *   await store.createVerification(verification);
 * } catch (err) {
 *   if (err instanceof DuplicateIdError) {
 *     // the id or bound id is taken: generate new ids and create again
 *   }
 * }
 */
export class DuplicateIdError extends CertgateError {
  override readonly name = "DuplicateIdError";
  readonly code = "duplicate_id" as const;

  constructor() {
    super("a verification with this id or bound id already exists");
  }
}

function stripQuery(url: string): string {
  const i = url.search(/[?#]/);
  return i === -1 ? url : url.slice(0, i);
}
