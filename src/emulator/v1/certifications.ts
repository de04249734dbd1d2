/**
 * `GET` and `DELETE /certifications/{imp_uid}`. A record owned by another merchant answers exactly
 * like a missing one, as PortOne does.
 */
import type { Hono, MiddlewareHandler } from "hono";
import { type V1Authorizer, v1Unauthorized } from "./auth.js";
import { V1_MESSAGES, v1Fail, v1Ok } from "./envelope.js";
import type { RouteName } from "./route-names.js";
import type { CertificationEntry, CertificationStore } from "./state.js";

export interface V1CertificationDeps {
  certifications: CertificationStore;
  /** Stats and faults for a route; runs before the handler. */
  guard(route: RouteName): MiddlewareHandler;
  /** The bearer check each handler runs first. */
  authorize: V1Authorizer;
}

/** The record `impUid` if `merchantCode` owns it; `undefined` if missing or another merchant's. */
export function findOwnCertification(
  certifications: CertificationStore,
  merchantCode: string,
  impUid: string,
): CertificationEntry | undefined {
  const entry = certifications.get(impUid);
  return entry && entry.merchantCode === merchantCode ? entry : undefined;
}

export function registerCertificationRoutes(app: Hono, deps: V1CertificationDeps) {
  app.get("/certifications/:imp_uid", deps.guard("getCertification"), (c) => {
    const merchantCode = deps.authorize(c);
    if (merchantCode === undefined) return v1Unauthorized(c);
    const entry = findOwnCertification(deps.certifications, merchantCode, c.req.param("imp_uid"));
    if (!entry) return v1Fail(c, 404, V1_MESSAGES.notFound);
    return v1Ok(c, { ...entry.record });
  });

  app.delete("/certifications/:imp_uid", deps.guard("deleteCertification"), (c) => {
    const merchantCode = deps.authorize(c);
    if (merchantCode === undefined) return v1Unauthorized(c);
    const entry = findOwnCertification(deps.certifications, merchantCode, c.req.param("imp_uid"));
    if (!entry) return v1Fail(c, 404, V1_MESSAGES.notFound);
    deps.certifications.delete(entry.record.imp_uid);
    return v1Ok(c, { ...entry.record });
  });
}
