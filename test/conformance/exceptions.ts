/**
 * The emulator's deliberate departures from PortOne's published OpenAPI (at most five). Each keeps
 * what the REAL API is known to do where its schema says otherwise; the validator applies exactly
 * these and nothing more (see `validator.ts`, which refers to them by id).
 */

export interface ConformanceException {
  id: "v1-nulls" | "v1-legacy-birth" | "v1-get-token-400" | "faults";
  /** Where the departure shows. */
  where: string;
  /** What differs from the schema. */
  departure: string;
  /** Why the emulator keeps it: the real API's known behaviour. */
  reason: string;
}

export const CONFORMANCE_EXCEPTIONS: readonly ConformanceException[] = [
  {
    id: "v1-nulls",
    where: "V1: every envelope and certification field that is not required",
    departure: "null values, which Swagger 2.0 cannot declare",
    reason:
      'The real V1 API answers `"message": null` on success (PortOne\'s own getToken sample) and null for ' +
      "each certification field the provider did not supply (gender, phone, carrier, unique_in_site…; " +
      "the schema itself names foreigner_v2 '외국인 여부(nullable)'). Clients must read null as absent.",
  },
  {
    id: "v1-legacy-birth",
    where: "V1 CertificationAnnotation",
    departure: "an undeclared integer `birth` (unix seconds at 00:00 KST of the birthday)",
    reason:
      "No longer in the schema but still sent by the real API (PORTONE.md); integrations written against " +
      "older docs read it, so the emulator keeps serving it beside `birthday`.",
  },
  {
    id: "v1-get-token-400",
    where: "V1 POST /users/getToken",
    departure:
      "HTTP 400 (V1 envelope) for a missing imp_key or imp_secret; the schema lists only 200 and 401",
    reason:
      "The real API answers 400 with its message 'imp_key, imp_secret 파라메터가 누락되었습니다.': " +
      "integrators map exactly that status and message, and V1 has always answered missing parameters " +
      "with 400 (iamport/iamport-rest-client issue #2).",
  },
  {
    id: "faults",
    where: "every route, only while a fault is armed",
    departure:
      "fault injection (latency, malformed, wrong_types, api_error, drop, and status faults the route " +
      "does not document) breaks the contract on purpose",
    reason:
      "Faults model an outage or a broken upstream in front of PortOne, for the clients' resilience tests. " +
      "Where the spec documents the answer (a V2 502 is PG_PROVIDER; `error` faults answer documented " +
      "types; a V1 500 is its envelope) the fault conforms and this suite checks it.",
  },
];
