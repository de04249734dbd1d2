/**
 * The token cache on its own, fed by the emulator's real `POST /users/getToken` (in process).
 */
import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UpstreamError } from "../../src/core/errors.js";
import { createEmulator, type Emulator, TEST_MERCHANT } from "../../src/emulator/index.js";
import { type ClientEvent, createTokenManager, type TokenManager } from "../../src/portone/index.js";
import { v1TokenSchema } from "../../src/portone/v1/schemas.js";
import { START_TIME } from "./emulator-target.js";
import { rejectionOf } from "./v1-contract.js";

const MINUTE = 60_000;

let emulator: Emulator;
beforeEach(() => {
  emulator = createEmulator({ startTime: START_TIME });
});
afterEach(() => {
  emulator.reset();
});

/** getToken straight at the emulator; a non-200 throws (as the client's request function does). */
async function fetchToken() {
  const res = await emulator.fetch("http://emulator.local/users/getToken", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ imp_key: TEST_MERCHANT.impKey, imp_secret: TEST_MERCHANT.impSecret }),
  });
  if (res.status !== 200)
    throw new UpstreamError("unavailable", { method: "POST", url: "/users/getToken", status: res.status });
  const body: unknown = await res.json();
  if (typeof body !== "object" || body === null || !("response" in body)) throw new Error("not an envelope");
  return v1TokenSchema.parse(body.response);
}

function makeManager(overrides: { marginSeconds?: number; skewMs?: number } = {}): {
  tokens: TokenManager;
  events: ClientEvent[];
} {
  const events: ClientEvent[] = [];
  const tokens = createTokenManager({
    fetchToken,
    now: () => emulator.clock.now() - (overrides.skewMs ?? 0),
    ...(overrides.marginSeconds === undefined ? {} : { marginSeconds: overrides.marginSeconds }),
    onEvent: (event) => events.push(event),
  });
  return { tokens, events };
}

const getTokenCalls = () => emulator.stats().requests.getToken;

describe("createTokenManager", () => {
  it("shares one getToken among 100 concurrent cold callers", async () => {
    const { tokens } = makeManager();
    const all = await Promise.all(Array.from({ length: 100 }, () => tokens.getToken()));
    expect(new Set(all).size).toBe(1);
    expect(getTokenCalls()).toBe(1);
  });

  it("keeps the token out of inspect() and JSON", async () => {
    const { tokens } = makeManager();
    const token = await tokens.getToken();
    const shown = `${inspect(tokens, { depth: 10, showHidden: true })}${JSON.stringify(tokens)}${String(tokens)}`;
    expect(shown.includes(token)).toBe(false);
  });

  it("ignores invalidate() for a token that was already replaced", async () => {
    const { tokens } = makeManager();
    const first = await tokens.getToken();
    emulator.revokeTokens();
    tokens.invalidate(first);
    const second = await tokens.getToken();
    tokens.invalidate(first); // a late 401 for the old token
    expect(await tokens.getToken()).toBe(second);
    expect(getTokenCalls()).toBe(2);
  });

  it("keeps using a still-valid token when the ahead-of-expiry refresh fails", async () => {
    const { tokens } = makeManager();
    const token = await tokens.getToken();
    emulator.clock.advance(29.5 * MINUTE);
    emulator.setFault({ route: "getToken", kind: "status", status: 503, times: 1 });
    expect(await tokens.getToken()).toBe(token);
    // The next call tries again, and PortOne extends the same token.
    expect(await tokens.getToken()).toBe(token);
    expect(getTokenCalls()).toBe(3);
  });

  it("fails when the refresh fails and the token has expired", async () => {
    const { tokens } = makeManager();
    await tokens.getToken();
    emulator.clock.advance(31 * MINUTE);
    emulator.setFault({ route: "getToken", kind: "status", status: 503, times: 1 });
    expect(await rejectionOf(tokens.getToken())).toBeInstanceOf(UpstreamError);
  });

  it("does not ask on every call when a wide margin opens before PortOne's extension window", async () => {
    const { tokens, events } = makeManager({ marginSeconds: 5 * 60 });
    await tokens.getToken();
    emulator.clock.advance(26 * MINUTE); // in the margin, not yet in PortOne's last minute
    for (let i = 0; i < 10; i++) await tokens.getToken();
    expect(getTokenCalls()).toBe(2);
    expect(events).toEqual([
      { type: "token_refresh", reason: "cold" },
      { type: "token_refresh", reason: "expiring" },
    ]);
  });

  it.each([
    ["ahead", 10 * MINUTE],
    ["behind", -10 * MINUTE],
  ])("keeps the expiry on the local clock when PortOne's clock is 10 minutes %s", async (_, skewMs) => {
    const { tokens } = makeManager({ skewMs });
    await tokens.getToken();
    emulator.clock.advance(28 * MINUTE);
    await tokens.getToken();
    expect(getTokenCalls()).toBe(1);
    emulator.clock.advance(1.5 * MINUTE);
    await tokens.getToken();
    expect(getTokenCalls()).toBe(2);
  });
});
