/**
 * The load-with-faults run's parts: a plan of verifications with known outcomes, a merchant-like
 * client that retries a completion on 5xx or a network error, a bounded worker pool, SQL read straight
 * from the harness's database, and the printed table. The test (load-faults.test.ts) wires them.
 */
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { z } from "zod";
import type { RejectionReason } from "../../src/core/reasons.js";
import type { PersonInput } from "../../src/emulator/index.js";
import { complete, completeV2, type Harness, PG_URL } from "../integration/harness.js";

/** Fisher–Yates with the given generator. */
export function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * - `adult`: a fresh person → verified.
 * - `underage`: the `minor` persona under `min_age: 19` → `underage`.
 * - `not_certified`: V1 `uncertified` persona, V2 a FAILED record: each try is a failed attempt
 *   (422 `not_certified`, still pending: PortOne lets the person try again under the same id) until
 *   the one after its `max_attempts` → `too_many_attempts`.
 * - `pair`: one person in two verifications with different accounts → one verified, one `duplicate_account`.
 * - `replay`: a fresh person whose completion is sent three times at once, then once more → verified once.
 * - `foreign`: a verification presenting a replayed (already used) imp_uid: each try is a failed attempt
 *   (422 `merchant_uid_mismatch`, still pending) until the one after its `max_attempts` →
 *   `too_many_attempts`.
 * - `ready`: V2, READY during the load (202, pending), VERIFIED afterwards → verified on the final retry.
 */
export type Category = "adult" | "underage" | "not_certified" | "pair" | "replay" | "foreign" | "ready";

export type Expected = { status: "verified" } | { status: "rejected"; reason: RejectionReason };

/** One answer the merchant client saw. */
export interface Observed {
  /** HTTP status, or "network" when certgate's socket failed. */
  status: number | "network";
  /** `error.code` of the body, when it has one. */
  code: string | undefined;
  /** `verification.status` of the body, when it has one. */
  verificationStatus: string | undefined;
  phase: "load" | "final";
}

export interface Planned {
  category: Category;
  api: "v1" | "v2";
  id: string;
  /** V1 merchant_uid / V2 identityVerificationId. */
  boundId: string;
  accountRef: string;
  /** The id this verification's own upstream record has (V1 imp_uid, V2 = boundId). */
  ownUpstreamId: string;
  /** V1: the imp_uid the browser presents (someone else's for `foreign`). */
  presentedImpUid: string | undefined;
  /** Known in advance, except for a pair's members: which one wins is decided by the race. */
  expected: Expected | "pair";
  responses: Observed[];
}

/** Counts of each category for one database; `scale` multiplies them for the soak run. */
export function planCounts(scale: number) {
  return {
    adultV1: 70 * scale,
    adultV2: 20 * scale,
    underageV1: 8 * scale,
    underageV2: 4 * scale,
    notCertifiedV1: 6 * scale,
    notCertifiedV2: 4 * scale,
    /** Pairs cycle through V1+V1, V1+V2 and V2+V2. */
    pairs: 8 * scale,
    /** Each V1 replay brings one `foreign` verification presenting its imp_uid. */
    replayV1: 6 * scale,
    replayV2: 3 * scale,
    readyV2: 4 * scale,
  };
}

const completionBody = z.object({
  error: z.object({ code: z.string() }).optional(),
  verification: z.object({ status: z.string() }).optional(),
});

/** One completion as the browser's backend sends it; never throws. */
export async function submit(h: Harness, v: Planned, phase: Observed["phase"]): Promise<Observed> {
  let res: Response;
  try {
    res =
      v.api === "v1" ? await complete(h, v.presentedImpUid ?? "", v.boundId) : await completeV2(h, v.boundId);
  } catch {
    return { status: "network", code: undefined, verificationStatus: undefined, phase };
  }
  const text = await res.text();
  let body: z.infer<typeof completionBody> = {};
  try {
    body = completionBody.parse(JSON.parse(text));
  } catch {
    // A body that is not the contract's JSON: recorded as having no code, which the test rejects.
  }
  return { status: res.status, code: body.error?.code, verificationStatus: body.verification?.status, phase };
}

export const isRetryable = (o: Observed) => o.status === "network" || o.status >= 500;

/** A failed attempt: 422 naming the reason while the verification stays pending (core/attempts.ts). */
export const isFailedAttempt = (o: Observed) => o.status === 422 && o.verificationStatus === "pending";

export interface ClientTally {
  /** Completions sent again after a 5xx or a network error. */
  retries: number;
}

/**
 * The merchant's retry loop: sends the completion, and on a 5xx or a network error sends it again
 * after a short full-jitter backoff, at most `maxAttempts` times. Every answer is recorded on `v`.
 */
export async function completeWithRetries(
  h: Harness,
  v: Planned,
  options: { maxAttempts: number; phase: Observed["phase"]; tally: ClientTally; random: () => number },
): Promise<Observed> {
  for (let attempt = 1; ; attempt++) {
    const observed = await submit(h, v, options.phase);
    v.responses.push(observed);
    if (!isRetryable(observed) || attempt >= options.maxAttempts) return observed;
    options.tally.retries += 1;
    await sleep(Math.floor(options.random() * 10 * 2 ** attempt));
  }
}

/** Runs `jobs` with at most `concurrency` at once; `onDone` after each. */
export async function runPool(
  jobs: (() => Promise<void>)[],
  concurrency: number,
  onDone: () => void,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (;;) {
      const job = jobs[next];
      next += 1;
      if (job === undefined) return;
      await job();
      onDone();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A synthetic person of its own (its CI derives from `seed`): nobody else in the run shares it. */
export function freshPerson(seed: string): PersonInput {
  return { name: "부하테스트", birthday: "1990-03-01", gender: "female", seed };
}

/** Rows of `query` read straight from the harness's database (SQLite file or PostgreSQL schema). */
export async function sqlRows(h: Harness, query: string): Promise<Record<string, unknown>[]> {
  if (h.sqliteFile !== undefined) {
    const db = new BetterSqlite3(h.sqliteFile, { readonly: true, fileMustExist: true });
    try {
      return db.prepare(query).all() as Record<string, unknown>[];
    } finally {
      db.close();
    }
  }
  const client = new pg.Client(`${PG_URL}?options=${encodeURIComponent(`-c search_path=${h.pgSchema}`)}`);
  await client.connect();
  try {
    return (await client.query(query)).rows;
  } finally {
    await client.end();
  }
}

/** Prints `rows` as one aligned two-column table under `title`. */
export function printTable(title: string, rows: [string, string | number][]): void {
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`);
  console.log(`${title}\n${lines.join("\n")}`);
}

/** `{ a: 2, b: 1 }` → "a 2, b 1" (sorted by key); "none" when empty. */
export function formatCounts(counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? "none" : entries.map(([key, n]) => `${key} ${n}`).join(", ");
}

/** Adds one to `counts[key]`. */
export function bump(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}
