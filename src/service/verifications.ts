/**
 * The verification flow: create → complete → outcome. Wires the pure core (policy), an upstream
 * client (PortOne) and the store. Holds no state of its own, so instances scale out behind one
 * PostgreSQL whose unique constraints carry the guarantees. Longer than 400 lines: one concern, the
 * one completion path that browser returns, recovery, refresh and expiry share.
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
import { checkLookupId, LOOKUP_ID_MAX } from "../core/lookup-ids.js";
import type { CompletionOutcome } from "../core/outcome.js";
import { evaluatePolicy } from "../core/policy.js";
import { completionDecisionFor } from "../core/purpose.js";
import { unknownFieldError, unknownKeys } from "../core/unknown-fields.js";
import { fromV1Certification } from "../core/v1/upstream.js";
import { fromV2IdentityVerification } from "../core/v2/upstream.js";
import {
  type ApiVersion,
  type CompletionDecision,
  MAX_TTL_SECONDS,
  MIN_TTL_SECONDS,
  type NewVerification,
  type VerificationRecord,
} from "../core/verification.js";
import { REQUEST_ID_PATTERN, withRequestIdField } from "../observability/request-context.js";
import { guardedLogger } from "../util/guarded-logger.js";
import {
  buildNewVerification,
  type CreateVerificationInput,
  IDEMPOTENCY_KEY_TTL_MS,
  type IdempotencyKey,
  type IdempotentCreation,
} from "./creation.js";
import { randomId } from "./ids.js";
import { errorCode } from "./loop.js";
import {
  checkServiceOptions,
  type ServiceCall,
  type ServiceLogger,
  type V2Upstream,
  type VerificationServiceOptions,
} from "./options.js";

export {
  type CreateVerificationInput,
  IDEMPOTENCY_KEY_TTL_MS,
  type IdempotencyKey,
  type IdempotentCreation,
} from "./creation.js";
export type {
  ServiceCall,
  ServiceLogger,
  V1Upstream,
  V2Upstream,
  VerificationServiceOptions,
} from "./options.js";

/**
 * The verification flow: create → complete → outcome. The calls that log (`createIdempotent`, the
 * completions, `refresh`) take a {@link ServiceCall} last: its `requestId` goes on their lines.
 *
 * @example
 * import type { VerificationService } from "certgate";
 * async function signUp(service: VerificationService, impUid: string, merchantUid: string) {
 *   const outcome = await service.completeV1({ impUid, merchantUid });
 *   return outcome.kind === "finished" && outcome.verification.status === "verified";
 * }
 */
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
  createIdempotent(
    input: CreateVerificationInput,
    idempotency: IdempotencyKey,
    call?: ServiceCall,
  ): Promise<IdempotentCreation>;
  /** @throws RequestError `invalid_request` for an id no verification can have (core/lookup-ids.ts). */
  get(id: string): Promise<VerificationRecord | undefined>;
  /** @throws RequestError `invalid_request` for an id no verification can have (core/lookup-ids.ts). */
  findByBoundId(boundId: string): Promise<VerificationRecord | undefined>;
  /** The guide's `POST /certifications` / redirect: `imp_uid` from the browser, bound by `merchant_uid`. */
  completeV1(input: { impUid: string; merchantUid: string }, call?: ServiceCall): Promise<CompletionOutcome>;
  /** The V2 twin: `identityVerificationId` from the browser, which is itself the binding. */
  completeV2(input: { identityVerificationId: string }, call?: ServiceCall): Promise<CompletionOutcome>;
  /**
   * Recovery (V2, `POST /api/verifications/:id/refresh` and service/recovery.ts): asks PortOne about
   * pending verification `id` and finishes it through the V2 completion's own steps when PortOne
   * has it VERIFIED or FAILED. READY, a status certgate does not know, or a 404 (the person has not
   * opened PortOne's window yet) leave it pending: here no one presented an id, so a 404 is no
   * failed attempt. Answers the verification as it is afterwards; a finished one unchanged.
   * @throws RequestError `not_found`, `invalid_request` for an id no verification can have, or
   *   `refresh_unsupported` for V1 (no lookup by merchant_uid);
   *   an upstream fault as for a completion.
   */
  refresh(id: string, call?: ServiceCall): Promise<VerificationRecord>;
  /**
   * The expiry sweeper: finishes `id` as `expired` when it is still pending past its expiry, with
   * its audit and outbox events in the completion transaction. True when this call finished it.
   */
  expire(id: string): Promise<boolean>;
  /**
   * Deletes PortOne's copy of the V1 record `upstreamId` that verification `verificationId`
   * consumed, and settles the deletion its completion owed ({@link Store.markUpstreamDeleted});
   * PortOne's 404 counts as deleted. For recovery (service/recovery.ts), which retries the
   * deletions the completion could not make, with the ids of its claim. Only a record one of
   * certgate's verifications consumed is deleted: any other id is refused before PortOne is asked,
   * so a mistaken or forged call cannot erase a record a merchant still needs.
   * @throws RequestError `not_found` when `verificationId` did not consume `upstreamId` on V1, or
   *   without a V1 client that deletes; `invalid_request` / `unknown_field` for malformed input;
   *   an upstream or store fault.
   */
  deleteUpstreamCopy(deletion: { upstreamId: string; verificationId: string }): Promise<void>;
  /** The API versions this service can complete. */
  readonly apiVersions: readonly ApiVersion[];
  unbindAccount(accountRef: string): Promise<boolean>;
}

