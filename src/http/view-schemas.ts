/**
 * The answers of the HTTP contract as zod schemas: what views.ts returns (its functions are typed
 * with these schemas' types, so a view that drifts from its schema does not compile) and what
 * /openapi.json documents (openapi.ts converts them), plus the webhook events' payloads. Each one
 * with an `id` in {@link answerSchemas} becomes a named component (`#/components/schemas/<id>`).
 */
import * as z from "zod";
import { FAILED_ATTEMPT_REASONS } from "../core/attempts.js";
import { EXPECTED_FIELDS } from "../core/expected.js";
import { PURPOSES, REJECTION_REASONS, VERIFICATION_STATUSES } from "../core/reasons.js";
import {
  ACCOUNT_UNBOUND,
  IDENTITY_PURGED,
  VERIFICATION_COMPLETED,
  VERIFICATION_EXPIRED,
} from "../core/webhook-event.js";

/** The named answer schemas; openapi.ts turns each into `#/components/schemas/<id>`. */
export const answerSchemas = z.registry<{ id: string; description: string }>();

const timestamp = z.iso.datetime().describe("ISO 8601, UTC");
const apiVersion = z.enum(["v1", "v2"]).describe("the PortOne API the verification runs on");
const status = z
  .enum(VERIFICATION_STATUSES)
  .describe("pending → verified | rejected (with a reason) | expired (reason `expired`)");
const reason = z.enum(REJECTION_REASONS).describe("why the verification was rejected or expired");
const purpose = z
  .enum(PURPOSES)
  .describe("signup binds the person to account_ref, reverify requires its own person, check binds nothing");
const mismatchedFields = z
  .array(z.enum(EXPECTED_FIELDS))
  .describe("with reason identity_mismatch: which expected fields differed, never a value");

export const identitySchema = z
  .object({
    name: z.string().nullable(),
    birth_date: z.iso.date().nullable().describe("YYYY-MM-DD"),
    gender: z.enum(["male", "female", "other"]).nullable(),
    foreigner: z.boolean().nullable(),
    phone: z.string().nullable().describe("digits as the provider sent them"),
    carrier: z.enum(["SKT", "KT", "LGU", "SKT_MVNO", "KT_MVNO", "LGU_MVNO"]).nullable(),
    provider: z.string().describe('the identity provider, e.g. "danal"'),
    verified_at: timestamp.nullable(),
  })
  .register(answerSchemas, {
    id: "Identity",
    description: "What the provider verified about the person. CI and DI are never answered.",
  });

export const merchantVerificationSchema = z
  .object({
    id: z.string().describe("ver_…"),
    api_version: apiVersion,
    merchant_uid: z.string().nullable().describe("V1: the merchant_uid certgate issued; V2: null"),
    identity_verification_id: z
      .string()
      .nullable()
      .describe("V2: the identityVerificationId certgate issued; V1: null"),
    status,
    reason: reason.nullable(),
    purpose,
    mismatched_fields: mismatchedFields.nullable(),
    account_ref: z.string().nullable(),
    existing_account_ref: z
      .string()
      .nullable()
      .describe(
        "the account the person who verified is already bound to: on duplicate_account, and on a verified check",
      ),
    created_at: timestamp,
    expires_at: timestamp,
    completed_at: timestamp.nullable(),
    failed_attempts: z.int().min(0).describe("failed attempts counted, the rejecting one included"),
    max_attempts: z.int().describe("failed attempts allowed while pending"),
    identity: identitySchema.nullable().describe("while retained; null once purged or never verified"),
    identity_purged_at: timestamp.nullable(),
  })
  .register(answerSchemas, {
    id: "Verification",
    description:
      "The merchant backend's view of a verification: the outcome and, while retained, the identity.",
  });

export const verificationAnswerSchema = z
  .object({ verification: merchantVerificationSchema })
  .register(answerSchemas, {
    id: "VerificationAnswer",
    description: "A verification, as the merchant sees it.",
  });

const createdCommon = {
  id: z.string().describe("ver_…"),
  purpose,
  status: z.literal("pending").describe("the creation's: a replay repeats it, whatever the status is now"),
  expires_at: timestamp,
};

export const createdV1Schema = z
  .object({
    ...createdCommon,
    api_version: z.literal("v1"),
    merchant_uid: z.string(),
    identity_verification_id: z.null(),
    sdk: z.object({
      imp_code: z.string().describe("IMP.init(imp_code)"),
      certification: z
        .object({
          merchant_uid: z.string(),
          channelKey: z.string().optional(),
          m_redirect_url: z.string().optional(),
          min_age: z.int().optional().describe("a UX hint to PortOne only; certgate enforces the policy"),
        })
        .describe("IMP.certification(certification, callback)"),
    }),
  })
  .register(answerSchemas, {
    id: "CreatedV1",
    description: "A V1 verification created: run IMP.certification.",
  });

export const createdV2Schema = z
  .object({
    ...createdCommon,
    api_version: z.literal("v2"),
    merchant_uid: z.null(),
    identity_verification_id: z.string(),
    sdk: z.object({
      identity_verification: z
        .object({
          storeId: z.string().optional(),
          identityVerificationId: z.string(),
          channelKey: z.string().optional(),
          redirectUrl: z.string().optional(),
          windowType: z.object({ pc: z.literal("POPUP"), mobile: z.literal("REDIRECTION") }),
        })
        .describe("PortOne.requestIdentityVerification(identity_verification)"),
    }),
  })
  .register(answerSchemas, {
    id: "CreatedV2",
    description: "A V2 verification created: run PortOne.requestIdentityVerification.",
  });

