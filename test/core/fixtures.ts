import type { V1Certification } from "../../src/core/v1/upstream.js";
import type { V2IdentityVerification, V2VerifiedCustomer } from "../../src/core/v2/upstream.js";

/** The pinned clock of the core tests: 2026-03-01 12:00 KST. */
export const NOW = new Date("2026-03-01T03:00:00Z");

/** Obviously synthetic person keys of the right lengths (CI 88, DI 64). */
export const TEST_CI = `TEST-CI-${"0".repeat(80)}`;
export const TEST_DI = `TEST-DI-${"0".repeat(56)}`;

export const MERCHANT_UID = "mid_test_0000000001";

/** Unix seconds of an instant. */
export function unixSeconds(instant: Date): number {
  return Math.floor(instant.getTime() / 1000);
}

/** A certified, fresh, fully populated V1 record (verified a minute before {@link NOW}); override any field. */
export function makeCertification(overrides: Partial<V1Certification> = {}): V1Certification {
  return {
    imp_uid: "imp_000000000001",
    merchant_uid: MERCHANT_UID,
    pg_tid: "pg_tid_test_0001",
    pg_provider: "danal",
    name: "김테스트",
    gender: "female",
    birthday: "1990-01-01",
    foreigner: false,
    foreigner_v2: false,
    phone: "01000000001",
    carrier: "SKT",
    certified: true,
    certified_at: unixSeconds(NOW) - 60,
    unique_key: TEST_CI,
    unique_in_site: TEST_DI,
    origin: "https://merchant.example/signup",
    ...overrides,
  };
}

/** A VERIFIED V2 record with a fully populated customer; override the customer's fields. */
export function makeVerifiedV2(
  customer: Partial<V2VerifiedCustomer> = {},
  verifiedAt = "2026-03-01T11:59:00+09:00",
): V2IdentityVerification {
  return {
    id: "iv_test_0000000001",
    status: "VERIFIED",
    channel: { pgProvider: "DANAL", pgMerchantId: "test_merchant" },
    verifiedAt,
    verifiedCustomer: {
      name: "김테스트",
      operator: "LGU_MVNO",
      phoneNumber: "01000000001",
      birthDate: "1990-01-01",
      gender: "FEMALE",
      isForeigner: false,
      ci: TEST_CI,
      di: TEST_DI,
      ...customer,
    },
  };
}

/** Shorthand for calendar dates in tables: "2026-01-01" → { year, month, day }. */
export function ymd(text: string): { year: number; month: number; day: number } {
  const [year, month, day] = text.split("-").map(Number);
  if (year === undefined || month === undefined || day === undefined)
    throw new Error(`bad test date ${text}`);
  return { year, month, day };
}
