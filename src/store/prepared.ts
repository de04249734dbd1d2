/**
 * Queries on the hot path built and compiled by Kysely ONCE per shape, then reused with new
 * parameters. Building a query (immutable operation nodes, each frozen) and compiling it (a visitor
 * over them) cost more than SQLite takes to run the statement; a completion runs eight of them.
 *
 * `prepared(db, build)` returns a function of the query's parameters. The first call of each shape
 * runs `build` with SLOTS in place of the parameters' values and compiles it: the compiled query's
 * parameters are then slots (or constants the builder wrote itself), and each later call only
 * puts its values where the slots are. The SQL text is still Kysely's, from the one builder, for
 * each dialect; nothing is written by hand.
 *
 * What makes a shape: the lengths of the array parameters (an `in (?, ?)` list). `build` must be
 * SHAPE-PURE: it may place a parameter in the query but not branch on its value, nor drop it when
 * undefined (pass null). Where a branch is needed, make it a parameter of the shape's name (two
 * prepared queries). With CERTGATE_CHECK_PREPARED=1 (set for `npm test` by vitest.config.ts) every
 * call also builds the query from its real values and throws unless the SQL and the parameters are
 * the same, so a builder that is not shape-pure fails the store suites on both databases.
 *
 * @example
 * const byId = prepared(db, (db, p: { id: string }) =>
 *   db.selectFrom("verifications").selectAll().where("id", "=", p.id),
 * );
 * const row = yield* first(byId({ id }));
 */
import { isDeepStrictEqual } from "node:util";
import type { Compilable, CompiledQuery, Kysely } from "kysely";
import type { Database } from "./schema.js";

/** A value a query may take as a parameter. */
export type ParamValue = string | number | bigint | null | Uint8Array;

/** A query's parameters by name: values, or lists of them (each length is a shape). */
export type QueryParams = Record<string, ParamValue | readonly ParamValue[]>;

/** Where a parameter's value goes: `params[name]`, or `params[name][index]` for a list. */
class Slot {
  constructor(
    readonly name: string,
    readonly index: number | undefined,
  ) {}
}

interface Shape<R> {
  compiled: CompiledQuery<R>;
  /** The compiled query's parameters: slots to fill, or constants of the builder. */
  parameters: readonly unknown[];
}

const CHECK = typeof process !== "undefined" && process.env?.CERTGATE_CHECK_PREPARED === "1";

/** A server-side statement name per SQL text a prepared query compiled to (see {@link statementName}). */
const names = new Map<string, string>();

/**
 * The name under which a database may keep `sql` prepared, when it is the SQL of a prepared query
 * (the PostgreSQL store prepares those once per connection: store/postgres/index.ts). Stable for
 * one text within the process; undefined for any other SQL.
 */
export function statementName(sql: string): string | undefined {
  return names.get(sql);
}

/** A query of parameters `P`, compiled once per shape (see the header). */
export function prepared<P extends QueryParams, R>(
  db: Kysely<Database>,
  build: (db: Kysely<Database>, params: P) => Compilable<R>,
): (params: P) => CompiledQuery<R> {
  const shapes = new Map<string, Shape<R>>();
  /** The names of the list parameters, found on the first call (a shape-pure builder's are fixed). */
  let lists: string[] | undefined;
  return (params) => {
    lists ??= Object.keys(params).filter((name) => Array.isArray(params[name]));
    const key = lists.length === 0 ? "" : shapeKey(params, lists);
    let shape = shapes.get(key);
    if (shape === undefined) {
      const compiled = build(db, slotsFor(params)).compile();
      shape = { compiled, parameters: compiled.parameters };
      if (!names.has(compiled.sql)) names.set(compiled.sql, `certgate_${names.size + 1}`);
      shapes.set(key, shape);
    }
    const query: CompiledQuery<R> = { ...shape.compiled, parameters: fill(shape.parameters, params) };
    if (CHECK) checkShape(query, build(db, params).compile());
    return query;
  };
}

/** The lengths of the list parameters `lists`. */
function shapeKey(params: QueryParams, lists: readonly string[]): string {
  let key = "";
  for (const name of lists) key += `${(params[name] as readonly ParamValue[]).length};`;
  return key;
}

function slotsFor<P extends QueryParams>(params: P): P {
  const slots: Record<string, unknown> = {};
  for (const name in params) {
    const value = params[name];
    slots[name] = Array.isArray(value)
      ? value.map((_, index) => new Slot(name, index))
      : new Slot(name, undefined);
  }
  return slots as P;
}

function fill(parameters: readonly unknown[], params: QueryParams): unknown[] {
  const values = new Array<unknown>(parameters.length);
  for (let i = 0; i < parameters.length; i++) {
    const parameter = parameters[i];
    if (parameter instanceof Slot) {
      const value = params[parameter.name];
      values[i] = parameter.index === undefined ? value : (value as readonly ParamValue[])[parameter.index];
    } else {
      values[i] = parameter;
    }
  }
  return values;
}

function checkShape(reused: CompiledQuery, built: CompiledQuery): void {
  if (reused.sql !== built.sql || !isDeepStrictEqual([...reused.parameters], [...built.parameters])) {
    throw new Error(
      `store: a prepared query is not shape-pure (its builder branches on a value):\n${built.sql}\nreused as\n${reused.sql}`,
    );
  }
}
