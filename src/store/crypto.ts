/**
 * Keys for what the store must never keep in the clear (DOMAIN.md): a keyed hash of the person key
 * (CI / DI), a keyed hash of each expected identity value (core/expected.ts), and AES-256-GCM for
 * name, phone and birth date.
 *
 * Every key is derived from the server secret with HKDF-SHA-256 under its own `info`, so the hashing
 * key, the encryption key and the key id are independent of each other and none of them is the secret.
 * The key id is recorded beside every hash and ciphertext so the secret can be rotated: hashes are
 * looked up under the current and the previous keys, ciphertexts are decrypted by their own key id.
 * The secrets live only in this module's closures: the keyring object holds functions and the id.
 * The one way out is {@link keyringOptionsOf}, for the SQLite store's worker thread in this process
 * (store/sqlite/offload.ts), which builds the same keyring from the same secrets.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  timingSafeEqual,
} from "node:crypto";
import { ConfigError, UnknownKeyError } from "../core/errors.js";
import type { PersonKey } from "../core/identity.js";
import { optionsObject } from "../core/option-values.js";
import { checkOptionKeys } from "../core/unknown-fields.js";
import { secureRandomBytes } from "../util/random.js";

/** Shortest accepted server secret, in characters. */
export const MIN_SECRET_LENGTH = 32;

/** A keyed hash of a person key and the id of the key that made it. */
export interface PersonKeyHash {
  /** First 12 hex characters of SHA-256 over the derived key-id material. */
  keyId: string;
  /** HMAC-SHA-256, base64url. */
  hash: string;
}

/**
 * The server secret's derived keys: person-key hashes and field encryption, under the current and previous secrets.
 *
 * @example
 * import { createKeyring, type Keyring, openStore } from "certgate";
 * const keyring: Keyring = createKeyring({ secret: process.env.CERTGATE_SECRET ?? "" });
 * const store = await openStore({ databaseUrl: "./data/certgate.db", keyring });
 */
export interface Keyring {
  /** The id of the key new hashes and ciphertexts are made with. */
  readonly currentKeyId: string;
  /** The hash of `key` under the current key (what a new person row stores). */
  hashPersonKey(key: PersonKey): PersonKeyHash;
  /** The hash of `key` under every key: the current one first, then the previous ones in the order given. */
  lookupHashes(key: PersonKey): PersonKeyHash[];
  /**
   * A keyed hash (HMAC-SHA-256 under its own derived key) of an expected identity value in its
   * canonical form, as `keyId.hash`: only compared, never looked up, so `context` (the row id and
   * field) is hashed in and one value in two rows gives two hashes. The key id survives a rotation:
   * {@link Keyring.matchesHash} uses the key it names while that secret is in the keyring.
   */
  hashValue(value: string, context: string): string;
  /**
   * Whether `value` (canonical) is what `stored` (a {@link Keyring.hashValue} output for `context`)
   * was made of, compared in constant time. False when the key id is unknown (its secret left the
   * keyring) or the format is wrong: an expected value that cannot be checked does not match.
   */
  matchesHash(stored: string, value: string, context: string): boolean;
  /**
   * AES-256-GCM under the current key with a random 12-byte IV, as `keyId.iv.tag.ciphertext`
   * (base64url parts). `context` is authenticated but not stored (e.g. the row id and column), so a
   * ciphertext moved to another row or column does not decrypt.
   */
  encrypt(plaintext: string, context?: string): string;
  /**
   * The plaintext of an {@link Keyring.encrypt} output, with the key its id names.
   * @throws Error when the format is wrong, the key id is unknown or the ciphertext, tag or context was altered.
   */
  decrypt(ciphertext: string, context?: string): string;
}

