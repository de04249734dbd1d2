/**
 * What the verification flow needs of storage: the {@link Store} interface, named by intent, and the
 * values its methods take and return. The core owns it (as lucia v3's core owns its `Adapter`);
 * src/store implements it once on Kysely for SQLite and PostgreSQL, where unique constraints carry
 * the guarantees (merchant_uid / identityVerificationId, consumed imp_uid, person key, one account
 * per person).
 */
import type { FailedAttemptReason } from "./attempts.js";
import type { CompletionDecision, NewVerification, VerificationRecord } from "./verification.js";

export interface CompletionInput {
  verificationId: string;
  /** The upstream id to consume. Absent when the record is not this verification's (not_found, mismatch, expired). */
  upstreamId?: string | undefined;
  decision: CompletionDecision;
  now: Date;
  /**
   * Write a `verification.completed` webhook event to the outbox in the same transaction as the
   * outcome (when webhooks are configured), so an outcome and its event are never one without the other.
   */
  emitEvent?: boolean | undefined;
  /**
   * PortOne's copy of the record is to be deleted (`deleteUpstreamAfterCompletion`): when this
   * transaction consumes `upstreamId`, it also records that deletion as owed, due at this time, so a
   * deletion that fails, or a process that dies before it, leaves it to recovery
   * ({@link Store.claimUpstreamDeletions}) instead of losing it.
   */
  upstreamDeletionDueAt?: Date | undefined;
}

/** An owed deletion of PortOne's copy of a consumed record ({@link Store.claimUpstreamDeletions}). */
export interface UpstreamDeletion {
  upstreamId: string;
  verificationId: string;
  /** Attempts claimed so far, this one included (1 for the first claim): its backoff. */
  attempts: number;
}

/** A webhook event waiting in the outbox. Its payload carries ids and decisions only. */
export interface OutboxEvent {
  /** Stable event id ("evt_…"): receivers deduplicate on it (delivery is at least once). */
  id: string;
  verificationId: string;
  type: string;
  /** The JSON body to deliver, fixed when the outcome was committed. */
  payload: string;
  attempts: number;
  createdAt: Date;
}

/**
 * What {@link Store.completeVerification}'s transaction did; the service turns it into a
 * `CompletionOutcome` of the same kind (core/outcome.ts).
 */
export type CompletionResult =
  /** This call finished the verification (verified, rejected or expired). */
  | { kind: "finished"; verification: VerificationRecord }
  /** Someone else finished it first; nothing was written. */
  | { kind: "replayed"; verification: VerificationRecord }
  | { kind: "not_found" };

/** One attempt that was not this verification's own result (core/attempts.ts). */
export interface FailedAttemptInput {
  verificationId: string;
  reason: FailedAttemptReason;
  /** The upstream id presented (an imp_uid, an identityVerificationId): recorded, never consumed. */
  upstreamId?: string | undefined;
  now: Date;
  /** As for {@link CompletionInput.emitEvent}: the `too_many_attempts` finish writes its outbox event. */
  emitEvent?: boolean | undefined;
}

/**
 * What {@link Store.recordFailedAttempt}'s transaction did, in the words of {@link CompletionResult}
 * plus `attempt_failed` (the outcome of the same name, with the reason the service adds).
 */
export type FailedAttemptResult =
  /** Counted; the verification stays pending with its new `failedAttempts`. */
  | { kind: "attempt_failed"; verification: VerificationRecord }
  /** The limit was spent: this attempt rejected the verification as `too_many_attempts`. */
  | { kind: "finished"; verification: VerificationRecord }
  /** It had already finished; nothing was written. */
  | { kind: "replayed"; verification: VerificationRecord }
  | { kind: "not_found" };

/** A pending V2 verification claimed for a recovery check ({@link Store.claimRecoveryChecks}). */
export interface RecoveryClaim {
  verification: VerificationRecord;
  /** Checks made of it so far, this one included (1 for the first): its backoff. */
  checks: number;
}

