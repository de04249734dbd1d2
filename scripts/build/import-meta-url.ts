/**
 * `import.meta.url` for the CommonJS build (tsup.config.ts defines `import.meta.url` as this
 * export there): the file URL of the bundle file that holds the code, derived from `__filename`.
 * Only node:url, so the ESM build, which does not get it, imports no Node module for it.
 */
import { pathToFileURL } from "node:url";

export const importMetaUrl: string = pathToFileURL(__filename).href;
