/**
 * The V2 part of the admin API, mounted under `/__admin/` beside V1's when the emulator is created
 * with `admin: true`. Bad input answers 400 `{ error: { code, message } }`, as the V1 admin does.
 *
 * - `POST /identity-verifications` `{ identityVerificationId, persona?, person?, merchant_code?,
 *   status?, verifiedAt?, customData?, fields? }` → 201 `{ identityVerificationId, identityVerification }`
 * - `GET /identity-verifications` → `{ identityVerifications: [{ merchant_code, otp_pending, identityVerification }] }`
 * - `DELETE /identity-verifications/:identityVerificationId?merchant_code=` → `{ deleted }`: the API
 *   answers 404 for it again, and a new record (VERIFIED or not) may take the id
 * - `GET /stats/v2` → `{ requests: { loginApiSecret, … }, tokens_issued }`
 */
import { Hono } from "hono";
import * as z from "zod";
import { RequestError } from "../../core/errors.js";
import { parseOrThrow, readJson, requestErrorStatus } from "../input.js";
import { servedRecord } from "./identity-verifications.js";
import type { V2Emulation } from "./index.js";

const createBodySchema = z.looseObject({ merchant_code: z.string().min(1).optional() });

/** The V2 admin sub-app, to be mounted at `/__admin`. */
export function createV2AdminApp(v2: V2Emulation): Hono {
  const admin = new Hono();

  admin.onError((error, c) => {
    if (error instanceof RequestError)
      return c.json({ error: { code: error.code, message: error.message } }, requestErrorStatus(error));
    throw error;
  });

  admin.post("/identity-verifications", async (c) => {
    const { merchant_code, ...rest } = parseOrThrow(createBodySchema, await readJson(c.req.raw));
    // The builder validates every other field strictly (unknown keys included).
    const entry = v2.createIdentityVerification({
      ...rest,
      ...(merchant_code === undefined ? {} : { merchantCode: merchant_code }),
    });
    return c.json(
      { identityVerificationId: entry.record.id, identityVerification: servedRecord(entry) },
      201,
    );
  });

  admin.get("/identity-verifications", (c) =>
    c.json({
      identityVerifications: v2.listIdentityVerifications().map((entry) => ({
        merchant_code: entry.merchantCode,
        otp_pending: entry.pending !== undefined,
        identityVerification: servedRecord(entry),
      })),
    }),
  );

  admin.delete("/identity-verifications/:identityVerificationId", (c) => {
    const merchantCode = c.req.query("merchant_code");
    const deleted = v2.deleteIdentityVerification(c.req.param("identityVerificationId"), merchantCode);
    return c.json({ deleted });
  });

  admin.get("/stats/v2", (c) => {
    const stats = v2.stats();
    return c.json({ requests: stats.requests, tokens_issued: stats.tokensIssued });
  });

  return admin;
}
