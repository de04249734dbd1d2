/**
 * Load benchmark of the V1 client: the emulator over a real socket on 127.0.0.1, 1,000 records,
 * 10,000 lookups at concurrency 50 through ONE client. Prints lookups per second, p50/p99 latency
 * and the number of getToken calls, which must be exactly 1 (else the exit code is 1).
 *
 *   npm run bench:client            # defaults
 *   npm run bench:client -- --lookups 50000 --concurrency 100 --records 5000
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { createEmulator, serveEmulator, TEST_MERCHANT } from "../src/emulator/index.js";
import { createV1Client } from "../src/portone/index.js";

const args = z
  .object({
    records: z.coerce.number().int().min(1).default(1_000),
    lookups: z.coerce.number().int().min(1).default(10_000),
    concurrency: z.coerce.number().int().min(1).default(50),
  })
  .parse(
    parseArgs({
      options: { records: { type: "string" }, lookups: { type: "string" }, concurrency: { type: "string" } },
    }).values,
  );

async function main(): Promise<number> {
  const emulator = createEmulator();
  const server = await serveEmulator(emulator, { hostname: "127.0.0.1", port: 0 });
  try {
    const impUids = Array.from({ length: args.records }, () => emulator.createCertification().imp_uid);
    // Global fetch (undici): keep-alive connections, reused across lookups.
    const client = createV1Client({
      apiKey: TEST_MERCHANT.impKey,
      apiSecret: TEST_MERCHANT.impSecret,
      baseUrl: server.url,
      now: () => emulator.clock.now(),
    });

    const latencies = new Float64Array(args.lookups);
    let next = 0;
    let failures = 0;
    const worker = async () => {
      for (let i = next++; i < args.lookups; i = next++) {
        const impUid = impUids[i % impUids.length] ?? "";
        const started = performance.now();
        try {
          await client.getCertification(impUid);
        } catch {
          failures++;
        }
        latencies[i] = performance.now() - started;
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: args.concurrency }, worker));
    const seconds = (performance.now() - started) / 1000;

    latencies.sort();
    const stats = emulator.stats();
    const tokenCalls = stats.requests.getToken;
    const result = {
      records: args.records,
      lookups: args.lookups,
      concurrency: args.concurrency,
      failures,
      lookups_per_second: Math.round(args.lookups / seconds),
      p50_ms: round(percentile(latencies, 0.5)),
      p99_ms: round(percentile(latencies, 0.99)),
      max_ms: round(latencies[latencies.length - 1] ?? 0),
      getToken_calls: tokenCalls,
    };
    console.log(JSON.stringify(result, null, 2));
    if (tokenCalls !== 1) {
      console.error(`FAIL: expected exactly 1 getToken call, saw ${tokenCalls}`);
      return 1;
    }
    if (failures > 0) {
      console.error(`FAIL: ${failures} lookups failed`);
      return 1;
    }
    return 0;
  } finally {
    await server.close();
  }
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
