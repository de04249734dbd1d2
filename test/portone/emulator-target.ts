/**
 * The emulator as a V1 client target, reached in process (`emulator.fetch`) or over a real socket
 * (`serveEmulator` + the client's default node:http transport). A fresh emulator per test keeps stats and clocks exact.
 */
import { z } from "zod";
import {
  createEmulator,
  type Emulator,
  type PersonaId,
  serveEmulator,
  TEST_MERCHANT,
} from "../../src/emulator/index.js";
import type { V1ClientOptions } from "../../src/portone/index.js";
import { nodeExchange } from "../../src/portone/node-transport.js";
import { setDefaultExchange } from "../../src/portone/transport.js";

// As the `certgate` entry and the service do: the socket target exercises the node:http transport.
setDefaultExchange(nodeExchange);

export type Transport = "in-process" | "socket";
export const TRANSPORTS: readonly Transport[] = ["in-process", "socket"];

/** 2025-06-01 00:00 UTC: the emulator clock stands still here until a test moves it. */
export const START_TIME = Date.UTC(2025, 5, 1);

const IN_PROCESS_URL = "http://emulator.local";

export interface EmulatorTarget {
  emulator: Emulator;
  transport: Transport;
  baseUrl: string;
  /** Client options reaching this emulator as {@link TEST_MERCHANT}, on the emulator's clock. */
  clientOptions(overrides?: Partial<V1ClientOptions>): V1ClientOptions;
  /** Creates a record of `persona` for the test merchant; returns its imp_uid. */
  certification(persona?: PersonaId): string;
  /** `POST /users/getToken` straight at the emulator, outside the client. */
  rawToken(): Promise<string>;
  close(): Promise<void>;
}

export async function startEmulatorTarget(transport: Transport): Promise<EmulatorTarget> {
  const emulator = createEmulator({ admin: true, startTime: START_TIME });
  const served = transport === "socket" ? await serveEmulator(emulator, { port: 0 }) : undefined;
  const baseUrl = served?.url ?? IN_PROCESS_URL;
  const transportFetch = served ? globalThis.fetch : emulator.fetch;
  // Over a socket the client uses its default transport (node:http with a keep-alive agent), as in production.
  const clientFetch = served ? undefined : emulator.fetch;
  return {
    emulator,
    transport,
    baseUrl,
    clientOptions: (overrides = {}) => ({
      apiKey: TEST_MERCHANT.impKey,
      apiSecret: TEST_MERCHANT.impSecret,
      baseUrl,
      fetch: clientFetch,
      now: () => emulator.clock.now(),
      // Generous: 200 concurrent lookups over a socket on a loaded 2-core CI box; timeout tests set their own.
      timeoutMs: 10_000,
      retries: 2,
      retryBaseDelayMs: 1,
      ...overrides,
    }),
    certification: (persona = "adult") => emulator.createCertification({ persona }).imp_uid,
    async rawToken() {
      const res = await transportFetch(`${baseUrl}/users/getToken`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ imp_key: TEST_MERCHANT.impKey, imp_secret: TEST_MERCHANT.impSecret }),
      });
      return tokenOf(await res.json());
    },
    close: async () => {
      await served?.close();
    },
  };
}

const tokenBody = z.object({ response: z.object({ access_token: z.string() }) });

/** The access token of a getToken body. */
export function tokenOf(body: unknown): string {
  return tokenBody.parse(body).response.access_token;
}
