/**
 * The database drivers are optional peer dependencies: imported when a store of their kind opens,
 * never at load time, so `certgate` imports without them and a missing one is one line naming the
 * package to install ({@link MissingDependencyError}).
 */
import { createRequire } from "node:module";
import { MissingDependencyError, type PeerDependency } from "../core/errors.js";

const NOT_FOUND = new Set(["ERR_MODULE_NOT_FOUND", "MODULE_NOT_FOUND"]);

/** Whether `name` itself cannot be resolved from here (not a module missing inside it). */
function isMissing(name: PeerDependency): boolean {
  try {
    createRequire(import.meta.url).resolve(name);
    return false;
  } catch (error) {
    return NOT_FOUND.has((error as { code?: unknown }).code as string);
  }
}

/**
 * Runs `load` (an `import()` of `name`, written out so bundlers and readers see the specifier).
 * @throws MissingDependencyError when `name` is not installed; any other failure as it is.
 * @example const { default: pg } = await importPeer("pg", "a PostgreSQL store", () => import("pg"));
 */
export async function importPeer<M>(
  name: PeerDependency,
  neededFor: string,
  load: () => Promise<M>,
): Promise<M> {
  try {
    return await load();
  } catch (error) {
    if (isMissing(name)) throw new MissingDependencyError(name, neededFor, { cause: error });
    throw error;
  }
}
