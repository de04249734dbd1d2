/**
 * Fixtures the store suites share: a pending verification, an obviously synthetic verified person
 * (a unique CI; the name and phone every suite uses as stand-ins) and the decision that verifies it.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { PersonKey, VerifiedIdentity } from "../../src/core/identity.js";
import { resolvePolicy } from "../../src/core/policy.js";
import type { Store } from "../../src/core/store.js";
import type { CompletionDecision, NewVerification } from "../../src/core/verification.js";
import { NOW } from "../core/fixtures.js";

export { NOW };

/** `prefix` and 16 random hex digits: an id no other test uses. */
export const uid = (prefix: string) => `${prefix}_${randomBytes(8).toString("hex")}`;

/** A pending V1 verification issued at {@link NOW}, expiring 15 minutes later. */
export function makeVerification(overrides: Partial<NewVerification> = {}): NewVerification {
  return {
    id: uid("ver"),
    apiVersion: "v1",
    boundId: uid("mid"),
    policy: resolvePolicy({}, { creatingAccount: overrides.accountRef !== undefined }),
    createdAt: NOW,
    expiresAt: new Date(NOW.getTime() + 15 * 60_000),
    ...overrides,
  };
}

/** An obviously synthetic person with a unique CI, verified a minute before {@link NOW}. */
export function makeIdentity(overrides: Partial<VerifiedIdentity> = {}): VerifiedIdentity {
  const n = randomBytes(6).toString("hex");
  return {
    name: "김테스트",
    birthDate: { year: 1990, month: 1, day: 1 },
    phone: "01000000001",
    ci: `TEST-CI-${n}`.padEnd(88, "0"),
    provider: "danal",
    verifiedAt: new Date(NOW.getTime() - 60_000),
    source: "v1",
    ...overrides,
  };
}

export const ciOf = (identity: VerifiedIdentity): PersonKey => ({ kind: "ci", value: identity.ci ?? "" });

/** The decision that verifies `identity`, keyed by its CI. */
export const verified = (identity: VerifiedIdentity): CompletionDecision => ({
  ok: true,
  identity,
  personKey: ciOf(identity),
});

/** The local PostgreSQL the store suites use (CERTGATE_TEST_DATABASE_URL overrides it). */
export const POSTGRES_URL =
  process.env.CERTGATE_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** Runs one statement on a connection of its own (creating or dropping a suite's schema). */
export async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client(POSTGRES_URL);
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** A verification created and completed as a verified new person on `store` at `now`; its id. */
export async function completedVerification(store: Store, now: Date = NOW): Promise<string> {
  const v = makeVerification();
  await store.createVerification(v);
  await store.completeVerification({
    verificationId: v.id,
    upstreamId: uid("imp"),
    decision: verified(makeIdentity()),
    now,
  });
  return v.id;
}
