import * as z from "zod";

/**
 * Upstream text certgate keeps in clear and indexes — the consumed imp_uid, the provider that scopes a
 * DI — is bounded text without control characters or lone surrogates: PostgreSQL refuses NUL in text
 * and index entries over ~2.7 kB (the completion's transaction failed), and a lone surrogate is stored
 * as replacement characters (another value than the one compared). PortOne sends none of these.
 */
export const storedText = (max: number) =>
  z
    .string()
    .max(max)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
    .regex(/^[^\u0000-\u001f\u007f\p{Cs}]*$/u, "no control characters or lone surrogates");
