/**
 * The verification flow: create → complete → outcome. Wires the pure core (policy), an upstream
 * client (PortOne) and the store. Holds no state of its own, so instances scale out behind one
 * PostgreSQL whose unique constraints carry the guarantees.
 *
 * Completion, in its documented order (core/policy.ts has the policy part):
 *   1. the verification is found by its bound id (unknown → 404 `not_found` request error);
 *   2. not pending any more → a replay: `already_used`, nothing written;
 *   3. past its expiry → `expired` (no upstream call);
 *   4. the upstream record is fetched with certgate's own token; a 404 → `not_found`; any other
 *      upstream fault is thrown and leaves the verification pending and retryable;
 *   5. evaluatePolicy: merchant_uid_mismatch → not_certified → stale_certification → underage →
 *      overage → no_person_key;
 *   6. in ONE transaction the store consumes the imp_uid (`already_used`), binds person → account
 *      (`duplicate_account`), writes the outcome and its audit event.
 * A record bound to another merchant_uid is never consumed: otherwise anyone could burn someone
 * else's imp_uid (it travels in URLs) by presenting it with their own verification.
 */
import { randomBytes } from "node:crypto";
import { RequestError, UpstreamError } from "../core/errors.js";
import { fromV1Certification } from "../core/identity.js";
import { evaluatePolicy, type Policy } from "../core/policy.js";
import type { V1Certification } from "../core/upstream-records.js";
import type { CompletionDecision, Store, VerificationRecord } from "../store/types.js";

/** What the service needs of the V1 client. */
export interface V1Upstream {
  getCertification(impUid: string): Promise<V1Certification>;
  deleteCertification?(impUid: string): Promise<unknown>;
}

/** Ids, statuses and reasons only: the service never hands personal data to its logger. */
export interface ServiceLogger {
  info(fields: Record<string, string | number | boolean | undefined>, message: string): void;
  warn(fields: Record<string, string | number | boolean | undefined>, message: string): void;
}

export interface VerificationServiceOptions {
  store: Store;
  v1: V1Upstream;
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

export interface CreateVerificationInput {
  policy: Policy;
  accountRef?: string | undefined;
  returnUrl?: string | undefined;
  ttlSeconds?: number | undefined;
}

export type CompletionOutcome =
  /** This call finished the verification (verified, rejected or expired). */
  | { kind: "finished"; verification: VerificationRecord }
  /** The verification had already finished: this attempt is a replay (`already_used`). */
  | { kind: "replayed"; verification: VerificationRecord };

export interface VerificationService {
  create(input: CreateVerificationInput): Promise<VerificationRecord>;
  get(id: string): Promise<VerificationRecord | undefined>;
  findByBoundId(boundId: string): Promise<VerificationRecord | undefined>;
  /** The guide's `POST /certifications` / redirect: `imp_uid` from the browser, bound by `merchant_uid`. */
  completeV1(input: { impUid: string; merchantUid: string }): Promise<CompletionOutcome>;
  unbindAccount(accountRef: string): Promise<boolean>;
}

const SILENT: ServiceLogger = { info() {}, warn() {} };

/** An unguessable id: 18 random bytes, base64url (144 bits). */
export function randomId(prefix: string): string {
  return `${prefix}_${randomBytes(18).toString("base64url")}`;
}

export function createVerificationService(options: VerificationServiceOptions): VerificationService {
  const { store, v1 } = options;
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
    if (result.kind === "not_pending") {
      log.info({ verification_id: done.id, status: done.status }, "completion replayed");
      return { kind: "replayed", verification: done };
    }
    log.info(
      { verification_id: done.id, status: done.status, reason: done.reason, api_version: done.apiVersion },
      "verification completed",
    );
    return { kind: "finished", verification: done };
  }

  return {
    async create(input) {
      const createdAt = now();
      const ttlSeconds = input.ttlSeconds ?? ttl;
      return store.createVerification({
        id: newId("ver"),
        apiVersion: "v1",
        boundId: newId("mid"),
        policy: input.policy,
        accountRef: input.accountRef,
        returnUrl: input.returnUrl,
        createdAt,
        expiresAt: new Date(createdAt.getTime() + ttlSeconds * 1000),
      });
    },

    get: (id) => store.getVerification(id),
    findByBoundId: (boundId) => store.findVerificationByBoundId(boundId),

    async completeV1({ impUid, merchantUid }) {
      const verification = await store.findVerificationByBoundId(merchantUid);
      if (verification?.apiVersion !== "v1") {
        throw new RequestError("not_found", "no verification was issued for this merchant_uid");
      }
      if (verification.status !== "pending") {
        return { kind: "replayed", verification };
      }
      if (now().getTime() > verification.expiresAt.getTime()) {
        return finish(verification, undefined, { ok: false, reason: "expired" });
      }

      let record: V1Certification;
      try {
        record = await v1.getCertification(impUid);
      } catch (error) {
        if (error instanceof UpstreamError && error.code === "not_found") {
          return finish(verification, undefined, { ok: false, reason: "not_found" });
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

      const result = fromV1Certification(record);
      const decision = evaluatePolicy({
        result,
        expectedBoundId: verification.boundId,
        policy: verification.policy,
        now: now(),
      });
      // A record bound to another verification is not ours to consume (see the header).
      const consumable = !(decision.ok === false && decision.reason === "merchant_uid_mismatch");
      const outcome = await finish(
        verification,
        consumable ? result.upstreamId : undefined,
        decision.ok ? { ok: true, identity: decision.identity, personKey: decision.personKey } : decision,
      );
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

    unbindAccount: (accountRef) => store.unbindAccount(accountRef, now()),
  };
}
