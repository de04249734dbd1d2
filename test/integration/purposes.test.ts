/**
 * Purposes through HTTP over real sockets, for each PortOne API version on SQLite and PostgreSQL:
 * `signup` and `check` as before and now explicit; `reverify` verified only for the person bound to
 * the account, `person_mismatch` for anyone else with nothing about them revealed (not in the
 * answer, the merchant's view, the webhook event, the logs or a person row); a `reverify` of an
 * unbound account refused at creation; purposes that do not fit the account refused as bad input.
 */
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { API_ADAPTERS, API_VERSIONS } from "./api-versions.js";
import { auth, DATABASES, type Harness, PG_URL, startHarness } from "./harness.js";

const completion = z.object({
  verification: z.looseObject({
    id: z.string(),
    status: z.string(),
    purpose: z.enum(["signup", "reverify", "check"]),
    reason: z.string().optional(),
  }),
  error: z.object({ code: z.string() }).optional(),
});
const merchant = z.object({
  verification: z.looseObject({
    status: z.string(),
    reason: z.string().nullable(),
    purpose: z.string(),
    account_ref: z.string().nullable(),
    existing_account_ref: z.string().nullable(),
    mismatched_fields: z.array(z.string()).nullable(),
    identity: z.looseObject({ name: z.string().nullable() }).nullable(),
  }),
});
const errorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
const eventData = z.object({
  type: z.string(),
  data: z.looseObject({ verification_id: z.string(), purpose: z.string() }),
});

