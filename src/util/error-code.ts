/**
 * The string `code` an error carries, if any: Node's (`ENOENT`), better-sqlite3's (`SQLITE_BUSY`),
 * pg's (a SQLSTATE such as `55P03`). Anything else, a non-string code included, has none.
 */
export function errorCode(error: unknown): string | undefined {
  return error !== null && typeof error === "object" && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined;
}
