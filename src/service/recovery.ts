/**
 * The background job that ends what the browser never finished, on every instance:
 *
 * - **The expiry sweeper**: every pending verification past its expiry is finished as `expired`
 *   (reason `expired`) through the service's completion transaction, with its audit row and its
 *   `verification.expired` outbox event. Instances may sweep the same rows at once: the
 *   transaction locks the row and finishes only a pending one, so each expires once.
 * - **Recovery of V2 results**: PortOne sends no identity-verification webhook, so a lost browser
 *   return is recovered by asking. Due pending V2 verifications are claimed under a lease (one
 *   instance each; see `Store.claimRecoveryChecks`) and refreshed through
 *   {@link VerificationService.refresh}: the V2 completion's own steps and transaction, so a
 *   browser completion arriving at the same moment makes one completion, not two. The schedule is
 *   core/recovery.ts's backoff until the expiry. V1 has no lookup by `merchant_uid`: not recovered.
 * - **Owed upstream deletions** (V1, `deleteUpstreamAfterCompletion`): a completion owes the
 *   deletion of PortOne's copy in its own transaction and makes it at once; one that failed, or
 *   whose process died first, falls due a minute later. Due ones are claimed under a lease, as the
 *   checks are, deleted through {@link VerificationService.deleteUpstreamCopy}, and tried again on
 *   core/recovery.ts's backoff until PortOne's copy is gone (its 404 counts as gone).
 *
 * A run that fails (the database or PortOne is down) is logged and retried on the next tick.
 */

import { ConfigError } from "../core/errors.js";
import {
  functionOption,
  MAX_DELAY_MS,
  methodsOption,
  optionsObject,
  wholeNumberOption,
} from "../core/option-values.js";
import {
  DEFAULT_RECOVERY_SCHEDULE,
  nextRecoveryCheckAt,
  nextUpstreamDeletionAt,
  type RecoverySchedule,
} from "../core/recovery.js";
import type { Store } from "../core/store.js";
import { checkOptionKeys } from "../core/unknown-fields.js";
import { checkedLogger } from "../util/guarded-logger.js";
import { backgroundLoop, errorCode } from "./loop.js";
import type { ServiceLogger } from "./options.js";
import type { VerificationService } from "./verifications.js";

/** What {@link createRecoveryJob} runs on. */
export interface RecoveryJobOptions {
  store: Store;
  service: Pick<VerificationService, "refresh" | "expire" | "deleteUpstreamCopy" | "apiVersions">;
  /** Injected clock; the service's. */
  now?: () => Date;
  logger?: ServiceLogger;
  /** The recovery checks' timing; default {@link DEFAULT_RECOVERY_SCHEDULE}. */
  schedule?: RecoverySchedule;
  /** Verifications checked per run, and owed upstream deletions made. Default 20 each. */
  batchSize?: number;
  /** Expired verifications finished per run. Default 100. */
  sweepSize?: number;
  /**
   * How long a claimed check or deletion belongs to its instance (an instance killed mid-check
   * delays it by at most this long). Must outlast one upstream call with its retries. Default 60 s.
   */
  leaseMs?: number;
}

const RECOVERY_OPTION_KEYS: Record<keyof RecoveryJobOptions, true> = {
  store: true,
  service: true,
  now: true,
  logger: true,
  schedule: true,
  batchSize: true,
  sweepSize: true,
  leaseMs: true,
};

/** One run's counts. */
export interface RecoveryRun {
  /** Pending verifications this run finished as expired. */
  expired: number;
  /** V2 verifications asked of PortOne. */
  checked: number;
  /** Of those, how many are no longer pending (finished by this run or, meanwhile, by the browser). */
  finished: number;
  /** Owed deletions of PortOne's copies this run made (V1). */
  upstreamDeleted: number;
}

/** The sweeper, recovery and upstream-deletion loop of one instance. */
export interface RecoveryJob {
  /**
   * One sweep, one batch of recovery checks and one of owed upstream deletions. A second call while
   * one runs joins it.
   */
  runOnce(): Promise<RecoveryRun>;
  /** Runs `runOnce` every `intervalMs` until `stop()`. */
  start(intervalMs: number): void;
  /** Stops the loop and waits for a run in flight. */
  stop(): Promise<void>;
}

/**
 * The sweeper and (when the service has V2) recovery over `options.store`.
 * @example createRecoveryJob({ store, service }).start(5_000);
 */
