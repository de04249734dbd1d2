/**
 * The verification flow: create → complete → outcome. Wires the pure core (policy), an upstream
 * client (PortOne) and the store. Holds no state of its own, so instances scale out behind one
 * PostgreSQL whose unique constraints carry the guarantees.
 *
 * Completion follows the order written once in core/policy.ts ("ORDER OF A COMPLETION"); the
 * step numbers in the comments below are its. This module runs steps 1–4 and hands step 5's
 * decision to the store's one transaction (step 6).
 *
 * Failed attempts (core/attempts.ts). The bound id is public — it travels in the browser and in
 * `m_redirect_url` — so an attempt that is not this verification's own result (an upstream 404, a
 * record bound to another verification) must not finish it: the store counts a failed attempt with
 * its audit event in one locked transaction and the verification stays pending (outcome kind
 * `attempt_failed`). Once `maxAttempts` (default 5) are counted, the next such attempt rejects it
 * as `too_many_attempts`, with its audit and outbox events, like every other finish. Only a result
 * that belongs to this verification finishes it.
 *
 * A record bound to another verification is never consumed: otherwise anyone could burn someone
 * else's imp_uid (it travels in URLs) by presenting it with their own verification. V2 looks a record
 * up by the verification's own id, so there a mismatch means PortOne answered with another record.
 */
import type { FailedAttemptReason } from "../core/attempts.js";
import { ConfigError, RequestError, UpstreamError } from "../core/errors.js";
import type { UpstreamResult } from "../core/identity.js";
import type { CompletionOutcome } from "../core/outcome.js";

import { evaluatePolicy } from "../core/policy.js";
import { completionDecisionFor } from "../core/purpose.js";
import type { Store } from "../core/store.js";
import { fromV1Certification, type V1Certification } from "../core/v1/upstream.js";
import { fromV2IdentityVerification, type V2IdentityVerification } from "../core/v2/upstream.js";
import type {
  ApiVersion,
  CompletionDecision,
  NewVerification,
  VerificationRecord,
} from "../core/verification.js";
import {
  buildNewVerification,
  type CreateVerificationInput,
  IDEMPOTENCY_KEY_TTL_MS,
  type IdempotencyKey,
  type IdempotentCreation,
} from "./creation.js";
import { randomId } from "./ids.js";

export {
  type CreateVerificationInput,
  IDEMPOTENCY_KEY_TTL_MS,
  type IdempotencyKey,
  type IdempotentCreation,
} from "./creation.js";

/** What the service needs of the V1 client. */
export interface V1Upstream {
  getCertification(impUid: string): Promise<V1Certification>;
  deleteCertification?(impUid: string): Promise<unknown>;
}

/** What the service needs of the V2 client. */
export interface V2Upstream {
  getIdentityVerification(identityVerificationId: string): Promise<V2IdentityVerification>;
}

/** Ids, statuses and reasons only: the service never hands personal data to its logger. */
export interface ServiceLogger {
  info(fields: Record<string, string | number | boolean | undefined>, message: string): void;
  warn(fields: Record<string, string | number | boolean | undefined>, message: string): void;
}

/** What {@link createVerificationService} wires: a store, the PortOne clients, a clock, a logger. */
export interface VerificationServiceOptions {
  store: Store;
  /** PortOne V1; absent when the merchant has no V1 account. */
  v1?: V1Upstream | undefined;
  /** PortOne V2; absent when the merchant has no V2 store. */
  v2?: V2Upstream | undefined;
  /** Injected clock. */
  now?: () => Date;
  /** Default lifetime of a pending verification, seconds. Default 900 (15 minutes). */
  defaultTtlSeconds?: number;
  /** Delete the upstream record after completion (DOMAIN.md: recommended in production). */
  deleteUpstreamAfterCompletion?: boolean;
  logger?: ServiceLogger;
  /** Write a webhook event for each finished verification, in the outcome's transaction. */
  emitEvents?: boolean;
  /** Random id source (tests may pin it). */
  randomId?: (prefix: string) => string;
}

/** The verification flow: create → complete → outcome. */
export interface VerificationService {
  /**
   * Issues a pending verification.
   *
   * @throws {RequestError} `unknown_field` when `input` or its policy has a key that is no field of
   *   theirs (camelCase as written: "accountref", "policy.minage"), before anything is stored;
   *   `invalid_request` when `apiVersion` is not configured, `purpose` does not fit `accountRef` or
   *   `expected` is not valid; `account_not_bound` for a `reverify` of an account no person is bound to.
   */
  create(input: CreateVerificationInput): Promise<VerificationRecord>;
  /**
   * `create` under an Idempotency-Key (Stripe's semantics): the first use of `idempotency.key`
   * creates; a later one with the same fingerprint within {@link IDEMPOTENCY_KEY_TTL_MS} answers
   * that same verification (`replayed: true`), also when it raced the first across instances; an
   * older key is used anew.
   * @throws RequestError `idempotency_conflict` when the key was used with another fingerprint.
   */
  createIdempotent(input: CreateVerificationInput, idempotency: IdempotencyKey): Promise<IdempotentCreation>;
  get(id: string): Promise<VerificationRecord | undefined>;
  findByBoundId(boundId: string): Promise<VerificationRecord | undefined>;
  /** The guide's `POST /certifications` / redirect: `imp_uid` from the browser, bound by `merchant_uid`. */
  completeV1(input: { impUid: string; merchantUid: string }): Promise<CompletionOutcome>;
  /** The V2 twin: `identityVerificationId` from the browser, which is itself the binding. */
  completeV2(input: { identityVerificationId: string }): Promise<CompletionOutcome>;
  /** The API versions this service can complete. */
  readonly apiVersions: readonly ApiVersion[];
  unbindAccount(accountRef: string): Promise<boolean>;
}

