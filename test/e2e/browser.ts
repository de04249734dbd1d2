/**
 * Browser-test harness: Debian's Chromium (never a downloaded browser) driven by playwright-core,
 * one fresh profile per test, and certgate in sandbox mode in process over a real socket.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { loadConfig } from "../../src/cli/config.js";
import { createLogger } from "../../src/cli/logger.js";
import { type Certgate, startCertgate } from "../../src/server.js";

export const CHROMIUM_PATH = "/usr/bin/chromium";
export const CHROMIUM_AVAILABLE = existsSync(CHROMIUM_PATH);
/** In CI a missing browser fails the run instead of skipping it. */
export const IN_CI = process.env.CI === "true";

/** Where screenshots of final states go (gitignored). */
export const ARTIFACTS_DIR = fileURLToPath(new URL("../../test-artifacts/e2e/", import.meta.url));

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** A phone-sized context: an iPhone user agent, a 390×844 viewport, touch. */
export const MOBILE = {
  viewport: { width: 390, height: 844 },
  userAgent:
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
  isMobile: true,
  hasTouch: true,
  deviceScaleFactor: 2,
} as const;

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** Launches Chromium headless with a fresh user-data-dir (a phone, or a desktop of `viewport`). */
export async function openBrowser(
  options: { mobile?: boolean; viewport?: { width: number; height: number } } = {},
): Promise<BrowserSession> {
  const profile = mkdtempSync(join(tmpdir(), "certgate-e2e-profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    locale: "ko-KR",
    ...(options.mobile ? MOBILE : { viewport: options.viewport ?? { width: 1100, height: 900 } }),
  });
  context.setDefaultTimeout(10_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface Sandbox {
  certgate: Certgate;
  /** Every log line of the run, for the privacy check. */
  logs: string[];
  close(): Promise<void>;
}

/** certgate as `npm start` runs it with no configuration, on a free port, with a throwaway data dir. */
export async function startSandbox(): Promise<Sandbox> {
  const dir = mkdtempSync(join(tmpdir(), "certgate-e2e-"));
  const config = loadConfig({ PORT: "0", CERTGATE_DATA_DIR: dir });
  const logs: string[] = [];
  const logger = createLogger(
    new Writable({
      write(chunk, _encoding, done) {
        logs.push(String(chunk));
        done();
      },
    }),
  );
  const certgate = await startCertgate(config, { logger });
  return {
    certgate,
    logs,
    async close() {
      await certgate.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Saves a screenshot of a final state as `test-artifacts/e2e/<name>.png`: the full page, or only what
 * the viewport shows (to see what a visitor sees without scrolling).
 */
export async function saveScreenshot(page: Page, name: string, options: { fullPage?: boolean } = {}) {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS_DIR, `${name}.png`), fullPage: options.fullPage ?? true });
}