export function createRecoveryJob(options: RecoveryJobOptions): RecoveryJob {
  const what = "createRecoveryJob options";
  optionsObject(what, options);
  checkOptionKeys(what, options, RECOVERY_OPTION_KEYS);
  // The store's methods are not asked for: each step runs without the others' (a Store written
  // before a step's methods existed), and fails on its own.
  methodsOption(`${what}.store`, options.store, [], "is required: a store from openStore");
  methodsOption(
    `${what}.service`,
    options.service,
    ["refresh", "expire", "deleteUpstreamCopy"],
    "is required: a service from createVerificationService",
  );
  if (!Array.isArray(options.service.apiVersions))
    throw new ConfigError(`${what}.service`, "is required: a service from createVerificationService");
  functionOption(`${what}.now`, options.now);
  // Guarded: a logger that throws in the loop's failure handler rejected the tick's promise, and
  // Node ends the process on an unhandled rejection.
  const log = checkedLogger(`${what}.logger`, options.logger, ["info", "warn"]);
  const { store, service } = options;
  const now = options.now ?? (() => new Date());
  const schedule = options.schedule ?? DEFAULT_RECOVERY_SCHEDULE;
  const batchSize = wholeNumberOption("batchSize", options.batchSize, 1, 10_000) ?? 20;
  const sweepSize = wholeNumberOption("sweepSize", options.sweepSize, 1, 10_000) ?? 100;
  const leaseMs = wholeNumberOption("leaseMs", options.leaseMs, 1, MAX_DELAY_MS) ?? 60_000;
  const recovers = service.apiVersions.includes("v2");
  // Only V1 records are deleted upstream (PortOne V2 has no deletion of identity verifications).
  const deletes = service.apiVersions.includes("v1");

  async function sweep(): Promise<number> {
    const due = await store.listExpiredVerifications({ now: now(), limit: sweepSize });
    let expired = 0;
    for (const id of due) {
      try {
        if (await service.expire(id)) expired += 1;
      } catch (error) {
        // One verification that cannot be finished (a fault, a row the store refuses to read)
        // neither stops the others nor, by failing the run, the recovery checks after it.
        log?.warn(
          { verification_id: id, code: errorCode(error) },
          "expiry failed; retried on the next sweep",
        );
      }
    }
    return expired;
  }

  async function recover(): Promise<{ checked: number; finished: number }> {
    if (!recovers) return { checked: 0, finished: 0 };
    const at = now();
    const claims = await store.claimRecoveryChecks({
      now: at,
      limit: batchSize,
      leaseUntil: new Date(at.getTime() + leaseMs),
      createdBefore: new Date(at.getTime() - schedule.firstCheckAfterMs),
    });
    const results = await Promise.all(
      claims.map(async ({ verification, checks }) => {
        try {
          return (await service.refresh(verification.id)).status !== "pending";
        } catch (error) {
          // PortOne or the database is down: the verification stays pending, asked again later.
          log?.warn(
            { verification_id: verification.id, code: errorCode(error) },
            "recovery check failed; verification stays pending",
          );
          return false;
        } finally {
          // A finished verification is left alone by the statement itself, and so is one another
          // instance claimed after this one's lease ran out (`checks` is this claim's count).
          const nextCheckAt = nextRecoveryCheckAt({
            checks,
            now: now(),
            expiresAt: verification.expiresAt,
            schedule,
          });
          await store
            .scheduleRecoveryCheck({ verificationId: verification.id, nextCheckAt, checks })
            .catch(() => undefined); // the lease runs out instead
        }
      }),
    );
    return { checked: claims.length, finished: results.filter(Boolean).length };
  }

  async function deleteUpstream(): Promise<number> {
    if (!deletes) return 0;
    const at = now();
    const claims = await store.claimUpstreamDeletions({
      now: at,
      limit: batchSize,
      leaseUntil: new Date(at.getTime() + leaseMs),
    });
    const deleted = await Promise.all(
      claims.map(async ({ upstreamId, verificationId, attempts }) => {
        try {
          await service.deleteUpstreamCopy({ upstreamId, verificationId });
          return true;
        } catch (error) {
          log?.warn(
            { verification_id: verificationId, attempts, code: errorCode(error) },
            "upstream deletion failed; tried again later",
          );
          const dueAt = nextUpstreamDeletionAt({ attempts, now: now() });
          await store.scheduleUpstreamDeletion({ upstreamId, dueAt, attempts }).catch(() => undefined); // the lease runs out instead
          return false;
        }
      }),
    );
    return deleted.filter(Boolean).length;
  }

  const runOnce = async (): Promise<RecoveryRun> => {
    // Each step runs whatever the others met (a fault of one table, a Store written before a
    // step's methods existed); the run still fails, with the first fault, once all have run.
    const faults: unknown[] = [];
    const step = async <T>(run: () => Promise<T>, none: T): Promise<T> =>
      run().catch((error: unknown) => {
        faults.push(error);
        return none;
      });
    const expired = await step(sweep, 0);
    const recovered = await step(recover, { checked: 0, finished: 0 });
    const upstreamDeleted = await step(deleteUpstream, 0);
    if (faults.length > 0) throw faults[0];
    return { expired, ...recovered, upstreamDeleted };
  };

  return backgroundLoop(runOnce, { logger: log, failure: "recovery run failed; retried on the next tick" });
}
