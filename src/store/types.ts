/**
 * Compatibility re-export: the domain nouns and the {@link Store} interface live in the core
 * (core/verification.ts, core/store.ts); src/store implements them.
 */
export type * from "../core/store.js";
export type * from "../core/verification.js";