/** An outbox event as an operator lists it: ids, type and delivery state, never the payload. */
export interface WebhookEventSummary {
  id: string;
  type: string;
  verificationId: string;
  createdAt: Date;
  attempts: number;
  deliveredAt: Date | undefined;
  /** HTTP status of the last failed attempt (0: no answer); undefined when none failed. */
  lastStatus: number | undefined;
}

export interface AuditEvent {
  id: number;
  verificationId: string | null;
  type: string;
  /** Ids and decisions only; never personal data. */
  data: Record<string, string | number | boolean | null>;
  createdAt: Date;
}

/**
 * A creation under an `Idempotency-Key` (Stripe's semantics): the key is claimed in the same
 * transaction as the verification, under a unique constraint, so however many instances race with
 * one key exactly one verification is created.
 */
export interface IdempotentCreationInput {
  verification: NewVerification;
  /** Who the key belongs to: a digest of the caller's API key (never the key itself). */
  scope: string;
  /** The caller's Idempotency-Key. */
  key: string;
  /** Digest of the request the key was sent with; the same key with another fingerprint conflicts. */
  fingerprint: string;
  /** A key claimed before this instant has expired: it is claimed anew, as if never used. */
  expiredBefore: Date;
}

export type IdempotentCreationResult =
  /** The key was new (or expired): `verification` was created now. */
  | { kind: "created"; verification: VerificationRecord }
  /** The key was claimed, with the same fingerprint, by an earlier creation: its verification. */
  | { kind: "replayed"; verification: VerificationRecord }
  /** The key was claimed with another fingerprint; nothing was written. */
  | { kind: "conflict" };

/**
 * What the verification flow needs of storage, named by intent. `createKyselyStore` (src/store) is
 * the one implementation, on SQLite and PostgreSQL; `openStore` opens one by URL.
 *
 * @example
 * import { createKeyring, openStore, type Store } from "certgate";
 * const store: Store = await openStore({
 *   databaseUrl: process.env.DATABASE_URL ?? "./data/certgate.db",
 *   keyring: createKeyring({ secret: process.env.CERTGATE_SECRET ?? "" }),
 * });
 * await store.close();
 */
