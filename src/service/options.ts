/**
 * What {@link createVerificationService} (service/verifications.ts) is given: the store, the
 * PortOne clients as the service needs them, a clock and a logger.
 */
import type { Store } from "../core/store.js";
import type { V1Certification } from "../core/v1/upstream.js";
import type { V2IdentityVerification } from "../core/v2/upstream.js";

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

/**
 * What a call of the service is made for, beside its input: the id of the request it serves, which
 * the service writes as `request_id` on the lines it logs for the call. certgate's HTTP app passes
 * its X-Request-Id; a merchant's own route can pass its own (1–128 characters of
 * `A-Z a-z 0-9 . _ : -`).
 * @example await service.completeV1({ impUid, merchantUid }, { requestId: req.id });
 */
export interface ServiceCall {
  requestId?: string | undefined;
}

/** What `createVerificationService` wires: a store, the PortOne clients, a clock, a logger. */
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
