/**
 * Races and privacy, for each PortOne API version on SQLite and PostgreSQL: parallel completions
 * settle on one outcome, and no personal value — the verified identity, nor an expected identity a
 * merchant gave — reaches a log line, a webhook event or the database in clear.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { API_ADAPTERS, API_VERSIONS, type ApiVersion } from "./api-versions.js";
import { auth, DATABASES, expectAbsent, type Harness, startHarness, storedText } from "./harness.js";

const codeOf = async (res: Response) =>
  z
    .object({
      error: z.object({ code: z.string() }).optional(),
      verification: z.object({ status: z.string() }),
    })
    .parse(await res.json());

interface Person {
  name: string;
  birthday: string;
  phone: string;
  gender: "female";
}

/**
 * An expected identity that is nobody's: given at creation, it must never be stored or told in
 * clear, neither while pending nor after (in any spelling: as given and in its canonical form).
 */
const EXPECTED: Record<ApiVersion, { name: string; birth_date: string; phone: string }> = {
  v1: { name: "  정기대  가명 ", birth_date: "1971-02-03", phone: "+82 10-4242-1717" },
  v2: { name: "한기대 가명", birth_date: "1972-03-04", phone: "010 4343 1818" },
};
const expectedSecrets = (e: { name: string; birth_date: string; phone: string }) => [
  e.name.trim().replace(/\s+/g, " "),
  e.name.trim().split(/\s+/)[0] ?? e.name,
  e.birth_date,
  e.birth_date.replaceAll("-", ""),
  e.phone,
  e.phone
    .replace(/^\+82/, "0")
    .replace(/[^0-9]/g, "")
    .replace(/^00/, "0"),
];

/** Each version's run has its own person, as each had its own file. */
const PEOPLE: Record<ApiVersion, Person> = {
  v1: { name: "박비밀가명", birthday: "1987-11-23", phone: "01099887766", gender: "female" },
  v2: { name: "최비밀가명", birthday: "1986-10-22", phone: "01088776655", gender: "female" },
};

describe.each(API_VERSIONS)("%s", (version) => {
  const a = API_ADAPTERS[version];

  describe.each(DATABASES)("races on %s", (kind) => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness(kind, { timeoutMs: 10_000 });
    });
    afterAll(async () => {
      await h?.close();
    });

    it(`50 parallel completions with the same ${a.upstreamIdName}: exactly 1 verified, 49 already_used, no 5xx`, async () => {
      const ref = version === "v1" ? `race-imp-${kind}` : `v2-race-id-${kind}`;
      const v = a.record(h, await a.create(h, { account_ref: ref }), "adult");
      const responses = await Promise.all(Array.from({ length: 50 }, () => v.complete()));
      const bodies = await Promise.all(responses.map(codeOf));
      expect(responses.filter((r) => r.status >= 500)).toEqual([]);
      expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
      expect(bodies.filter((b) => b.error?.code === "already_used")).toHaveLength(49);
      const audit = await h.store.listAuditEvents(v.id);
      expect(audit.filter((e) => e.type === "verification.completed")).toHaveLength(1);
    });

    it("20 verifications of one person with different account_refs in parallel: 1 verified, 19 duplicate_account", async () => {
      const prepared = await Promise.all(
        Array.from({ length: 20 }, async (_, i) =>
          a.record(h, await a.create(h, { account_ref: `${a.prefix}race-person-${kind}-${i}` }), "no_gender"),
        ),
      );
      const responses = await Promise.all(prepared.map((v) => v.complete()));
      const bodies = await Promise.all(responses.map(codeOf));
      expect(responses.filter((r) => r.status >= 500)).toEqual([]);
      expect(bodies.filter((b) => b.verification.status === "verified")).toHaveLength(1);
      expect(bodies.filter((b) => b.error?.code === "duplicate_account")).toHaveLength(19);
    });
  });

  describe.each(DATABASES)("privacy on %s", (kind) => {
    let h: Harness;
    const person = PEOPLE[version];
    let secrets: string[];

    beforeAll(async () => {
      h = await startHarness(kind, { emitEvents: true });
      const created = await a.create(h, {
        account_ref: `${a.prefix}privacy-${kind}`,
        policy: { min_age: 19 },
      });
      const v = a.record(h, created, { v1: { person }, v2: { person } });
      secrets = [person.name, person.birthday, person.phone, ...v.personKeys];
      expect(secrets.every((s) => s.length > 0)).toBe(true);
      expect((await v.complete()).status).toBe(200);
      // An expected identity finished as identity_mismatch, and one left pending.
      const expected = EXPECTED[version];
      secrets.push(...expectedSecrets(expected));
      const mismatched = a.record(h, await a.create(h, { expected }), { v1: { person }, v2: { person } });
      expect((await mismatched.complete()).status).toBe(422);
      await a.create(h, { expected });
      // The same under an Idempotency-Key: its stored fingerprint must not be a guessable digest.
      const idempotent = await h.api("/api/verifications", {
        method: "POST",
        headers: { ...auth, "idempotency-key": `privacy-${version}` },
        body: { expected, api_version: version },
      });
      expect(idempotent.status).toBe(201);
      // A replay and a fault also log.
      await v.complete();
      if (version === "v2") await v2AlsoLogs(h, person);
      expect(
        (await h.api(`/api/verifications/${v.id}`, { headers: { authorization: "Bearer x" } })).status,
      ).toBe(401);
    });
    afterAll(async () => {
      await h?.close();
    });

    it("no webhook event carries the name, phone, birthday, CI, DI or an expected value", async () => {
      const far = new Date(h.emulator.clock.now() + 86_400_000);
      const events = await h.store.claimWebhookEvents({ now: far, limit: 1_000, leaseUntil: far });
      expect(events.length).toBeGreaterThanOrEqual(2);
      const all = events.map((e) => e.payload).join("\n");
      expect(all).toContain("identity_mismatch");
      for (const s of secrets) expect(all).not.toContain(s);
    });

    it("no log line of the run carries the name, phone, birthday, CI, DI or an expected value", () => {
      expect(h.logs.length).toBeGreaterThan(3);
      const all = h.logs.join("\n");
      for (const s of secrets) expect(all).not.toContain(s);
      expect(all).not.toContain(person.birthday.replaceAll("-", ""));
    });

    it("the database never holds them, nor an expected value, in clear", async () => {
      const text = await storedText(h);
      expect(text).toContain(`${a.prefix}privacy-`);
      expectAbsent(text, secrets);
    });
  });
});

/** V2 only: a READY record and a malformed upstream answer also log. */
async function v2AlsoLogs(h: Harness, person: Person) {
  const a = API_ADAPTERS.v2;
  const ready = a.record(h, await a.create(h, {}), { v1: { person }, v2: { person, status: "READY" } });
  expect((await ready.complete()).status).toBe(202);
  h.emulator.setFault({ route: "getIdentityVerification", kind: "malformed" });
  expect((await ready.complete()).status).toBe(502);
  h.emulator.clearFaults();
}
