/**
 * The store's side of purposes and expected identity, on SQLite and PostgreSQL: a `reverify` is
 * settled against the account's binding inside the completion transaction (also when a withdrawal
 * races it), keeps nothing of another person, and an expected identity's keyed hashes survive
 * `rotateKeys` while the old secret is in the keyring (and fail closed once it is not).
 */
import { afterAll, describe, expect, it } from "vitest";
import type { VerifiedIdentity } from "../../src/core/identity.js";
import type { Store } from "../../src/core/store.js";
import type { CompletionDecision, NewVerification } from "../../src/core/verification.js";
import { createKeyring } from "../../src/store/crypto.js";
import { ciOf, makeIdentity, makeVerification, NOW, uid, verified } from "./fixtures.js";
import { type Cleanups, reopenablePostgres, reopenableSqlite } from "./reopenable.js";

const SECRET = "purposes-store-secret-00000000000000000";
const OLD_SECRET = "purposes-store-old-secret-000000000000";

const cleanups: Cleanups = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

const sqlite = () => reopenableSqlite("purposes", cleanups);
const postgres = () => reopenablePostgres("purposes", cleanups, 10);

describe.each([
  ["sqlite", sqlite],
  ["postgres", postgres],
] as const)("purposes and expected identity: %s", (_, backend) => {
  const open = backend();
  const keyring = createKeyring({ secret: SECRET });

  async function complete(store: Store, v: NewVerification, decision: CompletionDecision) {
    await store.createVerification(v);
    return store.completeVerification({ verificationId: v.id, upstreamId: uid("imp"), decision, now: NOW });
  }

  /** Signs `identity` up under a fresh account; its account_ref. */
  async function signUp(store: Store, identity: VerifiedIdentity) {
    const accountRef = uid("acct");
    const result = await complete(store, makeVerification({ accountRef }), verified(identity));
    expect(result).toMatchObject({ kind: "finished", verification: { status: "verified" } });
    return accountRef;
  }

  it("settles a reverify against the account's person: the same person verified, anyone else person_mismatch with nothing kept", async () => {
    const store = await open(keyring);
    try {
      const holder = makeIdentity();
      const accountRef = await signUp(store, holder);
      expect(await store.isAccountBound(accountRef)).toBe(true);
      expect(await store.isAccountBound(uid("acct"))).toBe(false);

      const same = await complete(
        store,
        makeVerification({ accountRef, purpose: "reverify" }),
        verified(holder),
      );
      expect(same).toMatchObject({
        kind: "finished",
        verification: { status: "verified", purpose: "reverify", existingAccountRef: undefined },
      });

      const other = makeIdentity();
      const otherAccount = await signUp(store, other);
      const foreign = await complete(
        store,
        makeVerification({ accountRef, purpose: "reverify" }),
        verified(other),
      );
      expect(foreign).toMatchObject({
        kind: "finished",
        verification: {
          status: "rejected",
          reason: "person_mismatch",
          personId: undefined,
          existingAccountRef: undefined,
          identity: undefined,
        },
      });
      expect(JSON.stringify(foreign)).not.toContain(otherAccount);
      // A deferred rejection about the person (core/purpose.ts) is person_mismatch for anyone else…
      const deferred = await complete(store, makeVerification({ accountRef, purpose: "reverify" }), {
        ok: false,
        reason: "underage",
        personKey: ciOf(other),
      });
      expect(deferred).toMatchObject({ verification: { reason: "person_mismatch" } });
      // …and itself for the account's own person.
      const own = await complete(store, makeVerification({ accountRef, purpose: "reverify" }), {
        ok: false,
        reason: "underage",
        personKey: ciOf(holder),
      });
      expect(own).toMatchObject({ verification: { reason: "underage" } });
    } finally {
      await store.close();
    }
  });

  it("reads the binding in the completion transaction: reverifies racing the account's withdrawal never verify after it", async () => {
    const store = await open(keyring);
    try {
      const outcomes: string[] = [];
      for (let i = 0; i < 10; i++) {
        const holder = makeIdentity();
        const accountRef = await signUp(store, holder);
        const v = makeVerification({ accountRef, purpose: "reverify" });
        await store.createVerification(v);
        const [result] = await Promise.all([
          store.completeVerification({
            verificationId: v.id,
            upstreamId: uid("imp"),
            decision: verified(holder),
            now: NOW,
          }),
          store.unbindAccount(accountRef, NOW),
        ]);
        if (result.kind !== "finished") throw new Error("not finished");
        outcomes.push(result.verification.reason ?? "verified");
        // Once withdrawn, a reverify of the account is a mismatch whoever verifies.
        const later = await complete(
          store,
          makeVerification({ accountRef, purpose: "reverify" }),
          verified(holder),
        );
        expect(later).toMatchObject({ verification: { reason: "person_mismatch" } });
      }
      expect(outcomes.every((o) => o === "verified" || o === "person_mismatch")).toBe(true);
    } finally {
      await store.close();
    }
  });

  it("keeps expected hashes usable across rotateKeys while the old secret is in the keyring; without it they fail closed", async () => {
    const old = await open(createKeyring({ secret: OLD_SECRET }));
    const expected = { name: "김 테스트", birthDate: "1990-01-01", phone: "010-0000-0001" };
    const kept = makeVerification({ expected });
    const dropped = makeVerification({ expected });
    try {
      await old.createVerification(kept);
      await old.createVerification(dropped);
    } finally {
      await old.close();
    }
    const identity = { ...makeIdentity(), name: "김 테스트" };
    const rotating = await open(createKeyring({ secret: SECRET, previousSecrets: [OLD_SECRET] }));
    try {
      await rotating.rotateKeys();
      const result = await rotating.completeVerification({
        verificationId: kept.id,
        upstreamId: uid("imp"),
        decision: verified(identity),
        now: NOW,
      });
      expect(result).toMatchObject({ verification: { status: "verified" } });
    } finally {
      await rotating.close();
    }
    const newOnly = await open(keyring);
    try {
      const result = await newOnly.completeVerification({
        verificationId: dropped.id,
        upstreamId: uid("imp"),
        decision: verified({ ...identity, ci: `${identity.ci?.slice(0, 80)}XXXXXXXX` }),
        now: NOW,
      });
      expect(result).toMatchObject({
        verification: {
          status: "rejected",
          reason: "identity_mismatch",
          mismatchedFields: ["name", "birth_date", "phone"],
        },
      });
    } finally {
      await newOnly.close();
    }
  });
});
