/**
 * `service.create` takes the policy in its short form (`{ minAge: 19 }`), fills the defaults and
 * validates it: no `resolvePolicy`/`validatePolicy` needed, and nothing stored for an invalid one.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CreateVerificationInput,
  createKeyring,
  createVerificationService,
  openStore,
  RequestError,
  type Store,
  type VerificationService,
} from "../../src/index.js";

describe("service.create with a short-form policy", () => {
  let dir: string;
  let store: Store;
  let service: VerificationService;
  let writes = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "certgate-short-policy-"));
    store = await openStore({
      databaseUrl: join(dir, "short.sqlite"),
      keyring: createKeyring({ secret: "short-policy-secret-not-a-real-one-00" }),
    });
    // The real store (a frozen object of methods), its writes counted.
    const counted: Store = {
      ...store,
      createVerification: (verification) => {
        writes += 1;
        return store.createVerification(verification);
      },
    };
    service = createVerificationService({
      store: counted,
      v1: { getCertification: () => Promise.reject(new Error("not called")) },
    });
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stores the resolved policy: the number an international age, the defaults filled", async () => {
    const created = await service.create({ policy: { minAge: 19 }, accountRef: "short-1" });
    expect((await service.get(created.id))?.policy).toEqual({
      minAge: { age: 19, rule: "international" },
      freshnessSeconds: 600,
      futureToleranceSeconds: 60,
      judgeAgeAt: "verification",
      requirePersonKey: true,
    });
  });

  it("takes no policy at all: no age bound, no person key required without an account", async () => {
    const created = await service.create({});
    expect([created.policy.minAge, created.policy.requirePersonKey]).toEqual([undefined, false]);
  });

  it("refuses an invalid policy with a RequestError before anything is stored", async () => {
    const input: CreateVerificationInput = { policy: { minAge: 30, maxAge: 20 }, accountRef: "short-bad" };
    const before = writes;
    const refused = await service.create(input).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RequestError);
    expect(refused).toMatchObject({ code: "invalid_request", details: { problems: [expect.any(String)] } });
    expect(writes).toBe(before);
  });
});
