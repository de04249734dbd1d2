/**
 * The emulator's browser side: `GET /v1/iamport.js` (the SDK stand-in) and the verification window
 * it opens.
 *
 * - `GET  /browser/certification?imp&request_id&mode&origin&page&…IMP.certification params` opens
 *   the window (step 1: pick a persona or type a person).
 * - `POST /browser/certification-request` `session, persona, name?, birthday?, gender?, phone?,
 *   carrier?` sends the "code" (step 2).
 * - `POST /browser/certification-confirm` `session, otp`: a wrong code shows an error; the right one
 *   ({@link EMULATOR_OTP_CODE}) creates an ordinary record for the merchant whose code was given to
 *   `IMP.init`, bound to the `merchant_uid`, unless `min_age` refuses the person.
 * - `POST /browser/certification-cancel` `session`: the cancel answer.
 *
 * A window ends by answering the page: in popup mode a page that posts the `rsp` to the opener's
 * origin and closes; in redirect mode a 303 to `m_redirect_url` with PortOne's query.
 *
 * The same window serves PortOne V2 (`GET /v2/browser-sdk.js`, global `PortOne`):
 * - `GET /browser/identity-verification?storeId&identityVerificationId&request_id&mode&origin&…`
 *   opens it for the merchant owning `storeId`; the person and code steps are the V1 ones.
 * - The right code creates a V2 record under the merchant-chosen `identityVerificationId` (VERIFIED
 *   for a certified persona); the answer is V2's response, posted to the opener or as the query of
 *   `redirectUrl`. An id already VERIFIED answers a failure and creates nothing.
 * - A cancel leaves the id FAILED (V2 keeps one record per id; a later attempt replaces it), so a
 *   merchant that completes it anyway is told `not_certified`, never verified.
 *
 * A cancelled or refused window still leaves a record, uncertified and without personal data: V1
 * issues the imp_uid when the window opens, and the redirect query of a failure carries one. Whether
 * PortOne then answers that imp_uid with `certified: false` or 404 is not documented; the former is
 * the reading that forces a merchant to check `certified`.
 *
 * Longer than 400 lines on purpose: one concern (the verification window's state machine: open →
 * code sent → confirmed or cancelled), whose steps share the session table and the answer to the
 * opener; its HTML lives in pages.ts and messages.ts.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { type Context, Hono } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import * as z from "zod";
import { internationalAge } from "../../core/age.js";
import { RequestError } from "../../core/errors.js";
import type { EmulatorClock } from "../clock.js";
import { readFormFields } from "../input.js";
import { kstDateAt, parseDate } from "../kst.js";
import { EMULATOR_OTP_CODE } from "../otp.js";
import {
  PERSONA_IDS,
  PERSONAS,
  type PersonaId,
  type PersonInput,
  personSchema,
  V1_CARRIERS,
} from "../personas.js";
import type { EmulatorMerchant } from "../v1/auth.js";
import { type CreateCertificationInput, DEFAULT_ORIGIN, type StoredCertification } from "../v1/records.js";
import {
  type CreateIdentityVerificationInput,
  identityVerificationIdSchema,
  type StoredIdentityVerification,
} from "../v2/records.js";
import { IAMPORT_SCRIPT } from "./iamport-script.js";
import {
  type CertificationRsp,
  failureRsp,
  type IdentityVerificationResponse,
  identityVerificationResponse,
  RSP_ERRORS,
  type RspError,
  redirectTarget,
  successRsp,
  V2_RESPONSE_ERRORS,
  v2RedirectTarget,
} from "./messages.js";
import {
  codeFormPage,
  deliverPage,
  errorPage,
  type PersonFormValues,
  personFormPage,
  refusedPage,
} from "./pages.js";
import { V2_BROWSER_SDK_SCRIPT } from "./v2-sdk-script.js";

/** What the browser side needs of the emulator. */
export interface BrowserFlowDeps {
  /** Accounts; those with a `storeId` can run the V2 window. */
  merchants: readonly (EmulatorMerchant & { storeId?: string | undefined })[];
  clock: EmulatorClock;
  /** Creates a record exactly as the admin API does; throws `RequestError` on bad input. */
  createCertification(input: CreateCertificationInput): StoredCertification;
  /**
   * Creates a V2 record as the admin API does; throws `RequestError` on bad input or an id already
   * VERIFIED. Without it the V2 window answers every store as unknown.
   */
  createIdentityVerification?(input: CreateIdentityVerificationInput): StoredIdentityVerification;
}

