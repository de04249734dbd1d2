/**
 * The admin API under `/__admin/`, mounted only when the emulator is created with `admin: true`.
 * JSON in, JSON out; bad input answers 400 `{ error: { code, message } }`, certgate's error shape.
 * The routes both APIs share are here:
 *
 * - `POST /reset` → `{ reset: true }` (records, tokens, faults, stats; the clock is kept)
 * - `POST /clock` `{ advance_seconds? } | { now? }` (unix seconds) → `{ now }`
 * - `POST /tokens/revoke` → `{ revoked }` (how many tokens were still valid)
 * - `POST /faults` `{ route, kind, latency_ms?, status?, error_type?, times?, probability? }` → 201 `{ fault }`
 *   (`route`: a V1 or V2 route name, or `*`; `error_type`: for an `error` fault on a V2 route, a
 *   type the route documents; `probability` in (0, 1]: each matching request is hit with it, see
 *   faults.ts); `GET /faults` → `{ faults }`; `DELETE /faults` → `{ cleared }`
 *
 * Each API's records and stats: `v1/admin.ts` (`/certifications`, `GET /stats`) and `v2/admin.ts`
 * (`/identity-verifications`, `GET /stats/v2`).
 */
import { Hono, type MiddlewareHandler } from "hono";
import * as z from "zod";
import { RequestError } from "../core/errors.js";
import { quoteName } from "../core/unknown-fields.js";
import { FAULT_KINDS, FAULT_STATUSES, type Fault, faultProbabilitySchema } from "./faults.js";
import { answerAdminError, parseOrThrow, readBodyText, readJson } from "./input.js";
import type { V1AdminControls } from "./v1/admin.js";
import { type RouteName, V1_ROUTE_NAMES } from "./v1/route-names.js";
import { V2_ROUTE_NAMES, type V2RouteName } from "./v2/route-names.js";

/**
 * What the shared and V1 admin routes drive; the emulator object provides it.
 *
 * @example
 * import { type AdminControls, createEmulator } from "certgate/emulator";
 * const controls: Pick<AdminControls, "clock"> = createEmulator();
 * controls.clock.advance(10 * 60_000); // ten minutes later: certifications are stale
 */
export interface AdminControls extends V1AdminControls {
  reset(): void;
  clock: { now(): number; advance(ms: number): void; set(ms: number): void };
  revokeTokens(): number;
  setFault(fault: Fault<RouteName | V2RouteName>): void;
  listFaults(): Fault<RouteName | V2RouteName>[];
  clearFaults(): number;
}

/**
 * The clock's range over HTTP: 1970 to the end of 9999. Past it a record's dates cannot be written
 * (`toISOString` throws: a 500) and a token issued then never expires.
 */
const LATEST_CLOCK_SECONDS = 253_402_300_799; // 9999-12-31T23:59:59Z

const clockSchema = z
  .object({
    advance_seconds: z.number().finite().optional(),
    now: z.number().finite().min(0).max(LATEST_CLOCK_SECONDS).optional(),
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

/** The shared admin sub-app, to be mounted at `/__admin`. */
export function createAdminApp(controls: AdminControls): Hono {
  const admin = new Hono();

  admin.onError(answerAdminError);
  // Mounted first under /__admin, so this runs before the V1 and V2 admin routes too.
  admin.use("*", refuseUnexpectedInput);

  admin.post("/reset", (c) => {
    controls.reset();
    return c.json({ reset: true });
  });

  admin.post("/clock", async (c) => {
    const body = parseOrThrow(clockSchema, await readJson(c.req.raw));
    if (body.advance_seconds !== undefined) {
      const target = controls.clock.now() / 1000 + body.advance_seconds;
      if (!(target >= 0 && target <= LATEST_CLOCK_SECONDS)) {
        throw new RequestError("invalid_request", "advance_seconds: the clock would leave 1970–9999");
      }
      controls.clock.advance(body.advance_seconds * 1000);
    }
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

  return admin;
}

/** Admin routes that read a JSON body (the rest take none). */
const BODY_ROUTES = new Set([
  "POST /clock",
  "POST /faults",
  "POST /certifications",
  "POST /certifications/batch",
  "POST /identity-verifications",
]);

/**
 * Input an admin route would not read is refused, not ignored: a misspelt `?merchantcode=` deleted
 * the default merchant's record, a body on `DELETE /faults` (`{"route":"getToken"}`) cleared every
 * fault, and one on `POST /reset` was dropped. Only `DELETE /identity-verifications/:id` takes a
 * query parameter (`merchant_code`, once). A route without a body takes an empty one or `{}`, as
 * scripts send.
 */
const refuseUnexpectedInput: MiddlewareHandler = async (c, next) => {
  const path = c.req.path.replace(/^.*?\/__admin(?=\/)/, "");
  const route = `${c.req.method} ${path}`;
  const allowed = /^DELETE \/identity-verifications\/[^/]+$/.test(route) ? ["merchant_code"] : [];
  for (const [name, values] of Object.entries(c.req.queries())) {
    if (!allowed.includes(name)) {
      throw new RequestError("invalid_request", `unknown query parameter ${quoteName(name)}`);
    }
    if (values.length > 1)
      throw new RequestError("invalid_request", `query parameter ${quoteName(name)} given more than once`);
  }
  if (!BODY_ROUTES.has(route) && !isEmptyBody(await readBodyText(c.req.raw))) {
    throw new RequestError("invalid_request", `${route} takes no body (or {})`);
  }
  await next();
};

/** Nothing, or `{}`: what a route that reads no body may be sent. */
function isEmptyBody(text: string): boolean {
  if (text.trim() === "") return true;
  try {
    const parsed: unknown = JSON.parse(text);
    return (
      typeof parsed === "object" &&
      parsed !== null &&
      !Array.isArray(parsed) &&
      Object.keys(parsed).length === 0
    );
  } catch {
    return false;
  }
}
