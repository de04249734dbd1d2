/**
 * zod schemas for every PortOne V2 body the client reads. Unknown fields are dropped; a field that is
 * `null` and one that is absent both come out absent. Only what certgate consumes is required, so a
 * field PortOne adds or drops elsewhere never fails a lookup.
 */
import * as z from "zod";
import type { V2IdentityVerification } from "../../core/v2/upstream.js";
import { storedText } from "../stored-text.js";
import { withoutNulls } from "../without-nulls.js";

/**
 * `{ type, message? }`: every V2 error body.
 *
 * @example
 * import { v2ErrorSchema } from "certgate/portone";
 * const error = v2ErrorSchema.safeParse(await res.json());
 * if (error.success) console.warn(error.data.type); // e.g. "IDENTITY_VERIFICATION_NOT_FOUND"
 */
export const v2ErrorSchema = z.object({ type: z.string().min(1), message: z.string().nullish() });

/**
 * `POST /login/api-secret` and `POST /token/refresh` → both tokens.
 *
 * @example
 * import { v2TokenPairSchema } from "certgate/portone";
 * const { accessToken, refreshToken } = v2TokenPairSchema.parse(await res.json());
 */
export const v2TokenPairSchema = z.object({
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1),
});

export type V2TokenPair = z.output<typeof v2TokenPairSchema>;

const object = <T extends z.ZodRawShape>(shape: T) => z.preprocess(withoutNulls, z.object(shape));

const GENDERS = ["MALE", "FEMALE", "OTHER"] as const;

/** The provider is kept in clear and indexed as the scope of a DI. */
const pgProvider = storedText(100);

const channelSchema = object({
  pgProvider: pgProvider.optional(),
  pgMerchantId: z.string().optional(),
});

const verifiedCustomerSchema = object({
  name: z.string(),
  id: z.string().optional(),
  operator: z.string().optional(),
  phoneNumber: z.string().optional(),
  birthDate: z.string().optional(),
  // A gender PortOne adds later is an unknown gender, not a broken record.
  gender: z.union([z.enum(GENDERS), z.string().transform(() => undefined)]).optional(),
  isForeigner: z.boolean().optional(),
  ci: z.string().optional(),
  di: z.string().optional(),
});

const failureSchema = object({
  reason: z.string().optional(),
  pgCode: z.string().optional(),
  pgMessage: z.string().optional(),
});

const base = { id: z.string().min(1), channel: channelSchema.optional() };

const KNOWN_STATUSES: readonly string[] = ["READY", "VERIFIED", "FAILED"];

const knownSchema = z.discriminatedUnion("status", [
  z.object({ ...base, status: z.literal("READY") }),
  z.object({
    ...base,
    status: z.literal("VERIFIED"),
    verifiedCustomer: verifiedCustomerSchema,
    verifiedAt: z.string().min(1),
  }),
  z.object({ ...base, status: z.literal("FAILED"), failure: failureSchema.optional() }),
]);

// A known status with a broken body must fail, not slip into this arm.
const unrecognizedSchema = z
  .object({
    ...base,
    status: z
      .string()
      .min(1)
      .refine((status) => !KNOWN_STATUSES.includes(status)),
  })
  .transform(({ status, ...rest }) => ({ ...rest, status: "UNRECOGNIZED" as const, rawStatus: status }));

/**
 * `GET /identity-verifications/{id}` → the core's {@link V2IdentityVerification}. Any status other
 * than READY, VERIFIED or FAILED becomes the `UNRECOGNIZED` arm (never verified), with the upstream
 * string in `rawStatus`.
 *
 * @example
 * import { v2IdentityVerificationSchema } from "certgate/portone";
 * const record = v2IdentityVerificationSchema.parse(await res.json());
 */
export const v2IdentityVerificationSchema = z.preprocess(
  withoutNulls,
  z.union([knownSchema, unrecognizedSchema]),
) satisfies z.ZodType<V2IdentityVerification>;

/** `POST /identity-verifications/{id}/confirm` → the verified record. */
export const v2ConfirmResponseSchema = z.object({ identityVerification: v2IdentityVerificationSchema });

/** `POST /identity-verifications/{id}/send` and `/resend` → an empty object. */
export const v2EmptyResponseSchema = z.object({});