describe.each(API_VERSIONS)("%s", (version) => {
  const a = API_ADAPTERS[version];

  describe.each(DATABASES)("purposes on %s", (kind) => {
    let h: Harness;
    /** The account of the `adult` persona, signed up in beforeAll. */
    const holder = `${a.prefix}holder-${kind}`;
    /** The account of another person (`no_gender`), signed up in beforeAll. */
    const otherAccount = `${a.prefix}other-${kind}`;

    const view = async (id: string) =>
      merchant.parse(await (await h.api(`/api/verifications/${id}`, { headers: auth })).json()).verification;
    const events = async (id: string) => {
      const far = new Date(h.emulator.clock.now() + 86_400_000);
      const claimed = await h.store.claimWebhookEvents({ now: far, limit: 1_000, leaseUntil: far });
      return claimed.filter((e) => e.verificationId === id).map((e) => e.payload);
    };

    beforeAll(async () => {
      h = await startHarness(kind, { emitEvents: true });
      for (const [account, persona] of [
        [holder, "adult"],
        [otherAccount, "no_gender"],
      ] as const) {
        const v = a.record(h, await a.create(h, { account_ref: account }), persona);
        expect((await v.complete()).status).toBe(200);
      }
    });
    afterAll(async () => {
      await h?.close();
    });

    it("the 201 answer names the purpose, given or defaulted", async () => {
      const created = z.object({ purpose: z.enum(["signup", "reverify", "check"]) });
      for (const [body, purpose] of [
        [{ account_ref: `${a.prefix}p201-${kind}` }, "signup"],
        [{}, "check"],
        [{ account_ref: holder, purpose: "reverify" }, "reverify"],
        [{ purpose: "check" }, "check"],
      ] as const) {
        const res = await h.api("/api/verifications", {
          method: "POST",
          headers: auth,
          body: { ...body, ...(version === "v2" ? { api_version: "v2" } : {}) },
        });
        expect(res.status).toBe(201);
        expect(created.parse(await res.json()).purpose).toBe(purpose);
      }
    });

    it("defaults the purpose as before and shows it: signup with an account_ref, check without", async () => {
      const signup = a.record(h, await a.create(h, { account_ref: `${a.prefix}new-${kind}` }), "foreigner");
      const res = await signup.complete();
      expect(res.status).toBe(200);
      expect(completion.parse(await res.json()).verification.purpose).toBe("signup");
      expect(await view(signup.id)).toMatchObject({ purpose: "signup", status: "verified" });

      const check = a.record(h, await a.create(h, {}), "adult");
      expect((await check.complete()).status).toBe(200);
      expect(await view(check.id)).toMatchObject({
        purpose: "check",
        status: "verified",
        existing_account_ref: holder,
      });
      const [event] = await events(check.id);
      expect(eventData.parse(JSON.parse(event ?? "{}")).data.purpose).toBe("check");
    });

    it("reverify of the account's own person: verified, the binding kept", async () => {
      const v = a.record(h, await a.create(h, { purpose: "reverify", account_ref: holder }), "adult");
      const res = await v.complete();
      expect(res.status).toBe(200);
      expect(completion.parse(await res.json()).verification).toMatchObject({
        status: "verified",
        purpose: "reverify",
      });
      expect(await view(v.id)).toMatchObject({
        status: "verified",
        reason: null,
        purpose: "reverify",
        account_ref: holder,
        existing_account_ref: null,
        identity: { name: "김테스트" },
      });
      const [event] = await events(v.id);
      expect(eventData.parse(JSON.parse(event ?? "{}")).data).toMatchObject({
        purpose: "reverify",
        status: "verified",
        account_ref: holder,
      });
      // Still one account per person: the holder's person cannot sign up elsewhere.
      const again = a.record(h, await a.create(h, { account_ref: `${a.prefix}second-${kind}` }), "adult");
      expect(completion.parse(await (await again.complete()).json()).error?.code).toBe("duplicate_account");
    });

    it("reverify by another person who holds an account: person_mismatch, nothing about them revealed", async () => {
      const logsBefore = h.logs.length;
      const v = a.record(h, await a.create(h, { purpose: "reverify", account_ref: holder }), "no_gender");
      const res = await v.complete();
      expect(res.status).toBe(422);
      const text = await res.text();
      const body = completion.parse(JSON.parse(text));
      expect(body.error?.code).toBe("person_mismatch");
      expect(body.verification).toEqual({
        id: v.id,
        status: "rejected",
        purpose: "reverify",
        reason: "person_mismatch",
      });
      const merchantView = await view(v.id);
      expect(merchantView).toMatchObject({
        status: "rejected",
        reason: "person_mismatch",
        purpose: "reverify",
        account_ref: holder,
        existing_account_ref: null,
        identity: null,
        mismatched_fields: null,
      });
      const payloads = await events(v.id);
      expect(payloads).toHaveLength(1);
      expect(eventData.parse(JSON.parse(payloads[0] ?? "{}")).data).toMatchObject({
        status: "rejected",
        reason: "person_mismatch",
        existing_account_ref: null,
      });
      // Neither the other person's account nor their name, nor their keys, anywhere.
      const told = [text, JSON.stringify(merchantView), ...payloads, ...h.logs.slice(logsBefore)].join("\n");
      for (const secret of [otherAccount, "윤테스트", ...v.personKeys.filter(Boolean)]) {
        expect(told).not.toContain(secret);
      }
      const audit = await h.store.listAuditEvents(v.id);
      expect(JSON.stringify(audit)).not.toContain(otherAccount);
      expect(audit.at(-1)?.data).toMatchObject({ reason: "person_mismatch", purpose: "reverify" });
    });

    it("reverify by a person certgate never saw: person_mismatch, and no person row is kept for them", async () => {
      const before = await countPersons(h);
      const v = a.record(h, await a.create(h, { purpose: "reverify", account_ref: holder }), "gender_other");
      expect(completion.parse(await (await v.complete()).json()).error?.code).toBe("person_mismatch");
      expect(await countPersons(h)).toBe(before);
    });

    it("reverify by another person outside the age policy: person_mismatch, not their age", async () => {
      const v = a.record(
        h,
        await a.create(h, { purpose: "reverify", account_ref: holder, policy: { min_age: 19 } }),
        "minor",
      );
      const body = completion.parse(await (await v.complete()).json());
      expect(body.error?.code).toBe("person_mismatch");
      // The account's own person still meets the policy as usual.
      const own = a.record(
        h,
        await a.create(h, { purpose: "reverify", account_ref: holder, policy: { max_age: 19 } }),
        "adult",
      );
      expect(completion.parse(await (await own.complete()).json()).error?.code).toBe("overage");
    });

    it("reverify with an expected identity: another person is person_mismatch (not which fields differ); the holder is compared", async () => {
      const expected = { name: "김테스트", phone: "010-0000-0001" };
      const other = a.record(
        h,
        await a.create(h, { purpose: "reverify", account_ref: holder, expected }),
        "no_gender",
      );
      const otherBody = completion.parse(await (await other.complete()).json());
      expect(otherBody.error?.code).toBe("person_mismatch");
      expect(otherBody.verification).not.toHaveProperty("mismatched_fields");
      expect(await view(other.id)).toMatchObject({ mismatched_fields: null });

      const own = a.record(
        h,
        await a.create(h, { purpose: "reverify", account_ref: holder, expected: { phone: "010-9999-0000" } }),
        "adult",
      );
      const ownBody = completion.parse(await (await own.complete()).json());
      expect(ownBody.error?.code).toBe("identity_mismatch");
      expect(await view(own.id)).toMatchObject({ reason: "identity_mismatch", mismatched_fields: ["phone"] });
      const matching = a.record(
        h,
        await a.create(h, { purpose: "reverify", account_ref: holder, expected }),
        "adult",
      );
      expect((await matching.complete()).status).toBe(200);
    });

    it("reverify of an account withdrawn after creation: person_mismatch (the binding is read at completion)", async () => {
      const account = `${a.prefix}withdrawn-${kind}`;
      const signup = a.record(h, await a.create(h, { account_ref: account }), "kcp");
      expect((await signup.complete()).status).toBe(200);
      const v = a.record(h, await a.create(h, { purpose: "reverify", account_ref: account }), "kcp");
      const unbound = await h.api(`/api/accounts/${account}`, { method: "DELETE", headers: auth });
      expect(unbound.status).toBe(200);
      expect(completion.parse(await (await v.complete()).json()).error?.code).toBe("person_mismatch");
    });

    it("reverify of an account no person is bound to: 409 account_not_bound, nothing created", async () => {
      const res = await h.api("/api/verifications", {
        method: "POST",
        headers: auth,
        body: {
          purpose: "reverify",
          account_ref: `${a.prefix}nobody-${kind}`,
          ...(version === "v2" ? { api_version: "v2" } : {}),
        },
      });
      expect(res.status).toBe(409);
      expect(errorBody.parse(await res.json()).error.code).toBe("account_not_bound");
    });

    it.each([
      ["check with an account_ref", { purpose: "check", account_ref: "acct-1" }, "purpose"],
      ["reverify without an account_ref", { purpose: "reverify" }, "purpose"],
      ["signup without an account_ref", { purpose: "signup" }, "purpose"],
      [
        "reverify that does not require a person key",
        { purpose: "reverify", account_ref: "acct-1", policy: { require_person_key: false } },
        "policy.require_person_key",
      ],
    ])("refuses %s: 400 invalid_request naming the field", async (_, body, field) => {
      const res = await h.api("/api/verifications", {
        method: "POST",
        headers: auth,
        body: { ...body, ...(version === "v2" ? { api_version: "v2" } : {}) },
      });
      expect(res.status).toBe(400);
      const { error } = errorBody.parse(await res.json());
      expect(error.code).toBe("invalid_request");
      expect(error.details?.field).toBe(field);
    });

    it("refuses an unknown purpose: 400", async () => {
      const res = await h.api("/api/verifications", {
        method: "POST",
        headers: auth,
        body: { purpose: "recover", account_ref: holder },
      });
      expect(res.status).toBe(400);
      expect(errorBody.parse(await res.json()).error.code).toBe("invalid_request");
    });
  });
});

/** How many persons the harness's database holds, read straight from its `persons` table. */
async function countPersons(h: Harness): Promise<number> {
  const count = z.object({ n: z.coerce.number() });
  if (h.kind === "postgres") {
    const client = new pg.Client(PG_URL);
    await client.connect();
    try {
      const res = await client.query(`select count(*) as n from ${h.pgSchema}.persons`);
      return count.parse(res.rows[0]).n;
    } finally {
      await client.end();
    }
  }
  const db = new BetterSqlite3(h.sqliteFile ?? "", { readonly: true, fileMustExist: true });
  try {
    return count.parse(db.prepare("select count(*) as n from persons").get()).n;
  } finally {
    db.close();
  }
}
