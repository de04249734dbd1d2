/**
 * The `/v2/browser-sdk.js` stand-in on an emulator running alone, used by a merchant page on another
 * origin: `PortOne.requestIdentityVerification` in POPUP and REDIRECTION window types, the record it
 * leaves under the merchant-chosen id, a spent id, an unknown store and a cancel.
 *
 * Not looped over the API versions with sdk.test.ts: see that file's header for why.
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

const responseSchema = z
  .object({
    transactionType: z.literal("IDENTITY_VERIFICATION"),
    identityVerificationId: z.string(),
    identityVerificationTxId: z.string(),
    code: z.string().optional(),
    message: z.string().optional(),
  })
  .strict();

/** The merchant page: loads the V2 SDK from the emulator and records each response in the DOM. */
function merchantPage(emulatorUrl: string): string {
  return `<!doctype html><html><head><meta charset="utf-8">
<script src="${emulatorUrl}/v2/browser-sdk.js"></script></head><body><ol id="answers"></ol>
<script>
window.run = function (params) {
  PortOne.requestIdentityVerification(params).then(function (response) {
    var li = document.createElement("li");
    li.textContent = JSON.stringify(response === undefined ? null : response);
    document.getElementById("answers").appendChild(li);
  });
};
</script></body></html>`;
}

/** Request parameters of the test merchant, with `overrides`. */
function request(identityVerificationId: string, overrides: Record<string, unknown> = {}) {
  return {
    storeId: TEST_MERCHANT.storeId,
    identityVerificationId,
    channelKey: "channel-key-emulator-danal",
    ...overrides,
  };
}

describe.runIf(CHROMIUM_AVAILABLE)("the browser-sdk.js (V2) stand-in on a lone emulator", () => {
  let emulator: Emulator;
  let served: ServedEmulator;
  let browser: BrowserSession | undefined;
  let merchant: Server;
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

  async function openMerchant(options: { mobile?: boolean } = {}): Promise<Page> {
    browser = await openBrowser(options);
    await browser.page.goto(`${MERCHANT_ORIGIN}/verify`);
    return browser.page;
  }

  async function runPopup(page: Page, params: Record<string, unknown>) {
    const [popup] = await Promise.all([
      page.waitForEvent("popup"),
      page.evaluate((p) => Reflect.get(window, "run")(p), params),
    ]);
    await popup.waitForLoadState();
    return popup;
  }

  async function firstAnswer(page: Page) {
    await page.locator("#answers li").first().waitFor();
    return responseSchema.parse(JSON.parse((await page.locator("#answers li").first().textContent()) ?? ""));
  }

  async function passWindow(window: Page) {
    await window.check("#persona-adult");
    await window.getByRole("button", { name: /Send code/ }).click();
    await window.fill("#otp", EMULATOR_OTP_CODE);
    await window.getByRole("button", { name: /Confirm/ }).click();
  }

  async function fetchRecord(id: string) {
    const res = await fetch(
      `${served.url}/identity-verifications/${encodeURIComponent(id)}?storeId=${TEST_MERCHANT.storeId}`,
      { headers: { authorization: `PortOne ${TEST_MERCHANT.v2ApiSecret}` } },
    );
    return z
      .object({ id: z.string(), status: z.string(), customData: z.string().optional() })
      .parse(await res.json());
  }

  it("answers a popup across origins with V2's response and leaves a VERIFIED record", async () => {
    const page = await openMerchant();
    const popup = await runPopup(page, request("iv-sdk-popup", { customData: '{"order":"o-1"}' }));
    await passWindow(popup);

    expect(await firstAnswer(page)).toEqual({
      transactionType: "IDENTITY_VERIFICATION",
      identityVerificationId: "iv-sdk-popup",
      identityVerificationTxId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(await fetchRecord("iv-sdk-popup")).toEqual({
      id: "iv-sdk-popup",
      status: "VERIFIED",
      customData: '{"order":"o-1"}',
    });
    await saveScreenshot(page, "sdk-v2-popup-verified");
  });

  it("navigates for REDIRECTION and lands on redirectUrl with the response as query", async () => {
    const page = await openMerchant();
    const redirectUrl = `${MERCHANT_ORIGIN}/back?keep=1`;
    await page.evaluate(
      (p) => Reflect.get(window, "run")(p),
      request("iv-sdk-redirect", { redirectUrl, windowType: { pc: "REDIRECTION", mobile: "REDIRECTION" } }),
    );
    await page.waitForURL(/\/browser\/identity-verification\?/);
    await passWindow(page);

    await page.waitForURL((url) => url.pathname === "/back");
    const query = Object.fromEntries(new URL(page.url()).searchParams);
    expect(query).toEqual({
      keep: "1",
      transactionType: "IDENTITY_VERIFICATION",
      identityVerificationId: "iv-sdk-redirect",
      identityVerificationTxId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect((await fetchRecord("iv-sdk-redirect")).status).toBe("VERIFIED");
  });

  describe("failures carry a code", () => {
    it.each([
      ["an id already VERIFIED", "iv-sdk-spent", {}, "ALREADY_VERIFIED"],
      ["an unknown storeId", "iv-sdk-store", { storeId: "store-unknown" }, "INVALID_STORE"],
    ] as const)("%s", async (_name, id, overrides, code) => {
      if (code === "ALREADY_VERIFIED") emulator.createIdentityVerification({ identityVerificationId: id });
      const page = await openMerchant();
      const popup = await runPopup(page, request(id, overrides));
      if (code === "ALREADY_VERIFIED") await passWindow(popup);

      expect(await firstAnswer(page)).toMatchObject({ identityVerificationId: id, code });
    });

    it("a cancel answers FAILURE_TYPE_PG and leaves the id FAILED", async () => {
      const page = await openMerchant();
      const popup = await runPopup(page, request("iv-sdk-cancel"));
      await popup.getByRole("button", { name: /Cancel/ }).click();

      expect(await firstAnswer(page)).toMatchObject({ code: "FAILURE_TYPE_PG" });
      expect((await fetchRecord("iv-sdk-cancel")).status).toBe("FAILED");
    });
  });
});
