/**
 * What differs between the two SQL dialects certgate runs on, and nothing else. The queries and the
 * migrations are shared; they consult a {@link StoreDialect} at the few points they must diverge.
 */
import type { ColumnDefinitionBuilder } from "kysely";

export type DialectName = "sqlite" | "postgres";

export interface StoreDialect {
  readonly name: DialectName;
  /** Makes `column` an auto-incrementing integer primary key. */
  autoIncrementPrimaryKey(column: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
  /**
   * Whether `SELECT … FOR UPDATE` exists. Where it does not (SQLite), the store relies on the single
   * serialized connection: a transaction holds it until commit, so no two transactions interleave.
   */
  readonly rowLocks: boolean;
}
