/**
 * Expected identity through HTTP over real sockets, for each PortOne API version on SQLite and
 * PostgreSQL: each field matching (name across whitespace and Unicode forms, phone across spellings)
 * and not matching (`identity_mismatch` naming only the fields), the hashes dropped at completion,
 * and bad input refused.
 */
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { API_ADAPTERS, API_VERSIONS } from "./api-versions.js";
import { auth, DATABASES, type Harness, PG_URL, startHarness } from "./harness.js";

/** The person at PortOne: a name with a space (as a foreigner's may have), a phone, a birthday. */
const PERSON = { name: "Anna Kim", birthday: "1991-04-05", phone: "01033334444", gender: "female" } as const;
const HANGUL = { name: "김가명", birthday: "1992-06-07", phone: "01055556666", gender: "male" } as const;

const completion = z.object({
  verification: z.looseObject({
    status: z.string(),
    reason: z.string().optional(),
    mismatched_fields: z.array(z.string()).optional(),
  }),
  error: z.object({ code: z.string() }).optional(),
});
const merchant = z.object({
  verification: z.looseObject({
    status: z.string(),
    reason: z.string().nullable(),
    mismatched_fields: z.array(z.string()).nullable(),
    identity: z.unknown(),
  }),
});
const errorBody = z.object({
  error: z.object({ code: z.string(), details: z.record(z.string(), z.unknown()).optional() }),
});

