/**
 * Every export of every package entry has TSDoc with an `@example`: the entries are read from
 * package.json `exports` (`./dist/X.js` → `src/X.ts`), so an entry added there is held to the rule
 * too. The TypeScript compiler resolves each entry's exports (re-exports followed to their
 * declaration) and reads the TSDoc of the declaration.
 *
 * The examples are then type-checked: each becomes a module of its own, with the package's entries
 * resolvable by name ("certgate", "certgate/emulator", …) and the free names examples lean on
 * (`store`, `logger`, `apiKey`, …) declared in {@link PRELUDE}. An example that imports nothing of
 * the package sees its entry's exports; one that does must import all it uses, so an example that
 * imports a name the entry does not export fails.
 */

import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  name: string;
  exports: Record<string, string | Record<string, string>>;
};

/** Each entry's specifier ("certgate/emulator") and its source file. */
const ENTRIES = Object.entries(pkg.exports).flatMap(([subpath, target]) => {
  const types = typeof target === "string" ? target : (target.import ?? target.default ?? target.types);
  const match = /^\.\/dist\/(.+)\.(?:d\.)?[cm]?js$|^\.\/dist\/(.+)\.d\.[cm]?ts$/.exec(types ?? "");
  const path = match?.[1] ?? match?.[2];
  if (path === undefined) return []; // ./package.json
  const specifier = subpath === "." ? pkg.name : `${pkg.name}/${subpath.replace(/^\.\//, "")}`;
  return [{ specifier, file: join(ROOT, "src", `${path}.ts`) }];
});

const program = ts.createProgram(
  ENTRIES.map((e) => e.file),
  {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
  },
);
const checker = program.getTypeChecker();

interface ExportDoc {
  name: string;
  documented: boolean;
  examples: string[];
}

/** The exports of `file` with the TSDoc of their declarations. */
function exportsOf(file: string): ExportDoc[] {
  const source = program.getSourceFile(file);
  if (!source) throw new Error(`${file} is not in the program`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (!moduleSymbol) throw new Error(`${file} is not a module`);
  return checker.getExportsOfModule(moduleSymbol).map((exported) => {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const declarations = symbol.getDeclarations() ?? [];
    const docs = declarations.flatMap((d) => ts.getJSDocCommentsAndTags(d)).filter(ts.isJSDoc);
    const examples = docs
      .flatMap((doc) => doc.tags ?? [])
      .filter((tag) => tag.tagName.text === "example")
      .map((tag) => ts.getTextOfJSDocComment(tag.comment) ?? "");
    const documented = docs.some((doc) => ts.getTextOfJSDocComment(doc.comment)?.trim());
    return { name: exported.name, documented, examples };
  });
}

describe.each(ENTRIES)("the entry $specifier", ({ file }) => {
  const exported = exportsOf(file);

  it("exports something", () => {
    expect(exported.length).toBeGreaterThan(0);
  });

  it("documents every export with TSDoc and an @example", () => {
    const lacking = exported
      .filter((e) => !e.documented || e.examples.every((x) => x.trim() === ""))
      .map((e) => `${e.name}: ${e.documented ? "no @example" : "no TSDoc"}`);
    expect(lacking).toEqual([]);
  });
});

const PACKAGE_IMPORT = new RegExp(`from "${pkg.name}(/[\\w-]+)?"`);

/** stdout of `command` (tsc exits 2 when it reports errors: that is output, not a failure). */
function run(command: string, args: string[]): Promise<string> {
  return new Promise((done) => {
    execFile(command, args, { maxBuffer: 16 * 1024 * 1024 }, (_, stdout) => done(String(stdout)));
  });
}

/**
 * The free names examples use without defining them, as a library user's surrounding code would
 * have them: a global declaration file. An example's own `const store = …` shadows it.
 */
const PRELUDE = `
type C = typeof import("certgate");
declare const store: import("certgate").Store;
declare const service: import("certgate").VerificationService;
declare const logger: import("certgate").HttpAppOptions["logger"];
declare const config: import("certgate").Config;
declare const keyring: import("certgate").Keyring;
declare const portone: import("certgate").V1Client;
declare const portoneV2: import("certgate").V2Client;
declare const outcome: import("certgate").CompletionOutcome;
declare const verification: Parameters<import("certgate").Store["createVerification"]>[0];
declare const app: import("express").Express;
declare const err: unknown;
declare const res: Response;
declare const envelope: { code: number; message: string | null; response: unknown };
declare const apiKey: string, apiSecret: string, storeId: string, impCode: string;
declare const impUid: string, merchantUid: string, identityVerificationId: string, url: string, secret: string, emulatorUrl: string;
declare const fetchToken: () => Promise<{ access_token: string; now: number; expired_at: number }>;
declare const env: Record<string, string>;
declare const options: import("certgate").HttpAppOptions;
declare const policy: import("certgate").Policy;
declare const expressApp: import("express").Express;
declare const myLogger: import("certgate").HttpAppOptions["logger"];
declare const oldSecret: string, ci: string;
`;

describe("the @example blocks", () => {
  it("type-check against the package's entries", { timeout: 300_000 }, async () => {
    const dir = mkdtempSync(join(ROOT, "node_modules", ".tsdoc-examples-"));
    try {
      const files = new Map<string, string>();
      writeFileSync(join(dir, "prelude.d.ts"), PRELUDE);
      ENTRIES.forEach(({ specifier, file }, e) => {
        const exported = exportsOf(file);
        const imports = `import { ${exported.map((x) => x.name).join(", ")} } from "${specifier}";\n`;
        exported.forEach(({ name, examples }) => {
          examples.forEach((example, i) => {
            const path = join(dir, `e${e}-${name}-${i}.ts`);
            // A one-liner sees its entry's exports; an example that imports the package must import
            // everything it uses of it.
            const own = PACKAGE_IMPORT.test(example) ? "" : imports;
            writeFileSync(path, `${own}${example}\nexport {};\n`);
            files.set(path, `${specifier} ${name}`);
          });
        });
      });
      // paths: the entries by name, straight to their sources (no build needed).
      const paths = Object.fromEntries(ENTRIES.map((e) => [e.specifier, [e.file]]));
      const tsconfig = {
        compilerOptions: {
          target: "ES2022",
          lib: ["ES2023", "DOM", "DOM.Iterable"],
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          skipLibCheck: true,
          noEmit: true,
          types: ["node"],
          paths,
        },
        files: ["prelude.d.ts", ...[...files.keys()].map((f) => basename(f))],
      };
      writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
      // In a child process: a program this size would block the test worker for a minute.
      const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
      const output = await run(process.execPath, [tsc, "-p", dir, "--pretty", "false"]);
      const problems = output
        .split("\n")
        .filter((line) => line.includes("error TS"))
        .map((line) => {
          const match = /^(.+?)\((\d+),\d+\): error TS\d+: (.*)$/.exec(line);
          const owner = match && files.get(resolve(match[1] ?? ""));
          return owner ? `${owner} (line ${match?.[2]}): ${match?.[3]}` : line;
        });
      expect(problems).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