/** The browser routes and their window sessions. */
export interface BrowserFlow {
  /** Routes at `/v1/iamport.js` and `/browser/…`; mount at the emulator's root. */
  app: Hono;
  /** Forgets every open window. */
  reset(): void;
}

/** How long an open window stays usable, in emulator-clock milliseconds. */
export const WINDOW_TTL_MS = 30 * 60 * 1000;
/** The cookie naming the persona last verified in this browser (on the window's own path). */
const LAST_PERSONA_COOKIE = "certgate_emulator_last_persona";
/** Open windows kept at most; the oldest is forgotten first (a long-running emulator stays small). */
const MAX_SESSIONS = 1000;

/** Where a window's answer goes. */
type Delivery =
  | { mode: "popup"; requestId: string; openerOrigin: string }
  | { mode: "redirect"; redirectUrl: string };

type ChosenPerson = { kind: "persona"; persona: PersonaId } | { kind: "person"; person: PersonInput };

/** What the window was opened for: V1's `IMP.certification` or V2's `requestIdentityVerification`. */
type WindowRequest =
  | { api: "v1" }
  | { api: "v2"; identityVerificationId: string; txId: string; customData: string | undefined };

interface WindowSession {
  id: string;
  openedAt: number;
  delivery: Delivery;
  request: WindowRequest;
  merchantCode: string;
  merchantUid: string | undefined;
  /** International age, as PortOne's `min_age` (Danal only). */
  minAge: number | undefined;
  company: string | undefined;
  /** The `origin` field of the record: the page that ran the verification. */
  pageUrl: string;
  prefill: PersonFormValues;
  chosen?: ChosenPerson;
}

const httpUrl = z
  .string()
  .max(2048)
  .refine((text) => {
    try {
      const url = new URL(text);
      return url.protocol === "http:" || url.protocol === "https:";
    } catch {
      return false;
    }
  }, "must be an absolute http(s) URL");

/** An origin exactly as `location.origin` spells it. */
const httpOrigin = httpUrl.refine((text) => new URL(text).origin === text, "must be an origin");

const deliverySchema = z.discriminatedUnion("mode", [
  z.object({
    mode: z.literal("popup"),
    request_id: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
    origin: httpOrigin,
  }),
  z.object({ mode: z.literal("redirect"), m_redirect_url: httpUrl }),
]);

/** SDK carriers: here PortOne spells KT "KTF"; "KT" is refused as Danal refuses it. */
const SDK_CARRIERS = { SKT: "SKT", KTF: "KT", LGT: "LGT", MVNO: "SKT_MVNO" } as const;

const windowQuerySchema = z.object({
  imp: z.string().min(1).max(64),
  page: z.string().max(2048).optional(),
  merchant_uid: z.string().min(1).max(200).optional(),
  min_age: z
    .string()
    .regex(/^\d{1,3}$/)
    .transform(Number)
    .optional(),
  name: z.string().max(100).optional(),
  phone: z
    .string()
    .transform((text) => text.replace(/-/g, ""))
    .pipe(z.string().regex(/^\d{9,11}$/))
    .optional(),
  carrier: z.enum(["SKT", "KTF", "LGT", "MVNO"]).optional(),
  company: z.string().max(100).optional(),
  pg: z.string().max(100).optional(),
  channelKey: z.string().max(200).optional(),
});