const SILENT: ServiceLogger = { info() {}, warn() {} };

const SERVICE_CALL_KEYS: Record<keyof ServiceCall, true> = { requestId: true };
const COMPLETE_V1_KEYS = { impUid: LOOKUP_ID_MAX.impUid, merchantUid: LOOKUP_ID_MAX.merchantUid } as const;
const COMPLETE_V2_KEYS = { identityVerificationId: LOOKUP_ID_MAX.identityVerificationId } as const;
const DELETION_KEYS = {
  upstreamId: LOOKUP_ID_MAX.impUid,
  verificationId: LOOKUP_ID_MAX.verificationId,
} as const;

/**
 * How long the deletion a V1 completion makes of PortOne's copy (`deleteUpstreamAfterCompletion`)
 * has before the deletion it owes falls due for recovery: the first retry's delay. Longer than one
 * upstream call with its retries, so recovery does not race the completion's own attempt.
 */
const UPSTREAM_DELETION_GRACE_MS = 60_000;

/**
 * A completion's input as a JavaScript caller may hand it: an object with exactly `known`'s keys,
 * each an id by core/lookup-ids.ts's rules (at most `known[key]` characters, as over HTTP).
 * `{ imp_uid, merchant_uid }` (the HTTP spelling) used to be read as no merchant_uid, a misleading
 * `not_found`; an extra key was dropped unread; a NUL reached PostgreSQL, which refused it (a 500).
 * @throws {RequestError} `unknown_field`, or `invalid_request` naming the field.
 */
function checkedCompletion<K extends string>(
  input: unknown,
  known: Readonly<Record<K, number>>,
): Record<K, string> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new RequestError("invalid_request", "the input must be an object", { field: "input" });
  }
  const unknown = unknownKeys(input, known);
  if (unknown.length > 0) throw unknownFieldError(unknown);
  for (const [field, max] of Object.entries<number>(known)) {
    checkLookupId(field, (input as Record<string, unknown>)[field], max);
  }
  return input as Record<K, string>;
}

/**
 * `call.requestId`, checked as the HTTP layer checks an incoming X-Request-Id: a call from
 * JavaScript could carry a misspelt key or an id that breaks a log line.
 * @throws {RequestError} `unknown_field`, or `invalid_request` for a call that is no object or an id
 *   outside REQUEST_ID_PATTERN.
 */
function checkedRequestId(call: ServiceCall | undefined): string | undefined {
  if (call === undefined) return undefined;
  // Not an object (an id passed bare, null): refused, not read as "no id".
  if (typeof call !== "object" || call === null || Array.isArray(call)) {
    throw new RequestError("invalid_request", "the call must be an object such as { requestId }", {
      field: "call",
    });
  }
  const unknown = unknownKeys(call, SERVICE_CALL_KEYS);
  if (unknown.length > 0) throw unknownFieldError(unknown);
  const { requestId } = call;
  if (requestId === undefined || (typeof requestId === "string" && REQUEST_ID_PATTERN.test(requestId))) {
    return requestId;
  }
  throw new RequestError("invalid_request", "requestId must be 1–128 characters of A-Z a-z 0-9 . _ : -", {
    field: "requestId",
  });
}

