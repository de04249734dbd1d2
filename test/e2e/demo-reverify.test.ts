/**
 * The demo's third use in Chromium, for each PortOne API version: a phone-number change re-verifies
 * the account signed up earlier (`purpose: "reverify"`). The same person passes; another person,
 * picked in the emulator's window, is refused `person_mismatch` and nothing about them reaches the
 * page or the merchant. Screenshots of each final state go to test-artifacts/e2e/.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_VERSIONS } from "../integration/api-versions.js";
import {
  type BrowserSession,
  CHROMIUM_AVAILABLE,
  openBrowser,
  type Sandbox,
  saveScreenshot,
  startSandbox,
} from "./browser.js";
import { merchantView, outcomeRows, passWindow, startPopup, verdict } from "./demo-page.js";

describe.runIf(CHROMIUM_AVAILABLE).each(API_VERSIONS)("the demo's phone-number change, %s", (version) => {
  let sandbox: Sandbox;
  let base: string;
  let browser: BrowserSession | undefined;

  beforeAll(async () => {
    sandbox = await startSandbox();
    base = sandbox.certgate.url;
    browser = await openBrowser({ viewport: { width: 1280, height: 800 } });
  });
  afterAll(async () => {
    await browser?.close();
    await sandbox?.close();
  });

  function page(): Page {
    if (!browser) throw new Error("no browser");
    return browser.page;
  }

  /** The re-verification started from the demo's third card, passed in its window as `persona`. */
  async function reverifyAs(persona: "adult" | "kcp") {
    const { popup, created } = await startPopup(page(), "reverify");
    // The window preselects the person who verified last (the account's holder): another is one pick.
    expect(await popup.isChecked("#persona-adult")).toBe(true);
    await passWindow(popup, persona);
    await page().locator("#outcome .verdict").waitFor();
    return (created as { id: string }).id;
  }

  // One browser for the whole story: sign up, then change the number as the holder, then as someone else.
  it("signs up, then re-verifies the same person: the number change is allowed", async () => {
    await page().goto(`${base}/?lang=ko`);
    if (version === "v2") await page().check("#api-v2");
    await page().fill("#account-ref", `e2e-holder-${version}`);
    const signup = await startPopup(page(), "signup");
    await passWindow(signup.popup, "adult");
    expect((await verdict(page())).kind).toBe("ok");
    // The account just signed up is the one the third card re-verifies.
    expect(await page().inputValue("#reverify-ref")).toBe(`e2e-holder-${version}`);

    const id = await reverifyAs("adult");
    expect(await verdict(page())).toEqual({ kind: "ok", text: "번호 변경 허용: 계정 주인이 맞습니다." });
    expect(await outcomeRows(page())).toMatchObject({
      용도: "휴대폰 번호 변경",
      API: version.toUpperCase(),
      상태: "인증됨 (verified)",
      "계정 ID": `e2e-holder-${version}`,
    });
    expect(await merchantView(base, id)).toMatchObject({
      status: "verified",
      reason: null,
      purpose: "reverify",
      account_ref: `e2e-holder-${version}`,
    });
    await saveScreenshot(page(), `${version}-reverify-same-person`, { fullPage: false });
  });

  it("re-verifies as another person: refused person_mismatch, nothing about that person shown", async () => {
    const id = await reverifyAs("kcp");
    expect((await verdict(page())).kind).toBe("no");
    const rows = await outcomeRows(page());
    expect(rows).toMatchObject({
      용도: "휴대폰 번호 변경",
      상태: "거절됨 (rejected)",
      사유: "계정 주인과 다른 사람 (person_mismatch)",
      "계정 ID": `e2e-holder-${version}`,
    });
    // Neither the other person's masked name nor any account is named.
    expect(Object.keys(rows)).not.toContain("이름 (가림)");
    expect(Object.keys(rows)).not.toContain("기존 계정");
    expect(await page().content()).not.toContain("오**트");
    expect(await merchantView(base, id)).toMatchObject({
      status: "rejected",
      reason: "person_mismatch",
      purpose: "reverify",
      identity: null,
      existing_account_ref: null,
    });
    await saveScreenshot(page(), `${version}-reverify-person-mismatch`, { fullPage: false });
  });

  it("refuses to re-verify an account nobody signed up with, before any window opens", async () => {
    await page().fill("#reverify-ref", `e2e-nobody-${version}`);
    await page().check("#reverify-mode-popup");
    await page().click("#reverify-form button[type=submit]");
    await page().locator("#outcome .verdict.error").waitFor();
    expect(await outcomeRows(page())).toMatchObject({
      "계정 ID": `e2e-nobody-${version}`,
      "오류 코드": "account_not_bound",
    });
    expect(browser?.context.pages()).toHaveLength(1);
    await saveScreenshot(page(), `${version}-reverify-not-bound`, { fullPage: false });
  });
});
