/**
 * What a verification is: the record certgate keeps of one, from its creation (pending) to its
 * outcome, and the decision the flow hands the store to settle it.
 */
import type { ExpectedField, ExpectedIdentity } from "./expected.js";
import type { Carrier, Gender, PersonKey, VerifiedIdentity } from "./identity.js";
import type { Policy } from "./policy.js";
import type { Purpose, RejectionReason, VerificationStatus } from "./reasons.js";

/**
 * Which PortOne API a verification runs on: V1 (i'mport, `merchant_uid`) or V2 (`identityVerificationId`).
 *
 * @example
 * import type { ApiVersion } from "certgate";
 * const apiVersion: ApiVersion = "v2";
 * await service.create({ apiVersion, policy: { minAge: 19 } });
 */
export type ApiVersion = "v1" | "v2";

/** A verification to create, pending; the service fills it from a `CreateVerificationInput`. */
export interface NewVerification {
  /** Opaque public id, e.g. "ver_…". */
  id: string;
  apiVersion: ApiVersion;
  /** The id the browser flow is bound to: V1 merchant_uid, V2 identityVerificationId. Unique. */
  boundId: string;
  policy: Policy;
  /**
   * What it is for (core/purpose.ts); `signup` and `reverify` have an `accountRef`, `check` none.
   * Default: `signup` with an `accountRef`, `check` without.
   */
  purpose?: Purpose | undefined;
  accountRef?: string | undefined;
  /**
   * What the merchant expects of the verified person (core/expected.ts), valid. The store keeps
   * only keyed hashes of it, and drops them when the verification finishes.
   */
  expected?: ExpectedIdentity | undefined;
  returnUrl?: string | undefined;
  /** Failed attempts allowed before the next one rejects (core/attempts.ts). Default 5. */
  maxAttempts?: number | undefined;
  createdAt: Date;
  expiresAt: Date;
}

/**
 * Identity fields as stored: the personal ones are decrypted on read, and absent once purged.
 *
 * @example
 * import type { StoredIdentity } from "certgate";
 * const verification = await service.get("ver_abc");
 * const identity: StoredIdentity | undefined = verification?.identity;
 * identity?.birthDate; // "1990-03-01", until purged after the retention period
 */
export interface StoredIdentity {
  name?: string | undefined;
  /** "YYYY-MM-DD". */
  birthDate?: string | undefined;
  phone?: string | undefined;
  gender?: Gender | undefined;
  foreigner?: boolean | undefined;
  carrier?: Carrier | undefined;
  provider: string;
  verifiedAt?: Date | undefined;
}

/**
 * One verification as certgate keeps it: pending until an outcome, then verified, rejected or expired.
 *
 * @example
 * import type { VerificationRecord } from "certgate";
 * const verification: VerificationRecord = await service.create({ accountRef: "user-42", policy: { minAge: 19 } });
 * verification.boundId; // the merchant_uid to hand IMP.certification (V1)
 */
export interface VerificationRecord {
  id: string;
  apiVersion: ApiVersion;
  boundId: string;
  status: VerificationStatus;
  reason?: RejectionReason | undefined;
  policy: Policy;
  purpose: Purpose;
  accountRef?: string | undefined;
  returnUrl?: string | undefined;
  /** With reason `identity_mismatch`: which expected fields differed (never their values). */
  mismatchedFields?: ExpectedField[] | undefined;
  /** imp_uid / identityVerificationId consumed by this verification. */
  upstreamId?: string | undefined;
  personId?: string | undefined;
  /** The account the person already holds (the guide's "existing user" branch). */
  existingAccountRef?: string | undefined;
  createdAt: Date;
  expiresAt: Date;
  completedAt?: Date | undefined;
  /** Present for verified outcomes while retained. */
  identity?: StoredIdentity | undefined;
  /** When the personal fields were purged, if they were. */
  purgedAt?: Date | undefined;
  /** Failed attempts so far (an upstream 404, a record bound elsewhere), the rejecting one included. */
  failedAttempts: number;
  /** Failed attempts allowed while pending; the next one rejects as `too_many_attempts`. */
  maxAttempts: number;
}

/**
 * What the service decided before the transaction. The store adds the decisions only the
 * database can make race-free: `person_mismatch` (a `reverify`'s person is the account's),
 * `identity_mismatch` (the expected identity, kept hashed), `already_used` (the upstream id is
 * consumed once) and `duplicate_account` (one account per person).
 *
 * A rejection with a `personKey` is a `reverify`'s rejection about the person (core/purpose.ts): the
 * store reports it only when that person is the account's, and `person_mismatch` otherwise.
 */
export type CompletionDecision =
  | { ok: true; identity: VerifiedIdentity; personKey: PersonKey | undefined }
  | { ok: false; reason: RejectionReason; personKey?: PersonKey | undefined };

/**
 * Bounds of a verification's lifetime (`expires_in_seconds`, `ttlSeconds`): at least a minute, at
 * most a day. The same over HTTP and from the library: a negative one expired at birth, and one of
 * 1e12 seconds never would.
 */
export const MIN_TTL_SECONDS = 60;
export const MAX_TTL_SECONDS = 86_400;
