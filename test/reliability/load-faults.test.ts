/**
 * Issue 7's load-with-faults run, on SQLite and on PostgreSQL: the real service and the emulator over
 * real sockets, completions driven at concurrency 20 by a merchant-like client while PortOne answers
 * 10 % of the upstream requests with 503, drops 2 % of the connections, and loses every access token
 * every few completions. Then the faults are cleared and every verification still pending is retried.
 *
 * Every verification must end verified, rejected for its true reason, or — during the load — pending
 * and retriable (proved by the final retry finishing it); none is lost, none verified twice, and
 * every 5xx the client saw carries one of certgate's stable upstream codes. The numbers are printed.
 *
 * Short under `npm test` (~150 verifications a database); `npm run test:soak` runs 20 times as many.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VerificationRecord } from "../../src/core/verification.js";
import type { Fault } from "../../src/emulator/faults.js";
import type { EmulatorRouteName } from "../../src/emulator/index.js";
import { seeded } from "../emulator/harness.js";
import {
  createV2Verification,
  createVerification,
  DATABASES,
  type Harness,
  startHarness,
} from "../integration/harness.js";
import {
  bump,
  type Category,
  type ClientTally,
  completeWithRetries,
  type Expected,
  formatCounts,
  freshPerson,
  isFailedAttempt,
  isRetryable,
  type Planned,
  planCounts,
  printTable,
  runPool,
  shuffle,
  sqlRows,
} from "./load-kit.js";
import { RELIABILITY_TIMEOUT_MS, SOAK, scaled } from "./scale.js";

const CONCURRENCY = 20;
/** Attempts of the merchant's retry loop during the load (an impatient browser makes one). */
const MAX_ATTEMPTS = 3;
/**
 * `max_attempts` of a `foreign` or `not_certified` verification: their tries are failed attempts,
 * few enough that the run ends them.
 */
const FOREIGN_MAX_ATTEMPTS = 1;
/** Every this many finished jobs, every issued PortOne token (V1 and V2) is revoked. */
const REVOKE_EVERY = 10;
const UPSTREAM_ROUTES: EmulatorRouteName[] = [
  "getToken",
  "getCertification",
  "loginApiSecret",
  "refreshToken",
  "getIdentityVerification",
];
/** certgate's mapping of upstream faults to statuses (src/http/responses.ts): the only 5xx it may send. */
const UPSTREAM_5XX: Record<string, number> = {
  upstream_unavailable: 503,
  upstream_timeout: 504,
  upstream_unauthorized: 502,
  upstream_forbidden: 502,
  upstream_bad_request: 502,
  upstream_invalid_response: 502,
  upstream_api_error: 502,
};
const POLICY = { min_age: 19 };

interface Run {
  planned: Planned[];
  final: Map<string, VerificationRecord>;
  pendingAfterLoad: number;
  resolvedByFinalRetry: number;
  revocations: number;
  tally: ClientTally;
  injected: Record<string, number>;
  /** V1 access tokens the emulator issued: one per refresh after a revocation (single flight). */
  tokensIssued: number;
  seconds: number;
}

