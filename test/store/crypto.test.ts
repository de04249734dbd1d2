import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import type { PersonKey } from "../../src/core/identity.js";
import { createKeyring, generateSecret, MIN_SECRET_LENGTH, validateSecret } from "../../src/store/crypto.js";
import { secureRandomBytes } from "../../src/util/random.js";

const SECRET_A = "test-secret-A-0000000000000000000000000";
const SECRET_B = "test-secret-B-0000000000000000000000000";
const CI: PersonKey = { kind: "ci", value: `TEST-CI-${"1".repeat(80)}` };
const DI_DANAL: PersonKey = { kind: "di", provider: "danal", value: `TEST-DI-${"1".repeat(56)}` };

describe("keyed hashes of person keys", () => {
  it("are deterministic HMAC-SHA-256 in base64url under the current key", () => {
    const keyring = createKeyring({ secret: SECRET_A });
    const first = keyring.hashPersonKey(CI);
    expect(first).toEqual(createKeyring({ secret: SECRET_A }).hashPersonKey(CI));
    expect(first.keyId).toBe(keyring.currentKeyId);
    expect(first.hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it.each([
    ["another secret", createKeyring({ secret: SECRET_B }).hashPersonKey(CI).hash],
    [
      "the same value as a DI",
      createKeyring({ secret: SECRET_A }).hashPersonKey({ ...DI_DANAL, value: CI.value }).hash,
    ],
    [
      "the same DI from another provider",
      createKeyring({ secret: SECRET_A }).hashPersonKey({ ...DI_DANAL, provider: "inicis_unified" }).hash,
    ],
  ])("differ for %s", (_case, other) => {
    const keyring = createKeyring({ secret: SECRET_A });
    expect(other).not.toBe(keyring.hashPersonKey(CI).hash);
    expect(other).not.toBe(keyring.hashPersonKey(DI_DANAL).hash);
  });
});

describe("key ids", () => {
  it("are 12 hex characters, stable per secret, distinct across secrets, and not the secret", () => {
    const a = createKeyring({ secret: SECRET_A }).currentKeyId;
    const b = createKeyring({ secret: SECRET_B }).currentKeyId;
    expect(a).toMatch(/^[0-9a-f]{12}$/);
    expect(createKeyring({ secret: SECRET_A }).currentKeyId).toBe(a);
    expect(b).not.toBe(a);
    expect(Buffer.from(SECRET_A).toString("hex")).not.toContain(a);
  });
});

describe("lookup hashes for rotation", () => {
  it("list the current key first, then the previous keys in order", () => {
    const secretC = "test-secret-C-0000000000000000000000000";
    const rotated = createKeyring({ secret: SECRET_B, previousSecrets: [SECRET_A, secretC] });
    expect(rotated.lookupHashes(CI)).toEqual([
      createKeyring({ secret: SECRET_B }).hashPersonKey(CI),
      createKeyring({ secret: SECRET_A }).hashPersonKey(CI),
      createKeyring({ secret: secretC }).hashPersonKey(CI),
    ]);
  });

  it("list a secret repeated among the previous ones once", () => {
    const keyring = createKeyring({ secret: SECRET_A, previousSecrets: [SECRET_A] });
    expect(keyring.lookupHashes(CI)).toHaveLength(1);
  });
});

describe("field encryption", () => {
  const keyring = createKeyring({ secret: SECRET_A });

  it("round-trips as keyId.iv.tag.ciphertext with a fresh IV each time", () => {
    const one = keyring.encrypt("김테스트", "row/name");
    const two = keyring.encrypt("김테스트", "row/name");
    expect(one).not.toBe(two);
    const [keyId, iv, tag, body, ...rest] = one.split(".");
    expect(rest).toEqual([]);
    expect(keyId).toBe(keyring.currentKeyId);
    expect(Buffer.from(iv ?? "", "base64url")).toHaveLength(12);
    expect(Buffer.from(tag ?? "", "base64url")).toHaveLength(16);
    expect(body).not.toContain("김테스트");
    expect(keyring.decrypt(one, "row/name")).toBe("김테스트");
  });

  it.each([1, 2, 3])("detects tampering with part %i", (part) => {
    const parts = keyring.encrypt("01000000001").split(".");
    const bytes = Buffer.from(parts[part] ?? "", "base64url");
    bytes[0] = (bytes[0] ?? 0) ^ 1;
    parts[part] = bytes.toString("base64url");
    expect(() => keyring.decrypt(parts.join("."))).toThrow();
  });

  it("refuses a ciphertext moved to another context", () => {
    const sealed = keyring.encrypt("01000000001", "verifications/ver_a/phone");
    expect(() => keyring.decrypt(sealed, "verifications/ver_b/phone")).toThrow(/authentication/);
  });

  it("decrypts with a previous key after rotation and names an unknown key id", () => {
    const sealed = keyring.encrypt("1990-01-01");
    expect(createKeyring({ secret: SECRET_B, previousSecrets: [SECRET_A] }).decrypt(sealed)).toBe(
      "1990-01-01",
    );
    expect(() => createKeyring({ secret: SECRET_B }).decrypt(sealed)).toThrow(/unknown key id/);
  });

  it.each(["", "a.b.c", "a.b.c.d.e"])("rejects the malformed %j", (text) => {
    expect(() => keyring.decrypt(text)).toThrow();
  });
});

describe("secrets", () => {
  it("generates 32 random bytes in base64url that pass validation", () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateSecret()).not.toBe(secret);
    expect(validateSecret(secret)).toBeUndefined();
  });

  it(`rejects secrets shorter than ${MIN_SECRET_LENGTH} characters without echoing them`, () => {
    const short = "short-secret-value";
    expect(validateSecret(short)).toMatch(/at least 32/);
    expect(validateSecret(short)).not.toContain(short);
    expect(() => createKeyring({ secret: short })).toThrow(/^secret:/);
    expect(() => createKeyring({ secret: SECRET_A, previousSecrets: [short] })).toThrow(
      /previousSecrets\[0\]/,
    );
    try {
      createKeyring({ secret: short });
    } catch (error) {
      expect(String(error)).not.toContain(short);
    }
  });

  it("refuses previousSecrets given as one string, saying it must be an array (not indexing its characters)", () => {
    // A single 40-character secret where a list belongs (an environment variable passed as is).
    let thrown: unknown;
    try {
      createKeyring({ secret: SECRET_A, previousSecrets: SECRET_B as never });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(thrown).toMatchObject({
      variable: "previousSecrets",
      problem: expect.stringMatching(/array of strings/),
    });
    expect(String(thrown)).not.toContain(SECRET_B);
  });

  it.each<[string, string, unknown]>([
    ["a number as the secret", "secret", { secret: 1234 }],
    ["bytes as the secret", "secret", { secret: Buffer.alloc(40, 1) }],
    ["a null secret", "secret", { secret: null }],
    ["no secret", "secret", {}],
    ["a short secret", "secret", { secret: "short-secret-value" }],
    [
      "a previous secret of another type",
      "previousSecrets[1]",
      { secret: SECRET_A, previousSecrets: [SECRET_B, 7] },
    ],
    [
      "previousSecrets as an object",
      "previousSecrets",
      { secret: SECRET_A, previousSecrets: { 0: SECRET_B } },
    ],
    ["null options", "createKeyring options", null],
    ["no options", "createKeyring options", undefined],
  ])("refuses %s with a ConfigError naming it", (_, variable, options) => {
    let thrown: unknown;
    try {
      createKeyring(options as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(thrown).toMatchObject({ code: "invalid_config", variable });
  });

  it("never shows a secret or a derived key through inspect, JSON or toString", () => {
    const keyring = createKeyring({ secret: SECRET_A, previousSecrets: [SECRET_B] });
    const shown = [
      inspect(keyring, { depth: 10, showHidden: true }),
      JSON.stringify(keyring),
      String(keyring),
    ].join();
    expect(shown).not.toContain("test-secret");
    expect(Object.keys(keyring).sort()).toEqual([
      "currentKeyId",
      "decrypt",
      "encrypt",
      "hashPersonKey",
      "hashValue",
      "lookupHashes",
      "matchesHash",
    ]);
  });
});

describe("keyed value hashes (expected identity)", () => {
  it("match their own value and context only, under the key their id names, and fail closed without it", () => {
    const old = createKeyring({ secret: SECRET_B });
    const stored = old.hashValue("01012345678", "verifications/ver_1/expected_phone");
    expect(stored.startsWith(`${old.currentKeyId}.`)).toBe(true);
    expect(stored).not.toContain("01012345678");
    expect(old.matchesHash(stored, "01012345678", "verifications/ver_1/expected_phone")).toBe(true);
    expect(old.matchesHash(stored, "01012345679", "verifications/ver_1/expected_phone")).toBe(false);
    // Bound to its row and field: the same value elsewhere hashes differently and does not match.
    expect(old.matchesHash(stored, "01012345678", "verifications/ver_2/expected_phone")).toBe(false);
    expect(old.hashValue("01012345678", "verifications/ver_2/expected_phone")).not.toBe(stored);
    // After a rotation the old key still checks it; once the old secret is gone, nothing matches.
    const rotated = createKeyring({ secret: SECRET_A, previousSecrets: [SECRET_B] });
    expect(rotated.matchesHash(stored, "01012345678", "verifications/ver_1/expected_phone")).toBe(true);
    const newOnly = createKeyring({ secret: SECRET_A });
    expect(newOnly.matchesHash(stored, "01012345678", "verifications/ver_1/expected_phone")).toBe(false);
    expect(old.matchesHash("garbage", "01012345678", "verifications/ver_1/expected_phone")).toBe(false);
  });
});

describe("pooled random bytes", () => {
  it("never hands out the same bytes twice, across pool refills, and keeps each result intact", () => {
    // 2,000 draws of 12 bytes cross the 4 KiB pool five times.
    const draws = Array.from({ length: 2_000 }, () => secureRandomBytes(12));
    const copies = draws.map((b) => b.toString("hex"));
    expect(new Set(copies).size).toBe(draws.length);
    // A refill must not rewrite a buffer already returned.
    secureRandomBytes(4096);
    expect(draws.map((b) => b.toString("hex"))).toEqual(copies);
    expect(secureRandomBytes(5000)).toHaveLength(5000);
    expect(secureRandomBytes(0)).toHaveLength(0);
  });
});
