/**
 * The demo page and the emulator's window as a Korean visitor sees them, in Chromium against certgate
 * in sandbox mode: codes labelled in Korean with the code beside, the outcome in view at 1280×800,
 * no word broken on a phone, the account ID kept across a redirect, and a window that speaks to a
 * tester (Korean first, no developer identifiers) and lets them verify as another person.
 * Screenshots of each final state go to test-artifacts/e2e/.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { REJECTION_REASONS, VERIFICATION_STATUSES } from "../../src/core/reasons.js";
import { PERSONA_IDS, PERSONAS } from "../../src/emulator/index.js";
import {
  type BrowserSession,
  CHROMIUM_AVAILABLE,
  openBrowser,
  type Sandbox,
  saveScreenshot,
  startSandbox,
} from "./browser.js";
import { outcomeRows, passWindow, startPopup, verdict } from "./demo-page.js";

const HANGUL = /[\uac00-\ud7a3]/;

const table = z.record(z.string(), z.string());
/** The parts of the page's text table (a top-level const of its classic script) that label codes. */
const labelsSchema = z.object({
  ko: z.object({ statuses: table, reasonLabels: table, reasons: table }),
  en: z.object({ reasons: table }),
});

describe.runIf(CHROMIUM_AVAILABLE)("the demo page's Korean UI and the emulator window", () => {
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

  async function launch(options: Parameters<typeof openBrowser>[0] = {}): Promise<Page> {
    await browser?.close();
    browser = await openBrowser(options);
    return browser.page;
  }

  async function finish(page: Page, screenshot: string, options: { fullPage?: boolean } = {}) {
    await saveScreenshot(page, `ui-${screenshot}`, options);
    await browser?.close();
    browser = undefined;
  }

  it("has a Korean label for every status and every rejection reason", async () => {
    const page = await launch();
    await page.goto(`${base}/?lang=ko`);
    // The page's own table (a top-level const of its classic script).
    const labels = labelsSchema.parse(await page.evaluate("TEXT"));
    for (const status of VERIFICATION_STATUSES) expect(labels.ko.statuses[status], status).toMatch(HANGUL);
    for (const reason of REJECTION_REASONS) {
      expect(labels.ko.reasonLabels[reason], reason).toMatch(HANGUL);
      expect(labels.ko.reasons[reason], reason).toMatch(HANGUL);
      expect(labels.en.reasons[reason], reason).toBeTruthy();
    }
    await browser?.close();
    browser = undefined;
  });

  it("shows an underage rejection in Korean, codes beside, in view at 1280×800 without scrolling", async () => {
    const page = await launch({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${base}/?lang=ko`);
    const { popup } = await startPopup(page, "adult");
    await passWindow(popup, "minor");

    expect((await verdict(page)).kind).toBe("no");
    expect(await outcomeRows(page)).toMatchObject({
      용도: "성인 인증",
      상태: "거절됨 (rejected)",
      사유: "나이 미달 (underage)",
    });
    expect(await page.evaluate(() => window.scrollY)).toBe(0);
    const card = await page.locator("section.outcome").boundingBox();
    expect(card).not.toBeNull();
    if (card) {
      expect(card.y).toBeGreaterThanOrEqual(0);
      expect(card.y + card.height).toBeLessThanOrEqual(800);
      expect(card.x + card.width).toBeLessThanOrEqual(1280);
    }
    await finish(page, "desktop-1280x800-underage-ko", { fullPage: false });
  });

  it("breaks no word on a phone: the API labels, headings, legends and buttons, in Korean and English", async () => {
    const page = await launch({ mobile: true });
    for (const lang of ["ko", "en"]) {
      await page.goto(`${base}/?lang=${lang}`);
      const broken = await page.evaluate(() => {
        /** Line breaks inside `el` that fall between two characters of one word. */
        const midWord = (el: Element): string[] => {
          const chars: { char: string; top: number | null }[] = [];
          const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const text = node.textContent ?? "";
            for (let i = 0; i < text.length; i += 1) {
              const range = document.createRange();
              range.setStart(node, i);
              range.setEnd(node, i + 1);
              const rect = range.getClientRects()[0];
              chars.push({ char: text.charAt(i), top: rect && rect.width > 0 ? rect.top : null });
            }
          }
          const found: string[] = [];
          let previous: { char: string; top: number } | undefined;
          let spaceBetween = false;
          chars.forEach((c, i) => {
            if (c.top === null || /\s/.test(c.char)) {
              spaceBetween = true;
              return;
            }
            const newLine = previous !== undefined && c.top > previous.top + 2;
            const allowed = spaceBetween || /[.\-/(]/.test(previous?.char ?? "") || c.char === "(";
            if (newLine && !allowed) {
              const all = chars.map((x) => x.char).join("");
              found.push(`${all.slice(Math.max(0, i - 8), i)}|${all.slice(i, i + 8)}`);
            }
            previous = { char: c.char, top: c.top };
            spaceBetween = false;
          });
          return found;
        };
        const problems: string[] = [];
        for (const el of document.querySelectorAll("h1, h2, legend, .choice label, button, .hint")) {
          problems.push(...midWord(el));
          const box = el.getBoundingClientRect();
          if (box.right > document.documentElement.clientWidth) problems.push(`overflows: ${el.textContent}`);
        }
        return problems;
      });
      expect(broken, lang).toEqual([]);
      // The V2 label takes at most two lines: "V2 (PortOne." and "requestIdentityVerification)".
      const label = await page.locator("label[for=api-v2]").boundingBox();
      const lineHeight = await page
        .locator("label[for=api-v2]")
        .evaluate((el) => Number.parseFloat(getComputedStyle(el).lineHeight));
      expect(label?.height ?? 0).toBeLessThanOrEqual(2 * lineHeight + 1);
      await saveScreenshot(page, `ui-phone-labels-${lang}`, { fullPage: false });
    }
    await browser?.close();
    browser = undefined;
  });

  it("keeps the account ID through a redirect and shows the existing account of a duplicate", async () => {
    const page = await launch();
    await page.goto(`${base}/?lang=en`);
    await page.fill("#account-ref", "e2e-ui-first");
    const first = await startPopup(page, "signup");
    await passWindow(first.popup, "kcp");
    expect((await verdict(page)).kind).toBe("ok");

    await page.fill("#account-ref", "e2e-ui-second");
    await page.check("#signup-mode-redirect");
    await page.click("#signup-form button[type=submit]");
    await page.waitForURL(/\/emulator\/browser\/certification\?/);
    await passWindow(page, "kcp");
    await page.waitForURL((url) => url.pathname === "/" && url.searchParams.has("verification_id"));

    expect((await verdict(page)).kind).toBe("no");
    expect(await outcomeRows(page)).toMatchObject({
      Status: "rejected",
      Reason: "duplicate_account",
      "Account ID": "e2e-ui-second",
      "Existing account": "e2e-ui-first",
    });
    expect(await page.inputValue("#account-ref")).toBe("e2e-ui-second");
    // The account signed up is the one a phone-number change re-verifies.
    expect(await page.inputValue("#reverify-ref")).toBe("e2e-ui-first");
    await finish(page, "redirect-duplicate-kept-account");
  });

  it("lists the window's personas in Korean with English beside, without codes or backticks", async () => {
    const page = await launch();
    await page.goto(`${base}/?lang=ko`);
    const { popup } = await startPopup(page, "adult");
    const text = (await popup.locator("main").textContent()) ?? "";
    expect(text).not.toContain("`");
    // No developer identifiers: persona ids, record field names, constant names.
    expect(text).not.toMatch(/\b[A-Za-z]+_[A-Za-z0-9_]+\b/);
    for (const word of ["EMULATOR", "unique_key", "pg_provider", "certified:", "inicis_unified", "kcp_v2"]) {
      expect(text).not.toContain(word);
    }
    for (const id of PERSONA_IDS) {
      const label = (await popup.locator(`label[for=persona-${id}]`).textContent()) ?? "";
      const { ko, en } = PERSONAS[id].shown;
      expect(ko, id).toMatch(HANGUL);
      expect(label, id).toContain(`${ko} (${en})`);
    }
    await saveScreenshot(popup, "ui-window-personas");
    await popup.getByRole("button", { name: /Cancel/ }).click();
    await browser?.close();
    browser = undefined;
  });

  it("marks the person who verified last in the window, and verifies another when the tester picks one", async () => {
    const page = await launch();
    await page.goto(`${base}/?lang=ko`);
    const first = await startPopup(page, "adult");
    // A fresh browser: nobody verified yet, the first persona is chosen and nobody is marked.
    expect(await first.popup.locator(".last").count()).toBe(0);
    await passWindow(first.popup, "kcp");
    expect((await verdict(page)).kind).toBe("ok");

    const second = await startPopup(page, "adult");
    expect(await second.popup.isChecked("#persona-kcp")).toBe(true);
    const marked = second.popup.locator(".choice", { has: second.popup.locator(".last") });
    expect(await marked.count()).toBe(1);
    expect(await marked.locator("input").getAttribute("id")).toBe("persona-kcp");
    expect(await marked.textContent()).toContain("지난번에 인증한 사람");
    await saveScreenshot(second.popup, "ui-window-last-verified");
    await passWindow(second.popup, "minor");
    await page.locator("#outcome .verdict.no").waitFor();
    expect(await outcomeRows(page)).toMatchObject({ 사유: "나이 미달 (underage)" });

    const third = await startPopup(page, "adult");
    expect(await third.popup.isChecked("#persona-minor")).toBe(true);
    await third.popup.getByRole("button", { name: /Cancel/ }).click();
    await finish(page, "window-other-person");
  });
});
