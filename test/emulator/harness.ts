/**
 * Test harness: one emulator reached either in process (`emulator.fetch`) or over a real socket
 * (`serveEmulator` + the global fetch), with small helpers for the V1 calls.
 */
import { z } from "zod";
import {
  createEmulator,
  type Emulator,
  type EmulatorMerchant,
  type EmulatorOptions,
  serveEmulator,
  TEST_MERCHANT,
} from "../../src/emulator/index.js";

export type Transport = "in-process" | "socket";
export const TRANSPORTS: readonly Transport[] = ["in-process", "socket"];

/** 2025-06-01 09:00 KST (00:00 UTC), a Sunday in no special week. */
export const START_TIME = Date.UTC(2025, 5, 1);
export const START_S = START_TIME / 1000;

export interface Harness {
  emulator: Emulator;
  transport: Transport;
  /** Calls `path` (e.g. "/users/getToken") through the transport. */
  call(path: string, init?: RequestInit): Promise<Response>;
  /** `POST /users/getToken` as JSON; returns the parsed token response. */
  getToken(merchant?: EmulatorMerchant): Promise<TokenResponse>;
  /** `GET /certifications/{impUid}` with `token` as a Bearer token. */
  getCertification(impUid: string, token: string): Promise<Response>;
  close(): Promise<void>;
}

export async function startHarness(transport: Transport, options: EmulatorOptions = {}): Promise<Harness> {
  const emulator = createEmulator({ startTime: START_TIME, ...options });
  const served = transport === "socket" ? await serveEmulator(emulator) : undefined;
  const call = (path: string, init?: RequestInit) =>
    served ? fetch(`${served.url}${path}`, init) : emulator.fetch(`http://emulator.test${path}`, init);
  const harness: Harness = {
    emulator,
    transport,
    call,
    async getToken(merchant = TEST_MERCHANT) {
      const res = await call(
        "/users/getToken",
        jsonBody({ imp_key: merchant.impKey, imp_secret: merchant.impSecret }),
      );
      const body = tokenEnvelope.parse(await res.json());
      if (res.status !== 200) throw new Error(`getToken answered ${res.status}`);
      return body.response;
    },
    getCertification: (impUid, token) =>
      call(`/certifications/${impUid}`, { headers: { authorization: `Bearer ${token}` } }),
    close: async () => {
      await served?.close();
    },
  };
  return harness;
}

/** `RequestInit` for a JSON POST. */
export function jsonBody(body: unknown, method = "POST"): RequestInit {
  return { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

/** `RequestInit` for a form POST. */
export function formBody(fields: Record<string, string>): RequestInit {
  return { method: "POST", body: new URLSearchParams(fields) };
}

export const envelopeSchema = z.object({
  code: z.number(),
  message: z.string().nullable(),
  response: z.unknown(),
});

const tokenResponse = z.object({ access_token: z.string(), now: z.number(), expired_at: z.number() });
export type TokenResponse = z.infer<typeof tokenResponse>;
const tokenEnvelope = envelopeSchema.extend({ response: tokenResponse });

/** Parses a response body as a V1 envelope. */
export async function readEnvelope(res: Response) {
  return envelopeSchema.parse(await res.json());
}

/** The exact V1 404 body. */
export const NOT_FOUND_BODY = { code: -1, message: "인증결과가 존재하지 않습니다.", response: null };

/** mulberry32: a small seeded generator, uniform in [0, 1), so a run's fault hits are reproducible. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
