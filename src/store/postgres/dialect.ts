import type { StoreDialect } from "../dialect.js";

/** PostgreSQL: an identity column, and `FOR UPDATE` row locks. */
export const POSTGRES_DIALECT: StoreDialect = Object.freeze<StoreDialect>({
  name: "postgres",
  autoIncrementPrimaryKey: (column) => column.primaryKey().generatedByDefaultAsIdentity(),
  rowLocks: true,
});
