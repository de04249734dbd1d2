/**
 * Files shipped in the package beside the code (web/, package.json), found from the running module
 * whatever its depth: src/*.ts under tsx, or one of the bundles dist/*.js, dist/*.cjs,
 * dist/cli/main.js. It walks up from this module's URL (in the CommonJS build the bundler derives
 * it from `__filename`) to the first folder that holds `path`.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The URL of `path` (relative to the package root, e.g. "web/index.html" or "package.json").
 * @throws Error naming `path` when no folder above this module holds it (a broken install).
 * @example const html = readFileSync(packageFile("web/index.html"), "utf8");
 */
export function packageFile(path: string): URL {
  let dir = new URL("./", import.meta.url);
  for (;;) {
    const candidate = new URL(path, dir);
    if (existsSync(fileURLToPath(candidate))) return candidate;
    const parent = new URL("../", dir);
    if (parent.href === dir.href) throw new Error(`certgate: ${path} is missing from the installed package`);
    dir = parent;
  }
}
