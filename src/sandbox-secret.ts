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

/**
 * The secret sandbox mode generated into `dataDir` earlier, or undefined when it has none yet.
 * @throws StartupError naming CERTGATE_DATA_DIR when the file is there but cannot be read.
 */
export function existingSandboxSecret(dataDir: string): string | undefined {
  const file = join(dataDir, SANDBOX_SECRET_FILE);
  try {
    return existsSync(file) ? readFileSync(file, "utf8").trim() : undefined;
  } catch (error) {
    throw dataDirFailure(error, dataDir);
  }
}

/** Sandbox only: a secret generated once into the data directory, with a warning. */
export function sandboxSecret(dataDir: string, logger: HttpLogger): string {
  const existing = existingSandboxSecret(dataDir);
  if (existing !== undefined) return existing;
  const file = join(dataDir, SANDBOX_SECRET_FILE);
  const secret = generateSecret();
  try {
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
