/**
 * The merchant's account reference (`account_ref`, `accountRef`): its own user id, stored, returned
 * in views and webhooks, and sent to the return address as `existing_account_ref`. One rule for
 * the HTTP body and the library: 1–128 printable ASCII characters without spaces.
 */
export const ACCOUNT_REF_PATTERN = /^[\x21-\x7e]{1,128}$/;

/** The rule, as refusals state it. */
export const ACCOUNT_REF_RULE = "accountRef must be 1–128 printable ASCII characters without spaces";

/** Whether `value` is an account reference certgate stores. */
export function isAccountRef(value: unknown): value is string {
  return typeof value === "string" && ACCOUNT_REF_PATTERN.test(value);
}
