/**
 * Retention (PIPA art. 21), the background job `certgate serve` runs beside recovery
 * (service/recovery.ts): personal fields of verifications older than the retention period are
 * purged, and expired Idempotency-Keys deleted.
 */
import type { Store } from "../core/store.js";
import { errorCode } from "./loop.js";
import type { ServiceLogger } from "./options.js";
import { IDEMPOTENCY_KEY_TTL_MS } from "./verifications.js";

/**
 * Retention (PIPA art. 21) inside `serve`: purges personal fields older than the retention period
 * at startup and then every `intervalMs` (default hourly); `certgate purge` does the same on
 * demand. A run that fails (the database is down) is logged and never rejects: the next run purges
 * what it missed, since the purge is by age. Each run also deletes expired Idempotency-Keys. With
 * `emitEvents` (webhooks configured) each purged verification gets its `identity.purged` event.
 */
export function startRetention(
  store: Store,
  retentionDays: number,
  logger: ServiceLogger,
  options: { intervalMs?: number; emitEvents?: boolean } = {},
): { runOnce(): Promise<number>; stop(): void } {
  const intervalMs = options.intervalMs ?? 3_600_000;
  const runOnce = async (): Promise<number> => {
    const now = new Date();
    try {
      const purged = await store.purgeIdentities({
        completedBefore: new Date(now.getTime() - retentionDays * 86_400_000),
        now,
        emitEvents: options.emitEvents ?? false,
      });
      if (purged > 0) logger.info({ purged, retention_days: retentionDays }, "identities purged");
      return purged;
    } catch (error) {
      logger.warn(
        { error: error instanceof Error ? error.name : "unknown", code: errorCode(error) },
        "purge failed; retried on the next run",
      );
      return 0;
    } finally {
      await store
        .purgeIdempotencyKeys({ createdBefore: new Date(now.getTime() - IDEMPOTENCY_KEY_TTL_MS) })
        .then((purged) => {
          if (purged > 0) logger.info({ purged }, "expired idempotency keys purged");
        })
        .catch((error: unknown) =>
          logger.warn(
            { error: error instanceof Error ? error.name : "unknown", code: errorCode(error) },
            "idempotency key purge failed; retried on the next run",
          ),
        );
    }
  };
  void runOnce();
  const timer = setInterval(() => void runOnce(), intervalMs);
  timer.unref();
  return { runOnce, stop: () => clearInterval(timer) };
}
