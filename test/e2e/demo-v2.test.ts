/**
 * The demo page's PortOne V2 flow in a real browser (Debian's Chromium), against certgate in sandbox
 * mode: the emulator's V2 SDK stand-in (`PortOne.requestIdentityVerification`), the shared
 * verification window, and the service completing through `POST /identity-verifications` or
 * `GET /identity-verifications/redirect`. Each test saves a screenshot under test-artifacts/e2e/.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { EMULATOR_OTP_CODE, type PersonaId } from "../../src/emulator/index.js";
import { SANDBOX_API_KEY } from "../../src/server.js";
import {
  type BrowserSession,
  CHROMIUM_AVAILABLE,
  openBrowser,
  type Sandbox,
  saveScreenshot,
  startSandbox,
} from "./browser.js";

type Use = "signup" | "adult";

const createdSchema = z.object({
  id: z.string(),
  api_version: z.literal("v2"),
  identity_verification_id: z.string(),
});
const outcomeSchema = z.object({
  verification: z.object({ status: z.string(), reason: z.string().nullable() }),
});

describe.runIf(CHROMIUM_AVAILABLE)("the demo page's V2 flow in Chromium", () => {
  let sandbox: Sandbox;
  let base: string;
  let browser: BrowserSession | undefined;

  beforeAll(async () => {
    sandbox = await startSandbox();
    base = sandbox.certgate.url;
  });
  afterAll(async () => {
    await browser?.close();
    await sandbox?.close();
  });

  async function launch(options: { mobile?: boolean } = {}): Promise<Page> {
    await browser?.close();
    browser = await openBrowser(options);
    return browser.page;
  }

  async function finish(page: Page, screenshot: string) {
    await saveScreenshot(page, screenshot);
    await browser?.close();
    browser = undefined;
  }

  /** Opens the demo in English with the V2 flow chosen. */
  async function openDemoV2(page: Page) {
    await page.goto(`${base}/?lang=en`);
    await page.getByLabel("V2 (PortOne.requestIdentityVerification)").check();
  }

  async function startPopup(page: Page, use: Use) {
    await page.check(`#${use}-mode-popup`);
    const created = page.waitForResponse((res) => res.url().endsWith("/sandbox/verifications"));
    const [popup] = await Promise.all([
      page.waitForEvent("popup"),
      page.click(`#${use}-form button[type=submit]`),
    ]);
    await popup.waitForLoadState();
    expect(new URL(popup.url()).pathname).toBe("/emulator/browser/identity-verification");
    return { popup, verification: createdSchema.parse(await (await created).json()) };
  }

  async function passWindow(window: Page, persona: PersonaId) {
    await window.check(`#persona-${persona}`);
    await window.getByRole("button", { name: /Send code/ }).click();
    await window.fill("#otp", EMULATOR_OTP_CODE);
    await window.getByRole("button", { name: /Confirm/ }).click();
  }

  async function verdict(page: Page) {
    const el = page.locator("#outcome .verdict");
    await el.waitFor();
    const className = (await el.getAttribute("class")) ?? "";
    return { kind: className.replace("verdict", "").trim(), text: (await el.textContent()) ?? "" };
  }

  async function outcomeRows(page: Page): Promise<Record<string, string>> {
    const terms = await page.locator("#outcome dt").allTextContents();
    const values = await page.locator("#outcome dd").allTextContents();
    return Object.fromEntries(terms.map((term, i) => [term, values[i] ?? ""]));
  }

  async function merchantView(id: string) {
    const res = await fetch(`${base}/api/verifications/${id}`, {
      headers: { authorization: `Bearer ${SANDBOX_API_KEY}` },
    });
    return outcomeSchema.parse(await res.json()).verification;
  }

  describe("popup window type", () => {
    it("admits an adult through the adult gate, showing only the masked name", async () => {
      const page = await launch();
      await openDemoV2(page);
      const { popup, verification } = await startPopup(page, "adult");
      await passWindow(popup, "adult");

      expect(await verdict(page)).toEqual({ kind: "ok", text: "Welcome in: the adult check passed." });
      expect(await outcomeRows(page)).toMatchObject({
        API: "V2",
        Status: "verified",
        "Name (masked)": "김**트",
        "Verification ID": verification.id,
      });
      const html = await page.content();
      for (const secret of ["김테스트", "01000000001", "1990-01-15"]) expect(html).not.toContain(secret);
      expect(await merchantView(verification.id)).toEqual({ status: "verified", reason: null });
      await finish(page, "v2-popup-adult-verified");
    });

    it("reports a cancel in the window and verifies nothing", async () => {
      const page = await launch();
      await openDemoV2(page);
      const { popup, verification } = await startPopup(page, "adult");
      await popup.getByRole("button", { name: /Cancel/ }).click();

      expect(await verdict(page)).toEqual({
        kind: "cancel",
        text: "The verification was cancelled. Nothing was verified.",
      });
      expect(await outcomeRows(page)).toMatchObject({ API: "V2", "Error code": "FAILURE_TYPE_PG" });
      expect(await merchantView(verification.id)).toEqual({ status: "pending", reason: null });
      await finish(page, "v2-popup-cancelled");
    });
  });

  describe("redirection window type", () => {
    it("runs on a phone: the SDK navigates to the window and the service sends the visitor back", async () => {
      const page = await launch({ mobile: true });
      await openDemoV2(page);
      // "Automatic": the service's windowType says REDIRECTION on mobile.
      await page.click("#signup-form button[type=submit]");
      await page.waitForURL(/\/emulator\/browser\/identity-verification\?/);
      expect(browser?.context.pages()).toHaveLength(1);
      await passWindow(page, "leap_day");

      await page.waitForURL((url) => url.pathname === "/" && url.searchParams.get("status") === "verified");
      expect(await verdict(page)).toEqual({ kind: "ok", text: "Signed up: the verification passed." });
      expect(await outcomeRows(page)).toMatchObject({ API: "V2", Status: "verified" });
      expect(await page.isChecked("#api-v2")).toBe(true);
      expect(await page.evaluate(() => document.activeElement?.id)).toBe("outcome-title");
      await finish(page, "v2-redirect-mobile-verified");
    });
  });

  it("never logs the personas' names or phone numbers", () => {
    const logs = sandbox.logs.join("");
    for (const secret of ["김테스트", "01000000001"]) expect(logs).not.toContain(secret);
  });
});
