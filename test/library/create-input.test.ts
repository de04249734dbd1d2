/**
 * `service.create` and `service.unbindAccount` from JavaScript: the shapes the HTTP body's schema
 * checks are checked by the service too, so a library caller's mistake is a RequestError and nothing
 * is stored — never a number stored as "42.0", a return address that turns the person's way back
 * into a 500 after the verification was recorded, or a TypeError. Over a real SQLite file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmulator, TEST_MERCHANT } from "../../src/emulator/index.js";
import {
  type CreateVerificationInput,
  createKeyring,
  createV1Client,
  createVerificationService,
  openStore,
  RequestError,
  type Store,
  type VerificationService,
} from "../../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "certgate-create-input-"));
const file = join(dir, "create.sqlite");
let store: Store;
let service: VerificationService;

beforeAll(async () => {
  const emulator = createEmulator();
  store = await openStore({
    databaseUrl: file,
    keyring: createKeyring({ secret: "create-input-test-secret-not-real-0000" }),
  });
  service = createVerificationService({
    store,
    v1: createV1Client({
      apiKey: TEST_MERCHANT.impKey,
      apiSecret: TEST_MERCHANT.impSecret,
      baseUrl: "http://emulator.local",
      fetch: emulator.fetch,
    }),
  });
});
afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

function storedCount(): number {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    return (db.prepare("select count(*) as n from verifications").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function refusal(run: () => Promise<unknown>): Promise<RequestError> {
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RequestError);
  return error as RequestError;
}

describe("service.create refuses what the HTTP body's schema refuses, and stores nothing", () => {
  it.each<[string, unknown, string | undefined]>([
    ["no object", null, undefined],
    ["an array", [], undefined],
    ["a number as accountRef", { accountRef: 42 }, "accountRef"],
    ["an empty accountRef", { accountRef: "" }, "accountRef"],
    ["an accountRef with a space", { accountRef: "user 42" }, "accountRef"],
    ["an accountRef of 129 characters", { accountRef: "a".repeat(129) }, "accountRef"],
    ["a returnUrl that is not a URL", { returnUrl: "not a url" }, "returnUrl"],
    ["a returnUrl that is not http(s)", { returnUrl: "javascript:alert(1)" }, "returnUrl"],
    ["a returnUrl with credentials", { returnUrl: "https://user:pw@shop.example/done" }, "returnUrl"],
    [
      "a returnUrl over 18,432 characters",
      { returnUrl: `https://shop.example/${"a".repeat(18_432)}` },
      "returnUrl",
    ],
    ["an apiVersion that is not one", { apiVersion: 5 }, "apiVersion"],
  ])("%s", async (_name, input, field) => {
    const before = storedCount();
    const error = await refusal(() => service.create(input as CreateVerificationInput));
    expect(error.code).toBe("invalid_request");
    expect(error.details?.field).toBe(field);
    expect(storedCount()).toBe(before);
  });

  it("stores what passes, its return address as given", async () => {
    const before = storedCount();
    const created = await service.create({
      accountRef: "user-42",
      policy: { minAge: 19 },
      returnUrl: "https://shop.example/signup/done?step=2",
    });
    expect(created).toMatchObject({
      accountRef: "user-42",
      returnUrl: "https://shop.example/signup/done?step=2",
    });
    expect(storedCount()).toBe(before + 1);
  });
});

describe("service.unbindAccount refuses what cannot be an account reference, and only that", () => {
  it.each([42, null, "", "a".repeat(4_097)])("%s", async (accountRef) => {
    const error = await refusal(() => service.unbindAccount(accountRef as string));
    expect(error).toMatchObject({ code: "invalid_request", details: { field: "accountRef" } });
  });

  // Before the creation's check, the library stored any string: unbinding (an erasure path) must
  // still reach those. Nothing is bound to these, so each answers false rather than a refusal.
  it.each(["nobody-here", "user 42", "김철수", "a".repeat(129)])(
    "reaches the store for %s",
    async (accountRef) => {
      await expect(service.unbindAccount(accountRef)).resolves.toBe(false);
    },
  );
});

describe("a return address percent-encoded by the HTTP layer is not refused for its length", () => {
  it("takes 300 Hangul syllables (2,048 characters as sent, 2,721 once encoded)", async () => {
    const returnUrl = `https://shop.example/${"%EA%B0%80".repeat(300)}`;
    await expect(service.create({ returnUrl })).resolves.toMatchObject({ returnUrl });
  });
});
