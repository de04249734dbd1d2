/**
 * The V1 contract against the real PortOne (api.iamport.kr, or PORTONE_LIVE_API_URL). Read-only: it
 * looks up one existing record and one unknown id, and asks for tokens. Runs only when
 * PORTONE_LIVE_API_KEY, PORTONE_LIVE_API_SECRET and PORTONE_LIVE_IMP_UID are set.
 */
import { describe } from "vitest";
import { z } from "zod";
import { V1_DEFAULT_BASE_URL, type V1ClientOptions } from "../../src/portone/index.js";
import { defineV1ContractTests } from "./v1-contract.js";

const REQUIRED = ["PORTONE_LIVE_API_KEY", "PORTONE_LIVE_API_SECRET", "PORTONE_LIVE_IMP_UID"] as const;

const env = z
  .object({
    PORTONE_LIVE_API_KEY: z.string().min(1),
    PORTONE_LIVE_API_SECRET: z.string().min(1),
    PORTONE_LIVE_IMP_UID: z.string().min(1),
    PORTONE_LIVE_API_URL: z.url().optional(),
  })
  .safeParse(process.env);

const tokenBody = z.object({ response: z.object({ access_token: z.string() }) });

if (env.success) {
  const live = env.data;
  const baseUrl = live.PORTONE_LIVE_API_URL ?? V1_DEFAULT_BASE_URL;
  const clientOptions = (): V1ClientOptions => ({
    apiKey: live.PORTONE_LIVE_API_KEY,
    apiSecret: live.PORTONE_LIVE_API_SECRET,
    baseUrl,
    timeoutMs: 10_000,
  });

  describe("V1 client, live PortOne", () => {
    defineV1ContractTests({
      clientOptions,
      knownImpUid: async () => live.PORTONE_LIVE_IMP_UID,
      unknownImpUid: "imp_000000000000",
      async rawToken() {
        const res = await fetch(`${baseUrl}/users/getToken`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            imp_key: live.PORTONE_LIVE_API_KEY,
            imp_secret: live.PORTONE_LIVE_API_SECRET,
          }),
        });
        return tokenBody.parse(await res.json()).response.access_token;
      },
      // Polite to a shared production API; still enough to prove the single-flight token.
      concurrency: 20,
    });
  });
} else {
  console.info(`PortOne live tests skipped: set ${REQUIRED.join(", ")} to run them.`);
  describe.skip(`V1 client, live PortOne (set ${REQUIRED.join(", ")})`, () => {
    defineV1ContractTests({
      clientOptions: () => ({ apiKey: "unset", apiSecret: "unset" }),
      knownImpUid: async () => "unset",
      unknownImpUid: "unset",
      rawToken: async () => "unset",
      concurrency: 1,
    });
  });
}
