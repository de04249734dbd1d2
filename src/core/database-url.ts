/**
 * What a database URL may be: a PostgreSQL URL (`postgres://…`, `postgresql://…`, any case), or a
 * SQLite file path. Anything else that begins with a scheme (`mysql://`, `pg://`, `sqlite://`,
 * `file:`, a mistyped `postgres:/host`) used to be taken as a relative SQLite path: the service
 * started on a private file of its own, each instance on another, and one account per person and
 * single use no longer held across them. So a scheme other than PostgreSQL's is refused. A scheme is
 * two or more characters before a colon, so a Windows drive letter (`C:\data\certgate.db`) remains a
 * path; a relative path whose first segment has a colon is written `./name:…`.
 */

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
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(databaseUrl)?.[1];
  if (scheme === undefined) return undefined;
  return `has the scheme "${scheme.slice(0, 20)}:", which certgate does not open: give a postgres:// (or postgresql://) URL, or a SQLite file as a plain path (./data/certgate.db; a relative path with a colon in its first segment as ./name:…)`;
}