const v2DeliverySchema = z.discriminatedUnion("mode", [
  deliverySchema.options[0],
  z.object({ mode: z.literal("redirect"), redirectUrl: httpUrl }),
]);

const v2WindowQuerySchema = z.object({
  storeId: z.string().min(1).max(200),
  identityVerificationId: identityVerificationIdSchema,
  channelKey: z.string().max(200).optional(),
  page: z.string().max(2048).optional(),
  customData: z.string().max(10_000).optional(),
  name: z.string().max(100).optional(),
  phone: z
    .string()
    .transform((text) => text.replace(/-/g, ""))
    .pipe(z.string().regex(/^\d{9,11}$/))
    .optional(),
});

const sessionField = z.string().regex(/^[0-9a-f]{32}$/);
const requestBodySchema = z.object({
  session: sessionField,
  persona: z.union([z.enum(PERSONA_IDS), z.literal("manual")]),
  name: z.string().optional(),
  birthday: z.string().optional(),
  gender: z.string().optional(),
  phone: z.string().optional(),
  carrier: z.string().optional(),
});
const confirmBodySchema = z.object({ session: sessionField, otp: z.string().max(64) });
const cancelBodySchema = z.object({ session: sessionField });

const CLOSED_WINDOW =
  "이 인증 창은 만료되었거나 이미 끝났습니다. 처음부터 다시 시도해 주세요. (This window expired or already finished.)";

