/**
 * An esbuild plugin for the ESM build: the bundled CommonJS dependencies (prom-client, pino) call
 * `require("util")` and the like, which an ES module cannot do ("Dynamic require of "util" is not
 * supported"). Each such `require` of a Node builtin becomes a small module that imports the builtin
 * and hands it over as `module.exports`; esbuild hoists those imports into the chunk of the
 * dependency that needs them, so the chunks `certgate/portone` loads import no Node module.
 */
import { builtinModules } from "node:module";
import type { Plugin } from "esbuild";

const escaped = builtinModules.map((name) => name.replace(/[/]/g, "\\/")).join("|");
const BUILTIN = new RegExp(`^(node:)?(${escaped})$`);

export const builtinRequiresAsImports: Plugin = {
  name: "builtin-requires-as-imports",
  setup(build) {
    if (build.initialOptions.format !== "esm") return;
    build.onResolve({ filter: BUILTIN }, (args) =>
      args.kind === "require-call"
        ? { path: args.path.replace(/^node:/, ""), namespace: "builtin-require" }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "builtin-require" }, (args) => ({
      contents: `import * as m from "node:${args.path}";\nmodule.exports = "default" in m ? m.default : m;\n`,
      loader: "js",
    }));
  },
};
