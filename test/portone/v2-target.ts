/**
 * The emulator as a V2 client target, in process or over a real socket, on top of the V1 target.
 */
import { TEST_MERCHANT } from "../../src/emulator/index.js";
import type { V2ClientOptions } from "../../src/portone/index.js";
import { type EmulatorTarget, startEmulatorTarget, type Transport } from "./emulator-target.js";

export interface V2EmulatorTarget extends EmulatorTarget {
  /** Client options reaching this emulator as {@link TEST_MERCHANT}'s store, on the emulator's clock. */
  v2Options(overrides?: Partial<V2ClientOptions>): V2ClientOptions;
}

export async function startV2Target(transport: Transport): Promise<V2EmulatorTarget> {
  const target = await startEmulatorTarget(transport);
  const v1 = target.clientOptions();
  return {
    ...target,
    v2Options: (overrides = {}) => ({
      apiSecret: TEST_MERCHANT.v2ApiSecret,
      storeId: TEST_MERCHANT.storeId,
      baseUrl: target.baseUrl,
      ...(v1.fetch ? { fetch: v1.fetch } : {}),
      now: () => target.emulator.clock.now(),
      // Generous: 200 concurrent lookups over a socket on a loaded 2-core CI box; timeout tests set their own.
      timeoutMs: 10_000,
      retries: 2,
      retryBaseDelayMs: 1,
      ...overrides,
    }),
  };
}