/**
 * The secrets {@link createKeyring} derives its keys from.
 *
 * @example
 * import { createKeyring, type KeyringOptions } from "certgate";
 * const options: KeyringOptions = {
 *   secret: process.env.CERTGATE_SECRET ?? "",
 *   previousSecrets: [process.env.CERTGATE_PREVIOUS_SECRET ?? ""], // during a rotation
 * };
 * const keyring = createKeyring(options);
 */
export interface KeyringOptions {
  /** The current server secret (`CERTGATE_SECRET`); at least {@link MIN_SECRET_LENGTH} characters. */
  secret: string;
  /** Secrets rotated out, still used to look up hashes and decrypt old rows. */
  previousSecrets?: string[] | undefined;
}

const KEYRING_OPTION_KEYS: Record<keyof KeyringOptions, true> = { secret: true, previousSecrets: true };

interface DerivedKey {
  keyId: string;
  hmacKey: Buffer;
  valueHmacKey: Buffer;
  encryptionKey: Buffer;
}

const HKDF_SALT = "certgate/store/v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The ids of every key `keyring` looks up under, the current one first: what it can read and
 * recognise (learnt from a hash of a placeholder, so any {@link Keyring} answers it).
 */
export function keyIdsOf(keyring: Keyring): string[] {
  return keyring.lookupHashes({ kind: "ci", value: "key ids" }).map((hash) => hash.keyId);
}

/**
 * Derives the keys of `secret` and the previous secrets.
 *
 * @throws ConfigError naming `secret` or `previousSecrets[i]` when a secret is not a string of at
 *   least {@link MIN_SECRET_LENGTH} characters, or `previousSecrets` when it is not an array (the
 *   message never echoes a secret).
 * @example
 * const keyring = createKeyring({ secret: env.CERTGATE_SECRET, previousSecrets: [oldSecret] });
 * keyring.hashPersonKey({ kind: "ci", value: ci }); // { keyId: "3f2a…", hash: "…" }
 */
export function createKeyring(options: KeyringOptions): Keyring {
  optionsObject("createKeyring options", options);
  checkOptionKeys("createKeyring options", options, KEYRING_OPTION_KEYS);
  // Spread, a string would be read as its characters: one secret of 40 characters became 40
  // secrets of one, refused as "previousSecrets[0]: must be at least 32 characters".
  if (options.previousSecrets !== undefined && !Array.isArray(options.previousSecrets))
    throw new ConfigError("previousSecrets", "must be an array of strings (the secrets rotated out)");
  const secrets = [options.secret, ...(options.previousSecrets ?? [])];
  for (const [index, secret] of secrets.entries()) {
    const problem = validateSecret(secret);
    if (problem !== undefined) {
      throw new ConfigError(index === 0 ? "secret" : `previousSecrets[${index - 1}]`, problem);
    }
  }
  const keys: DerivedKey[] = [];
  for (const secret of secrets) {
    const key = deriveKey(secret);
    if (!keys.some((known) => known.keyId === key.keyId)) keys.push(key);
  }
  const current = keys[0];
  if (current === undefined) throw new Error("secret: missing");
  const byId = new Map(keys.map((key) => [key.keyId, key]));

  const keyring: Keyring = Object.freeze({
    currentKeyId: current.keyId,
    hashPersonKey: (key: PersonKey) => hashWith(current, key),
    lookupHashes: (key: PersonKey) => keys.map((derived) => hashWith(derived, key)),
    hashValue: (value: string, context: string) => `${current.keyId}.${valueHash(current, value, context)}`,
    matchesHash(stored: string, value: string, context: string): boolean {
      const [keyId = "", hash = "", ...rest] = stored.split(".");
      const key = byId.get(keyId);
      if (key === undefined || rest.length > 0) return false;
      const expected = Buffer.from(valueHash(key, value, context), "base64url");
      const actual = Buffer.from(hash, "base64url");
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    },
    encrypt(plaintext: string, context = ""): string {
      const iv = secureRandomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", current.encryptionKey, iv);
      cipher.setAAD(aad(current.keyId, context));
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return [current.keyId, iv, cipher.getAuthTag(), body]
        .map((part) => (typeof part === "string" ? part : part.toString("base64url")))
        .join(".");
    },
    decrypt(ciphertext: string, context = ""): string {
      const parts = ciphertext.split(".");
      if (parts.length !== 4) throw new Error("decrypt: not a certgate ciphertext");
      const [keyId = "", ivText = "", tagText = "", bodyText = ""] = parts;
      const key = byId.get(keyId);
      if (key === undefined) throw new UnknownKeyError(keyId.slice(0, 12));
      const iv = Buffer.from(ivText, "base64url");
      const tag = Buffer.from(tagText, "base64url");
      if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES)
        throw new Error("decrypt: malformed ciphertext");
      const decipher = createDecipheriv("aes-256-gcm", key.encryptionKey, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(keyId, context));
      decipher.setAuthTag(tag);
      try {
        return Buffer.concat([
          decipher.update(Buffer.from(bodyText, "base64url")),
          decipher.final(),
        ]).toString("utf8");
      } catch (cause) {
        throw new Error("decrypt: ciphertext failed authentication", { cause });
      }
    },
  });
  KEYRING_OPTIONS.set(keyring, {
    secret: options.secret,
    previousSecrets: [...(options.previousSecrets ?? [])],
  });
  return keyring;
}