const SILENT: ServiceLogger = { info() {}, warn() {} };

/**
 * The verification flow over `options.store` and the configured PortOne clients (at least one).
 * @throws ConfigError when neither a V1 nor a V2 client is given.
 * @example const service = createVerificationService({ store, v1: createV1Client({ apiKey, apiSecret }) });
 */
export function createVerificationService(options: VerificationServiceOptions): VerificationService {
  const { store, v1, v2 } = options;
  const apiVersions: ApiVersion[] = [...(v1 ? ["v1" as const] : []), ...(v2 ? ["v2" as const] : [])];
  if (apiVersions.length === 0)
    throw new ConfigError("portone", "configure a V1 client, a V2 client or both");
  const now = options.now ?? (() => new Date());
  const ttl = options.defaultTtlSeconds ?? 900;
  const log = options.logger ?? SILENT;
  const newId = options.randomId ?? randomId;

  async function finish(
    verification: VerificationRecord,
    upstreamId: string | undefined,
    decision: CompletionDecision,
  ): Promise<CompletionOutcome> {
    const result = await store.completeVerification({
      verificationId: verification.id,
      upstreamId,
      decision,
      now: now(),
      emitEvent: options.emitEvents ?? false,
    });
    if (result.kind === "not_found") {
      throw new RequestError("not_found", "verification not found");
    }
    const done = result.verification;
    if (result.kind === "replayed") {
      log.info({ verification_id: done.id, status: done.status }, "completion replayed");
      return { kind: "replayed", verification: done };
    }
    log.info(
      { verification_id: done.id, status: done.status, reason: done.reason, api_version: done.apiVersion },
      "verification completed",
    );
    return { kind: "finished", verification: done };
  }

  /** Steps 1–3: the pending verification bound to `boundId`, or the outcome that ends the attempt. */
  async function openPending(
    apiVersion: ApiVersion,
    boundId: string,
    what: string,
  ): Promise<{ pending: VerificationRecord } | { outcome: CompletionOutcome }> {
    const verification = await store.findVerificationByBoundId(boundId);
    if (verification?.apiVersion !== apiVersion) {
      throw new RequestError("not_found", `no verification was issued for this ${what}`);
    }
    if (verification.status !== "pending") {
      return { outcome: { kind: "replayed", verification } };
    }
    if (now().getTime() > verification.expiresAt.getTime()) {
      return { outcome: await finish(verification, undefined, { ok: false, reason: "expired" }) };
    }
    return { pending: verification };
  }

  /**
   * A failed attempt (see the header): counted while the limit allows, else the `too_many_attempts`
   * finish. `upstreamId` is the id presented, for the audit trail; it is never consumed.
   */
  async function failAttempt(
    verification: VerificationRecord,
    reason: FailedAttemptReason,
    upstreamId: string,
  ): Promise<CompletionOutcome> {
    const result = await store.recordFailedAttempt({
      verificationId: verification.id,
      reason,
      upstreamId,
      now: now(),
      emitEvent: options.emitEvents ?? false,
    });
    switch (result.kind) {
      case "not_found":
        throw new RequestError("not_found", "verification not found");
      case "replayed":
        log.info(
          { verification_id: result.verification.id, status: result.verification.status },
          "completion replayed",
        );
        return { kind: "replayed", verification: result.verification };
      case "finished": {
        const done = result.verification;
        log.info(
          {
            verification_id: done.id,
            status: done.status,
            reason: done.reason,
            api_version: done.apiVersion,
          },
          "verification completed",
        );
        return { kind: "finished", verification: done };
      }
      case "attempt_failed": {
        const counted = result.verification;
        log.info(
          {
            verification_id: counted.id,
            reason,
            failed_attempts: counted.failedAttempts,
            max_attempts: counted.maxAttempts,
          },
          "failed attempt; verification stays pending",
        );
        return { kind: "attempt_failed", reason, verification: counted };
      }
    }
  }

  /** Step 4: the upstream record; a 404 is a failed attempt, any other fault is rethrown. */
  async function fetchUpstream<T>(
    verification: VerificationRecord,
    presentedId: string,
    lookup: () => Promise<T>,
  ): Promise<{ record: T } | { outcome: CompletionOutcome }> {
    try {
      return { record: await lookup() };
    } catch (error) {
      if (error instanceof UpstreamError && error.code === "not_found") {
        return { outcome: await failAttempt(verification, "not_found", presentedId) };
      }
      log.warn(
        {
          verification_id: verification.id,
          upstream_code: error instanceof UpstreamError ? error.code : "unknown",
        },
        "upstream fault; verification stays pending",
      );
      throw error;
    }
  }

  /**
   * Steps 5–6: the policy, then the one transaction. Returns whether the upstream id was ours to
   * consume: a record bound to another verification is neither consumed nor allowed to finish this
   * one (a failed attempt, see the header).
   */
  async function decide(
    verification: VerificationRecord,
    result: UpstreamResult,
  ): Promise<{ outcome: CompletionOutcome; consumable: boolean }> {
    const decision = evaluatePolicy({
      result,
      expectedBoundId: verification.boundId,
      policy: verification.policy,
      now: now(),
    });
    if (decision.ok === false && decision.reason === "merchant_uid_mismatch") {
      return {
        outcome: await failAttempt(verification, "merchant_uid_mismatch", result.upstreamId),
        consumable: false,
      };
    }
    const outcome = await finish(
      verification,
      result.upstreamId,
      completionDecisionFor(verification.purpose, decision, result.identity),
    );
    return { outcome, consumable: true };
  }

  /**
   * The pending verification `input` asks for; a `reverify` only of an account bound to a person.
   * Its completion reads the binding again in its own transaction, so a withdrawal in between fails
   * it closed (`person_mismatch`).
   */
  async function newVerification(input: CreateVerificationInput): Promise<NewVerification> {
    const verification = buildNewVerification(input, { apiVersions, now, ttlSeconds: ttl, newId });
    if (verification.purpose === "reverify" && !(await store.isAccountBound(verification.accountRef ?? ""))) {
      throw new RequestError("account_not_bound", "no person is bound to this account: nothing to re-verify");
    }
    return verification;
  }

  return {
    apiVersions,

    create: async (input) => store.createVerification(await newVerification(input)),

    async createIdempotent(input, idempotency) {
      const verification = await newVerification(input);
      const result = await store.createIdempotentVerification({
        verification,
        ...idempotency,
        expiredBefore: new Date(verification.createdAt.getTime() - IDEMPOTENCY_KEY_TTL_MS),
      });
      if (result.kind === "conflict") {
        throw new RequestError(
          "idempotency_conflict",
          "this Idempotency-Key was used with another request body in the last 24 hours",
        );
      }
      if (result.kind === "replayed") {
        log.info({ verification_id: result.verification.id }, "idempotent creation replayed");
      }
      return { verification: result.verification, replayed: result.kind === "replayed" };
    },

    get: (id) => store.getVerification(id),
    findByBoundId: (boundId) => store.findVerificationByBoundId(boundId),

    async completeV1({ impUid, merchantUid }) {
      if (!v1) throw new RequestError("not_found", "no verification was issued for this merchant_uid");
      const opened = await openPending("v1", merchantUid, "merchant_uid");
      if ("outcome" in opened) return opened.outcome;
      const verification = opened.pending;

      const fetched = await fetchUpstream(verification, impUid, () => v1.getCertification(impUid));
      if ("outcome" in fetched) return fetched.outcome;

      const result = fromV1Certification(fetched.record);
      const { outcome, consumable } = await decide(verification, result);
      if (consumable && options.deleteUpstreamAfterCompletion && v1.deleteCertification) {
        // Best effort: the outcome is committed; a failed delete is retried by nobody but logged.
        await v1.deleteCertification(result.upstreamId).catch((error: unknown) => {
          log.warn(
            {
              verification_id: verification.id,
              upstream_code: error instanceof UpstreamError ? error.code : "unknown",
            },
            "could not delete the upstream record",
          );
        });
      }
      return outcome;
    },

    async completeV2({ identityVerificationId }) {
      if (!v2) {
        throw new RequestError("not_found", "no verification was issued for this identityVerificationId");
      }
      const opened = await openPending("v2", identityVerificationId, "identityVerificationId");
      if ("outcome" in opened) return opened.outcome;
      const verification = opened.pending;

      // The id certgate issued, not the one the browser sent: they are equal, but only ours is trusted.
      const fetched = await fetchUpstream(verification, verification.boundId, () =>
        v2.getIdentityVerification(verification.boundId),
      );
      if ("outcome" in fetched) return fetched.outcome;
      const record = fetched.record;

      const result = fromV2IdentityVerification(record);
      if (
        result.boundId === verification.boundId &&
        (record.status === "READY" || record.status === "UNRECOGNIZED")
      ) {
        log.info(
          {
            verification_id: verification.id,
            // Which arm, not PortOne's raw string: an unknown status is for operators to look up.
            upstream_status: record.status,
          },
          "upstream verification not finished; verification stays pending",
        );
        return { kind: "pending", verification };
      }
      return (await decide(verification, result)).outcome;
    },

    unbindAccount: (accountRef) => store.unbindAccount(accountRef, now()),
  };
}
