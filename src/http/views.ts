/**
 * What each audience sees of a verification. The browser never receives CI, DI, phone or birthday.
 * Each view is typed with its answer schema (view-schemas.ts), the one /openapi.json documents.
 */
import { attemptsRemaining } from "../core/attempts.js";
import { maskName } from "../core/identity.js";
import type { VerificationRecord } from "../core/verification.js";
import type { BrowserVerification, CreatedVerification, MerchantVerification } from "./view-schemas.js";

/** The merchant backend's view (behind an API key): the outcome and, while retained, the identity. */
export function merchantView(v: VerificationRecord): MerchantVerification {
  return {
    id: v.id,
    api_version: v.apiVersion,
    merchant_uid: v.apiVersion === "v1" ? v.boundId : null,
    identity_verification_id: v.apiVersion === "v2" ? v.boundId : null,
    status: v.status,
    reason: v.reason ?? null,
    purpose: v.purpose,
    /** With reason `identity_mismatch`: which expected fields differed, never a value. */
    mismatched_fields: v.mismatchedFields ?? null,
    account_ref: v.accountRef ?? null,
    existing_account_ref: v.existingAccountRef ?? null,
    created_at: v.createdAt.toISOString(),
    expires_at: v.expiresAt.toISOString(),
    completed_at: v.completedAt?.toISOString() ?? null,
    /** Failed attempts counted (the rejecting one included) and allowed while pending. */
    failed_attempts: v.failedAttempts,
    max_attempts: v.maxAttempts,
    identity: v.identity
      ? {
          name: v.identity.name ?? null,
          birth_date: v.identity.birthDate ?? null,
          gender: v.identity.gender ?? null,
          foreigner: v.identity.foreigner ?? null,
          phone: v.identity.phone ?? null,
          carrier: v.identity.carrier ?? null,
          provider: v.identity.provider,
          verified_at: v.identity.verifiedAt?.toISOString() ?? null,
        }
      : null,
    identity_purged_at: v.purgedAt?.toISOString() ?? null,
  };
}

/**
 * The browser's view: status and decision, the name masked, nothing else personal. While pending it
 * says how many failed attempts are left, and nothing about a record presented that was not this
 * verification's.
 */
export function browserView(v: VerificationRecord): BrowserVerification {
  return {
    id: v.id,
    status: v.status,
    purpose: v.purpose,
    ...(v.status === "pending" ? { attempts_remaining: attemptsRemaining(v) } : {}),
    ...(v.reason ? { reason: v.reason } : {}),
    ...(v.mismatchedFields ? { mismatched_fields: v.mismatchedFields } : {}),
    ...(v.existingAccountRef ? { existing_account_ref: v.existingAccountRef } : {}),
    ...(v.identity?.name ? { name_masked: maskName(v.identity.name) } : {}),
  };
}

/** The browser SDK's parameters returned on creation: V1 at the top level, V2 under `v2`. */
export interface SdkParameters {
  impCode: string;
  channelKey?: string | undefined;
  redirectUrl?: string | undefined;
  /** `PortOne.requestIdentityVerification` parameters; present when V2 is configured. */
  v2?: V2SdkOptions | undefined;
}

/** What the browser needs for `PortOne.requestIdentityVerification` besides the id. */
export interface V2SdkOptions {
  storeId: string;
  /** Required by PortOne's V2 SDK; omitted here when not configured. */
  channelKey?: string | undefined;
  /** Where the REDIRECTION window type lands: certgate's `GET /identity-verifications/redirect`. */
  redirectUrl?: string | undefined;
}

/**
 * The 201 answer: the ids issued and the browser SDK's parameters for the verification's API version.
 * Its status is the creation's, `pending`, also when an Idempotency-Key replays it after the
 * verification finished: a replay repeats the first answer; `GET /api/verifications/:id` tells now.
 */
export function createdView(v: VerificationRecord, sdk: SdkParameters): CreatedVerification {
  const common = {
    id: v.id,
    purpose: v.purpose,
    status: "pending" as const,
    expires_at: v.expiresAt.toISOString(),
  };
  if (v.apiVersion === "v2") {
    return {
      ...common,
      api_version: "v2",
      merchant_uid: null,
      identity_verification_id: v.boundId,
      sdk: {
        identity_verification: {
          ...(sdk.v2 ? { storeId: sdk.v2.storeId } : {}),
          identityVerificationId: v.boundId,
          ...(sdk.v2?.channelKey ? { channelKey: sdk.v2.channelKey } : {}),
          ...(sdk.v2?.redirectUrl ? { redirectUrl: sdk.v2.redirectUrl } : {}),
          // PortOne's V2 SDK: a popup on PC; on mobile a redirect to redirectUrl.
          windowType: { pc: "POPUP", mobile: "REDIRECTION" },
        },
      },
    };
  }
  const minAge = v.policy.minAge;
  return {
    ...common,
    api_version: "v1",
    merchant_uid: v.boundId,
    identity_verification_id: null,
    sdk: {
      imp_code: sdk.impCode,
      certification: {
        merchant_uid: v.boundId,
        ...(sdk.channelKey ? { channelKey: sdk.channelKey } : {}),
        ...(sdk.redirectUrl ? { m_redirect_url: sdk.redirectUrl } : {}),
        // PortOne's min_age is international age and a UX hint only; certgate enforces the policy.
        ...(minAge?.rule === "international" ? { min_age: minAge.age } : {}),
      },
    },
  };
}
