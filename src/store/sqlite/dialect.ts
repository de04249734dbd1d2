import type { StoreDialect } from "../dialect.js";

/** SQLite: `INTEGER PRIMARY KEY AUTOINCREMENT`; no row locks (one serialized connection instead). */
export const SQLITE_DIALECT: StoreDialect = Object.freeze<StoreDialect>({
  name: "sqlite",
  autoIncrementPrimaryKey: (column) => column.primaryKey().autoIncrement(),
  rowLocks: false,
});
