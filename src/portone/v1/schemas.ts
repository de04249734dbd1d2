/**
 * zod schemas for every PortOne V1 body the client reads. Unknown fields are dropped (PortOne may add
 * some); a field that is `null` and one that is absent both come out absent.
 */
import * as z from "zod";
import type { V1Certification } from "../../core/v1/upstream.js";
import { storedText } from "../stored-text.js";
import { withoutNulls } from "../without-nulls.js";

/**
 * `{ code, message, response }`: every V1 body. `code` 0 is success; data lives only in `response`.
 *
 * @example
 * import { v1EnvelopeSchema } from "certgate/portone";
 * const envelope = v1EnvelopeSchema.parse(await res.json()); // { code, message, response }
 * if (envelope.code !== 0) console.warn(envelope.message);
 */
export const v1EnvelopeSchema = z.object({
  code: z.number().int(),
  message: z.string().nullish(),
  response: z.unknown(),
});

/**
 * `POST /users/getToken` → `response`. Times are unix SECONDS on PortOne's clock.
 *
 * @example
 * import { v1TokenSchema } from "certgate/portone";
 * const token = v1TokenSchema.parse(envelope.response); // { access_token, now, expired_at }
 */
export const v1TokenSchema = z.object({
  access_token: z.string().min(1),
  now: z.number().int(),
  expired_at: z.number().int(),
});

export type V1Token = z.output<typeof v1TokenSchema>;

/** `POST /certifications/otp/request` → `response`. */
export const v1OtpRequestedSchema = z.object({ imp_uid: z.string().min(1) });

/**
 * `GET /certifications/{imp_uid}` → `response`, as {@link V1Certification}. Only imp_uid, pg_provider
 * and foreigner are required (PortOne guarantees them). Formats (birthday, CI length) are left to the
 * core, which treats a malformed value like an absent one instead of failing the whole record.
 *
 * @example
 * import { v1CertificationSchema } from "certgate/portone";
 * const result = v1CertificationSchema.safeParse(envelope.response);
 * if (!result.success) throw new Error("PortOne sent a certification of an unknown shape");
 */
export const v1CertificationSchema = z.preprocess(
  withoutNulls,
  z.object({
    imp_uid: storedText(200).min(1),
    merchant_uid: z.string().optional(),
    pg_tid: z.string().optional(),
    pg_provider: storedText(100),
    name: z.string().optional(),
    gender: z.enum(["male", "female"]).optional(),
    birthday: z.string().optional(),
    birth: z.number().int().optional(),
    foreigner: z.boolean(),
    foreigner_v2: z.boolean().optional(),
    phone: z.string().optional(),
    carrier: z.string().optional(),
    certified: z.boolean().optional(),
    certified_at: z.number().int().optional(),
    unique_key: z.string().optional(),
    unique_in_site: z.string().optional(),
    origin: z.string().optional(),
  }),
) satisfies z.ZodType<V1Certification>;

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
// Compile-time proof that the schema yields exactly the core's type, no more and no less.
const _exactlyV1Certification: Equals<z.output<typeof v1CertificationSchema>, V1Certification> = true;
void _exactlyV1Certification;
