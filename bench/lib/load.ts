/**
 * The load generator: autocannon's programmatic API, in the orchestrating process (not in any
 * server's). Each request of a run carries its own prepared body (a fresh verification), handed out
 * by `setupRequest` from a shared queue, and exactly `amount` requests are sent. Latencies are taken
 * from autocannon's per-response event (hrtime, fractional ms) rather than its integer-millisecond
 * histogram, so sub-millisecond figures stay exact.
 *
 * The measurement window. autocannon opens all its connections at once, and a busy Node server
 * (libuv) accepts queued connections one per event-loop turn: the first request of the last
 * connections can wait seconds while the first ones are served (seen with both servers, and with a
 * bare `http.createServer`). That start-up burst is the load generator's, not the servers' steady
 * state, so the window opens only once every connection has been answered and `leadIn` responses
 * have arrived, and closes when the last `connections` requests remain (the drain, when
 * connections finish one by one and the concurrency falls). Throughput and latencies are those of
 * the window; failures count over the whole run.
 */
import type { EventEmitter } from "node:events";
import autocannon from "autocannon";

export interface LoadOptions {
  /** Server base URL, e.g. http://127.0.0.1:41234. */
  url: string;
  path: string;
  connections: number;
  /** One JSON body per request: the first `amount` are used, the rest are spare (see {@link spareBodies}). */
  bodies: readonly string[];
  amount: number;
  /**
   * Responses before the window may open (it also waits until every connection was answered).
   * Default 0. Without a window (`leadIn` 0 and no `onWindow`), the whole run is measured.
   */
  leadIn?: number;
  /** Called synchronously as the window opens and closes (to snapshot CPU times). */
  onWindow?: (edge: "open" | "close") => void;
  headers?: Record<string, string>;
}

export interface LoadResult {
  /** Requests answered in the whole run (any status). */
  responses: number;
  /** Answered with 2xx in the whole run. */
  ok: number;
  /** Responses that were not 2xx, plus connection errors and timeouts: a valid run has 0. */
  failures: number;
  /** Status code → count over the whole run, e.g. { "200": 5000 }. */
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Responses inside the window (all of them when the run has no window). */
  measured: number;
  /** Wall time of the window in seconds. */
  seconds: number;
  /** Latency of every 2xx response inside the window in ms, sorted ascending. */
  latenciesMs: Float64Array;
  /** Whether the window opened and closed (false: too few requests for the start-up burst). */
  windowed: boolean;
  /**
   * Responses per second over the second half of the run: a warm-up's steady rate, less skewed by
   * its cold start (JIT, connections) than `ok / seconds`.
   */
  tailRate: number;
}

/**
 * Bodies to prepare beyond `amount`: autocannon builds each connection's next request before it
 * knows the run is over, so a few are taken but never sent. Unused ones are simply left pending.
 */
export function spareBodies(connections: number): number {
  return connections + 2;
}

/**
 * Requests to budget for the start-up burst at `connections`: with connections accepted one per
 * event-loop turn, up to 1 + 2 + … + c responses arrive before the last one is served, plus two
 * rounds of every connection. The window opens when the burst is over, whatever the budget: a
 * smaller budget (`factor` < 1) only shortens the window when the burst runs long.
 */
export function leadInBudget(connections: number, factor = 1): number {
  return Math.ceil(((connections * (connections + 1)) / 2) * factor) + 2 * connections;
}

/** Runs `amount` requests over `connections` keep-alive connections and measures them. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { bodies, amount, connections } = options;
  if (amount < connections) throw new Error("amount must be at least the number of connections");
  if (bodies.length < amount + spareBodies(connections)) {
    throw new Error(`need ${amount + spareBodies(connections)} bodies, got ${bodies.length}`);
  }
  const windowed = (options.leadIn ?? 0) > 0 || options.onWindow !== undefined;
  const leadIn = options.leadIn ?? 0;
  // Without a window, every response is measured: open before the first, close after the last.
  const closeAt = windowed ? amount - connections : amount;
  let next = 0;
  const statuses: Record<string, number> = {};
  const answeredBy = new Set<unknown>();
  const answeredAt = new Float64Array(amount + connections);
  let answered = 0;
  const latencies = new Float64Array(amount + connections);
  let recorded = 0;
  let opened: number | undefined = windowed ? undefined : performance.now();
  let closed: number | undefined;
  let measured = 0;

  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections,
        amount,
        // A slow server must show up as latency, not as a silently dropped request: 30 s.
        timeout: 30,
        // autocannon notices the end of a run on its sampling tick (default 1 s): end promptly.
        sampleInt: 100,
        requests: [
          {
            method: "POST",
            path: options.path,
            headers: { "content-type": "application/json", ...options.headers },
            setupRequest: (request) => {
              // Never return a falsy request (autocannon would throw on a one-request list); past the
              // end the last body is reused, and the server's 409 replay answer makes the run invalid.
              const body = bodies[Math.min(next, bodies.length - 1)];
              next++;
              return { ...request, body };
            },
          },
        ],
      },
      (error: unknown, result: autocannon.Result) => {
        if (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        const end = closed ?? answeredAt[answered - 1] ?? performance.now();
        const responses = Object.values(statuses).reduce((a, b) => a + b, 0);
        const ok = Object.entries(statuses)
          .filter(([status]) => status.startsWith("2"))
          .reduce((sum, [, count]) => sum + count, 0);
        resolve({
          responses,
          ok,
          failures: responses - ok + result.errors,
          statuses,
          errors: result.errors,
          timeouts: result.timeouts,
          measured,
          seconds: opened === undefined ? 0 : (end - opened) / 1000,
          latenciesMs: latencies.slice(0, recorded).sort(),
          windowed: opened !== undefined && closed !== undefined,
          tailRate: tailRate(answeredAt.subarray(0, answered)),
        });
      },
    );
    // @types/autocannon declares (statusCode, bytes, ms); autocannon 8 emits (client, statusCode, bytes, ms).
    (instance as EventEmitter).on("response", (...args: unknown[]) => {
      const [client, statusCode, , responseTime] = args;
      const now = performance.now();
      const status = String(statusCode);
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (answered < answeredAt.length) answeredAt[answered++] = now;
      answeredBy.add(client);

      if (opened !== undefined && closed === undefined) {
        measured++;
        if (status.startsWith("2") && typeof responseTime === "number" && recorded < latencies.length) {
          latencies[recorded++] = responseTime;
        }
        if (answered >= closeAt) {
          closed = now;
          options.onWindow?.("close");
        }
      } else if (
        opened === undefined &&
        answered >= leadIn &&
        answeredBy.size >= connections &&
        answered < closeAt
      ) {
        opened = now;
        options.onWindow?.("open");
      }
    });
  });
}

/** Responses per second between the middle and the last of `times` (ascending, ms). */
function tailRate(times: Float64Array): number {
  const half = Math.floor(times.length / 2);
  const from = times[half - 1];
  const to = times[times.length - 1];
  if (half < 1 || from === undefined || to === undefined || to <= from) return 0;
  return ((times.length - half) * 1000) / (to - from);
}
