/**
 * A PostgreSQL that stops answering without closing its connections (SIGSTOP to every process of
 * it: a frozen VM) bounds each query's wait (store/postgres/index.ts QUERY_TIMEOUT_MS): the store
 * answers `StoreError` `unavailable` (503 over HTTP), where a request on a pooled connection used to
 * wait for as long as the freeze lasted. Once the server runs again, the store serves again by
 * itself. On a PostgreSQL of the test's own (never the shared one).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreError } from "../../src/core/errors.js";
import type { Store } from "../../src/core/store.js";
import { createKeyring } from "../../src/store/crypto.js";
import { CONNECT_TIMEOUT_MS, openPostgresStore } from "../../src/store/postgres/index.js";
import { makeIdentity, makeVerification, NOW, uid, verified } from "../store/fixtures.js";
import { type OwnPostgres, startOwnPostgres } from "./own-postgres.js";

const QUERY_TIMEOUT_MS = 1_000;
const keyring = createKeyring({ secret: "postgres-frozen-test-secret-not-a-real-one" });

describe("a PostgreSQL that stops answering", { timeout: 120_000 }, () => {
  let own: OwnPostgres;
  let store: Store;
  beforeAll(async () => {
    own = await startOwnPostgres();
    store = await openPostgresStore({ connectionString: own.url, keyring, queryTimeoutMs: QUERY_TIMEOUT_MS });
  });
  afterAll(async () => {
    own?.freeze(false);
    await store?.close();
    await own?.remove();
  });

  it("is answered unavailable within the query timeout, and served again once it runs", async () => {
    const pending = await store.createVerification(makeVerification());
    const completion = {
      verificationId: pending.id,
      upstreamId: uid("imp"),
      decision: verified(makeIdentity()),
      now: NOW,
    };
    own.freeze(true);
    try {
      for (const attempt of [
        () => store.getVerification(pending.id),
        () => store.completeVerification(completion),
      ]) {
        const started = Date.now();
        const error = await attempt().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(StoreError);
        expect(error).toMatchObject({ code: "unavailable" });
        // The query's bound (or, for a connection made afresh, the connect timeout's), not the
        // freeze's length: it only ends below.
        expect(Date.now() - started).toBeLessThan(CONNECT_TIMEOUT_MS + QUERY_TIMEOUT_MS * 3);
      }
    } finally {
      own.freeze(false);
    }
    // Nothing was half-written, and the same completion works now.
    expect((await store.getVerification(pending.id))?.status).toBe("pending");
    expect((await store.completeVerification(completion)).kind).toBe("finished");
    expect((await store.getVerification(pending.id))?.status).toBe("verified");
  });
});
