/**
 * The `/v1/iamport.js` stand-in on an emulator running alone, used by a merchant page on another
 * origin (a second local server): cross-origin popups and their origin checks, the redirect query,
 * unknown merchant codes, `min_age`, and the `KTF` spelling.
 *
 * Not looped over the API versions with sdk-v2.test.ts: the two stand-ins share no API (iamport.js's
 * `IMP.certification` callback rsp vs browser-sdk.js's `PortOne.requestIdentityVerification`
 * promise), no merchant page, no record shape and almost no behaviour (origin checks, KTF, min_age
 * are V1's; window types and a spent id are V2's), so one suite would be two suites behind ifs.
 */
import { createServer, type Server } from "node:http";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  createEmulator,
  EMULATOR_OTP_CODE,
  type Emulator,
  type ServedEmulator,
  serveEmulator,
  TEST_MERCHANT,
} from "../../src/emulator/index.js";
import { type BrowserSession, CHROMIUM_AVAILABLE, openBrowser, saveScreenshot } from "./browser.js";

const rspSchema = z
  .object({
    success: z.boolean(),
    imp_uid: z.string().nullable(),
    merchant_uid: z.string().nullable(),
    error_code: z.string().nullable(),
    error_msg: z.string().nullable(),
    pg_provider: z.string().nullable(),
    pg_type: z.literal("certification"),
  })
  .strict();

/** The merchant page: loads the SDK from the emulator and records each callback in the DOM. */
function merchantPage(emulatorUrl: string): string {
  return `<!doctype html><html><head><meta charset="utf-8">
<script src="${emulatorUrl}/v1/iamport.js"></script></head><body><ol id="answers"></ol>
<script>
window.run = function (code, params) {
  IMP.init(code);
  IMP.certification(params, function (rsp) {
    var li = document.createElement("li");
    li.textContent = JSON.stringify(rsp);
    document.getElementById("answers").appendChild(li);
  });
};
</script></body></html>`;
}