describe.each(API_VERSIONS)("%s", (version) => {
  const a = API_ADAPTERS[version];

  describe.each(DATABASES)("expected identity on %s", (kind) => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness(kind, { emitEvents: true });
    });
    afterAll(async () => {
      await h?.close();
    });

    /** Creates a `check` with `expected`, completes it as `person`; the answer and the merchant's view. */
    async function run(expected: Record<string, string>, person: typeof PERSON | typeof HANGUL = PERSON) {
      const v = a.record(h, await a.create(h, { expected }), { v1: { person }, v2: { person } });
      const res = await v.complete();
      const answer = completion.parse(await res.json());
      const view = merchant.parse(
        await (await h.api(`/api/verifications/${v.id}`, { headers: auth })).json(),
      );
      return { id: v.id, status: res.status, answer, view: view.verification };
    }

    it.each([
      ["the same name", { name: "Anna Kim" }],
      ["the name with other whitespace", { name: "  Anna \t  Kim " }],
      ["the birth date", { birth_date: "1991-04-05" }],
      ["the phone as digits", { phone: "01033334444" }],
      ["the phone with dashes", { phone: "010-3333-4444" }],
      ["the phone with spaces and +82", { phone: "+82 10 3333 4444" }],
      ["every field", { name: "Anna Kim", birth_date: "1991-04-05", phone: "010 3333 4444" }],
    ])("matches %s: verified", async (_, expected) => {
      const { status, view } = await run(expected);
      expect(status).toBe(200);
      expect(view).toMatchObject({ status: "verified", reason: null, mismatched_fields: null });
    });

    it("matches a Hangul name given in another Unicode form (NFD) after NFC", async () => {
      const decomposed = HANGUL.name.normalize("NFD");
      expect(decomposed).not.toBe(HANGUL.name);
      const { status } = await run({ name: decomposed }, HANGUL);
      expect(status).toBe(200);
    });

    it.each([
      ["name", { name: "Anna Lee" }, ["name"]],
      ["birth_date", { birth_date: "1991-04-06" }, ["birth_date"]],
      ["phone", { phone: "010-3333-4445" }, ["phone"]],
      [
        "only the fields that differ",
        { name: "Anna Kim", birth_date: "1990-01-01", phone: "01099990000" },
        ["birth_date", "phone"],
      ],
    ])("does not match %s: identity_mismatch naming only the fields", async (_, expected, fields) => {
      const { id, status, answer, view } = await run(expected);
      expect(status).toBe(422);
      expect(answer.error?.code).toBe("identity_mismatch");
      expect(answer.verification).toMatchObject({ status: "rejected", mismatched_fields: fields });
      expect(view).toMatchObject({
        status: "rejected",
        reason: "identity_mismatch",
        mismatched_fields: fields,
        identity: null,
      });
      const far = new Date(h.emulator.clock.now() + 86_400_000);
      const [event] = (await h.store.claimWebhookEvents({ now: far, limit: 1_000, leaseUntil: far })).filter(
        (e) => e.verificationId === id,
      );
      expect(JSON.parse(event?.payload ?? "{}").data).toMatchObject({
        reason: "identity_mismatch",
        mismatched_fields: fields,
      });
      // Field names only: no value the merchant gave or PortOne returned.
      for (const value of [...Object.values(expected), PERSON.name, PERSON.phone, PERSON.birthday]) {
        expect(event?.payload).not.toContain(value);
      }
    });

    it("a signup whose expected identity differs binds nothing: the person can sign up after", async () => {
      const account = `${a.prefix}expected-signup-${kind}`;
      const person = { ...PERSON, name: "Bo Park", phone: "01077778888" };
      const wrong = a.record(h, await a.create(h, { account_ref: account, expected: { name: "Bo Kim" } }), {
        v1: { person },
        v2: { person },
      });
      expect(completion.parse(await (await wrong.complete()).json()).error?.code).toBe("identity_mismatch");
      const right = a.record(h, await a.create(h, { account_ref: account, expected: { name: "Bo Park" } }), {
        v1: { person },
        v2: { person },
      });
      expect((await right.complete()).status).toBe(200);
    });

    it("keeps the expected values only as keyed hashes while pending and drops them when it finishes", async () => {
      const v = a.record(h, await a.create(h, { expected: { name: "Anna Kim", phone: "010-3333-4444" } }), {
        v1: { person: PERSON },
        v2: { person: PERSON },
      });
      const pending = await expectedColumns(h, v.id);
      expect(pending.expected_name_hash).toMatch(/^[0-9a-f]{12}\.[A-Za-z0-9_-]{43}$/);
      expect(pending.expected_phone_hash).toMatch(/^[0-9a-f]{12}\.[A-Za-z0-9_-]{43}$/);
      expect(pending.expected_birth_date_hash).toBeNull();
      expect((await v.complete()).status).toBe(200);
      expect(await expectedColumns(h, v.id)).toEqual({
        expected_name_hash: null,
        expected_birth_date_hash: null,
        expected_phone_hash: null,
      });
    });

    it.each([
      ["an unknown key", { nickname: "Anna" }, "unknown_field", "expected.nickname"],
      ["no field", {}, "invalid_request", "expected.name"],
      ["a blank name", { name: "   " }, "invalid_request", "expected.name"],
      [
        "a birth date that is no date",
        { birth_date: "1991-02-30" },
        "invalid_request",
        "expected.birth_date",
      ],
      [
        "a birth date in another format",
        { birth_date: "19910405" },
        "invalid_request",
        "expected.birth_date",
      ],
      ["a phone with letters", { phone: "010-CALL-ME" }, "invalid_request", "expected.phone"],
    ])("refuses %s: 400 %s", async (_, expected, code, field) => {
      const res = await h.api("/api/verifications", {
        method: "POST",
        headers: auth,
        body: { expected, ...(version === "v2" ? { api_version: "v2" } : {}) },
      });
      expect(res.status).toBe(400);
      const { error } = errorBody.parse(await res.json());
      expect(error.code).toBe(code);
      expect(error.details?.field).toBe(field);
    });
  });
});

const expectedRow = z.object({
  expected_name_hash: z.string().nullable(),
  expected_birth_date_hash: z.string().nullable(),
  expected_phone_hash: z.string().nullable(),
});

/** The expected-identity columns of verification `id`, read straight from the database. */
async function expectedColumns(h: Harness, id: string) {
  const query =
    "select expected_name_hash, expected_birth_date_hash, expected_phone_hash from verifications where id = ";
  if (h.kind === "postgres") {
    const client = new pg.Client(PG_URL);
    await client.connect();
    try {
      await client.query(`set search_path = ${h.pgSchema}`);
      return expectedRow.parse((await client.query(`${query}$1`, [id])).rows[0]);
    } finally {
      await client.end();
    }
  }
  const db = new BetterSqlite3(h.sqliteFile ?? "", { readonly: true, fileMustExist: true });
  try {
    return expectedRow.parse(db.prepare(`${query}?`).get(id));
  } finally {
    db.close();
  }
}
