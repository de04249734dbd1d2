/**
 * PortOne sends `null` for a field it has no value for; certgate's schemas read an absent field and a
 * `null` one alike. This runs before every upstream record's schema (`z.preprocess`), on the hot path
 * of each completion, so it copies the object only when it has a `null` to drop.
 */

/** `value` without its `null`-valued keys, so `null` reaches the object schema as absent. */
export function withoutNulls(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  for (const key in record) {
    if (record[key] === null) return copyWithoutNulls(record);
  }
  return value;
}

function copyWithoutNulls(record: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(record)) if (field !== null) copy[key] = field;
  return copy;
}
