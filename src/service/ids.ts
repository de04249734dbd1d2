/** The service's id source: unguessable public ids drawn from the process's one CSPRNG pool. */
import { secureRandomBytes } from "../util/random.js";

/** An unguessable id: 18 random bytes, base64url (144 bits), e.g. "ver_…". */
export function randomId(prefix: string): string {
  return `${prefix}_${secureRandomBytes(18).toString("base64url")}`;
}
