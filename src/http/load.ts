/**
 * How loaded the thread that serves requests is: the requests in flight through the listening
 * server. A SQLite store reads {@link RequestLoad.busy} to decide where its writes run
 * (store/sqlite/offload.ts): on this thread while it serves one request at a time — the cheapest
 * place, no hop to another thread — and on the store's worker thread as soon as requests overlap,
 * so that one request's transaction does not hold the others' parsing, upstream calls and answers.
 *
 * Overlap alone decides, not how busy the event loop has been. Requests overlap in bursts even when
 * the loop has time to spare on average: ten at a time with a 20 ms upstream call, their upstream
 * answers arrive together and the loop ran each one's transaction while the rest waited. Measured
 * side by side (bench, c10 at 20 ms upstream, ten runs on an AMD EPYC), handing those writes to the
 * worker — where the ones that queue commit together — gave 1.04–1.08× the throughput of waiting
 * for a loop busy three quarters of 300 ms (this module's earlier rule) at 0.93–1.15× the CPU per
 * verification, and 7 MiB more peak RSS (the worker); c1 never overlaps, and c50 offloaded already
 * (0.93–1.10× the throughput in four runs: the A/B's noise). An earlier try at 20 % utilization,
 * before the worker's group commit, had cost 1.12–1.17× the CPU for 1.04× the throughput.
 *
 * What it costs: at 300 arrivals a second with no upstream latency at all, where requests overlap
 * only in passing and the worker is woken for one write at a time, the open loop's p99 was 1.4× the
 * earlier rule's (median of eight A/B runs, 0.5–2.6×: that tail is a few milliseconds on this
 * machine); with a 20 ms upstream, median 0.97× in ten runs, but two of them stalled (1.8×, 3.9×:
 * bench/lib/why.ts, ninth pass). Offloading only from four requests in flight kept that p99
 * (0.55–1.9×, median 0.9×, four runs) but gave c10 at 20 ms 1.00–1.04× (three runs): an upstream as
 * slow as PortOne's is the case that matters, so overlap it is.
 */
import type { FieldLogger } from "../observability/request-context.js";
import type { SqliteOffload } from "../store/index.js";

export interface RequestLoad {
  /** Counts `serve(...)`'s request while it is served. */
  track<T>(serve: () => Promise<T>): Promise<T>;
  /** More than one request in flight. */
  busy(): boolean;
}

export function requestLoad(): RequestLoad {
  let inFlight = 0;
  return {
    async track(serve) {
      inFlight++;
      try {
        return await serve();
      } finally {
        inFlight--;
      }
    },
    busy: () => inFlight > 1,
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
