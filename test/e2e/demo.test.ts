/**
 * The demo page in a real browser (Debian's Chromium), against certgate in sandbox mode, for each
 * PortOne API version: the emulator's SDK stand-in (V1 `IMP.certification`, V2
 * `PortOne.requestIdentityVerification`), the shared verification window, and the service deciding.
 * Each test saves a screenshot of its final state under test-artifacts/e2e/.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { EMULATOR_OTP_CODE, type Emulator } from "../../src/emulator/index.js";
import { API_VERSIONS, type ApiVersion } from "../integration/api-versions.js";
import {
  type BrowserSession,
  CHROMIUM_AVAILABLE,
  CHROMIUM_PATH,
  IN_CI,
  openBrowser,
  type Sandbox,
  saveScreenshot,
  startSandbox,
} from "./browser.js";
import {
  merchantView as merchantViewAt,
  outcomeRows,
  passWindow,
  startPopup as startUse,
  verdict,
} from "./demo-page.js";

if (!CHROMIUM_AVAILABLE && !IN_CI) {
  console.warn(`e2e: skipped, ${CHROMIUM_PATH} is missing (install it with: apt-get install -y chromium)`);
}

describe.runIf(!CHROMIUM_AVAILABLE && IN_CI)("browser tests in CI", () => {
  it("have Debian's Chromium", () => {
    expect.fail(`${CHROMIUM_PATH} is missing: CI must install it (apt-get install -y chromium)`);
  });
});

type Use = "signup" | "adult";

/** What differs between the versions' flows on the demo page. */
const FLOWS = {
  v1: {
    /** The page opens on V1. */
    choose: async (_page: Page) => {},
    created: z.object({ id: z.string(), merchant_uid: z.string() }),
    windowPath: "/emulator/browser/certification",
    cancelCode: "F0000",
    /** The outcome's API row, checked where the V2 file checked it. */
    apiRow: {},
    screenshotPrefix: "",
    secrets: ["김테스트", "박테스트", "최테스트", "01000000001", "01000000003"],
  },
  v2: {
    choose: (page: Page) => page.getByLabel("V2 (PortOne.requestIdentityVerification)").check(),
    created: z.object({ id: z.string(), api_version: z.literal("v2"), identity_verification_id: z.string() }),
    windowPath: "/emulator/browser/identity-verification",
    cancelCode: "FAILURE_TYPE_PG",
    apiRow: { API: "V2" },
    screenshotPrefix: "v2-",
    secrets: ["김테스트", "01000000001"],
  },
} satisfies Record<ApiVersion, unknown>;