export interface Store {
  readonly dialect: "sqlite" | "postgres";
  /** Runs pending migrations (idempotent). */
  migrate(): Promise<void>;
  createVerification(input: NewVerification): Promise<VerificationRecord>;
  /**
   * Creates `input.verification` unless `input.key` was already claimed in `input.scope` and has not
   * expired. A concurrent creation with the same key waits for the first one's transaction and then
   * replays it (PostgreSQL: the unique index; SQLite: the one connection), so it never answers
   * "in progress".
   */
  createIdempotentVerification(input: IdempotentCreationInput): Promise<IdempotentCreationResult>;
  /** Deletes idempotency keys claimed before `createdBefore` (expired ones). Returns how many. */
  purgeIdempotencyKeys(input: { createdBefore: Date }): Promise<number>;
  getVerification(id: string): Promise<VerificationRecord | undefined>;
  findVerificationByBoundId(boundId: string): Promise<VerificationRecord | undefined>;
  /**
   * One transaction: outcome, consumed id, person and account binding (a `reverify`: the person
   * checked against the account's), the expected identity compared and its hashes dropped, audit
   * event.
   */
  completeVerification(input: CompletionInput): Promise<CompletionResult>;
  /**
   * One transaction, race-free across instances (the row is locked): counts a failed attempt of a
   * pending verification with its audit event (`verification.attempt_failed`, ids and reason only),
   * or, when `maxAttempts` failed attempts were already counted, rejects it as `too_many_attempts`
   * exactly as {@link completeVerification} finishes (audit event, outbox event).
   */
  recordFailedAttempt(input: FailedAttemptInput): Promise<FailedAttemptResult>;
  /**
   * Whether a person is bound to `accountRef` (a `reverify` needs one at creation; its completion
   * reads the binding again in its own transaction).
   */
  isAccountBound(accountRef: string): Promise<boolean>;
  /**
   * Withdrawal: frees the person to bind another account, with its audit event and (with
   * `emitEvent`) its `account.unbound` outbox event in one transaction. False when the account is
   * unknown.
   */
  unbindAccount(accountRef: string, now: Date, options?: { emitEvent?: boolean }): Promise<boolean>;
  listAuditEvents(verificationId?: string): Promise<AuditEvent[]>;
  /**
   * Retention (PIPA art. 21): destroys the encrypted name, phone and birth date of verifications
   * completed before `completedBefore`; the outcome, person binding and audit trail stay.
   * With `emitEvents`, one `identity.purged` outbox event per purged verification, in the purge's
   * transaction. Returns how many verifications were purged.
   */
  purgeIdentities(input: { completedBefore: Date; now: Date; emitEvents?: boolean }): Promise<number>;
  /**
   * Recovery (core/recovery.ts): claims up to `limit` pending V2 verifications whose next check is
   * due at `now` (never checked: created before `createdBefore`), unexpired, by moving their next
   * check to `leaseUntil` and counting the check in the same statement. Two instances never claim
   * the same verification while a lease runs; one whose checker died is due again when it ends.
   */
  claimRecoveryChecks(input: {
    now: Date;
    limit: number;
    leaseUntil: Date;
    createdBefore: Date;
  }): Promise<RecoveryClaim[]>;
  /**
   * Sets when a still-pending verification is checked next, if the claim that made check number
   * `checks` ({@link RecoveryClaim.checks}) is still the last: a no-op once it has finished, or once
   * another instance claimed it after this claimer's lease ran out (its own lease is not cut short).
   */
  scheduleRecoveryCheck(input: { verificationId: string; nextCheckAt: Date; checks: number }): Promise<void>;
  /**
   * Claims up to `limit` owed upstream deletions ({@link CompletionInput.upstreamDeletionDueAt})
   * due at `now`, the longest due first, by moving each to `leaseUntil` and counting the attempt in
   * the same statement: as {@link Store.claimRecoveryChecks}, one instance at a time per deletion.
   */
  claimUpstreamDeletions(input: { now: Date; limit: number; leaseUntil: Date }): Promise<UpstreamDeletion[]>;
  /**
   * Sets when an owed deletion is tried next, if the claim that made attempt number `attempts`
   * ({@link UpstreamDeletion.attempts}) is still the last: a no-op once it is settled, or once another
   * instance claimed it after this claimer's lease ran out.
   */
  scheduleUpstreamDeletion(input: { upstreamId: string; dueAt: Date; attempts: number }): Promise<void>;
  /**
   * Settles an owed deletion: PortOne's copy is gone — deleted now (`how: "deleted"`), or already
   * (`"not_found"`: PortOne answered 404). Writes an `upstream.deleted` audit event on its
   * verification, saying which, in the same transaction. False when none was owed (settled
   * already, or never owed).
   */
  markUpstreamDeleted(upstreamId: string, now: Date, how: "deleted" | "not_found"): Promise<boolean>;
  /**
   * The deletions of PortOne's copies still owed, and when the oldest of them was owed (undefined
   * when none is). One indexed aggregate, cheap enough per scrape, as {@link Store.webhookBacklog}.
   */
  upstreamDeletionBacklog(): Promise<{ owed: number; oldestCreatedAt: Date | undefined }>;
  /** Ids of up to `limit` pending verifications whose expiry is before `now`, the oldest first. */
  listExpiredVerifications(input: { now: Date; limit: number }): Promise<string[]>;
  /**
   * Outbox events created at or after `since` (oldest first), or without `since` the `limit` most
   * recent (still oldest first), for an operator (`certgate webhooks list`).
   */
  listWebhookEvents(input: { since?: Date | undefined; limit: number }): Promise<WebhookEventSummary[]>;
  /**
   * Replay: makes the event `id`, or every event created at or after `since`, due again as when it
   * was new (delivered or not, its attempts reset), for the dispatcher to deliver again under the
   * same id. Returns how many.
   */
  requeueWebhookEvents(input: { id?: string | undefined; since?: Date | undefined }): Promise<number>;
  /**
   * Key rotation: re-encrypts every stored personal field under the keyring's current key (the
   * previous secrets must still be in the keyring to decrypt). Person keys are HMACs of a CI/DI that
   * is not stored, so they cannot be re-hashed in bulk: they are rewritten when the person next
   * verifies. `remainingPersonHashes` counts those still under an old key — keep the old secret among
   * the previous ones until it reaches 0, or accept that such persons are matched anew. A pending
   * verification's expected-identity hashes are not rewritten either (their values are not stored):
   * each names its key id and is compared under that key while its secret is among the previous
   * ones; once it is not, the comparison fails closed (`identity_mismatch`). They live no longer
   * than a pending verification (at most 24 hours).
   */
  rotateKeys(): Promise<{ reencrypted: number; remainingPersonHashes: number }>;
  /**
   * A key id under which some stored identity is sealed, or some person's key hashed, that is not
   * among `known`; undefined when every sealed field and every person is under a known key. Only
   * verifications that still hold a sealed field count (a purged row keeps its key id and nothing
   * to decrypt); every person counts, purged or not (its hash is what recognises a returning
   * person), but one forgotten on purpose ({@link forgetPersonHashes}). It reads every
   * verification's and every person's key id: scans, run once when `certgate` opens the store
   * (startup-errors.ts), where a secret changed without the old one among the previous secrets
   * would otherwise serve a 503 for every stored identity and look returning persons up under keys
   * that never hashed them (one account per person would silently fail). Optional: a Store without
   * it is not checked.
   */
  unknownSealedKeyId?(known: readonly string[]): Promise<string | undefined>;
  /**
   * Marks every person whose key is hashed under a key not among `known` as forgotten, and answers
   * how many: such a person can no longer be recognised (the CI is not stored, so the hash cannot
   * be redone), and is matched anew when they next verify — a second account for them becomes
   * possible. The operator's explicit choice when an old secret must go before every person has
   * verified again (`certgate keys forget`); after it {@link unknownSealedKeyId} no longer counts
   * them. Optional: a Store without it cannot forget.
   */
  forgetPersonHashes?(known: readonly string[]): Promise<number>;
  /**
   * Claims up to `limit` undelivered outbox events whose next attempt is due, oldest first, by moving
   * their next attempt to `leaseUntil` in the same statement. Two dispatchers (two instances on one
   * database) never claim the same event while a lease runs; an event whose dispatcher died is due
   * again when its lease ends. Delivery stays at-least-once: a crash between the receiver's answer
   * and `markWebhookDelivered` sends the event again.
   */
  claimWebhookEvents(input: { now: Date; limit: number; leaseUntil: Date }): Promise<OutboxEvent[]>;
  /**
   * Marks an attempt's outcome. With `leaseUntil` (the lease the event was claimed under), only
   * while the event still holds that lease: one requeued meanwhile (`webhooks replay`), or claimed
   * by another dispatcher once the lease had ended, is left to the replay or that claim, so a
   * replay is never undone by the attempt it overtook (at worst the event is sent once more).
   */
  markWebhookDelivered(id: string, now: Date, leaseUntil?: Date): Promise<void>;
  /** As {@link markWebhookDelivered}: `leaseUntil` fences the mark to the claim it belongs to. */
  markWebhookFailed(
    id: string,
    input: { now: Date; nextAttemptAt: Date; status?: number | undefined; leaseUntil?: Date | undefined },
  ): Promise<void>;
  /**
   * The webhook backlog: how many outbox events are not delivered yet, and when the oldest of them
   * was written (undefined when there is none). One indexed aggregate, cheap enough per scrape.
   */
  webhookBacklog(): Promise<{ pending: number; oldestCreatedAt: Date | undefined }>;
  /** Cheap round trip for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
