/**
 * The package build: one bundle per entry of package.json's `exports`, as ESM (`.js`) and CommonJS
 * (`.cjs`), with bundled declarations for each (`.d.ts`, `.d.cts`). The runtime dependencies are
 * bundled in (minified), so installing certgate installs nothing else:
 * a client-only user of `certgate/portone` gets no database driver, no native module and no
 * framework. The database drivers stay outside as optional peers, loaded when a store opens.
 * Chunks are shared between the entries of one format, so `UpstreamError` from `certgate/portone`
 * and from `certgate` is one class.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { transform } from "esbuild";
import { defineConfig, type Options } from "tsup";
import { builtinRequiresAsImports } from "./scripts/build/builtin-requires.js";

/**
 * `CERTGATE_BUILD=dev npm run build`: unminified, with source maps, for profiling and debugging
 * (bench/ profiles read dist/). The package is built without.
 */
const DEV = process.env.CERTGATE_BUILD === "dev";

/**
 * Function and class names are not kept in the minified build: esbuild's `keepNames` re-names every
 * closure each time it is created (an `Object.defineProperty` call), and the request path — certgate's
 * and its bundled dependencies' — creates dozens per request: ≈ 5 % of the CPU per verification
 * (bench A/B, 0.84–1.02× across the closed-loop scenarios). certgate never reads a function's name:
 * its errors set `name` themselves and its log lines carry error names and codes, not serialized
 * errors. Stack traces of the package therefore name minified functions; the dev build keeps them.
 */
const KEEP_NAMES = DEV;

/** Optional peer dependencies: never bundled, imported only when a store of their kind opens. */
const PEERS = ["better-sqlite3", "pg"];

/** The package's entries, in both formats (package.json `exports`, and the bin). */
const ENTRIES = {
  index: "src/index.ts",
  "portone/index": "src/portone/index.ts",
  "emulator/index": "src/emulator/index.ts",
  "cli/main": "src/cli/main.ts",
};

/** Declarations of the library entries, `.d.ts` beside the ESM build and `.d.cts` beside the CommonJS one (the bin has none). */
const DECLARATIONS = { entry: ["src/index.ts", "src/portone/index.ts", "src/emulator/index.ts"] };

// dist/ is emptied here, once, not by each of the two builds below (they run side by side).
rmSync("dist", { recursive: true, force: true });

const shared = {
  target: "node20",
  platform: "node",
  splitting: true,
  // Not tsup's shims: they add an `import "path"` to the ESM chunks that `certgate/portone` loads
  // too, which a runtime without Node modules cannot resolve. `import.meta.url` is defined for the
  // CommonJS build only (esbuildOptions).
  shims: false,
  // No source maps in the package: they would more than double what a client-only install downloads.
  sourcemap: DEV,
  tsconfig: "tsconfig.build.json",
  clean: false,
  external: PEERS,
  noExternal: [new RegExp(`^(?!(${PEERS.join("|")})(/|$))`)],
  // Keep `node:` on builtins (pino requires "node:os"): the plugin below needs to see those too.
  removeNodeProtocol: false,
  esbuildPlugins: [builtinRequiresAsImports],
} satisfies Options;

export default defineConfig([
  {
    ...shared,
    entry: {
      ...ENTRIES,
      // The SQLite store's worker thread, ESM only: store/sqlite/offload.ts starts this file whichever
      // format loaded the store. As an entry of the CommonJS build too it would split that build's
      // chunks further, each carrying CommonJS glue, for a file nothing loads.
      "store/sqlite-worker": "src/store/sqlite/worker.ts",
    },
    format: ["esm"],
    dts: DECLARATIONS,
    esbuildOptions(options) {
      options.minify = !DEV;
      options.keepNames = KEEP_NAMES;
    },
  },
  {
    ...shared,
    entry: ENTRIES,
    format: ["cjs"],
    dts: DECLARATIONS,
    esbuildOptions(options) {
      // tsup turns the CommonJS chunks into CommonJS after esbuild, and that step breaks on minified
      // code: the CommonJS files are minified afterwards instead (onSuccess).
      options.minify = false;
      options.keepNames = KEEP_NAMES;
      options.define = { ...options.define, "import.meta.url": "importMetaUrl" };
      options.inject = [...(options.inject ?? []), "scripts/build/import-meta-url.ts"];
    },
    async onSuccess() {
      if (DEV) return;
      for (const file of cjsFiles("dist")) {
        const { code } = await transform(readFileSync(file, "utf8"), {
          minify: true,
          target: "node20",
          loader: "js",
        });
        writeFileSync(file, code);
      }
    },
  },
]);

function cjsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return cjsFiles(path);
    return entry.name.endsWith(".cjs") ? [path] : [];
  });
}