export const createdSchema = z
  .discriminatedUnion("api_version", [createdV1Schema, createdV2Schema])
  .register(answerSchemas, {
    id: "Created",
    description: "A verification created: its ids and the browser SDK's parameters for its API version.",
  });

export const unboundSchema = z
  .object({ account_ref: z.string(), unbound: z.literal(true) })
  .register(answerSchemas, { id: "Unbound", description: "The account is unbound from its person." });

export const browserVerificationSchema = z
  .object({
    id: z.string(),
    status,
    purpose,
    attempts_remaining: z
      .int()
      .min(0)
      .optional()
      .describe("while pending: failed attempts still allowed before the next one rejects"),
    reason: reason.optional(),
    mismatched_fields: mismatchedFields.optional(),
    existing_account_ref: z
      .string()
      .optional()
      .describe(
        "the account the person who just verified already holds (duplicate_account, or a verified check): theirs, shown to them",
      ),
    name_masked: z.string().optional().describe("the name with all but its first character masked"),
  })
  .register(answerSchemas, {
    id: "BrowserVerification",
    description: "The browser's view: status and decision, the name masked, nothing else personal.",
  });

export const completionAnswerSchema = z
  .object({ verification: browserVerificationSchema })
  .register(answerSchemas, {
    id: "Completion",
    description: "A completion's answer: verified, or still pending.",
  });

export const completionErrorSchema = z
  .object({
    error: z.object({
      code: z
        .enum([...new Set([...REJECTION_REASONS, ...FAILED_ATTEMPT_REASONS])])
        .describe("the rejection reason, `already_used` on a replay, or the failed attempt's reason"),
      message: z.string(),
    }),
    verification: browserVerificationSchema,
  })
  .register(answerSchemas, {
    id: "CompletionError",
    description: "A completion that did not verify: the reason as error.code, and the verification.",
  });

/**
 * The error envelope of every other answer that is not a success, its `code` one of `codes`.
 * Inline in each response (not a component), so each status lists its own codes.
 */
export function errorSchema(codes: readonly [string, ...string[]]) {
  return z.object({
    error: z.object({
      code: z.enum(codes).describe("stable snake_case code"),
      message: z.string().describe("for humans"),
      details: z
        .record(z.string(), z.unknown())
        .optional()
        .describe(
          "machine-readable detail, e.g. `field` for unknown_field, `parameter` for repeated_parameter",
        ),
    }),
  });
}

export const statusSchema = (value: string) => z.object({ status: z.literal(value) });

/** The `verification.completed` webhook event (core/webhook-event.ts): ids and decisions, never personal data. */
const outcomeData = {
  verification_id: z.string(),
  api_version: apiVersion,
  purpose,
  mismatched_fields: mismatchedFields.nullable(),
  account_ref: z.string().nullable(),
  existing_account_ref: z.string().nullable(),
};
const eventEnvelope = {
  id: z.string().describe("evt_…; the same as the webhook-id header: deduplicate on it"),
  timestamp: timestamp.describe("when the change happened"),
};

export const verificationCompletedEventSchema = z
  .object({
    ...eventEnvelope,
    type: z.literal(VERIFICATION_COMPLETED),
    data: z.object({
      ...outcomeData,
      status: z.enum(["verified", "rejected"]),
      reason: reason.nullable(),
    }),
  })
  .register(answerSchemas, {
    id: "VerificationCompletedEvent",
    description:
      "A verification finished as verified or rejected (browser, recovery, refresh or too_many_attempts). Read the identity with GET /api/verifications/{id} while it is retained.",
  });

export const verificationExpiredEventSchema = z
  .object({
    ...eventEnvelope,
    type: z.literal(VERIFICATION_EXPIRED),
    data: z.object({ ...outcomeData, status: z.literal("expired"), reason: z.literal("expired") }),
  })
  .register(answerSchemas, {
    id: "VerificationExpiredEvent",
    description: "A pending verification reached its expiry (the sweeper, or a late completion).",
  });

export const accountUnboundEventSchema = z
  .object({
    ...eventEnvelope,
    type: z.literal(ACCOUNT_UNBOUND),
    data: z.object({
      account_ref: z.string(),
      verification_id: z.string().describe("the verification that had bound the account"),
    }),
  })
  .register(answerSchemas, {
    id: "AccountUnboundEvent",
    description: "DELETE /api/accounts/{account_ref} freed the account's person.",
  });

export const identityPurgedEventSchema = z
  .object({
    ...eventEnvelope,
    type: z.literal(IDENTITY_PURGED),
    data: z.object({ verification_id: z.string(), purged_at: timestamp }),
  })
  .register(answerSchemas, {
    id: "IdentityPurgedEvent",
    description:
      "Retention destroyed a verification's name, phone and birth date: destroy any copy of them too.",
  });

export type MerchantVerification = z.output<typeof merchantVerificationSchema>;
export type BrowserVerification = z.output<typeof browserVerificationSchema>;
export type CreatedVerification = z.output<typeof createdSchema>;
export type VerificationCompletedEvent = z.output<typeof verificationCompletedEventSchema>;
export type VerificationExpiredEvent = z.output<typeof verificationExpiredEventSchema>;