describe.runIf(CHROMIUM_AVAILABLE)("the iamport.js stand-in on a lone emulator", () => {
  let emulator: Emulator;
  let served: ServedEmulator;
  let browser: BrowserSession | undefined;
  let merchant: Server;
  /** The merchant site: every path answers the merchant page. */
  let MERCHANT_ORIGIN: string;

  beforeAll(async () => {
    emulator = createEmulator({ startTime: Date.parse("2026-06-15T03:00:00Z") });
    served = await serveEmulator(emulator);
    merchant = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(merchantPage(served.url));
    });
    await new Promise<void>((resolve) => merchant.listen(0, "127.0.0.1", resolve));
    const address = merchant.address();
    MERCHANT_ORIGIN = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  afterEach(async () => {
    await browser?.close();
    browser = undefined;
  });
  afterAll(async () => {
    await served?.close();
    merchant.closeAllConnections();
    await new Promise((resolve) => merchant.close(resolve));
  });

  async function openMerchant(options: { mobile?: boolean } = {}): Promise<{ page: Page }> {
    browser = await openBrowser(options);
    const { page } = browser;
    await page.goto(`${MERCHANT_ORIGIN}/signup`);
    return { page };
  }

  async function runPopup(page: Page, code: string, params: Record<string, unknown>) {
    const [popup] = await Promise.all([
      page.waitForEvent("popup"),
      page.evaluate(({ code, params }) => Reflect.get(window, "run")(code, params), { code, params }),
    ]);
    await popup.waitForLoadState();
    return popup;
  }

  async function answers(page: Page, count = 1) {
    await page
      .locator("#answers li")
      .nth(count - 1)
      .waitFor();
    return (await page.locator("#answers li").allTextContents()).map((text) =>
      rspSchema.parse(JSON.parse(text)),
    );
  }

  async function fetchRecord(impUid: string) {
    const token = z.object({ response: z.object({ access_token: z.string() }) }).parse(
      await (
        await fetch(`${served.url}/users/getToken`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ imp_key: TEST_MERCHANT.impKey, imp_secret: TEST_MERCHANT.impSecret }),
        })
      ).json(),
    ).response.access_token;
    const res = await fetch(`${served.url}/certifications/${impUid}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return z
      .object({
        response: z.object({
          merchant_uid: z.string(),
          certified: z.boolean(),
          name: z.string().nullable(),
          carrier: z.string().nullable(),
          origin: z.string().nullable(),
        }),
      })
      .parse(await res.json()).response;
  }

  it("answers a popup across origins with PortOne's rsp and leaves an ordinary record", async () => {
    const { page } = await openMerchant();
    const popup = await runPopup(page, TEST_MERCHANT.impCode, { merchant_uid: "mid_sdk_1", carrier: "KTF" });
    expect(await popup.inputValue("#carrier")).toBe("KT");
    await popup.check("#persona-adult");
    await popup.getByRole("button", { name: /Send code/ }).click();
    await popup.fill("#otp", EMULATOR_OTP_CODE);
    await popup.getByRole("button", { name: /Confirm/ }).click();

    const [rsp] = await answers(page);
    expect(rsp).toEqual({
      success: true,
      imp_uid: expect.stringMatching(/^imp_\d{12}$/),
      merchant_uid: "mid_sdk_1",
      error_code: null,
      error_msg: null,
      pg_provider: "danal",
      pg_type: "certification",
    });
    expect(await fetchRecord(rsp?.imp_uid ?? "")).toEqual({
      merchant_uid: "mid_sdk_1",
      certified: true,
      name: "김테스트",
      carrier: "SKT",
      origin: `${MERCHANT_ORIGIN}/signup`,
    });
    await saveScreenshot(page, "sdk-lone-emulator-popup");
  });

  it("ignores a forged message from any other origin or window, then reports the cancel once", async () => {
    const { page } = await openMerchant();
    const popup = await runPopup(page, TEST_MERCHANT.impCode, { merchant_uid: "mid_sdk_2" });
    const requestId = new URL(popup.url()).searchParams.get("request_id");
    // The merchant page's own origin knows the request id and sends a perfect success message.
    await page.evaluate((id) => {
      window.postMessage(
        {
          type: "certgate-emulator:certification",
          request_id: id,
          rsp: { success: true, imp_uid: "imp_000000000000", merchant_uid: "mid_sdk_2" },
        },
        "*",
      );
    }, requestId);
    await popup.getByRole("button", { name: /Cancel/ }).click();

    const all = await answers(page);
    await page.waitForTimeout(800);
    expect(await page.locator("#answers li").count()).toBe(1);
    expect(all[0]).toMatchObject({
      success: false,
      merchant_uid: "mid_sdk_2",
      error_code: "F0000",
      error_msg: "사용자가 본인인증을 취소하였습니다.",
    });
    expect(await fetchRecord(all[0]?.imp_uid ?? "")).toMatchObject({ certified: false, name: null });
  });

  it("reports closing the window without an answer as a cancel", async () => {
    const { page } = await openMerchant();
    const popup = await runPopup(page, TEST_MERCHANT.impCode, { merchant_uid: "mid_sdk_3" });
    await popup.close();
    const [rsp] = await answers(page);
    expect(rsp).toMatchObject({ success: false, imp_uid: null, error_code: "F0000" });
  });

  it("answers an unknown merchant code with an error rsp", async () => {
    const { page } = await openMerchant();
    await runPopup(page, "imp99999999", { merchant_uid: "mid_sdk_4" });
    const [rsp] = await answers(page);
    expect(rsp).toMatchObject({
      success: false,
      imp_uid: null,
      merchant_uid: "mid_sdk_4",
      error_code: "F1001",
    });
  });

  it("refuses a carrier spelled KT: the SDK spells it KTF", async () => {
    const { page } = await openMerchant();
    await runPopup(page, TEST_MERCHANT.impCode, { merchant_uid: "mid_sdk_5", carrier: "KT" });
    const [rsp] = await answers(page);
    expect(rsp).toMatchObject({ success: false, error_code: "F1004" });
  });

  it("refuses a person under min_age (international age) like Danal: a failure screen, then a cancel", async () => {
    const { page } = await openMerchant();
    const popup = await runPopup(page, TEST_MERCHANT.impCode, { merchant_uid: "mid_sdk_6", min_age: 19 });
    await popup.check("#persona-adult_year_only");
    await popup.getByRole("button", { name: /Send code/ }).click();
    await popup.fill("#otp", EMULATOR_OTP_CODE);
    await popup.getByRole("button", { name: /Confirm/ }).click();
    await popup.getByRole("alert").filter({ hasText: "19" }).waitFor();
    await saveScreenshot(popup, "sdk-min-age-refused-window");
    await popup.getByRole("button", { name: /Close/ }).click();

    const [rsp] = await answers(page);
    expect(rsp).toMatchObject({ success: false, error_code: "F0000", merchant_uid: "mid_sdk_6" });
  });

  it("shows an error for a wrong one-time code and accepts the right one after it", async () => {
    const { page } = await openMerchant();
    const popup = await runPopup(page, TEST_MERCHANT.impCode, { merchant_uid: "mid_sdk_7" });
    await popup.getByRole("button", { name: /Send code/ }).click();
    await popup.fill("#otp", "000000");
    await popup.getByRole("button", { name: /Confirm/ }).click();
    await popup.getByRole("alert").filter({ hasText: "does not match" }).waitFor();
    expect(await popup.getAttribute("#otp", "aria-invalid")).toBe("true");
    await popup.fill("#otp", EMULATOR_OTP_CODE);
    await popup.getByRole("button", { name: /Confirm/ }).click();
    const [rsp] = await answers(page);
    expect(rsp).toMatchObject({ success: true, merchant_uid: "mid_sdk_7" });
  });

  it("redirects a phone to m_redirect_url with imp_uid, merchant_uid and success", async () => {
    const { page } = await openMerchant({ mobile: true });
    await page.evaluate((params) => Reflect.get(window, "run")("imp00000000", params), {
      merchant_uid: "mid_sdk_8",
      m_redirect_url: `${MERCHANT_ORIGIN}/done?step=2`,
    });
    await page.waitForURL(/\/browser\/certification\?/);
    await page.getByRole("button", { name: /Send code/ }).click();
    await page.fill("#otp", EMULATOR_OTP_CODE);
    await page.getByRole("button", { name: /Confirm/ }).click();
    await page.waitForURL((url) => url.pathname === "/done");
    const query = new URL(page.url()).searchParams;
    expect(Object.fromEntries(query)).toEqual({
      step: "2",
      imp_uid: expect.stringMatching(/^imp_\d{12}$/),
      merchant_uid: "mid_sdk_8",
      success: "true",
    });
  });
});
