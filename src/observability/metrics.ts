/**
 * Prometheus metrics. Labels carry routes, statuses, outcomes and reasons from closed sets — never
 * an id, a name, a phone, a birthday, CI, DI or a token. One registry per instance (no globals),
 * so several certgate apps in one process (tests, embedding) do not collide.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { StoreError } from "../core/errors.js";
import type { Store } from "../core/store.js";
import type { ClientEvent } from "../portone/http.js";

export interface Metrics {
  registry: Registry;
  /** Feed the PortOne clients' `onEvent` here. */
  onClientEvent(event: ClientEvent): void;
  /** Wraps a store so every call is timed and every finished verification counted. */
  instrumentStore(store: Store): Store;
  /** Prometheus text exposition. */
  render(): Promise<string>;
  contentType: string;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: "certgate_" });

  const verifications = new Counter({
    name: "certgate_verifications_total",
    help: "Finished verifications by API version, outcome status and rejection reason ('' when verified).",
    labelNames: ["api_version", "status", "reason"] as const,
    registers: [registry],
  });
  const upstreamLatency = new Histogram({
    name: "certgate_upstream_request_duration_seconds",
    help: "PortOne request attempts by route and HTTP status ('none' when no response arrived).",
    labelNames: ["route", "status"] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const tokenRefreshes = new Counter({
    name: "certgate_upstream_token_refreshes_total",
    help: "PortOne access token fetches by reason (cold, expiring, unauthorized).",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  const retries = new Counter({
    name: "certgate_upstream_retries_total",
    help: "PortOne request retries by route and error code.",
    labelNames: ["route", "code"] as const,
    registers: [registry],
  });
  const dbLatency = new Histogram({
    name: "certgate_db_operation_duration_seconds",
    help: "Store operations by name.",
    labelNames: ["operation"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });

  const storeErrors = new Counter({
    name: "certgate_store_errors_total",
    help: "Store operations that failed with a database fault, by operation and StoreError code (unavailable, busy, read_only, full).",
    labelNames: ["operation", "code"] as const,
    registers: [registry],
  });

  /** The store the backlog gauges read at scrape time (the one instrumented last). */
  let backlogSource: Store | undefined;
  backlogGauges(registry, {
    count: "certgate_webhook_backlog_events",
    countHelp:
      "Webhook events in the outbox not delivered yet (read from the store at scrape time; NaN when it cannot be read).",
    age: "certgate_webhook_backlog_oldest_age_seconds",
    ageHelp:
      "Age of the oldest undelivered webhook event (0 when the outbox is drained), at scrape time; NaN when the store cannot be read.",
    read: async () => {
      const read = await backlogSource?.webhookBacklog();
      return read && { count: read.pending, oldestCreatedAt: read.oldestCreatedAt };
    },
  });
  backlogGauges(registry, {
    count: "certgate_upstream_deletions_owed",
    countHelp:
      "Deletions of PortOne's copies of consumed records still owed (CERTGATE_DELETE_UPSTREAM), at scrape time; NaN when the store cannot be read.",
    age: "certgate_upstream_deletions_oldest_age_seconds",
    ageHelp:
      "Age of the oldest deletion of a PortOne copy still owed (0 when none is), at scrape time; NaN when the store cannot be read.",
    read: async () => {
      const read = await backlogSource?.upstreamDeletionBacklog();
      return read && { count: read.owed, oldestCreatedAt: read.oldestCreatedAt };
    },
  });

  function onClientEvent(event: ClientEvent) {
    switch (event.type) {
      case "request":
        upstreamLatency.observe(
          { route: event.route, status: event.status === undefined ? "none" : String(event.status) },
          event.durationMs / 1000,
        );
        break;
      case "retry":
        retries.inc({ route: event.route, code: event.code });
        break;
      case "token_refresh":
        tokenRefreshes.inc({ reason: event.reason });
        break;
    }
  }

  function instrumentStore(store: Store): Store {
    backlogSource = store;
    const timed =
      <A extends unknown[], R>(operation: string, fn: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        const end = dbLatency.startTimer({ operation });
        try {
          return await fn(...args);
        } catch (error) {
          // Labels from closed sets only: the operation's name and the StoreError's code.
          if (error instanceof StoreError) storeErrors.inc({ operation, code: error.code });
          throw error;
        } finally {
          end();
        }
      };
    return {
      dialect: store.dialect,
      migrate: timed("migrate", () => store.migrate()),
      createVerification: timed("createVerification", (i) => store.createVerification(i)),
      createIdempotentVerification: timed("createIdempotentVerification", (i) =>
        store.createIdempotentVerification(i),
      ),
      purgeIdempotencyKeys: timed("purgeIdempotencyKeys", (i) => store.purgeIdempotencyKeys(i)),
      getVerification: timed("getVerification", (id) => store.getVerification(id)),
      findVerificationByBoundId: timed("findVerificationByBoundId", (id) =>
        store.findVerificationByBoundId(id),
      ),
      completeVerification: timed("completeVerification", async (input) => {
        const result = await store.completeVerification(input);
        if (result.kind === "finished") {
          const v = result.verification;
          verifications.inc({ api_version: v.apiVersion, status: v.status, reason: v.reason ?? "" });
        }
        return result;
      }),
      recordFailedAttempt: timed("recordFailedAttempt", async (input) => {
        const result = await store.recordFailedAttempt(input);
        if (result.kind === "finished") {
          const v = result.verification;
          verifications.inc({ api_version: v.apiVersion, status: v.status, reason: v.reason ?? "" });
        }
        return result;
      }),
      isAccountBound: timed("isAccountBound", (ref) => store.isAccountBound(ref)),
      unbindAccount: timed("unbindAccount", (ref, now, o) => store.unbindAccount(ref, now, o)),
      listAuditEvents: timed("listAuditEvents", (id) => store.listAuditEvents(id)),
      purgeIdentities: timed("purgeIdentities", (i) => store.purgeIdentities(i)),
      rotateKeys: timed("rotateKeys", () => store.rotateKeys()),
      claimWebhookEvents: timed("claimWebhookEvents", (i) => store.claimWebhookEvents(i)),
      markWebhookDelivered: timed("markWebhookDelivered", (id, now, lease) =>
        store.markWebhookDelivered(id, now, lease),
      ),
      markWebhookFailed: timed("markWebhookFailed", (id, i) => store.markWebhookFailed(id, i)),
      webhookBacklog: timed("webhookBacklog", () => store.webhookBacklog()),
      claimRecoveryChecks: timed("claimRecoveryChecks", (i) => store.claimRecoveryChecks(i)),
      scheduleRecoveryCheck: timed("scheduleRecoveryCheck", (i) => store.scheduleRecoveryCheck(i)),
      listExpiredVerifications: timed("listExpiredVerifications", (i) => store.listExpiredVerifications(i)),
      claimUpstreamDeletions: timed("claimUpstreamDeletions", (i) => store.claimUpstreamDeletions(i)),
      scheduleUpstreamDeletion: timed("scheduleUpstreamDeletion", (i) => store.scheduleUpstreamDeletion(i)),
      upstreamDeletionBacklog: timed("upstreamDeletionBacklog", () => store.upstreamDeletionBacklog()),
      markUpstreamDeleted: timed("markUpstreamDeleted", (id, now, how) =>
        store.markUpstreamDeleted(id, now, how),
      ),
      listWebhookEvents: timed("listWebhookEvents", (i) => store.listWebhookEvents(i)),
      requeueWebhookEvents: timed("requeueWebhookEvents", (i) => store.requeueWebhookEvents(i)),
      ping: timed("ping", () => store.ping()),
      close: () => store.close(),
    };
  }

  return {
    registry,
    onClientEvent,
    instrumentStore,
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}

/**
 * A backlog's two gauges, a count and its oldest item's age, read from the store at scrape time:
 * one store query per scrape for both. When that read fails (the database is down) both are NaN,
 * Prometheus's "no value": the last value read would go on looking current through an outage, and
 * 0 would say the backlog is drained. NaN too before a store is instrumented.
 */
function backlogGauges(
  registry: Registry,
  gauges: {
    count: string;
    countHelp: string;
    age: string;
    ageHelp: string;
    read: () => Promise<{ count: number; oldestCreatedAt: Date | undefined } | undefined>;
  },
): void {
  let reading: ReturnType<typeof gauges.read> | undefined;
  const read = () => {
    reading ??= gauges
      .read()
      .catch(() => undefined)
      .finally(() => {
        reading = undefined;
      });
    return reading;
  };
  new Gauge({
    name: gauges.count,
    help: gauges.countHelp,
    registers: [registry],
    async collect() {
      const backlog = await read();
      this.set(backlog ? backlog.count : Number.NaN);
    },
  });
  new Gauge({
    name: gauges.age,
    help: gauges.ageHelp,
    registers: [registry],
    async collect() {
      const backlog = await read();
      const oldest = backlog?.oldestCreatedAt;
      if (!backlog) this.set(Number.NaN);
      else this.set(oldest ? Math.max(0, (Date.now() - oldest.getTime()) / 1000) : 0);
    },
  });
}
