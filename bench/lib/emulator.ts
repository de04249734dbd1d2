/**
 * What the benchmark asks of the emulator process, through its admin API (src/emulator/admin.ts and
 * v1/admin.ts): records bound to a merchant_uid, a persistent latency fault on every route, request
 * counters.
 */
import { z } from "zod";

const statsSchema = z.object({
  requests: z.record(z.string(), z.number()),
  tokens_issued: z.number(),
});

export type EmulatorStats = z.infer<typeof statsSchema>;

/**
 * `fetch` with one retry when no answer arrived (`TypeError: fetch failed`): a keep-alive connection
 * the emulator closed while this process was busy (seeding blocks the event loop for seconds) fails
 * once. Every admin call is harmless to repeat (a repeated create only leaves an unused record).
 */
async function adminFetch(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return fetch(url, init);
  }
}

/** A generated person (never a real one): a fresh name gives a fresh CI, so every completion is a new person. */
export interface BenchPerson {
  name: string;
  birthday: string;
  gender: "male" | "female";
}

/** Person number `n` of a run: an adult (born 1970–1999), unique by name within `prefix`. */
export function benchPerson(prefix: string, n: number): BenchPerson {
  const year = 1970 + (n % 30);
  const month = String(1 + (n % 12)).padStart(2, "0");
  const day = String(1 + (n % 28)).padStart(2, "0");
  return {
    name: `Bench ${prefix} ${n}`,
    birthday: `${year}-${month}-${day}`,
    gender: n % 2 ? "male" : "female",
  };
}

const createdBatchSchema = z.object({ imp_uids: z.array(z.string()) });

/** A record to create: `person`'s, bound to `merchantUid` when given. */
export interface RecordSpec {
  person: BenchPerson;
  merchantUid?: string | undefined;
}

/**
 * Records of a batch request: 250 bench records are ≈ 30 KB, within the emulator's 64 KB body
 * bound and its 1,000 records.
 */
export const RECORDS_PER_BATCH = 250;

/**
 * `POST /__admin/certifications/batch`: certified records of `specs`, in order; their imp_uids. One
 * request per {@link RECORDS_PER_BATCH}: a request per record cost the emulator and this process
 * ≈ 1.4 ms of CPU each, about a quarter of the full benchmark's wall time in preparation.
 */
export async function createRecords(emulatorUrl: string, specs: readonly RecordSpec[]): Promise<string[]> {
  const impUids: string[] = [];
  for (let from = 0; from < specs.length; from += RECORDS_PER_BATCH) {
    const certifications = specs
      .slice(from, from + RECORDS_PER_BATCH)
      .map(({ person, merchantUid }) =>
        merchantUid === undefined ? { person } : { person, merchant_uid: merchantUid },
      );
    const response = await adminFetch(`${emulatorUrl}/__admin/certifications/batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ certifications }),
    });
    if (response.status !== 201)
      throw new Error(`emulator: creating ${certifications.length} records answered ${response.status}`);
    impUids.push(...createdBatchSchema.parse(await response.json()).imp_uids);
  }
  if (impUids.length !== specs.length) throw new Error("emulator: a batch created another number of records");
  return impUids;
}

/** Arms a persistent latency fault on every route (V1 and V2), or clears every fault for 0 ms. */
export async function setUpstreamLatency(emulatorUrl: string, latencyMs: number): Promise<void> {
  const response =
    latencyMs === 0
      ? await adminFetch(`${emulatorUrl}/__admin/faults`, { method: "DELETE" })
      : await adminFetch(`${emulatorUrl}/__admin/faults`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ route: "*", kind: "latency", latency_ms: latencyMs }),
        });
  if (!response.ok) throw new Error(`emulator: setting the latency fault answered ${response.status}`);
  await response.body?.cancel();
}

/** `POST /__admin/reset`: forgets records, tokens, faults and counters (a fresh PortOne for the next run). */
export async function resetEmulator(emulatorUrl: string): Promise<void> {
  const response = await adminFetch(`${emulatorUrl}/__admin/reset`, { method: "POST" });
  if (!response.ok) throw new Error(`emulator: reset answered ${response.status}`);
  await response.body?.cancel();
}

/** `GET /__admin/stats`: V1 request counters by route and tokens issued. */
export async function emulatorStats(emulatorUrl: string): Promise<EmulatorStats> {
  const response = await adminFetch(`${emulatorUrl}/__admin/stats`);
  if (!response.ok) throw new Error(`emulator: stats answered ${response.status}`);
  return statsSchema.parse(await response.json());
}

/** Every V1 request the emulator counted (getToken, getCertification, …). */
export function upstreamCalls(stats: EmulatorStats): number {
  return Object.values(stats.requests).reduce((sum, count) => sum + count, 0);
}

/** Runs `task(i)` for i in [0, count) with at most `parallel` at a time; results in order. */
export async function inParallel<T>(
  count: number,
  parallel: number,
  task: (i: number) => Promise<T>,
): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) results[i] = await task(i);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return results;
}
