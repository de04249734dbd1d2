/**
 * Sandbox mode's secret when CERTGATE_SECRET is not set: generated once into the data directory
 * (server.ts), and read back by `doctor` to check the data's keys as `serve` would.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { HttpLogger } from "./http/app.js";
import { dataDirFailure } from "./startup-errors.js";
import { generateSecret } from "./store/crypto.js";

/** The file in the data directory that holds sandbox mode's generated secret. */
export const SANDBOX_SECRET_FILE = "sandbox-secret";

/** Sandbox only: a secret generated once into the data directory, with a warning. */
export function sandboxSecret(dataDir: string, logger: HttpLogger): string {
  const file = join(dataDir, SANDBOX_SECRET_FILE);
  const secret = generateSecret();
  try {
    if (existsSync(file)) return readFileSync(file, "utf8").trim();
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  } catch (error) {
    throw dataDirFailure(error, dataDir);
  }
  logger.warn(
    { file },
    "sandbox mode: generated CERTGATE_SECRET into the data directory; set it yourself in production",
  );
  return secret;
}