/**
 * The verification flow over `options.store` and the configured PortOne clients (at least one).
 * @throws ConfigError when neither a V1 nor a V2 client is given, or `defaultTtlSeconds` is out of bounds.
 * @example const service = createVerificationService({ store, v1: createV1Client({ apiKey, apiSecret }) });
 */
export function createVerificationService(options: VerificationServiceOptions): VerificationService {
  checkServiceOptions(options);
  const { store, v1, v2 } = options;
  const apiVersions: ApiVersion[] = [...(v1 ? ["v1" as const] : []), ...(v2 ? ["v2" as const] : [])];
  if (apiVersions.length === 0)
    throw new ConfigError("portone", "configure a V1 client, a V2 client or both");
  const now = options.now ?? (() => new Date());
  const ttl = options.defaultTtlSeconds ?? 900;
  // Checked here, once: per request it was a 400 naming ttlSeconds, a field the caller never sent.
  if (!Number.isInteger(ttl) || ttl < MIN_TTL_SECONDS || ttl > MAX_TTL_SECONDS) {
    throw new ConfigError(
      "defaultTtlSeconds",
      `must be an integer from ${MIN_TTL_SECONDS} to ${MAX_TTL_SECONDS} seconds`,
    );
  }
  const baseLog = options.logger === undefined ? SILENT : guardedLogger(options.logger, ["info", "warn"]);
  const newId = options.randomId ?? randomId;

  /**
   * The logger for one call: `request_id` on each line when the call carries one. Every step below
   * takes it, so the id reaches the lines without an AsyncLocalStorage (observability/request-context.ts).
   */
  function loggerFor(call: ServiceCall | undefined): ServiceLogger {
    const requestId = checkedRequestId(call);
    if (requestId === undefined) return baseLog;
    return {
      info: (fields, message) => baseLog.info(withRequestIdField(fields, requestId), message),
      warn: (fields, message) => baseLog.warn(withRequestIdField(fields, requestId), message),
    };
  }

  async function finish(
    log: ServiceLogger,
    verification: VerificationRecord,
    upstreamId: string | undefined,
    decision: CompletionDecision,
    upstreamDeletionDueAt: Date | undefined,
  ): Promise<CompletionOutcome> {
    const result = await store.completeVerification({
      verificationId: verification.id,
      upstreamId,
      decision,
      now: now(),
      emitEvent: options.emitEvents ?? false,
      upstreamDeletionDueAt,
    });
    if (result.kind === "not_found") {
      throw new RequestError("not_found", "verification not found");
    }
    return settled(log, result);
  }

  /** The store's `finished` or `replayed`, logged, as the outcome of the same kind. */
  function settled(
    log: ServiceLogger,
    result: {
      kind: "finished" | "replayed";
      verification: VerificationRecord;
    },
  ): CompletionOutcome {
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
    log: ServiceLogger,
    apiVersion: ApiVersion,
    boundId: string,
    what: string,
  ): Promise<{ pending: VerificationRecord } | { outcome: CompletionOutcome }> {
    const verification = await store.findVerificationByBoundId(boundId);
    if (verification?.apiVersion !== apiVersion) {
      throw new RequestError("not_found", `no verification was issued for this ${what}`);
    }
    return stillPending(log, verification);
  }

  /** Steps 2–3 of `verification`. */
  async function stillPending(
    log: ServiceLogger,
    verification: VerificationRecord,
  ): Promise<{ pending: VerificationRecord } | { outcome: CompletionOutcome }> {
    if (verification.status !== "pending") {
      return { outcome: { kind: "replayed", verification } };
    }
    if (now().getTime() > verification.expiresAt.getTime()) {
      const expired = { ok: false, reason: "expired" } as const;
      return { outcome: await finish(log, verification, undefined, expired, undefined) };
    }
    return { pending: verification };
  }

  /**
   * A failed attempt (see the header): counted while the limit allows, else the `too_many_attempts`
   * finish. `upstreamId` is the id presented, for the audit trail; it is never consumed.
   */
  async function failAttempt(
    log: ServiceLogger,
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
      case "finished":
        return settled(log, result);
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

  /**
   * Step 4: the upstream record; a 404 is a failed attempt (recovery: the verification stays
   * pending), any other fault is rethrown.
   */
  async function fetchUpstream<T>(
    log: ServiceLogger,
    verification: VerificationRecord,
    presentedId: string,
    lookup: () => Promise<T>,
    via: "browser" | "recovery" = "browser",
  ): Promise<{ record: T } | { outcome: CompletionOutcome }> {
    try {
      return { record: await lookup() };
    } catch (error) {
      if (error instanceof UpstreamError && error.code === "not_found") {
        if (via === "recovery") return { outcome: { kind: "pending", verification } };
        return { outcome: await failAttempt(log, verification, "not_found", presentedId) };
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
    log: ServiceLogger,
    verification: VerificationRecord,
    result: UpstreamResult,
    via: "browser" | "recovery",
    upstreamDeletionDueAt?: Date,
  ): Promise<{ outcome: CompletionOutcome; consumable: boolean }> {
    const decision = evaluatePolicy({
      result,
      expectedBoundId: verification.boundId,
      policy: verification.policy,
      now: now(),
    });
    if (decision.ok === false && decision.reason === "merchant_uid_mismatch") {
      return {
        outcome: await failAttempt(log, verification, "merchant_uid_mismatch", result.upstreamId),
        consumable: false,
      };
    }
    // Not certified (V1 certified false, V2 FAILED): the person's attempt failed, and PortOne lets
    // them try again under the same id (core/attempts.ts). Counted when a person presented it; left
    // pending, uncounted, when recovery or a refresh asked.
    if (decision.ok === false && decision.reason === "not_certified") {
      if (via === "recovery") {
        log.info(
          { verification_id: verification.id, upstream_status: "not_certified" },
          "upstream verification not certified; verification stays pending",
        );
        return { outcome: { kind: "pending", verification }, consumable: false };
      }
      return {
        outcome: await failAttempt(log, verification, "not_certified", result.upstreamId),
        consumable: false,
      };
    }
    const outcome = await finish(
      log,
      verification,
      result.upstreamId,
      completionDecisionFor(verification.purpose, decision, result.identity),
      upstreamDeletionDueAt,
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

    async createIdempotent(input, idempotency, call) {
      const log = loggerFor(call);
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

    get: async (id) => store.getVerification(checkLookupId("id", id, LOOKUP_ID_MAX.verificationId)),
    findByBoundId: async (boundId) =>
      // A bound id is a V1 merchant_uid or a V2 identityVerificationId: the longer bound of the two.
      store.findVerificationByBoundId(
        checkLookupId("boundId", boundId, LOOKUP_ID_MAX.identityVerificationId),
      ),

    async completeV1(input, call) {
      const { impUid, merchantUid } = checkedCompletion(input, COMPLETE_V1_KEYS);
      const log = loggerFor(call);
      if (!v1) throw new RequestError("not_found", "no verification was issued for this merchant_uid");
      const opened = await openPending(log, "v1", merchantUid, "merchant_uid");
      if ("outcome" in opened) return opened.outcome;
      const verification = opened.pending;

      const fetched = await fetchUpstream(log, verification, impUid, () => v1.getCertification(impUid));
      if ("outcome" in fetched) return fetched.outcome;

      const result = fromV1Certification(fetched.record);
      const deletes = options.deleteUpstreamAfterCompletion === true && v1.deleteCertification !== undefined;
      // Owed in the completion's transaction (Store.completeVerification), due once the attempt
      // below has had its time: a failed or interrupted one is recovery's to make.
      const dueAt = deletes ? new Date(now().getTime() + UPSTREAM_DELETION_GRACE_MS) : undefined;
      const { outcome, consumable } = await decide(log, verification, result, "browser", dueAt);
      // A replay's deletion was owed, and tried, by the completion that finished it.
      if (deletes && consumable && outcome.kind === "finished") {
        await deleteConsumedCopy(result.upstreamId).catch((error: unknown) => {
          // The outcome is committed and answered; the deletion stays owed.
          log.warn(
            { verification_id: verification.id, code: errorCode(error) },
            "could not delete the upstream record; the deletion stays owed (recovery retries it)",
          );
        });
      }
      return outcome;
    },

    async completeV2(input, call) {
      const { identityVerificationId } = checkedCompletion(input, COMPLETE_V2_KEYS);
      const log = loggerFor(call);
      if (!v2) {
        throw new RequestError("not_found", "no verification was issued for this identityVerificationId");
      }
      const opened = await openPending(log, "v2", identityVerificationId, "identityVerificationId");
      if ("outcome" in opened) return opened.outcome;
      return settleV2(log, v2, opened.pending, "browser");
    },

    async refresh(id, call) {
      const log = loggerFor(call);
      const found = await store.getVerification(checkLookupId("id", id, LOOKUP_ID_MAX.verificationId));
      if (!found) throw new RequestError("not_found", "verification not found");
      if (found.apiVersion === "v1") {
        throw new RequestError(
          "refresh_unsupported",
          "PortOne V1 has no lookup by merchant_uid: a V1 verification completes from the browser only",
        );
      }
      if (!v2) throw new RequestError("refresh_unsupported", "PortOne V2 is not configured");
      const opened = await stillPending(log, found);
      const outcome =
        "outcome" in opened ? opened.outcome : await settleV2(log, v2, opened.pending, "recovery");
      return outcome.verification;
    },

    async expire(id) {
      const found = await store.getVerification(id);
      // Step 3 finishes it when it is pending past its expiry; a pending one is left alone.
      const opened = found === undefined ? undefined : await stillPending(baseLog, found);
      return opened !== undefined && "outcome" in opened && opened.outcome.kind === "finished";
    },

    async deleteUpstreamCopy(deletion) {
      const { upstreamId, verificationId } = checkedCompletion(deletion, DELETION_KEYS);
      const found = await store.getVerification(verificationId);
      if (found?.apiVersion !== "v1" || found.upstreamId !== upstreamId) {
        throw new RequestError("not_found", "no V1 verification of this id consumed this upstream record");
      }
      await deleteConsumedCopy(upstreamId);
    },

    async unbindAccount(accountRef) {
      // Not the creation's rule: before it, the library stored any string as an account reference,
      // and unbinding (an erasure path) must reach those too. Only what cannot be one is refused.
      if (typeof accountRef !== "string" || accountRef === "" || accountRef.length > 4_096) {
        throw new RequestError("invalid_request", "accountRef must be a non-empty string", {
          field: "accountRef",
        });
      }
      return store.unbindAccount(accountRef, now(), { emitEvent: options.emitEvents ?? false });
    },
  };

  /** {@link VerificationService.deleteUpstreamCopy} for a record this service knows it consumed. */
  async function deleteConsumedCopy(upstreamId: string): Promise<void> {
    const remove = v1?.deleteCertification;
    if (remove === undefined) {
      throw new RequestError("not_found", "no V1 client that deletes: PortOne's copies cannot be deleted");
    }
    let how: "deleted" | "not_found" = "deleted";
    try {
      await remove(upstreamId);
    } catch (error) {
      if (!(error instanceof UpstreamError && error.code === "not_found")) throw error;
      // Gone already: deleted by an attempt whose settling failed, by another instance, or by
      // hand. Or PortOne is asked under other credentials than the record's (then reading it
      // fails too). Settled, but said so in the audit entry and here, for an operator to check.
      how = "not_found";
      baseLog.warn({ code: "not_found" }, "upstream record already gone; its deletion is settled");
    }
    await store.markUpstreamDeleted(upstreamId, now(), how);
  }

  /**
   * Steps 4–6 of a pending V2 verification, for the browser's completion and recovery alike: the
   * one V2 decision path.
   */
  async function settleV2(
    log: ServiceLogger,
    v2: V2Upstream,
    verification: VerificationRecord,
    via: "browser" | "recovery",
  ): Promise<CompletionOutcome> {
    // The id certgate issued, not the one the browser sent: they are equal, but only ours is trusted.
    const fetched = await fetchUpstream(
      log,
      verification,
      verification.boundId,
      () => v2.getIdentityVerification(verification.boundId),
      via,
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
    return (await decide(log, verification, result, via)).outcome;
  }
}
