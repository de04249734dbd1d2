/** Whether `value` is an absolute http: or https: URL (Node 20 has no `URL.parse`). */
export function isHttpUrl(value: unknown): boolean {
  if (typeof value !== "string" || !URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === "http:" || protocol === "https:";
}
