/**
 * The V1 part of the admin API, mounted under `/__admin/` beside the shared routes (`../admin.ts`)
 * and V2's (`../v2/admin.ts`) when the emulator is created with `admin: true`. JSON in, JSON out;
 * bad input answers 400 `{ error: { code, message } }`, certgate's error shape.
 *
 * - `POST /certifications` `{ persona?, person?, merchant_code?, merchant_uid?, certified_at?, fields? }`
 *   → 201 `{ imp_uid, certification }`
 * - `POST /certifications/batch` `{ certifications: [<the body above>, …] }` (1–1,000, within the
 *   64 KB body bound) → 201 `{ imp_uids: [...] }` in order; all are created or, on any bad one, none
 *   (for load tests: one request instead of one per record)
 * - `GET /certifications` → `{ certifications: [{ merchant_code, otp_pending, certification }] }`
 * - `GET /stats` → `{ requests: { getToken, … }, tokens_issued }` (V1; V2's are at `GET /stats/v2`)
 */
import { Hono } from "hono";
import * as z from "zod";
import { answerAdminError, parseOrThrow, readJson } from "../input.js";
import { PERSONA_IDS, personSchema } from "../personas.js";
import { type CreateCertificationInput, fieldOverridesSchema, type StoredCertification } from "./records.js";
import type { RouteName } from "./route-names.js";
import type { CertificationEntry } from "./state.js";

/** What the V1 admin routes drive; the emulator object provides it. */
export interface V1AdminControls {
  createCertification(input: CreateCertificationInput): StoredCertification;
  createCertifications(inputs: readonly CreateCertificationInput[]): StoredCertification[];
  listCertifications(): CertificationEntry[];
  stats(): { requests: Record<RouteName, number>; tokensIssued: number };
}

const createSchema = z
  .object({
    persona: z.enum(PERSONA_IDS).optional(),
    person: personSchema.optional(),
    merchant_code: z.string().min(1).optional(),
    merchant_uid: z.string().min(1).max(200).optional(),
    certified_at: z.number().int().min(0).optional(),
    fields: fieldOverridesSchema.optional(),
  })
  .strict();

/** Records a batch creates at most: a bound of its own, besides the emulator's 64 KB body bound. */
export const MAX_BATCH_CERTIFICATIONS = 1_000;

const batchSchema = z
  .object({ certifications: z.array(createSchema).min(1).max(MAX_BATCH_CERTIFICATIONS) })
  .strict();

/** The input of one record, as the admin body names it. */
function toInput(body: z.infer<typeof createSchema>): CreateCertificationInput {
  const { merchant_code, ...rest } = body;
  return { ...rest, ...(merchant_code === undefined ? {} : { merchantCode: merchant_code }) };
}

/** The V1 admin sub-app, to be mounted at `/__admin`. */
export function createV1AdminApp(controls: V1AdminControls): Hono {
  const admin = new Hono();

  admin.onError(answerAdminError);

  admin.post("/certifications", async (c) => {
    const body = parseOrThrow(createSchema, await readJson(c.req.raw));
    const certification = controls.createCertification(toInput(body));
    return c.json({ imp_uid: certification.imp_uid, certification }, 201);
  });

  admin.post("/certifications/batch", async (c) => {
    const body = parseOrThrow(batchSchema, await readJson(c.req.raw));
    const created = controls.createCertifications(body.certifications.map(toInput));
    return c.json({ imp_uids: created.map((certification) => certification.imp_uid) }, 201);
  });

  admin.get("/certifications", (c) =>
    c.json({
      certifications: controls.listCertifications().map((entry) => ({
        merchant_code: entry.merchantCode,
        otp_pending: entry.pendingOtp !== undefined,
        certification: entry.record,
      })),
    }),
  );

  admin.get("/stats", (c) => {
    const stats = controls.stats();
    return c.json({ requests: stats.requests, tokens_issued: stats.tokensIssued });
  });

  return admin;
}
