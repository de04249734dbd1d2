/**
 * What a database URL may be: a PostgreSQL URL (`postgres://…`, `postgresql://…`, any case), or a
 * SQLite file path. Anything else that begins with a scheme (`mysql://`, `pg://`, `sqlite://`,
 * `file:`, a mistyped `postgres:/host`) used to be taken as a relative SQLite path: the service
 * started on a private file of its own, each instance on another, and one account per person and
 * single use no longer held across them. So a scheme other than PostgreSQL's is refused. A scheme is
 * two or more characters before a colon, so a Windows drive letter (`C:\data\certgate.db`) remains a
 * path; a relative path whose first segment has a colon is written `./name:…`.
 */

/** Schemes written without `//` that a database URL is seen with. */
const SCHEME_ONLY = new Set(["file", "sqlite", "sqlite3", "jdbc"]);

/** Whether `databaseUrl` names a PostgreSQL database. */
export function isPostgresUrl(databaseUrl: string): boolean {
  return /^postgres(ql)?:\/\//i.test(databaseUrl);
}

/** Why `databaseUrl` can name no database certgate opens, or undefined when it can. */
export function databaseUrlProblem(databaseUrl: unknown): string | undefined {
  if (typeof databaseUrl !== "string" || databaseUrl === "") {
    return "must be a postgres:// URL or a SQLite file path";
  }
  if (databaseUrl.trim() !== databaseUrl) {
    return "has spaces at its start or end: a path or URL never does (as given, it would name another file)";
  }
  if (isPostgresUrl(databaseUrl)) return undefined;
  // `postgres//host/db`, `postgresql:host/db`: a PostgreSQL URL mistyped, which as a path would make
  // directories named after its parts, a password among them.
  if (/^postgres(ql)?(:|\/\/)/i.test(databaseUrl)) {
    return "looks like a postgres:// URL but is not one (check the :// after postgres)";
  }
  const [, scheme = undefined, slashes = ""] = /^([a-z][a-z0-9+.-]+):(\/\/)?/i.exec(databaseUrl) ?? [];
  if (scheme === undefined) return undefined;
  // Named only when it is surely a scheme (`mysql://`, `file:`): what stands before the colon of
  // `app:secret@db/certgate` (postgres:// left off) is a user name, never echoed.
  const named = slashes !== "" || SCHEME_ONLY.has(scheme.toLowerCase()) ? ` "${scheme.slice(0, 20)}:"` : "";
  return `has the scheme${named}, which certgate does not open: give a postgres:// (or postgresql://) URL, or a SQLite file as a plain path (./data/certgate.db; a relative path with a colon in its first segment as ./name:…)`;
}