/** Creates the SDK route and the window routes over the emulator's records and clock. */
export function createBrowserFlow(deps: BrowserFlowDeps): BrowserFlow {
  const sessions = new Map<string, WindowSession>();
  const app = new Hono();

  const openSession = (id: string): WindowSession | undefined => {
    const session = sessions.get(id);
    if (!session) return undefined;
    if (deps.clock.now() - session.openedAt > WINDOW_TTL_MS) {
      sessions.delete(id);
      return undefined;
    }
    return session;
  };

  const deliver = (c: Context, delivery: Delivery, rsp: CertificationRsp) => {
    if (delivery.mode === "redirect") return c.redirect(redirectTarget(delivery.redirectUrl, rsp), 303);
    return c.html(deliverPage({ rsp, requestId: delivery.requestId, openerOrigin: delivery.openerOrigin }));
  };

  const deliverV2 = (c: Context, delivery: Delivery, response: IdentityVerificationResponse) => {
    if (delivery.mode === "redirect")
      return c.redirect(v2RedirectTarget(delivery.redirectUrl, response), 303);
    return c.html(
      deliverPage({ rsp: response, requestId: delivery.requestId, openerOrigin: delivery.openerOrigin }),
    );
  };

  /** Creates the V2 record; `undefined` when the id is spent or the input refused. */
  const createV2 = (input: CreateIdentityVerificationInput): StoredIdentityVerification | undefined => {
    if (!deps.createIdentityVerification) return undefined;
    try {
      return deps.createIdentityVerification(input);
    } catch (error) {
      if (error instanceof RequestError) return undefined;
      throw error;
    }
  };

  /** The record a cancelled or refused window leaves: uncertified, no personal data. */
  const recordUnfinished = (session: WindowSession): StoredCertification =>
    deps.createCertification({
      persona: "uncertified",
      merchantCode: session.merchantCode,
      ...(session.merchantUid ? { merchant_uid: session.merchantUid } : {}),
      fields: {
        name: null,
        gender: null,
        birthday: null,
        birth: null,
        phone: null,
        carrier: null,
        unique_key: null,
        unique_in_site: null,
        foreigner_v2: null,
        certified: false,
        certified_at: null,
        origin: session.pageUrl,
      },
    });

  const fail = (session: WindowSession, error: RspError, c: Context) => {
    sessions.delete(session.id);
    const request = session.request;
    if (request.api === "v2") {
      createV2({
        identityVerificationId: request.identityVerificationId,
        merchantCode: session.merchantCode,
        status: "FAILED",
        ...(request.customData === undefined ? {} : { customData: request.customData }),
      });
      return deliverV2(
        c,
        session.delivery,
        identityVerificationResponse(
          { identityVerificationId: request.identityVerificationId, identityVerificationTxId: request.txId },
          V2_RESPONSE_ERRORS.cancelled,
        ),
      );
    }
    const record = recordUnfinished(session);
    return deliver(
      c,
      session.delivery,
      failureRsp(error, { imp_uid: record.imp_uid, merchant_uid: record.merchant_uid }),
    );
  };

  const personaChoices = (c: Context) => {
    const today = kstDateAt(deps.clock.now());
    const last = getCookie(c, LAST_PERSONA_COOKIE);
    return PERSONA_IDS.map((id) => {
      const persona = PERSONAS[id];
      return {
        id,
        name: persona.name,
        birthday: persona.birthdayOn(today),
        shown: persona.shown,
        last: id === last,
      };
    });
  };

  /**
   * Remembers the persona that just verified, so the next window marks it (the tester's "same
   * person") and preselects it: re-verifying as someone else is then one deliberate choice. A
   * persona id only, never a typed person.
   */
  const rememberPersona = (c: Context, chosen: ChosenPerson) => {
    if (chosen.kind !== "persona") return;
    // Scoped to the window's own folder (`…/browser`), wherever the emulator is mounted.
    const path = c.req.path.slice(0, c.req.path.lastIndexOf("/")) || "/";
    setCookie(c, LAST_PERSONA_COOKIE, chosen.persona, {
      path,
      httpOnly: true,
      sameSite: "Lax",
      maxAge: 86_400,
    });
  };

  const keep = (session: WindowSession) => {
    sessions.set(session.id, session);
    if (sessions.size > MAX_SESSIONS) {
      const oldest = sessions.keys().next().value;
      if (oldest !== undefined) sessions.delete(oldest);
    }
  };

  const windowPage = (c: Context, session: WindowSession) =>
    personFormPage({
      session: session.id,
      company: session.company,
      personas: personaChoices(c),
      values: session.prefill,
      errors: [],
    });

  app.get("/v2/browser-sdk.js", (c) => {
    c.header("content-type", "text/javascript; charset=utf-8");
    c.header("cache-control", "no-cache");
    return c.body(V2_BROWSER_SDK_SCRIPT);
  });

  app.get("/browser/identity-verification", (c) => {
    const query = c.req.query();
    const where = v2DeliverySchema.safeParse(query);
    if (!where.success)
      return c.html(errorPage("본인인증 요청이 올바르지 않습니다. (Malformed request.)"), 400);
    const delivery: Delivery =
      where.data.mode === "popup"
        ? { mode: "popup", requestId: where.data.request_id, openerOrigin: where.data.origin }
        : { mode: "redirect", redirectUrl: where.data.redirectUrl };
    const txId = randomUUID();
    const parsed = v2WindowQuerySchema.safeParse(query);
    const ids = {
      identityVerificationId:
        typeof query.identityVerificationId === "string" ? query.identityVerificationId : "",
      identityVerificationTxId: txId,
    };
    if (!parsed.success)
      return deliverV2(c, delivery, identityVerificationResponse(ids, V2_RESPONSE_ERRORS.invalidParams));
    const params = parsed.data;
    const merchant = deps.createIdentityVerification
      ? deps.merchants.find((m) => m.storeId !== undefined && m.storeId === params.storeId)
      : undefined;
    if (!merchant)
      return deliverV2(c, delivery, identityVerificationResponse(ids, V2_RESPONSE_ERRORS.unknownStore));
    const session: WindowSession = {
      id: randomBytes(16).toString("hex"),
      openedAt: deps.clock.now(),
      delivery,
      request: {
        api: "v2",
        identityVerificationId: params.identityVerificationId,
        txId,
        customData: params.customData,
      },
      merchantCode: merchant.impCode,
      merchantUid: undefined,
      minAge: undefined,
      company: undefined,
      pageUrl: params.page ?? (delivery.mode === "popup" ? delivery.openerOrigin : DEFAULT_ORIGIN),
      prefill: { name: params.name, phone: params.phone, persona: params.name ? "manual" : undefined },
    };
    keep(session);
    return c.html(windowPage(c, session));
  });

  app.get("/v1/iamport.js", (c) => {
    c.header("content-type", "text/javascript; charset=utf-8");
    c.header("cache-control", "no-cache");
    return c.body(IAMPORT_SCRIPT);
  });

  app.get("/browser/certification", (c) => {
    const query = c.req.query();
    const where = deliverySchema.safeParse(query);
    if (!where.success)
      return c.html(errorPage("본인인증 요청이 올바르지 않습니다. (Malformed request.)"), 400);
    const delivery: Delivery =
      where.data.mode === "popup"
        ? { mode: "popup", requestId: where.data.request_id, openerOrigin: where.data.origin }
        : { mode: "redirect", redirectUrl: where.data.m_redirect_url };
    const parsed = windowQuerySchema.safeParse(query);
    const merchantUid = typeof query.merchant_uid === "string" ? query.merchant_uid : null;
    if (!parsed.success)
      return deliver(c, delivery, failureRsp(RSP_ERRORS.invalidParams, { merchant_uid: merchantUid }));
    const params = parsed.data;
    if (!deps.merchants.some((m) => m.impCode === params.imp)) {
      return deliver(c, delivery, failureRsp(RSP_ERRORS.unknownMerchant, { merchant_uid: merchantUid }));
    }

    const id = randomBytes(16).toString("hex");
    const session: WindowSession = {
      id,
      openedAt: deps.clock.now(),
      delivery,
      request: { api: "v1" },
      merchantCode: params.imp,
      merchantUid: params.merchant_uid,
      minAge: params.min_age,
      company: params.company,
      pageUrl: params.page ?? (delivery.mode === "popup" ? delivery.openerOrigin : DEFAULT_ORIGIN),
      prefill: {
        name: params.name,
        phone: params.phone,
        carrier: params.carrier ? SDK_CARRIERS[params.carrier] : undefined,
        // A merchant that names the person expects that person: start on the typed form.
        persona: params.name ? "manual" : undefined,
      },
    };
    keep(session);
    return c.html(windowPage(c, session));
  });

  app.post("/browser/certification-request", async (c) => {
    const body = requestBodySchema.safeParse(await readFormFields(c.req.raw));
    const session = body.success ? openSession(body.data.session) : undefined;
    if (!body.success || !session) return c.html(errorPage(CLOSED_WINDOW), 410);
    const form = body.data;
    let chosen: ChosenPerson;
    if (form.persona === "manual") {
      const person = personSchema.safeParse({
        name: form.name?.trim() ?? "",
        birthday: form.birthday ?? "",
        gender: form.gender === "male" || form.gender === "female" ? form.gender : null,
        ...(form.phone ? { phone: form.phone.replace(/-/g, "") } : {}),
        ...(form.carrier && isV1Carrier(form.carrier) ? { carrier: form.carrier } : {}),
      });
      if (!person.success) {
        const fields = [...new Set(person.error.issues.map((issue) => String(issue.path[0] ?? "")))];
        return c.html(
          personFormPage({
            session: session.id,
            company: session.company,
            personas: personaChoices(c),
            values: { ...form },
            errors: [`다음 항목을 확인해 주세요 (check these fields): ${fields.map(fieldLabel).join(", ")}.`],
          }),
          400,
        );
      }
      chosen = { kind: "person", person: person.data };
    } else {
      chosen = { kind: "persona", persona: form.persona };
    }
    session.chosen = chosen;
    return c.html(
      codeFormPage({
        session: session.id,
        maskedPhone: maskPhone(phoneOf(chosen)),
        otpHint: EMULATOR_OTP_CODE,
        error: undefined,
      }),
    );
  });

  app.post("/browser/certification-confirm", async (c) => {
    const body = confirmBodySchema.safeParse(await readFormFields(c.req.raw));
    const session = body.success ? openSession(body.data.session) : undefined;
    if (!body.success || !session?.chosen) return c.html(errorPage(CLOSED_WINDOW), 410);
    const chosen = session.chosen;
    if (body.data.otp.trim() !== EMULATOR_OTP_CODE) {
      return c.html(
        codeFormPage({
          session: session.id,
          maskedPhone: maskPhone(phoneOf(chosen)),
          otpHint: EMULATOR_OTP_CODE,
          error: "인증번호가 일치하지 않습니다. (The code does not match.)",
        }),
        400,
      );
    }
    const request = session.request;
    if (request.api === "v2") {
      sessions.delete(session.id);
      const ids = {
        identityVerificationId: request.identityVerificationId,
        identityVerificationTxId: request.txId,
      };
      const record = createV2({
        ...(chosen.kind === "persona" ? { persona: chosen.persona } : { person: chosen.person }),
        identityVerificationId: request.identityVerificationId,
        merchantCode: session.merchantCode,
        ...(request.customData === undefined ? {} : { customData: request.customData }),
      });
      if (record) rememberPersona(c, chosen);
      return deliverV2(
        c,
        session.delivery,
        identityVerificationResponse(ids, record ? undefined : V2_RESPONSE_ERRORS.alreadyVerified),
      );
    }
    const today = kstDateAt(deps.clock.now());
    const birthday = parseDate(
      chosen.kind === "persona" ? PERSONAS[chosen.persona].birthdayOn(today) : chosen.person.birthday,
    );
    if (session.minAge !== undefined && (!birthday || internationalAge(birthday, today) < session.minAge)) {
      return c.html(refusedPage({ session: session.id, minAge: session.minAge }));
    }
    let record: StoredCertification;
    try {
      record = deps.createCertification({
        ...(chosen.kind === "persona" ? { persona: chosen.persona } : { person: chosen.person }),
        merchantCode: session.merchantCode,
        ...(session.merchantUid ? { merchant_uid: session.merchantUid } : {}),
        fields: { origin: session.pageUrl },
      });
    } catch (error) {
      if (!(error instanceof RequestError)) throw error;
      return fail(session, RSP_ERRORS.invalidParams, c);
    }
    sessions.delete(session.id);
    rememberPersona(c, chosen);
    return deliver(c, session.delivery, successRsp(record));
  });

  app.post("/browser/certification-cancel", async (c) => {
    const body = cancelBodySchema.safeParse(await readFormFields(c.req.raw));
    const session = body.success ? openSession(body.data.session) : undefined;
    if (!body.success || !session) return c.html(errorPage(CLOSED_WINDOW), 410);
    return fail(session, RSP_ERRORS.cancelled, c);
  });

  return {
    app,
    reset() {
      sessions.clear();
    },
  };
}

function isV1Carrier(value: string): value is (typeof V1_CARRIERS)[number] {
  return V1_CARRIERS.some((carrier) => carrier === value);
}

function phoneOf(chosen: ChosenPerson): string {
  return chosen.kind === "persona" ? PERSONAS[chosen.persona].phone : (chosen.person.phone ?? "01000000000");
}

/** "01000000001" → "010-****-0001". */
function maskPhone(phone: string): string {
  return `${phone.slice(0, 3)}-****-${phone.slice(-4)}`;
}

const FIELD_LABELS: Record<string, string> = {
  name: "이름 (name)",
  birthday: "생년월일 (birthday)",
  gender: "성별 (gender)",
  phone: "휴대폰 번호 (phone)",
  carrier: "통신사 (carrier)",
};

function fieldLabel(field: string): string {
  return FIELD_LABELS[field] ?? field;
}
