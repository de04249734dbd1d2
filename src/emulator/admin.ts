/**
 * The admin API under `/__admin/`, mounted only when the emulator is created with `admin: true`.
 * JSON in, JSON out; bad input answers 400 `{ error: { code, message } }`, certgate's error shape.
 *
 * - `POST /certifications` `{ persona?, person?, merchant_code?, merchant_uid?, certified_at?, fields? }`
 *   → 201 `{ imp_uid, certification }`
 * - `GET /certifications` → `{ certifications: [{ merchant_code, otp_pending, certification }] }`
 * - `POST /reset` → `{ reset: true }` (records, tokens, faults, stats; the clock is kept)
 * - `POST /clock` `{ advance_seconds? } | { now? }` (unix seconds) → `{ now }`
 * - `POST /tokens/revoke` → `{ revoked }` (how many tokens were still valid)
 * - `POST /faults` `{ route, kind, latency_ms?, status?, error_type?, times?, probability? }` → 201 `{ fault }`
 *   (`error_type`: for an `error` fault on a V2 route, a type the route documents);
 *   (`probability` in (0, 1]: each matching request is hit with it, see faults.ts);
 *   `GET /faults` → `{ faults }`; `DELETE /faults` → `{ cleared }`
 * - `GET /stats` → `{ requests: { getToken, … }, tokens_issued }` (V1; V2's are at `GET /stats/v2`)
 * - V2 records: see `v2/admin.ts` (`/identity-verifications`); `POST /faults` takes V2 route names too.
 */
import { Hono } from "hono";
import { z } from "zod";
import { RequestError } from "../core/errors.js";
import { describeIssues, FAULT_KINDS, FAULT_STATUSES, type Fault, faultProbabilitySchema } from "./faults.js";
import { PERSONA_IDS } from "./personas.js";
import type { CertificationEntry } from "./state.js";
import {
  type CreateCertificationInput,
  fieldOverridesSchema,
  personSchema,
  type StoredCertification,
} from "./v1/records.js";
import { type RouteName, V1_ROUTE_NAMES } from "./v1/route-names.js";
import { V2_ROUTE_NAMES, type V2RouteName } from "./v2/route-names.js";

/** What the admin API drives; the emulator object provides it. */
export interface AdminControls {
  createCertification(input: CreateCertificationInput): StoredCertification;
  listCertifications(): CertificationEntry[];
  reset(): void;
  clock: { now(): number; advance(ms: number): void; set(ms: number): void };
  revokeTokens(): number;
  setFault(fault: Fault<RouteName | V2RouteName>): void;
  listFaults(): Fault<RouteName | V2RouteName>[];
  clearFaults(): number;
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

const clockSchema = z
  .object({
    advance_seconds: z.number().finite().optional(),
    now: z.number().finite().min(0).optional(),
  })
  .strict()
  .refine((body) => body.advance_seconds === undefined || body.now === undefined, {
    message: "give advance_seconds or now, not both",
  });

const faultBodySchema = z
  .object({
    route: z.union([z.enum([...V1_ROUTE_NAMES, ...V2_ROUTE_NAMES]), z.literal("*")]),
    kind: z.enum(FAULT_KINDS),
    latency_ms: z.number().int().min(0).max(600_000).optional(),
    status: z.literal(FAULT_STATUSES).optional(),
    error_type: z.string().min(1).max(100).optional(),
    times: z.number().int().min(1).optional(),
    probability: faultProbabilitySchema.optional(),
  })
  .strict();

/** The admin sub-app, to be mounted at `/__admin`. */
export function createAdminApp(controls: AdminControls): Hono {
  const admin = new Hono();

  admin.onError((error, c) => {
    if (error instanceof RequestError) {
      return c.json(
        { error: { code: error.code, message: error.message } },
        error.code === "not_found" ? 404 : 400,
      );
    }
    throw error;
  });

  admin.post("/certifications", async (c) => {
    const body = parseOrThrow(createSchema, await readJson(c.req.raw));
    const { merchant_code, ...rest } = body;
    const certification = controls.createCertification({
      ...rest,
      ...(merchant_code === undefined ? {} : { merchantCode: merchant_code }),
    });
    return c.json({ imp_uid: certification.imp_uid, certification }, 201);
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

  admin.post("/reset", (c) => {
    controls.reset();
    return c.json({ reset: true });
  });

  admin.post("/clock", async (c) => {
    const body = parseOrThrow(clockSchema, await readJson(c.req.raw));
    if (body.advance_seconds !== undefined) controls.clock.advance(body.advance_seconds * 1000);
    if (body.now !== undefined) controls.clock.set(body.now * 1000);
    return c.json({ now: Math.floor(controls.clock.now() / 1000) });
  });

  admin.post("/tokens/revoke", (c) => c.json({ revoked: controls.revokeTokens() }));

  admin.post("/faults", async (c) => {
    const body = parseOrThrow(faultBodySchema, await readJson(c.req.raw));
    const fault: Fault<RouteName | V2RouteName> = {
      route: body.route,
      kind: body.kind,
      ...(body.latency_ms === undefined ? {} : { latencyMs: body.latency_ms }),
      ...(body.status === undefined ? {} : { status: body.status }),
      ...(body.error_type === undefined ? {} : { errorType: body.error_type }),
      ...(body.times === undefined ? {} : { times: body.times }),
      ...(body.probability === undefined ? {} : { probability: body.probability }),
    };
    controls.setFault(fault);
    return c.json({ fault: body }, 201);
  });

  admin.get("/faults", (c) => c.json({ faults: controls.listFaults() }));

  admin.delete("/faults", (c) => c.json({ cleared: controls.clearFaults() }));

  admin.get("/stats", (c) => {
    const stats = controls.stats();
    return c.json({ requests: stats.requests, tokens_issued: stats.tokensIssued });
  });

  return admin;
}

/** `schema`'s reading of `input`, or `RequestError("invalid_request")` naming the fields. */
export function parseOrThrow<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new RequestError("invalid_request", describeIssues(parsed.error));
  return parsed.data;
}

/** The request's JSON body (an empty body is `{}`), or `RequestError("invalid_json")`. */
export async function readJson(request: Request): Promise<unknown> {
  const text = await request.text();
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the input; the input is not ours to echo.
    throw new RequestError("invalid_json", "body is not JSON");
  }
}
