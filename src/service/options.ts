/**
 * What {@link createVerificationService} (service/verifications.ts) is given: the store, the
 * PortOne clients as the service needs them, a clock and a logger.
 */
import { ConfigError } from "../core/errors.js";
import {
  booleanOption,
  functionOption,
  loggerOption,
  methodsOption,
  optionsObject,
} from "../core/option-values.js";
import type { Store } from "../core/store.js";
import { checkOptionKeys } from "../core/unknown-fields.js";
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

const SERVICE_OPTION_KEYS: Record<keyof VerificationServiceOptions, true> = {
  store: true,
  v1: true,
  v2: true,
  now: true,
  defaultTtlSeconds: true,
  deleteUpstreamAfterCompletion: true,
  logger: true,
  emitEvents: true,
  randomId: true,
};

/**
 * What `createVerificationService` checks of its options' kinds, before anything is called. Each of
 * these used to be taken and fail later or open: `deleteUpstreamAfterCompletion: "true"` read as
 * off (`=== true`), so PortOne kept its copy of the personal data; `emitEvents: "no"` read as on;
 * `v1: {}`, no `store`, `logger: {}` or a `now` that is no function were each a TypeError on every
 * call, a 500 over HTTP.
 * @throws ConfigError naming the option (`createVerificationService options.<name>`).
 */
export function checkServiceOptions(options: unknown): asserts options is VerificationServiceOptions {
  const what = "createVerificationService options";
  optionsObject(what, options);
  checkOptionKeys(what, options, SERVICE_OPTION_KEYS);
  const given = options as Partial<Record<keyof VerificationServiceOptions, unknown>>;
  methodsOption(
    `${what}.store`,
    given.store,
    ["completeVerification", "getVerification"],
    "is required: a store from openStore",
  );
  if (given.v1 !== undefined)
    methodsOption(
      `${what}.v1`,
      given.v1,
      ["getCertification"],
      "must be a V1 client (createV1Client), or left out",
    );
  const deleteCertification = (given.v1 as { deleteCertification?: unknown } | undefined)
    ?.deleteCertification;
  if (deleteCertification !== undefined && typeof deleteCertification !== "function")
    throw new ConfigError(
      `${what}.v1`,
      "must be a V1 client (createV1Client): its deleteCertification is not a function",
    );
  if (given.v2 !== undefined)
    methodsOption(
      `${what}.v2`,
      given.v2,
      ["getIdentityVerification"],
      "must be a V2 client (createV2Client), or left out",
    );
  loggerOption(`${what}.logger`, given.logger, ["info", "warn"]);
  functionOption(`${what}.now`, given.now as (() => Date) | undefined);
  functionOption(`${what}.randomId`, given.randomId as ((prefix: string) => string) | undefined);
  booleanOption(`${what}.deleteUpstreamAfterCompletion`, given.deleteUpstreamAfterCompletion);
  booleanOption(`${what}.emitEvents`, given.emitEvents);
}
