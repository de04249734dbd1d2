/**
 * An instance whose secrets do not derive the key a stored field was sealed under — one still on
 * the old CERTGATE_SECRET alone while others seal under a new one, a rolling secret change done in
 * the wrong order — answers reads of those verifications with 503 `store_unknown_key` and
 * Retry-After (another instance, or this one restarted with both secrets, can answer), and logs the
 * key's id; it was a 500 `internal_error` whose log line said only "Error". Real SQLite store, real
 * keyrings; the service is never asked of PortOne.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  createHttpApp,
  createKeyring,
  createV1Client,
  createVerificationService,
  openStore,
  toErrorResponse,
  UnknownKeyError,
} from "../../src/index.js";
import { makeIdentity, makeVerification, NOW, uid, verified } from "../store/fixtures.js";

const OLD = "unknown-key-old-secret-000000000000000000";
const NEW = "unknown-key-new-secret-111111111111111111";
const API_KEY = "unknown_key_test_api_key_0001";
const dir = mkdtempSync(join(tmpdir(), "certgate-unknown-key-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a stored field sealed under a key this instance's secrets do not derive", () => {
  it("is a 503 store_unknown_key with Retry-After, its key id logged, never a 500", async () => {
    const databaseUrl = join(dir, "certgate.db");
    // Sealed by an instance already on the new secret.
    const sealing = await openStore({ databaseUrl, keyring: createKeyring({ secret: NEW }) });
    const v = await sealing.createVerification(makeVerification({ accountRef: uid("acct") }));
    await sealing.completeVerification({
      verificationId: v.id,
      upstreamId: uid("imp"),
      decision: verified(makeIdentity()),
      now: NOW,
    });
    await sealing.close();

    // Read by one still on the old secret alone.
    const store = await openStore({ databaseUrl, keyring: createKeyring({ secret: OLD }) });
    try {
      await expect(store.getVerification(v.id)).rejects.toBeInstanceOf(UnknownKeyError);
      const lines: Record<string, unknown>[] = [];
      const logger = {
        info() {},
        warn() {},
        error: (fields: Record<string, unknown>) => lines.push(fields),
      };
      const app = createHttpApp({
        service: createVerificationService({
          store,
          v1: createV1Client({ apiKey: "key_0000", apiSecret: "secret_0000", baseUrl: "http://127.0.0.1:1" }),
        }),
        apiKeys: [API_KEY],
        returnOrigins: [],
        sandbox: false,
        sdk: { impCode: "imp00000000" },
        logger,
      });
      const res = await app.fetch(
        new Request(`http://certgate.test/api/verifications/${v.id}`, {
          headers: { authorization: `Bearer ${API_KEY}` },
        }),
      );
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("1");
      expect(await res.json()).toMatchObject({ error: { code: "store_unknown_key" } });
      const newKeyId = createKeyring({ secret: NEW }).currentKeyId.slice(0, 12);
      expect(lines).toContainEqual(expect.objectContaining({ code: "unknown_key", key_id: newKeyId }));
      // The id comes from the database: only a key id's characters reach a message or a log line.
      expect(new UnknownKeyError("ab\ncd<script>ef").keyId).toBe("abcdcef");
      // The library's own mapper answers the same.
      expect(toErrorResponse(new UnknownKeyError(newKeyId))).toMatchObject({
        status: 503,
        body: { error: { code: "store_unknown_key" } },
      });
    } finally {
      await store.close();
    }
  });
});
