import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  createEmulator,
  deriveCi,
  PERSONA_IDS,
  PERSONAS,
  type PersonaId,
  type StoredCertification,
} from "../../src/emulator/index.js";
import { START_TIME } from "./harness.js";

/** The Asia/Seoul calendar date at unix-ms `ms`. */
function kstToday(ms: number) {
  const d = new Date(ms + 9 * 3600 * 1000);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

function ages(birthday: string, nowMs: number) {
  const [year, month, day] = birthday.split("-").map(Number);
  const today = kstToday(nowMs);
  const yearAge = today.year - (year ?? Number.NaN);
  const hadBirthday = today.month > (month ?? 0) || (today.month === month && today.day >= (day ?? 0));
  return { yearAge, internationalAge: hadBirthday ? yearAge : yearAge - 1 };
}

function makeRecord(persona: PersonaId, nowMs = START_TIME): StoredCertification {
  return createEmulator({ startTime: nowMs }).createCertification({ persona });
}

describe("built-in personas", () => {
  it.each(PERSONA_IDS)("%s has an obviously synthetic name and phone", (id) => {
    const persona = PERSONAS[id];
    expect(persona.name).toContain("테스트");
    expect(persona.phone).toMatch(/^01000000\d{3}$/);
    expect(persona.id).toBe(id);
  });

  it.each(PERSONA_IDS)("%s keeps its CI across emulators and clocks", (id) => {
    const a = makeRecord(id, START_TIME);
    const b = makeRecord(id, START_TIME + 400 * 86_400_000);
    expect(b.unique_key).toBe(a.unique_key);
  });

  it("pins the adult's CI, so a change of derivation is never silent", () => {
    expect(makeRecord("adult").unique_key).toBe(deriveCi("certgate-persona:adult"));
    // Pinned by its SHA-256, so no real-looking CI is committed.
    const ci = deriveCi("certgate-persona:adult");
    expect(ci).toMatch(/^[A-Za-z0-9+/]{86}==$/);
    expect(createHash("sha256").update(ci).digest("hex")).toBe(
      "e9f93beba2bff3da16a8864f87038a5e5ba309a831aab3f237c7b078c1a33b45",
    );
  });

  it("adult: born in 1990, every field present", () => {
    const record = makeRecord("adult");
    expect(record.birthday).toMatch(/^1990-/);
    for (const [field, value] of Object.entries(record)) expect(value, field).not.toBeNull();
  });

  describe("adult_year_only: 19 by year age, 18 by international age", () => {
    it.each([
      ["a summer day", Date.UTC(2025, 5, 1)],
      ["1 January 00:30 KST (still 31 December in UTC)", Date.UTC(2024, 11, 31, 15, 30)],
      ["31 December 23:59 KST is not yet reached: 30 December", Date.UTC(2025, 11, 30, 14, 59)],
      ["28 February of a leap year (tomorrow is 29 February)", Date.UTC(2024, 1, 28, 3)],
      ["29 February of a leap year", Date.UTC(2024, 1, 29, 3)],
      ["28 February of a common year", Date.UTC(2025, 1, 28, 3)],
    ])("on %s", (_, nowMs) => {
      const record = makeRecord("adult_year_only", nowMs);
      expect(ages(String(record.birthday), nowMs)).toEqual({ yearAge: 19, internationalAge: 18 });
    });

    it("has its birthday tomorrow (KST)", () => {
      expect(makeRecord("adult_year_only", Date.UTC(2025, 5, 1, 3)).birthday).toBe("2006-06-02");
    });

    it("cannot exist on 31 December (no later day in the year): the birthday is that day, age 19", () => {
      const nowMs = Date.UTC(2025, 11, 31, 3);
      const record = makeRecord("adult_year_only", nowMs);
      expect(record.birthday).toBe("2006-12-31");
      expect(ages(String(record.birthday), nowMs)).toEqual({ yearAge: 19, internationalAge: 19 });
    });
  });

  it.each([Date.UTC(2025, 0, 1) - 9 * 3600 * 1000, START_TIME, Date.UTC(2025, 11, 31, 14, 59)])(
    "minor: 15 by international age all year (clock %i)",
    (nowMs) => {
      expect(ages(String(makeRecord("minor", nowMs).birthday), nowMs).internationalAge).toBe(15);
    },
  );

  it("leap_day: born on 29 February 2004, with the legacy birth at 00:00 KST", () => {
    const record = makeRecord("leap_day");
    expect(record).toMatchObject({ birthday: "2004-02-29", birth: Date.UTC(2004, 1, 29) / 1000 - 9 * 3600 });
  });

  it("foreigner: foreigner and foreigner_v2 are true", () => {
    expect(makeRecord("foreigner")).toMatchObject({ foreigner: true, foreigner_v2: true });
  });

  it("no_di: KG Inicis, a CI but no DI", () => {
    const record = makeRecord("no_di");
    expect(record).toMatchObject({ pg_provider: "inicis_unified", unique_in_site: null });
    expect(record.unique_key).toHaveLength(88);
  });

  it("no_ci: a DI but no CI", () => {
    const record = makeRecord("no_ci");
    expect(record.unique_key).toBeNull();
    expect(record.unique_in_site).toHaveLength(64);
  });

  it("uncertified: certified false and no certified_at, though CI and DI are present", () => {
    const record = makeRecord("uncertified");
    expect(record).toMatchObject({ certified: false, certified_at: null });
    expect(record.unique_key).toHaveLength(88);
  });

  it("no_gender: gender null", () => {
    expect(makeRecord("no_gender").gender).toBeNull();
  });

  it.each(PERSONA_IDS.filter((id) => !["no_di", "no_ci", "uncertified", "inicis", "kcp"].includes(id)))(
    "%s is a certified danal record with CI and DI",
    (id) => {
      expect(makeRecord(id)).toMatchObject({
        certified: true,
        pg_provider: "danal",
        unique_key: expect.stringMatching(/^.{88}$/),
        unique_in_site: expect.stringMatching(/^.{64}$/),
      });
    },
  );
});

describe("provider personas", () => {
  it.each([
    ["inicis", { pg_provider: "inicis", unique_in_site: null }],
    ["kcp", { pg_provider: "kcp_v2", unique_in_site: expect.stringMatching(/^.{64}$/) }],
    ["no_di", { pg_provider: "inicis_unified", unique_in_site: null }],
  ] as const)("%s is a certified record of its provider", (id, expected) => {
    expect(makeRecord(id)).toMatchObject({
      certified: true,
      unique_key: expect.stringMatching(/^.{88}$/),
      ...expected,
    });
  });

  it("gender_other has no V1 gender (V1 knows only male and female)", () => {
    expect(makeRecord("gender_other").gender).toBeNull();
  });
});

describe("createCertification", () => {
  const emulator = () => createEmulator({ startTime: START_TIME });

  it("creates the adult persona by default, certified at the clock's now", () => {
    expect(emulator().createCertification()).toMatchObject({
      name: PERSONAS.adult.name,
      certified_at: START_TIME / 1000,
    });
  });

  it("builds a person: the same name, birthday and gender give the same CI", () => {
    const e = emulator();
    const person = { name: "홍테스트", birthday: "2000-12-31", gender: "female" as const };
    const a = e.createCertification({ person });
    const b = e.createCertification({ person: { ...person, phone: "01000000099" } });
    expect(a).toMatchObject({ name: "홍테스트", birthday: "2000-12-31", gender: "female", certified: true });
    expect(b.unique_key).toBe(a.unique_key);
    expect(e.createCertification({ person: { ...person, name: "백테스트" } }).unique_key).not.toBe(
      a.unique_key,
    );
  });

  it("applies fields last; null clears a value and birth follows an overridden birthday", () => {
    const record = emulator().createCertification({
      persona: "adult",
      certified_at: 1_700_000_000,
      fields: { gender: null, unique_in_site: null, birthday: "2010-03-01", origin: "data:text/html,x" },
    });
    expect(record).toMatchObject({
      gender: null,
      unique_in_site: null,
      birthday: "2010-03-01",
      birth: Date.UTC(2010, 2, 1) / 1000 - 9 * 3600,
      certified_at: 1_700_000_000,
      origin: "data:text/html,x",
    });
  });

  it("returns a copy: changing it does not change the stored record", async () => {
    const e = createEmulator({ startTime: START_TIME, admin: true });
    const record = e.createCertification();
    record.certified = false;
    const listed = await (await e.app.request("/__admin/certifications")).json();
    expect(listed).toMatchObject({
      certifications: [{ certification: { imp_uid: record.imp_uid, certified: true } }],
    });
  });

  it("takes an explicit imp_uid from fields", () => {
    expect(emulator().createCertification({ fields: { imp_uid: "imp_123412341234" } }).imp_uid).toBe(
      "imp_123412341234",
    );
  });

  it.each<[string, unknown]>([
    ["an unknown persona", { persona: "celebrity" }],
    ["both persona and person", { persona: "adult", person: { name: "a", birthday: "2000-01-01" } }],
    ["an unknown merchant", { merchantCode: "imp99999999" }],
    ["an impossible birthday", { person: { name: "a", birthday: "2003-02-29" } }],
    ["an unknown field", { fields: { favourite_colour: "blue" } }],
    ["a wrongly typed field", { fields: { certified: "yes" } }],
  ])("throws RequestError(invalid_request) for %s", (_, input) => {
    // @ts-expect-error deliberately invalid input
    expect(() => emulator().createCertification(input)).toThrow(
      expect.objectContaining({ code: "invalid_request" }),
    );
  });

  it("refuses to reuse an imp_uid", () => {
    const e = emulator();
    e.createCertification({ fields: { imp_uid: "imp_111122223333" } });
    expect(() => e.createCertification({ fields: { imp_uid: "imp_111122223333" } })).toThrow(/already taken/);
  });
});