/** The options each keyring of {@link createKeyring} was made from, for {@link keyringOptionsOf}. */
const KEYRING_OPTIONS = new WeakMap<Keyring, KeyringOptions>();

/**
 * The secrets `keyring` was created from, so that a worker thread of this process can create the
 * same keyring (store/sqlite/offload.ts hands them over in memory, never to a file or a log);
 * undefined for a keyring {@link createKeyring} did not make.
 */
export function keyringOptionsOf(keyring: Keyring): KeyringOptions | undefined {
  return KEYRING_OPTIONS.get(keyring);
}

/** A fresh server secret: 32 random bytes, base64url (43 characters). */
export function generateSecret(): string {
  return secureRandomBytes(32).toString("base64url");
}

/** The problem with `secret` as a message (never containing it), or `undefined` when acceptable. */
export function validateSecret(secret: string): string | undefined {
  if (typeof secret !== "string") return `must be a string of at least ${MIN_SECRET_LENGTH} characters`;
  if (secret.length < MIN_SECRET_LENGTH) {
    return `must be at least ${MIN_SECRET_LENGTH} characters (e.g. 32 random bytes in base64url)`;
  }
  return undefined;
}

function deriveKey(secret: string): DerivedKey {
  const derive = (info: string) => Buffer.from(hkdfSync("sha256", secret, HKDF_SALT, info, 32));
  const keyIdMaterial = derive("certgate key id");
  return {
    keyId: createHash("sha256").update(keyIdMaterial).digest("hex").slice(0, 12),
    hmacKey: derive("certgate person key hmac"),
    valueHmacKey: derive("certgate expected identity hmac"),
    encryptionKey: derive("certgate field encryption aes-256-gcm"),
  };
}

function hashWith(key: DerivedKey, personKey: PersonKey): PersonKeyHash {
  // JSON keeps the parts unambiguous; the DI is scoped by its provider (DOMAIN.md "CI and DI").
  const input =
    personKey.kind === "ci"
      ? JSON.stringify(["ci", personKey.value])
      : JSON.stringify(["di", personKey.provider, personKey.value]);
  return {
    keyId: key.keyId,
    hash: createHmac("sha256", key.hmacKey).update(input, "utf8").digest("base64url"),
  };
}

function valueHash(key: DerivedKey, value: string, context: string): string {
  return createHmac("sha256", key.valueHmacKey)
    .update(JSON.stringify([context, value]), "utf8")
    .digest("base64url");
}

function aad(keyId: string, context: string): Buffer {
  return Buffer.from(JSON.stringify([keyId, context]), "utf8");
}
