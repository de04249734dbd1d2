/**
 * Driving the demo page and the emulator's verification window in Chromium: start a use, pass the
 * window as a persona, read the outcome card. Shared by the demo's browser tests.
 */
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { z } from "zod";
import { EMULATOR_OTP_CODE, type PersonaId } from "../../src/emulator/index.js";
import { SANDBOX_API_KEY } from "../../src/server.js";

/** The demo page's uses, as its forms name them (`#<use>-form`, `#<use>-mode-popup`). */
export type Use = "signup" | "adult" | "reverify";

/** Starts a use in popup mode; returns the verification window and the created verification's JSON. */
export async function startPopup(page: Page, use: Use): Promise<{ popup: Page; created: unknown }> {
  await page.check(`#${use}-mode-popup`);
  const created = page.waitForResponse((res) => res.url().endsWith("/sandbox/verifications"));
  const [popup] = await Promise.all([
    page.waitForEvent("popup"),
    page.click(`#${use}-form button[type=submit]`),
  ]);
  await popup.waitForLoadState();
  return { popup, created: await (await created).json() };
}

/** In the verification window: pick a persona, ask for the code, enter it. */
export async function passWindow(window: Page, persona: PersonaId, otp = EMULATOR_OTP_CODE) {
  await window.check(`#persona-${persona}`);
  await window.getByRole("button", { name: /Send code/ }).click();
  await window.fill("#otp", otp);
  await window.getByRole("button", { name: /Confirm/ }).click();
}

/** The outcome card's verdict: its kind (`ok`, `no`, `cancel`, `error`) and its text. */
export async function verdict(page: Page) {
  const el = page.locator("#outcome .verdict");
  await el.waitFor();
  const className = (await el.getAttribute("class")) ?? "";
  return { kind: className.replace("verdict", "").trim(), text: (await el.textContent()) ?? "" };
}

/** The outcome card's rows, term → value. */
export async function outcomeRows(page: Page): Promise<Record<string, string>> {
  const terms = await page.locator("#outcome dt").allTextContents();
  const values = await page.locator("#outcome dd").allTextContents();
  expect(values).toHaveLength(terms.length);
  return Object.fromEntries(terms.map((term, i) => [term, values[i] ?? ""]));
}

const merchantViewSchema = z.object({
  verification: z.object({ status: z.string(), reason: z.string().nullable() }).passthrough(),
});

/** What the merchant backend reads of a verification (`GET /api/verifications/:id`). */
export async function merchantView(base: string, id: string) {
  const res = await fetch(`${base}/api/verifications/${id}`, {
    headers: { authorization: `Bearer ${SANDBOX_API_KEY}` },
  });
  return merchantViewSchema.parse(await res.json()).verification;
}
