/** Whether `value` is an absolute http: or https: URL (Node 20 has no `URL.parse`). */
export function isHttpUrl(value: unknown): boolean {
  if (typeof value !== "string" || !URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === "http:" || protocol === "https:";
}

/** What {@link isFetchableUrl} asks, said where a URL is refused. */
export const FETCHABLE_URL_RULE = "must be an absolute http(s) URL without a user name or password";

/**
 * Whether `value` is an absolute http(s) URL that `fetch` will request: one with a user name or
 * password it refuses outright ("includes credentials"), so a webhook URL written so failed every
 * delivery with no answer to show for it.
 */
export function isFetchableUrl(value: unknown): boolean {
  if (!isHttpUrl(value)) return false;
  const { username, password } = new URL(value as string);
  return username === "" && password === "";
}