describe.each(DATABASES)("load with upstream faults on %s", (kind) => {
  let h: Harness;
  let run: Run;

  beforeAll(async () => {
    // A lookup waits for the emulator at most 2 s: under load on a shared machine 1 s can pass.
    h = await startHarness(kind, { timeoutMs: 2_000 });
    const random = seeded(SOAK ? 0x50a6 : 0x10ad);
    const started = performance.now();
    const planned = await prepare(h, kind, scaled(1, 20));
    const tally: ClientTally = { retries: 0 };

    // --- the load: faults armed, tokens revoked every REVOKE_EVERY finished jobs ---
    for (const route of UPSTREAM_ROUTES) {
      const faults: Fault<EmulatorRouteName>[] = [
        { route, kind: "status", status: 503, probability: 0.1 },
        { route, kind: "drop", probability: 0.02 },
      ];
      for (const fault of faults) h.emulator.setFault(fault);
    }
    let revocations = 0;
    let finishedJobs = 0;
    const loadOnce = (v: Planned, attempts = MAX_ATTEMPTS) =>
      completeWithRetries(h, v, { maxAttempts: attempts, phase: "load", tally, random });
    const jobs = jobsOf(planned, loadOnce, random);
    await runPool(shuffle(jobs, random), CONCURRENCY, () => {
      finishedJobs += 1;
      if (finishedJobs % REVOKE_EVERY === 0) {
        h.emulator.revokeTokens();
        revocations += 1;
      }
    });
    const stats = h.emulator.stats();
    const injected: Record<string, number> = {};
    for (const byRoute of [stats.faultsInjected, stats.v2.faultsInjected]) {
      for (const [route, byKind] of Object.entries(byRoute)) {
        for (const [faultKind, n] of Object.entries(byKind ?? {})) bump(injected, `${route} ${faultKind}`, n);
      }
    }

    // --- after the load: no faults; the READY records finish; every pending verification is retried ---
    h.emulator.clearFaults();
    for (const v of planned.filter((p) => p.category === "ready")) {
      h.emulator.createIdentityVerification({
        identityVerificationId: v.boundId,
        person: freshPerson(`load-${kind}-${v.accountRef}`),
      });
    }
    const pending = [];
    for (const v of planned) {
      if ((await h.store.getVerification(v.id))?.status === "pending") pending.push(v);
    }
    await runPool(
      pending.map((v) => async () => {
        // A failed attempt (422, still pending) may be tried again, as a browser would: without
        // faults each try is counted, so a foreign or not_certified verification ends within its
        // max_attempts + 1.
        for (let i = 0; i <= FOREIGN_MAX_ATTEMPTS; i++) {
          const last = await completeWithRetries(h, v, {
            maxAttempts: MAX_ATTEMPTS,
            phase: "final",
            tally,
            random,
          });
          if (!isFailedAttempt(last)) break;
        }
      }),
      CONCURRENCY,
      () => {},
    );
    const final = new Map<string, VerificationRecord>();
    for (const v of planned) {
      const record = await h.store.getVerification(v.id);
      if (record) final.set(v.id, record);
    }
    const resolvedByFinalRetry = pending.filter((v) => final.get(v.id)?.status !== "pending").length;
    run = {
      planned,
      final,
      pendingAfterLoad: pending.length,
      resolvedByFinalRetry,
      revocations,
      tally,
      injected,
      tokensIssued: stats.tokensIssued,
      seconds: (performance.now() - started) / 1000,
    };
    report(kind, run);
  }, RELIABILITY_TIMEOUT_MS);

  afterAll(async () => {
    await h?.close();
  });

  it("loses none: every prepared verification exists, and none is pending after the final retry", () => {
    expect(run.final.size).toBe(run.planned.length);
    const stillPending = [...run.final.values()].filter((v) => v.status === "pending");
    expect(stillPending.map((v) => v.id)).toEqual([]);
    expect(run.resolvedByFinalRetry).toBe(run.pendingAfterLoad);
    // The READY records alone keep some pending through the load: the final retry had work to do.
    expect(run.pendingAfterLoad).toBeGreaterThanOrEqual(
      run.planned.filter((v) => v.category === "ready").length,
    );
  });

  it("ends each verification in its expected state, for its true reason", () => {
    const wrong: string[] = [];
    for (const v of run.planned) {
      if (v.expected === "pair") continue;
      const record = run.final.get(v.id);
      const actual = { status: record?.status, reason: record?.reason };
      const expected: { status: string; reason?: string } =
        v.expected.status === "verified" ? { status: "verified" } : v.expected;
      if (actual.status !== expected.status || actual.reason !== expected.reason) {
        wrong.push(`${v.category}/${v.api}: ${JSON.stringify(actual)} ≠ ${JSON.stringify(expected)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("pairs of one person: exactly one verified, the other duplicate_account naming the first's account", () => {
    const byPerson = new Map<string, Planned[]>();
    for (const v of run.planned.filter((p) => p.category === "pair")) {
      const key = v.accountRef.replace(/-[ab]$/, "");
      byPerson.set(key, [...(byPerson.get(key) ?? []), v]);
    }
    expect(byPerson.size).toBe(planCounts(scaled(1, 20)).pairs);
    for (const members of byPerson.values()) {
      const records = members.map((m) => run.final.get(m.id));
      const verified = records.filter((r) => r?.status === "verified");
      const duplicate = records.filter((r) => r?.status === "rejected" && r.reason === "duplicate_account");
      expect(verified).toHaveLength(1);
      expect(duplicate).toHaveLength(1);
      expect(duplicate[0]?.existingAccountRef).toBe(verified[0]?.accountRef);
      expect(duplicate[0]?.personId).toBe(verified[0]?.personId);
    }
  });

  it("no person holds two accounts, no upstream id is consumed twice, a mismatch consumes nothing", async () => {
    const verified = [...run.final.values()].filter((v) => v.status === "verified");
    expect(new Set(verified.map((v) => v.personId)).size).toBe(verified.length);
    expect(await sqlRows(h, "select person_id from accounts group by person_id having count(*) > 1")).toEqual(
      [],
    );
    const accounts = await sqlRows(h, "select account_ref, verification_id from accounts");
    expect(new Map(accounts.map((a) => [a.account_ref, a.verification_id]))).toEqual(
      new Map(verified.map((v) => [v.accountRef, v.id])),
    );
    expect(
      await sqlRows(
        h,
        "select upstream_id from verifications where upstream_id is not null group by upstream_id having count(*) > 1",
      ),
    ).toEqual([]);
    const consumed = await sqlRows(h, "select upstream_id, verification_id from consumed_ids");
    const consumedBy = new Map(consumed.map((c) => [String(c.upstream_id), String(c.verification_id)]));
    expect(consumedBy.size).toBe(consumed.length);
    for (const v of run.planned) {
      const record = run.final.get(v.id);
      if (v.category === "foreign" || v.category === "not_certified") {
        // Someone else's imp_uid, or a record not certified: failed attempts, nothing consumed.
        expect(record?.upstreamId).toBeUndefined();
        expect([...consumedBy.values()]).not.toContain(v.id);
      } else {
        // Every other outcome was decided on the verification's own record, which it consumed.
        expect(record?.upstreamId).toBe(v.ownUpstreamId);
        expect(consumedBy.get(v.ownUpstreamId)).toBe(v.id);
      }
    }
  });

  it("verifies none twice: one completion audit event and one finishing answer per verification", async () => {
    const events = await h.store.listAuditEvents();
    const completed = new Map<string, string[]>();
    for (const event of events.filter((e) => e.type === "verification.completed")) {
      const id = event.verificationId ?? "";
      completed.set(id, [...(completed.get(id) ?? []), String(event.data.status)]);
    }
    for (const v of run.planned) {
      expect(completed.get(v.id)).toEqual([run.final.get(v.id)?.status]);
      // Exactly one answer finished it (200 verified, 422 rejected); all others were 5xx, 202, 409 or
      // (foreign and not_certified only) a failed attempt: 422 with the verification still pending.
      const finishing = v.responses.filter(
        (r) => r.status === 200 || (r.status === 422 && !isFailedAttempt(r)),
      );
      expect(finishing).toHaveLength(1);
      expect(finishing[0]?.verificationStatus).toBe(run.final.get(v.id)?.status);
      if (finishing[0]?.status === 422) expect(finishing[0].code).toBe(run.final.get(v.id)?.reason);
      // A 409 already_used only answers a concurrent double submission or a replay: a merchant that
      // sent one completion at a time and retried only on 5xx never sees one (no answer was lost).
      const conflicts = v.responses.filter((r) => r.status === 409);
      if (v.category !== "replay") expect(conflicts).toEqual([]);
      for (const conflict of conflicts) expect(conflict.code).toBe("already_used");
      const failedAttempts = v.responses.filter(isFailedAttempt);
      const attemptReason = { foreign: "merchant_uid_mismatch", not_certified: "not_certified" } as const;
      const reason =
        v.category === "foreign" || v.category === "not_certified" ? attemptReason[v.category] : undefined;
      if (reason === undefined) expect(failedAttempts).toEqual([]);
      for (const failed of failedAttempts) expect(failed.code).toBe(reason);
      if (reason !== undefined) expect(failedAttempts.length).toBeGreaterThanOrEqual(FOREIGN_MAX_ATTEMPTS);
      const pendingAnswers = v.responses.filter((r) => r.status === 202);
      if (v.category !== "ready") expect(pendingAnswers).toEqual([]);
    }
    const verifiedEvents = [...completed.values()].flat().filter((s) => s === "verified").length;
    expect(verifiedEvents).toBe([...run.final.values()].filter((v) => v.status === "verified").length);
  });

  it("answers every fault with a stable upstream code: no 500, no unknown status, no dropped socket", () => {
    const all = run.planned.flatMap((v) => v.responses);
    const unexpected = all.filter(
      (r) => r.status === "network" || ![200, 202, 409, 422, 502, 503, 504].includes(r.status),
    );
    expect(unexpected).toEqual([]);
    for (const r of all.filter(isRetryable)) {
      expect(r.code, JSON.stringify(r)).toBeDefined();
      expect(UPSTREAM_5XX[r.code ?? ""], JSON.stringify(r)).toBe(r.status);
      expect(r.verificationStatus).toBeUndefined();
    }
  });

  it("really ran under faults: upstream requests were faulted and tokens revoked", () => {
    const faultedLookups =
      (run.injected["getCertification status"] ?? 0) + (run.injected["getIdentityVerification status"] ?? 0);
    expect(faultedLookups).toBeGreaterThan(0);
    expect(run.revocations).toBeGreaterThan(0);
    // At least one revoked token was replaced: the service refreshed instead of failing for good.
    expect(run.tokensIssued).toBeGreaterThan(1);
  });
});

/** Creates the verifications and their upstream records; nothing is completed yet. */
async function prepare(h: Harness, kind: string, scale: number): Promise<Planned[]> {
  const counts = planCounts(scale);
  const planned: Planned[] = [];
  let serial = 0;
  const add = async (category: Category, api: "v1" | "v2", expected: Expected | "pair", ref?: string) => {
    serial += 1;
    const accountRef = ref ?? `load-${kind}-${serial}`;
    // A foreign attempt, or a record not certified, does not finish a verification: with one failed
    // attempt allowed, its second (the final retry's) rejects it as too_many_attempts.
    const body = {
      account_ref: accountRef,
      policy: POLICY,
      ...(category === "foreign" || category === "not_certified"
        ? { max_attempts: FOREIGN_MAX_ATTEMPTS }
        : {}),
    };
    const created =
      api === "v1"
        ? await createVerification(h, body).then((c) => ({ id: c.id, boundId: c.merchant_uid }))
        : await createV2Verification(h, body).then((c) => ({
            id: c.id,
            boundId: c.identity_verification_id,
          }));
    const v: Planned = {
      category,
      api,
      id: created.id,
      boundId: created.boundId,
      accountRef,
      ownUpstreamId: created.boundId,
      presentedImpUid: undefined,
      expected,
      responses: [],
    };
    planned.push(v);
    return v;
  };
  /** The upstream record of `v`: a persona, or a person of its own unless `seed` is shared. */
  const record = (
    v: Planned,
    upstream: { persona?: "minor" | "uncertified"; seed?: string; failed?: true },
  ) => {
    const who = upstream.persona
      ? { persona: upstream.persona }
      : { person: freshPerson(upstream.seed ?? `load-${kind}-${v.accountRef}`) };
    if (v.api === "v1") {
      const { imp_uid } = h.emulator.createCertification({ ...who, merchant_uid: v.boundId });
      v.ownUpstreamId = imp_uid;
      v.presentedImpUid = imp_uid;
    } else {
      h.emulator.createIdentityVerification({
        identityVerificationId: v.boundId,
        ...who,
        ...(upstream.failed ? { status: "FAILED" as const } : {}),
      });
    }
  };
  const verified: Expected = { status: "verified" };
  const rejected = (reason: "underage" | "too_many_attempts"): Expected => ({
    status: "rejected",
    reason,
  });

  for (let i = 0; i < counts.adultV1; i++) record(await add("adult", "v1", verified), {});
  for (let i = 0; i < counts.adultV2; i++) record(await add("adult", "v2", verified), {});
  for (let i = 0; i < counts.underageV1; i++)
    record(await add("underage", "v1", rejected("underage")), { persona: "minor" });
  for (let i = 0; i < counts.underageV2; i++)
    record(await add("underage", "v2", rejected("underage")), { persona: "minor" });
  for (let i = 0; i < counts.notCertifiedV1; i++)
    record(await add("not_certified", "v1", rejected("too_many_attempts")), { persona: "uncertified" });
  for (let i = 0; i < counts.notCertifiedV2; i++)
    record(await add("not_certified", "v2", rejected("too_many_attempts")), { failed: true });
  const pairApis: ["v1" | "v2", "v1" | "v2"][] = [
    ["v1", "v1"],
    ["v1", "v2"],
    ["v2", "v2"],
  ];
  for (let i = 0; i < counts.pairs; i++) {
    const [first, second] = pairApis[i % pairApis.length] ?? ["v1", "v1"];
    const seed = `load-${kind}-pair-${i}`;
    record(await add("pair", first, "pair", `load-${kind}-pair-${i}-a`), { seed });
    record(await add("pair", second, "pair", `load-${kind}-pair-${i}-b`), { seed });
  }
  for (let i = 0; i < counts.replayV1; i++) {
    const victim = await add("replay", "v1", verified);
    record(victim, {});
    // Its own verification and policy, someone else's imp_uid: the record names the victim's merchant_uid.
    const thief = await add("foreign", "v1", rejected("too_many_attempts"));
    thief.presentedImpUid = victim.presentedImpUid;
    thief.ownUpstreamId = "";
  }
  for (let i = 0; i < counts.replayV2; i++) record(await add("replay", "v2", verified), {});
  for (let i = 0; i < counts.readyV2; i++) {
    const v = await add("ready", "v2", verified);
    h.emulator.createIdentityVerification({ identityVerificationId: v.boundId, status: "READY" });
  }
  return planned;
}

/**
 * The load's jobs: one per verification, except a pair (both members at once), a replay (three
 * submissions at once, then one more) and its foreign twin (presenting the replayed imp_uid after it).
 * Every fifth single verification is an impatient browser that sends once and gives up on a 5xx.
 */
function jobsOf(
  planned: Planned[],
  loadOnce: (v: Planned, attempts?: number) => Promise<unknown>,
  random: () => number,
): (() => Promise<void>)[] {
  const jobs: (() => Promise<void>)[] = [];
  const pairs = new Map<string, Planned[]>();
  for (const [index, v] of planned.entries()) {
    switch (v.category) {
      case "pair": {
        const key = v.accountRef.replace(/-[ab]$/, "");
        pairs.set(key, [...(pairs.get(key) ?? []), v]);
        break;
      }
      case "replay": {
        const thief = planned[index + 1];
        jobs.push(async () => {
          await Promise.all([loadOnce(v), loadOnce(v), loadOnce(v)]);
          await loadOnce(v);
          if (thief?.category === "foreign") await loadOnce(thief);
        });
        break;
      }
      case "foreign":
        break; // sent by its replay's job
      default:
        jobs.push(async () => {
          await loadOnce(v, random() < 0.2 ? 1 : undefined);
        });
    }
  }
  for (const members of pairs.values()) {
    jobs.push(async () => {
      await Promise.all(members.map((m) => loadOnce(m)));
    });
  }
  return jobs;
}

function report(kind: string, run: Run): void {
  const records = [...run.final.values()];
  const rejected: Record<string, number> = {};
  for (const r of records.filter((v) => v.status === "rejected")) bump(rejected, r.reason ?? "?");
  const serverErrors: Record<string, number> = {};
  const all = run.planned.flatMap((v) => v.responses);
  for (const r of all.filter(isRetryable)) bump(serverErrors, `${r.status} ${r.code ?? "(no code)"}`);
  const v2 = run.planned.filter((v) => v.api === "v2").length;
  printTable(`load with faults on ${kind} (${SOAK ? "soak" : "short"}, ${run.seconds.toFixed(1)} s)`, [
    ["prepared", `${run.planned.length} (V1 ${run.planned.length - v2}, V2 ${v2})`],
    ["completion requests", all.length],
    ["verified", records.filter((v) => v.status === "verified").length],
    ["rejected", formatCounts(rejected)],
    ["5xx seen by the client", formatCounts(serverErrors)],
    ["client retries", run.tally.retries],
    ["pending after load", run.pendingAfterLoad],
    ["resolved by final retry", run.resolvedByFinalRetry],
    ["faults injected", formatCounts(run.injected)],
    ["token revocations", run.revocations],
    ["V1 tokens issued", run.tokensIssued],
  ]);
}
