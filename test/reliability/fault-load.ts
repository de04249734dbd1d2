/**
 * A merchant-like load for the database-fault tests: workers that each create a verification
 * through the merchant API, have the emulator issue an adult's record for it, and complete it
 * through the guide's browser route, over and over until stopped. Every answer is kept with the
 * phase the test had set when it was sent ("before", "down", "after", …), so a test asserts what
 * was answered while the database was gone and after it returned.
 */
import { randomInt } from "node:crypto";
import { z } from "zod";
import type { Emulator } from "../../src/emulator/index.js";
import { type Answer, postJson } from "./service-process.js";

export interface LoadAnswer {
  phase: string;
  step: "create" | "complete";
  /** HTTP status, or 0 when the socket was never answered. */
  status: number;
  /** `error.code` of the body, when it has one. */
  code: string | undefined;
}

/** A verification the load created, with the record the emulator issued for it. */
export interface LoadSlot {
  id: string;
  merchantUid: string;
  impUid: string;
}

export interface FaultLoad {
  /** Set by the test; each answer is tagged with the phase it was sent in. */
  phase: string;
  readonly answers: readonly LoadAnswer[];
  /** Completions answered 503 (or not at all): the test retries them once the fault is over. */
  readonly unfinished: readonly LoadSlot[];
  /** Completions answered 200. */
  readonly verified: readonly LoadSlot[];
  /** Answers in `phase` that match `what`. */
  count(phase: string, what?: (a: LoadAnswer) => boolean): number;
  /** Stops every worker after its current job. */
  stop(): Promise<void>;
}

export interface FaultLoadOptions {
  /** certgate's base URL, mount prefix included (e.g. `http://127.0.0.1:4000/certgate`). */
  baseUrl: string;
  apiKey: string;
  emulator: Emulator;
  concurrency: number;
}

const errorCode = z.object({ error: z.object({ code: z.string() }) });
const created = z.object({ id: z.string(), merchant_uid: z.string() });

function describeAnswer(answer: Answer): { status: number; code: string | undefined } {
  if (answer.kind === "network") return { status: 0, code: answer.cause };
  const parsed = errorCode.safeParse(answer.body);
  return { status: answer.status, code: parsed.success ? parsed.data.error.code : undefined };
}

/** Starts `concurrency` workers at once. */
export function startFaultLoad(options: FaultLoadOptions): FaultLoad {
  const answers: LoadAnswer[] = [];
  const unfinished: LoadSlot[] = [];
  const verified: LoadSlot[] = [];
  const run = randomInt(1e9).toString(36);
  let stopped = false;
  let jobs = 0;

  const load: FaultLoad = {
    phase: "before",
    answers,
    unfinished,
    verified,
    count: (phase, what = () => true) => answers.filter((a) => a.phase === phase && what(a)).length,
    async stop() {
      stopped = true;
      await Promise.all(workers);
    },
  };

  const job = async () => {
    const n = jobs++;
    const phase = load.phase;
    const createAnswer = await postJson(
      `${options.baseUrl}/api/verifications`,
      { account_ref: `fault-${run}-${n}`, policy: { min_age: 19 } },
      { authorization: `Bearer ${options.apiKey}` },
    );
    answers.push({ phase, step: "create", ...describeAnswer(createAnswer) });
    if (createAnswer.kind !== "answered" || createAnswer.status !== 201) return;
    const v = created.parse(createAnswer.body);
    const record = options.emulator.createCertification({
      person: { name: `Fault Tester ${n}`, birthday: "1990-07-21", seed: `fault-${run}-${n}` },
      merchant_uid: v.merchant_uid,
    });
    const slot = { id: v.id, merchantUid: v.merchant_uid, impUid: record.imp_uid };
    const completePhase = load.phase;
    const answer = await completeSlot(options.baseUrl, slot);
    const described = describeAnswer(answer);
    answers.push({ phase: completePhase, step: "complete", ...described });
    if (described.status === 200) verified.push(slot);
    else unfinished.push(slot);
  };

  const workers = Array.from({ length: options.concurrency }, async () => {
    while (!stopped) await job();
  });
  return load;
}

/** The guide's browser route for `slot`. */
export function completeSlot(baseUrl: string, slot: LoadSlot): Promise<Answer> {
  return postJson(`${baseUrl}/certifications`, { imp_uid: slot.impUid, merchant_uid: slot.merchantUid });
}

/**
 * Every answer that is not a success of its step, as `step status code`: the only ones a database
 * fault may cause are 503 `store_unavailable`.
 */
export function faultAnswers(answers: readonly LoadAnswer[]): string[] {
  return answers
    .filter((a) => !(a.step === "create" ? a.status === 201 : a.status === 200))
    .map((a) => `${a.step} ${a.status} ${a.code ?? ""}`);
}

/** Polls `probe` every 25 ms until it holds; resolves with the ms it took, or throws after `timeoutMs`. */
export async function timeUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number) {
  const started = Date.now();
  for (;;) {
    if (await probe().catch(() => false)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The status of `GET <url>` (0 when unanswered). */
export async function statusOf(url: string): Promise<number> {
  try {
    const res = await fetch(url);
    await res.body?.cancel();
    return res.status;
  } catch {
    return 0;
  }
}