describe.runIf(CHROMIUM_AVAILABLE)("the demo page in Chromium", () => {
  describe.each(API_VERSIONS)("%s flow", (version) => {
    const flow = FLOWS[version];
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

    /** A fresh Chromium per test, closed whatever the test's fate. */
    async function launch(options: { mobile?: boolean } = {}): Promise<Page> {
      await browser?.close();
      browser = await openBrowser(options);
      return browser.page;
    }

    async function finish(page: Page, screenshot: string) {
      await saveScreenshot(page, `${flow.screenshotPrefix}${screenshot}`);
      await browser?.close();
      browser = undefined;
    }

    function emulator(): Emulator {
      const running = sandbox.certgate.emulator;
      if (!running) throw new Error("sandbox mode runs an emulator");
      return running;
    }

    /** Opens the demo in English with this version's flow chosen. */
    async function openDemo(page: Page) {
      await page.goto(`${base}/?lang=en`);
      await flow.choose(page);
    }

    /** Starts a use in popup mode and returns the verification window and the created verification. */
    async function startPopup(page: Page, use: Use) {
      const { popup, created } = await startUse(page, use);
      expect(new URL(popup.url()).pathname).toBe(flow.windowPath);
      return { popup, verification: flow.created.parse(created) };
    }

    const merchantView = (id: string) => merchantViewAt(base, id);

    describe("popup window", () => {
      it("admits an adult through the adult gate, showing only the masked name", async () => {
        const page = await launch();
        await openDemo(page);
        const { popup, verification } = await startPopup(page, "adult");
        await passWindow(popup, "adult");

        expect(await verdict(page)).toEqual({ kind: "ok", text: "Welcome in: the adult check passed." });
        expect(await outcomeRows(page)).toMatchObject({
          ...flow.apiRow,
          Status: "verified",
          "Name (masked)": "김**트",
          ...(version === "v2" ? { "Verification ID": verification.id } : {}),
        });
        const html = await page.content();
        for (const secret of ["김테스트", "01000000001", "1990-01-15"]) expect(html).not.toContain(secret);
        expect(await merchantView(verification.id)).toMatchObject({ status: "verified", reason: null });
        await finish(page, "popup-adult-verified");
      });

      it("reports a cancel in the window and verifies nothing", async () => {
        const page = await launch();
        await openDemo(page);
        const { popup, verification } = await startPopup(page, "adult");
        await popup.getByRole("button", { name: /Cancel/ }).click();

        expect(await verdict(page)).toEqual({
          kind: "cancel",
          text: "The verification was cancelled. Nothing was verified.",
        });
        expect(await outcomeRows(page)).toMatchObject({ ...flow.apiRow, "Error code": flow.cancelCode });
        expect(await merchantView(verification.id)).toMatchObject({ status: "pending", reason: null });
        await finish(page, "popup-cancelled");
      });

      if (version === "v1") {
        it("rejects a 15-year-old at the adult gate as underage", async () => {
          const page = await launch();
          await openDemo(page);
          const { popup, verification } = await startPopup(page, "adult");
          await passWindow(popup, "minor");

          expect((await verdict(page)).kind).toBe("no");
          expect(await outcomeRows(page)).toMatchObject({ Status: "rejected", Reason: "underage" });
          expect(await merchantView(verification.id)).toMatchObject({
            status: "rejected",
            reason: "underage",
          });
          await finish(page, "popup-minor-underage");
        });

        it("refuses a second sign-up of the same person as duplicate_account", async () => {
          const page = await launch();
          await openDemo(page);
          await page.fill("#account-ref", "e2e-first");
          const first = await startPopup(page, "signup");
          await passWindow(first.popup, "adult");
          expect((await verdict(page)).kind).toBe("ok");

          await page.fill("#account-ref", "e2e-second");
          const second = await startPopup(page, "signup");
          await passWindow(second.popup, "adult");
          await page.locator("#outcome .verdict.no").waitFor();
          expect(await outcomeRows(page)).toMatchObject({
            Status: "rejected",
            Reason: "duplicate_account",
            "Account ID": "e2e-second",
            "Existing account": "e2e-first",
          });
          await finish(page, "popup-duplicate-account");
        });
      }
    });

    describe("redirect window", () => {
      it("runs on a phone: the SDK navigates to the window and the service sends the visitor back", async () => {
        const page = await launch({ mobile: true });
        await openDemo(page);
        // "Automatic": V1's SDK chooses redirect for a mobile browser; V2's windowType says REDIRECTION.
        await page.click("#signup-form button[type=submit]");
        await page.waitForURL((url) => url.pathname === flow.windowPath && url.search !== "");
        expect(browser?.context.pages()).toHaveLength(1);
        await passWindow(page, "leap_day");

        await page.waitForURL((url) => url.pathname === "/" && url.searchParams.get("status") === "verified");
        expect(await verdict(page)).toEqual({ kind: "ok", text: "Signed up: the verification passed." });
        if (version === "v2") {
          expect(await outcomeRows(page)).toMatchObject({ API: "V2", Status: "verified" });
          expect(await page.isChecked("#api-v2")).toBe(true);
        }
        expect(await page.evaluate(() => document.activeElement?.id)).toBe("outcome-title");
        await finish(page, "redirect-mobile-verified");
      });

      if (version === "v1") {
        it("refuses a hand-edited redirect URL carrying someone else's imp_uid and success=true", async () => {
          const someoneElse = emulator().createCertification({
            persona: "adult",
            merchant_uid: "mid_someone_else",
          });
          const page = await launch();
          await openDemo(page);
          await page.check("#adult-mode-redirect");
          await page.click("#adult-form button[type=submit]");
          await page.waitForURL(/\/emulator\/browser\/certification\?/);
          const mine = new URL(page.url()).searchParams.get("merchant_uid");
          expect(mine).toBeTruthy();

          const edited = new URL("/certifications/redirect", base);
          edited.searchParams.set("imp_uid", someoneElse.imp_uid);
          edited.searchParams.set("merchant_uid", mine ?? "");
          edited.searchParams.set("success", "true");
          await page.goto(edited.toString());

          await page.waitForURL((url) => url.searchParams.has("verification_id"));
          expect((await verdict(page)).kind).toBe("no");
          // A failed attempt: nothing verified, and the visitor's own verification stays pending.
          expect(await outcomeRows(page)).toMatchObject({
            Status: "pending",
            Reason: "merchant_uid_mismatch",
          });
          await finish(page, "redirect-hand-edited-rejected");
        });
      }
    });

    if (version === "v1") {
      describe("keyboard alone", () => {
        interface Focused {
          id: string;
          text: string;
          outline: string;
        }

        async function tabUntil(page: Page, wanted: (focused: Focused) => boolean): Promise<Focused> {
          for (let presses = 0; presses < 60; presses += 1) {
            await page.keyboard.press("Tab");
            const focused = await page.evaluate(() => {
              const el = document.activeElement;
              return {
                id: el?.id ?? "",
                text: el?.textContent?.trim() ?? "",
                outline: el ? getComputedStyle(el).outlineStyle : "none",
              };
            });
            if (wanted(focused)) return focused;
          }
          throw new Error("the element is not reachable with Tab");
        }

        it("passes the adult gate in a popup with Tab, arrows, typing and Enter, with visible focus", async () => {
          const page = await launch();
          await openDemo(page);

          await tabUntil(page, (f) => f.id === "adult-mode-auto");
          await page.keyboard.press("ArrowDown");
          expect(await page.isChecked("#adult-mode-popup")).toBe(true);
          const submit = await tabUntil(page, (f) => f.text === "Verify and enter");
          expect(submit.outline).not.toBe("none");
          const [popup] = await Promise.all([page.waitForEvent("popup"), page.keyboard.press("Enter")]);
          await popup.waitForLoadState();

          const persona = await tabUntil(popup, (f) => f.id.startsWith("persona-"));
          expect(persona.id).toBe("persona-adult");
          await tabUntil(popup, (f) => f.text.includes("Send code"));
          await popup.keyboard.press("Enter");
          await popup.waitForSelector("#otp");
          expect(await popup.evaluate(() => document.activeElement?.id)).toBe("otp");
          await popup.keyboard.type(EMULATOR_OTP_CODE);
          await popup.keyboard.press("Enter");

          expect((await verdict(page)).kind).toBe("ok");
          expect(await page.evaluate(() => document.activeElement?.id)).toBe("outcome-title");
          await finish(page, "keyboard-adult-verified");
        });
      });
    }

    it("never logs the personas' names or phone numbers", () => {
      const logs = sandbox.logs.join("");
      for (const secret of flow.secrets) expect(logs).not.toContain(secret);
    });
  });
});
