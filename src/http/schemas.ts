/**
 * Request schemas of the HTTP contract: every body and query is parsed through one of these.
 *
 * Merchant-API schemas are strict: an unknown field is a 400 `unknown_field`, never dropped (a
 * misspelt `minAge` would switch the age check off). Browser-route schemas are not: those routes
 * carry no authority (certgate fetches the truth from PortOne), and PortOne adds parameters without
 * notice, so unknown ones are stripped unread.
 */
import * as z from "zod";
import { ACCOUNT_REF_PATTERN } from "../core/account-ref.js";
import { AGE_RULES } from "../core/age.js";
import { MAX_MAX_ATTEMPTS, MIN_MAX_ATTEMPTS } from "../core/attempts.js";
import { type ExpectedField, MAX_EXPECTED_NAME_LENGTH } from "../core/expected.js";
import { LOOKUP_ID_MAX, WITHOUT_CONTROL_CHARACTERS } from "../core/lookup-ids.js";
import {
  MAX_FRESHNESS_SECONDS,
  MAX_FUTURE_TOLERANCE_SECONDS,
  MAX_POLICY_AGE,
  type PolicyField,
} from "../core/policy.js";
import { PURPOSES } from "../core/reasons.js";
import { MAX_TTL_SECONDS, MIN_TTL_SECONDS } from "../core/verification.js";

const age = z.number().int().min(0).max(MAX_POLICY_AGE);
/** Printable ASCII without spaces: a merchant's own user id, echoed back in outcomes. */
const accountRef = z.string().min(1).max(128).regex(ACCOUNT_REF_PATTERN, "printable ASCII without spaces");

export const policyInput = z.strictObject({
  min_age: age.optional(),
  max_age: age.optional(),
  /** Default "international" (만 나이, the legal default since 2023); adult content uses "year". */
  age_rule: z.enum(AGE_RULES).optional(),
  freshness_seconds: z.number().int().min(0).max(MAX_FRESHNESS_SECONDS).optional(),
  future_tolerance_seconds: z.number().int().min(0).max(MAX_FUTURE_TOLERANCE_SECONDS).optional(),
  judge_age_at: z.enum(["verification", "now"]).optional(),
  require_person_key: z.boolean().optional(),
});

/**
 * What the merchant expects of the verified person (core/expected.ts); at least one field. Each is
 * checked for its canonical form by the core (requests.ts), and stored only as a keyed hash.
 */
export const expectedInput = z.strictObject({
  name: z.string().min(1).max(MAX_EXPECTED_NAME_LENGTH).optional(),
  /** "YYYY-MM-DD". */
  birth_date: z.string().max(10).optional(),
  /** Digits with optional spaces and "-", optionally "+82" first. */
  phone: z.string().max(32).optional(),
});

/** How the HTTP contract spells each expected field. */
export const EXPECTED_FIELD_NAMES: Readonly<Record<ExpectedField, string>> = {
  name: "expected.name",
  birth_date: "expected.birth_date",
  phone: "expected.phone",
};

export const createVerificationBody = z.strictObject({
  /** Which PortOne API the browser runs: "v1" (IMP.certification) or "v2" (PortOne.requestIdentityVerification). */
  api_version: z.enum(["v1", "v2"]).optional(),
  /** Default "signup" with an account_ref, "check" without (core/purpose.ts). */
  purpose: z.enum(PURPOSES).optional(),
  account_ref: accountRef.optional(),
  expected: expectedInput.optional(),
  return_url: z.string().max(2048).optional(),
  expires_in_seconds: z.number().int().min(MIN_TTL_SECONDS).max(MAX_TTL_SECONDS).optional(),
  /**
   * Failed attempts (an upstream 404, a record bound to another verification) allowed while the
   * verification stays pending; the next one rejects it as `too_many_attempts`. Default 5.
   */
  max_attempts: z.number().int().min(MIN_MAX_ATTEMPTS).max(MAX_MAX_ATTEMPTS).optional(),
  policy: policyInput.optional(),
});
export type CreateVerificationBody = z.infer<typeof createVerificationBody>;

/** How the HTTP contract spells each policy field, so policy problems name what the caller sent. */
export const POLICY_FIELD_NAMES: Readonly<Record<PolicyField, string>> = {
  "minAge.age": "policy.min_age",
  "minAge.rule": "policy.age_rule",
  "maxAge.age": "policy.max_age",
  "maxAge.rule": "policy.age_rule",
  freshnessSeconds: "policy.freshness_seconds",
  futureToleranceSeconds: "policy.future_tolerance_seconds",
  judgeAgeAt: "policy.judge_age_at",
  requirePersonKey: "policy.require_person_key",
};

/** The query of every merchant route: none takes a parameter, so any one is an unknown field. */
export const noQuery = z.strictObject({});
/** A body that must say nothing (`POST /api/verifications/:id/refresh`): `{}` at most. */
export const noBody = z.strictObject({});

/** An id the service looks up, by core/lookup-ids.ts's rules (the library checks the same). */
const lookupId = (max: number) =>
  z.string().min(1).max(max).regex(WITHOUT_CONTROL_CHARACTERS, "no control characters");

const impUid = lookupId(LOOKUP_ID_MAX.impUid);
const merchantUid = lookupId(LOOKUP_ID_MAX.merchantUid);

/** The guide's popup route body: `{ imp_uid, merchant_uid }`. */
export const completeV1Body = z.object({ imp_uid: impUid, merchant_uid: merchantUid });
/** The guide's redirect route query (PortOne adds `success`, which means nothing: rule 1 of DOMAIN.md). */
export const completeV1Query = z.object({ imp_uid: impUid, merchant_uid: merchantUid });

/** certgate issues V2 ids itself ("idv_…"); the bound is PortOne's own limit on merchant-chosen ids. */
const identityVerificationId = lookupId(LOOKUP_ID_MAX.identityVerificationId);

/** The V2 counterpart of the popup route: `{ identityVerificationId }` (PortOne's own field name). */
export const completeV2Body = z.object({ identityVerificationId });
/**
 * The V2 redirect query. PortOne's REDIRECTION window adds `code` and `message` on failure; like V1's
 * `success` they mean nothing to certgate, which fetches the record itself (rule 1 of DOMAIN.md).
 */
export const completeV2Query = z.object({ identityVerificationId });

export const verificationIdParam = lookupId(LOOKUP_ID_MAX.verificationId);
export const accountRefParam = accountRef;
