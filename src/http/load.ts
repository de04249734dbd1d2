/**
 * How loaded the thread that serves requests is: the requests in flight through the listening
 * server, and how busy its event loop was of late. A SQLite store reads {@link RequestLoad.busy} to
 * decide where its work runs (store/sqlite/offload.ts): on this thread while it has time to spare —
 * the cheapest place, no hop to another thread — and on the store's worker thread once this one is
 * the bottleneck, so that the work of one request no longer delays the others.
 */
import { performance } from "node:perf_hooks";
import type { FieldLogger } from "../observability/request-context.js";
import type { SqliteOffload } from "../store/index.js";

/** How often the event loop's utilization is sampled, in ms. */
export const LOAD_SAMPLE_MS = 100;

/**
 * The event loop counts as the bottleneck once {@link BUSY_SAMPLES} samples in a row found it busy
 * at least this share of the time, and until one finds it busy less than
 * {@link IDLE_UTILIZATION}. Apart, so that the load the worker takes off the loop does not send
 * the work straight back; sustained, so that a start-up burst (cold code, connections opening at
 * once) does not start a worker a loop with time to spare never needs (a steady 300 requests a
 * second with 20 ms upstream, or ten at a time).
 */
export const BUSY_UTILIZATION = 0.75;

/** See {@link BUSY_UTILIZATION}. */
export const BUSY_SAMPLES = 3;

/** See {@link BUSY_UTILIZATION}. */
export const IDLE_UTILIZATION = 0.4;

export interface RequestLoad {
  /** Counts `serve(...)`'s request while it is served. */
  track<T>(serve: () => Promise<T>): Promise<T>;
  /** More than one request in flight and the event loop the bottleneck ({@link BUSY_UTILIZATION}). */
  busy(): boolean;
  stop(): void;
}

/** Starts sampling; `stop()` ends it (the timer never keeps the process alive). */
export function requestLoad(): RequestLoad {
  let inFlight = 0;
  let last = performance.eventLoopUtilization();
  let bottleneck = false;
  /** Samples in a row at or above BUSY_UTILIZATION. */
  let busySamples = 0;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, last);
    last = now;
    busySamples = utilization >= BUSY_UTILIZATION ? busySamples + 1 : 0;
    bottleneck = bottleneck ? utilization >= IDLE_UTILIZATION : busySamples >= BUSY_SAMPLES;
  }, LOAD_SAMPLE_MS);
  timer.unref();
  return {
    async track(serve) {
      inFlight++;
      try {
        return await serve();
      } finally {
        inFlight--;
      }
    },
    busy: () => inFlight > 1 && bottleneck,
    stop: () => clearInterval(timer),
  };
}

/** What a SQLite store of the listening server is given: `load`'s busy, and its worker's life in the log. */
export function storeOffload(load: RequestLoad, logger: Pick<FieldLogger, "info" | "warn">): SqliteOffload {
  return {
    busy: load.busy,
    onWorker(event) {
      if (event.type === "ready") logger.info({}, "store worker thread started");
      else if (event.type === "exited") {
        logger.warn(
          { exit_code: event.code },
          "store worker thread exited; the next busy write starts another",
        );
      } else logger.warn({ exit_code: event.code }, "store worker thread could not start; writes stay here");
    },
  };
}
