/**
 * The open-loop load generator: requests leave at a FIXED arrival rate whatever the server does, as
 * a merchant's users arrive — unlike autocannon's closed loop, where each connection waits for its
 * answer before sending again (so at concurrency 50 the latency is a queueing figure set by the
 * throughput, Little's law). Request i is scheduled at start + i / rate; its latency is measured
 * from that scheduled instant, not from when it was actually written, so a stalled generator or a
 * stalled server cannot hide waiting time (no coordinated omission).
 *
 * Transport: node:http with a keep-alive agent and enough sockets for every request in flight;
 * a tick of the event loop sends every request whose time has come.
 */
import { Agent, request } from "node:http";

export interface OpenLoopOptions {
  url: string;
  path: string;
  /** Requests per second. */
  rate: number;
  /** One prepared body per request; all of them are sent. */
  bodies: readonly string[];
  /** Requests at the start not measured (the generator's and the server's ramp-up). */
  skip: number;
  /** Called synchronously as the measured part opens and closes (to snapshot CPU times). */
  onWindow?: (edge: "open" | "close") => void;
}

export interface OpenLoopResult {
  sent: number;
  ok: number;
  failures: number;
  statuses: Record<string, number>;
  errors: number;
  /** Responses of the measured part (after `skip`). */
  measured: number;
  /** Wall time from the first measured request's scheduled instant to the last response, s. */
  seconds: number;
  /** Latency from scheduled instant to the end of the response, 2xx of the measured part, sorted. */
  latenciesMs: Float64Array;
  /** The generator's lag behind the schedule at its worst, ms (large values: the generator was starved). */
  maxSendLagMs: number;
}

const REQUEST_TIMEOUT_MS = 30_000;

/** Sends `bodies.length` requests at `rate`/s and resolves once every one is answered or failed. */
export function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const target = new URL(options.url);
  const total = options.bodies.length;
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const interval = 1000 / options.rate;
  const statuses: Record<string, number> = {};
  const latencies = new Float64Array(total);
  let recorded = 0;
  let done = 0;
  let ok = 0;
  let errors = 0;
  let sent = 0;
  let maxLag = 0;
  let lastEnd = 0;
  let openedAt: number | undefined;
  const start = performance.now() + 20;

  return new Promise((resolve) => {
    const finishOne = (index: number, status: number | undefined) => {
      const now = performance.now();
      done++;
      if (status === undefined) errors++;
      else {
        statuses[String(status)] = (statuses[String(status)] ?? 0) + 1;
        if (status >= 200 && status < 300) {
          ok++;
          if (index >= options.skip) latencies[recorded++] = now - (start + index * interval);
        }
      }
      if (index >= options.skip) lastEnd = Math.max(lastEnd, now);
      if (done === total) {
        options.onWindow?.("close");
        agent.destroy();
        const measured = total - options.skip;
        resolve({
          sent,
          ok,
          failures: total - ok,
          statuses,
          errors,
          measured,
          seconds: openedAt === undefined ? 0 : (lastEnd - openedAt) / 1000,
          latenciesMs: latencies.slice(0, recorded).sort(),
          maxSendLagMs: maxLag,
        });
      }
    };
    const send = (index: number) => {
      const body = options.bodies[index] ?? "";
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          method: "POST",
          path: options.path,
          agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
          timeout: REQUEST_TIMEOUT_MS,
        },
        (res) => {
          res.resume();
          res.on("end", () => finishOne(index, res.statusCode));
          res.on("error", () => finishOne(index, undefined));
        },
      );
      let failed = false;
      const fail = () => {
        if (failed) return;
        failed = true;
        req.destroy();
        finishOne(index, undefined);
      };
      req.on("timeout", fail);
      req.on("error", fail);
      req.end(body);
    };
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) {
        maxLag = Math.max(maxLag, now - (start + sent * interval));
        if (sent === options.skip) {
          openedAt = start + sent * interval;
          options.onWindow?.("open");
        }
        send(sent++);
      }
      if (sent < total) setTimeout(tick, Math.max(0, Math.min(interval, start + sent * interval - now)));
    };
    setTimeout(tick, 20);
  });
}
