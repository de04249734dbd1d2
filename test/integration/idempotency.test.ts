/**
 * `Idempotency-Key` on `POST /api/verifications` over real sockets, the way Stripe does it: the same
 * key with the same body answers the first creation again (same status, same body, header
 * `Idempotent-Replayed: true`) and creates nothing; another body answers 409 `idempotency_conflict`;
 * a key older than 24 hours is new again; a malformed key is 400 `invalid_idempotency_key`.
 */

import { request } from "node:http";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { auth, complete, DATABASES, type Harness, PG_URL, startHarness } from "./harness.js";

const errorBody = z.object({ error: z.object({ code: z.string() }) });
const createdBody = z.looseObject({
  id: z.string(),
  merchant_uid: z.string().nullable(),
  status: z.string(),
});

describe.each(DATABASES)("idempotent creation (%s)", (kind) => {
  let h: Harness;
  let n = 0;
  beforeAll(async () => {
    h = await startHarness(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  const newKey = () => `key-${kind}-${++n}-${Math.random().toString(36).slice(2)}`;

  /** `POST /api/verifications` with `body` (a string is sent as is) under Idempotency-Key `key`. */
  async function post(key: string | undefined, body: unknown, headers: Record<string, string> = {}) {
    const res = await h.api("/api/verifications", {
      method: "POST",
      headers: { ...auth, ...(key === undefined ? {} : { "idempotency-key": key }), ...headers },
      body,
    });
    return { status: res.status, replayed: res.headers.get("idempotent-replayed"), text: await res.text() };
  }

  const countVerifications = () => sqlCount(h);

  it("answers the same key with the same body with the first answer, creating nothing", async () => {
    const key = newKey();
    const body = { account_ref: `idem-${kind}-1`, policy: { min_age: 19, age_rule: "year" } };
    const before = await countVerifications();
    const first = await post(key, body);
    expect([first.status, first.replayed]).toEqual([201, null]);
    // Same body, keys in another order and other whitespace: the same request.
    const again = await post(
      key,
      JSON.stringify({ policy: { age_rule: "year", min_age: 19 }, account_ref: body.account_ref }),
      {
        "content-type": "application/json",
      },
    );
    expect([again.status, again.replayed]).toEqual([201, "true"]);
    expect(JSON.parse(again.text)).toEqual(JSON.parse(first.text));
    expect(await countVerifications()).toBe(before + 1);
  });

  it("replays the creation's own answer after the verification finished; GET tells the outcome", async () => {
    const key = newKey();
    const body = { account_ref: `idem-${kind}-done` };
    const first = await post(key, body);
    const created = createdBody.parse(JSON.parse(first.text));
    const { imp_uid } = h.emulator.createCertification({
      persona: "adult",
      merchant_uid: created.merchant_uid ?? "",
    });
    expect((await complete(h, imp_uid, created.merchant_uid ?? "")).status).toBe(200);
    const again = await post(key, body);
    expect([again.status, again.replayed, again.text]).toEqual([201, "true", first.text]);
    const now = await h.api(`/api/verifications/${created.id}`, { headers: auth });
    expect(z.object({ verification: z.object({ status: z.string() }) }).parse(await now.json())).toEqual({
      verification: { status: "verified" },
    });
  });

  it("answers the same key with another body 409 idempotency_conflict, creating nothing", async () => {
    const key = newKey();
    await post(key, { account_ref: `idem-${kind}-2` });
    const before = await countVerifications();
    const other = await post(key, { account_ref: `idem-${kind}-3` });
    expect(other.status).toBe(409);
    expect(errorBody.parse(JSON.parse(other.text)).error.code).toBe("idempotency_conflict");
    expect(other.replayed).toBeNull();
    expect(await countVerifications()).toBe(before);
  });

  it("treats a key older than 24 hours as new", async () => {
    const key = newKey();
    const body = { api_version: "v2" };
    const first = createdBody.parse(JSON.parse((await post(key, body)).text));
    h.emulator.clock.advance(24 * 3_600_000 - 1_000);
    const within = await post(key, body);
    expect([within.replayed, createdBody.parse(JSON.parse(within.text)).id]).toEqual(["true", first.id]);
    h.emulator.clock.advance(2_000);
    const after = await post(key, body);
    expect([after.status, after.replayed]).toEqual([201, null]);
    const renewed = createdBody.parse(JSON.parse(after.text));
    expect(renewed.id).not.toBe(first.id);
    // From now on the key names the new verification, and another body conflicts with that one.
    expect(createdBody.parse(JSON.parse((await post(key, body)).text)).id).toBe(renewed.id);
    expect((await post(key, { api_version: "v1" })).status).toBe(409);
  });

  it("keeps no key for a request that failed validation: the key is still new", async () => {
    const key = newKey();
    const bad = await post(key, { expires_in_seconds: 1 });
    expect(bad.status).toBe(400);
    const good = await post(key, {});
    expect([good.status, good.replayed]).toEqual([201, null]);
  });

  it("creates one verification for 20 parallel creations with one key", async () => {
    const key = newKey();
    const before = await countVerifications();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => post(key, { account_ref: `idem-${kind}-p` })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(201));
    expect(new Set(answers.map((a) => createdBody.parse(JSON.parse(a.text)).id)).size).toBe(1);
    expect(answers.filter((a) => a.replayed === "true")).toHaveLength(19);
    expect(await countVerifications()).toBe(before + 1);
  });

  it.each([
    ["empty", ""],
    ["longer than 255", "k".repeat(256)],
    ["not ASCII", "clé"],
  ])("refuses a key that is %s with 400 invalid_idempotency_key", async (_name, key) => {
    const before = await countVerifications();
    const res = await post(key, {});
    expect(res.status).toBe(400);
    expect(errorBody.parse(JSON.parse(res.text)).error.code).toBe("invalid_idempotency_key");
    expect(res.text).not.toContain(key || "never");
    expect(await countVerifications()).toBe(before);
  });

  it("refuses Idempotency-Key sent twice 400 invalid_idempotency_key, creating nothing", async () => {
    const before = await countVerifications();
    const key = newKey();
    // Node (and fetch) would join them into one key, "k1, k2", which neither sender meant.
    const answer = await rawCreate(["idempotency-key", `${key}-1`, "idempotency-key", `${key}-2`], {
      account_ref: `idem-${kind}-twice`,
    });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text)).toEqual({
      error: { code: "invalid_idempotency_key", message: "Idempotency-Key must be sent once" },
    });
    expect(answer.text).not.toContain(key);
    expect(await countVerifications()).toBe(before);
    // The same key once is new: the refusal kept nothing.
    expect((await post(`${key}-1`, {})).status).toBe(201);
  });

  it("reads an Idempotency-Key that comes after 2,000 other header lines", async () => {
    // Node keeps the first 2,000 lines by default and drops the rest without a word: the key was
    // lost, and a retried creation made a second verification.
    const padding = Array.from({ length: 2_100 }, (_, i) => [`x-p${i}`, "1"]).flat(); // over 2,000 with the key
    const key = newKey();
    const first = await rawCreate([...padding, "idempotency-key", key], {});
    const again = await rawCreate([...padding, "idempotency-key", key], {});
    expect([first.status, again.status, again.replayed]).toEqual([201, 201, "true"]);
    expect(again.text).toBe(first.text);
  });

  /** POST /api/verifications with raw header lines after Host, auth and content type (each sent as given). */
  function rawCreate(
    headers: string[],
    body: unknown,
  ): Promise<{ status: number; text: string; replayed: string | undefined }> {
    return new Promise((resolve, reject) => {
      const req = request(`${h.url}/api/verifications`, {
        method: "POST",
        // Raw headers, so that every line goes out as given; a raw list gets no Host of Node's.
        headers: [
          "host",
          new URL(h.url).host,
          "authorization",
          auth.authorization,
          "content-type",
          "application/json",
          ...headers,
        ],
      });
      req.on("response", (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => {
          text += String(chunk);
        });
        const replayed = res.headers["idempotent-replayed"];
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            text,
            replayed: Array.isArray(replayed) ? replayed[0] : replayed,
          }),
        );
      });
      req.on("error", reject);
      req.end(JSON.stringify(body));
    });
  }

  it("accepts a key of 255 printable ASCII characters", async () => {
    const key = `${" ~!".repeat(85)}`.replace(/^ /, "x");
    expect(key).toHaveLength(255);
    const first = await post(key, {});
    const again = await post(key, {});
    expect([first.status, again.status, again.replayed]).toEqual([201, 201, "true"]);
  });
});

/** Verifications in the harness's database, counted in SQL. */
async function sqlCount(h: Harness): Promise<number> {
  if (h.sqliteFile !== undefined) {
    const db = new BetterSqlite3(h.sqliteFile, { readonly: true });
    try {
      return z.object({ n: z.number() }).parse(db.prepare("select count(*) as n from verifications").get()).n;
    } finally {
      db.close();
    }
  }
  const client = new pg.Client(PG_URL);
  await client.connect();
  try {
    const { rows } = await client.query(`select count(*)::int as n from ${h.pgSchema}.verifications`);
    return z.object({ n: z.number() }).parse(rows[0]).n;
  } finally {
    await client.end();
  }
}
