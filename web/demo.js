// certgate demo page: three merchant uses of identity verification through PortOne V1 or V2 (sign-up,
// adult gate, re-verifying the account holder to change a phone number), each in popup or redirect
// mode. It plays the merchant's frontend; in sandbox mode the service also plays the
// merchant's backend (POST /sandbox/verifications). What it shows is what the browser is given:
// status, reason and the masked name. It never receives CI, DI, phone or birthday.

const TEXT = {
  ko: {
    skip: "본문으로 건너뛰기",
    tag: "데모",
    title: "PortOne 본인인증, 제대로",
    intro:
      "가맹점 백엔드가 certgate로 인증을 만들고, 브라우저는 PortOne 본인인증 창을 열고, certgate가 결과를 직접 조회해 판정합니다. 아래 결과는 가맹점이 받는 판정이며 이름은 가려져 있고 CI, DI, 전화번호는 브라우저에 오지 않습니다.",
    sandboxNotice:
      "샌드박스 모드: 인증 창은 에뮬레이터입니다. 테스트 인물을 고르고 인증번호 123456을 입력하세요.",
    apiVersion: "PortOne API 버전",
    apiHint: "두 버전 모두 같은 정책, 저장, 개인정보 규칙으로 판정합니다.",
    signupTitle: "회원가입: 한 사람에 한 계정",
    signupText: "같은 사람이 두 번째 계정을 만들려 하면 기존 계정을 알려 주고 거절합니다.",
    accountRef: "계정 ID",
    accountRefHint:
      "가맹점이 쓰는 사용자 ID입니다. 직접 입력하거나 새로 만드세요 (공백 없는 영문·숫자·기호).",
    accountRefError: "계정 ID를 입력하세요 (공백 없이 128자 이하).",
    generate: "새로 만들기",
    windowMode: "인증 창 방식",
    modeAuto: "자동 (PC는 팝업, 모바일은 리디렉션)",
    modePopup: "팝업",
    modeRedirect: "리디렉션 (이 페이지를 떠났다가 돌아옴)",
    signupSubmit: "본인인증하고 가입하기",
    adultTitle: "성인 인증: 연 나이 19세 이상",
    adultText: "청소년보호법의 연 나이(올해 − 출생연도)로 19세 이상만 들어갈 수 있습니다.",
    adultSubmit: "본인인증하고 입장하기",
    reverifyTitle: "휴대폰 번호 변경: 계정 주인 다시 확인",
    reverifyText:
      "번호를 바꾸기 전에 가입한 계정의 주인이 맞는지 다시 인증합니다. 인증 창에서 같은 사람을 고르면 통과하고, 다른 사람을 고르면 거절됩니다.",
    reverifyRef: "번호를 바꿀 계정 ID",
    reverifyRefHint: "위에서 가입한 계정이 들어갑니다. 직접 입력할 수도 있습니다.",
    reverifyRefError: "먼저 위에서 가입하거나 계정 ID를 입력하세요 (공백 없이 128자 이하).",
    reverifySubmit: "본인인증하고 번호 바꾸기",
    outcomeTitle: "결과",
    outcomeEmpty: "아직 결과가 없습니다. 인증을 하나 시작하세요.",
    footer: "certgate: 한국 본인인증(PortOne)을 위한 라이브러리, 서비스, 에뮬레이터.",
    working: "본인인증 창에서 인증을 마쳐 주세요…",
    signupVerified: "가입 완료: 본인인증을 통과했습니다.",
    adultVerified: "입장 허용: 성인 인증을 통과했습니다.",
    reverifyVerified: "번호 변경 허용: 계정 주인이 맞습니다.",
    rejected: "거절되었습니다.",
    cancelled: "본인인증이 취소되었습니다. 아무것도 인증되지 않았습니다.",
    failedWindow: "본인인증을 마치지 못했습니다. 아무것도 인증되지 않았습니다.",
    error: "요청을 처리하지 못했습니다.",
    redirectNote:
      "리디렉션으로 돌아온 주소의 값은 참고용입니다. 가맹점 백엔드는 GET /api/verifications/:id 로 판정을 확인해야 합니다.",
    popupNote: "가맹점 백엔드는 같은 판정을 GET /api/verifications/:id 로 읽습니다.",
    cancelNote: "인증은 대기 상태로 남았다가 만료됩니다. 다시 시도할 수 있습니다.",
    flow: "용도",
    api: "API",
    flowSignup: "회원가입",
    flowAdult: "성인 인증",
    flowReverify: "휴대폰 번호 변경",
    verificationId: "인증 ID",
    status: "상태",
    reason: "사유",
    nameMasked: "이름 (가림)",
    accountRefLabel: "계정 ID",
    existingAccount: "기존 계정",
    errorCode: "오류 코드",
    errorMsg: "오류 메시지",
    statuses: {
      pending: "대기 중",
      verified: "인증됨",
      rejected: "거절됨",
      expired: "만료됨",
    },
    reasonLabels: {
      not_certified: "인증 미완료",
      merchant_uid_mismatch: "다른 요청의 결과",
      already_used: "이미 사용됨",
      expired: "만료됨",
      stale_certification: "오래된 인증",
      underage: "나이 미달",
      overage: "나이 초과",
      duplicate_account: "중복 가입",
      no_person_key: "사람 식별값 없음",
      not_found: "결과 없음",
      too_many_attempts: "시도 횟수 초과",
      person_mismatch: "계정 주인과 다른 사람",
      identity_mismatch: "예상한 정보와 다름",
    },
    reasons: {
      duplicate_account: "이미 다른 계정으로 가입한 사람입니다.",
      underage: "나이 기준에 미달합니다.",
      overage: "나이 상한을 넘습니다.",
      merchant_uid_mismatch: "이 요청의 인증 결과가 아닙니다 (merchant_uid 불일치).",
      not_certified: "본인인증이 끝나지 않았습니다.",
      already_used: "이미 사용된 인증 결과입니다.",
      expired: "인증 요청이 만료되었습니다.",
      stale_certification: "너무 오래된 인증 결과입니다.",
      no_person_key: "사람을 식별할 값(CI/DI)이 없습니다.",
      not_found: "PortOne에 인증 결과가 없습니다.",
      too_many_attempts: "이 인증 요청에 실패한 시도가 너무 많습니다.",
      person_mismatch:
        "이 계정의 주인이 아닌 사람이 인증했습니다. 그 사람에 대해서는 아무것도 알려 주지 않습니다.",
      identity_mismatch: "인증한 사람의 정보가 가맹점이 알던 정보와 다릅니다.",
    },
    errors: {
      account_not_bound: "이 계정에는 본인인증으로 가입한 사람이 없습니다. 먼저 가입하세요.",
      network_error: "서버에 연결하지 못했습니다.",
    },
    attemptFailedNote:
      "이 시도는 이 인증 요청의 결과가 아니어서 아무것도 인증되지 않았습니다. 인증 요청은 대기 중으로 남습니다.",
  },
  en: {
    skip: "Skip to content",
    tag: "demo",
    title: "PortOne identity verification, done right",
    intro:
      "The merchant backend creates a verification with certgate, the browser opens PortOne's verification window, and certgate fetches the result itself and decides. Below is the decision the merchant gets: the name is masked, and CI, DI and phone never reach the browser.",
    sandboxNotice:
      "Sandbox mode: the verification window is the emulator's. Pick a test persona and enter the code 123456.",
    apiVersion: "PortOne API version",
    apiHint: "Both versions are decided by the same policies, storage and privacy rules.",
    signupTitle: "Sign-up: one account per person",
    signupText: "When the same person tries a second account, it is refused and the existing account named.",
    accountRef: "Account ID",
    accountRefHint: "The merchant's own user id. Type one or generate it (printable ASCII, no spaces).",
    accountRefError: "Enter an account ID (no spaces, at most 128 characters).",
    generate: "Generate",
    windowMode: "Verification window",
    modeAuto: "Automatic (popup on PC, redirect on mobile)",
    modePopup: "Popup",
    modeRedirect: "Redirect (leave this page and come back)",
    signupSubmit: "Verify and sign up",
    adultTitle: "Adult gate: 19 or over by year age",
    adultText: "By the Youth Protection Act's year age (this year − birth year), only 19 or over may enter.",
    adultSubmit: "Verify and enter",
    reverifyTitle: "Phone number change: verify the account holder again",
    reverifyText:
      "Before the number changes, the account's holder verifies again. Pick the same person in the verification window to pass; pick someone else and it is refused.",
    reverifyRef: "Account ID whose number changes",
    reverifyRefHint: "The account signed up above is filled in. You may also type one.",
    reverifyRefError: "Sign up above first or enter an account ID (no spaces, at most 128 characters).",
    reverifySubmit: "Verify and change the number",
    outcomeTitle: "Outcome",
    outcomeEmpty: "No outcome yet. Start a verification.",
    footer:
      "certgate: a library, a service and an emulator for Korean identity verification through PortOne.",
    working: "Finish the verification in its window…",
    signupVerified: "Signed up: the verification passed.",
    adultVerified: "Welcome in: the adult check passed.",
    reverifyVerified: "Number change allowed: the account holder verified.",
    rejected: "Refused.",
    cancelled: "The verification was cancelled. Nothing was verified.",
    failedWindow: "The verification did not finish. Nothing was verified.",
    error: "The request could not be processed.",
    redirectNote:
      "Values in a redirect URL are hints only: the merchant backend confirms the decision with GET /api/verifications/:id.",
    popupNote: "The merchant backend reads the same decision with GET /api/verifications/:id.",
    cancelNote: "The verification stays pending until it expires. You can try again.",
    flow: "Use",
    api: "API",
    flowSignup: "Sign-up",
    flowAdult: "Adult gate",
    flowReverify: "Phone number change",
    verificationId: "Verification ID",
    status: "Status",
    reason: "Reason",
    nameMasked: "Name (masked)",
    accountRefLabel: "Account ID",
    existingAccount: "Existing account",
    errorCode: "Error code",
    errorMsg: "Error message",
    reasons: {
      duplicate_account: "This person already has another account.",
      underage: "Below the age limit.",
      overage: "Above the age limit.",
      merchant_uid_mismatch: "This result belongs to another verification (merchant_uid mismatch).",
      not_certified: "The verification was not finished.",
      already_used: "This result was already used.",
      expired: "The verification request expired.",
      stale_certification: "The result is too old.",
      no_person_key: "No value identifies the person (CI/DI).",
      not_found: "PortOne has no such result.",
      too_many_attempts: "Too many failed attempts for this verification.",
      person_mismatch:
        "Someone other than this account's holder verified. Nothing about that person is revealed.",
      identity_mismatch: "The verified person's details differ from those the merchant expected.",
    },
    errors: {
      account_not_bound: "No verified person holds this account. Sign up first.",
      network_error: "The server could not be reached.",
    },
    attemptFailedNote:
      "This attempt was not this verification's own result: nothing was verified, and the verification stays pending.",
  },
};

const FLOWS = ["signup", "adult", "reverify"];
const APIS = ["v1", "v2"];
/** PortOne's V2 browser SDK, loaded outside sandbox mode. */
const PORTONE_V2_SDK_URL = "https://cdn.portone.io/v2/browser-sdk.js";
const LANG_KEY = "certgate-demo-lang";
/** The tab's memory (sessionStorage): the account ID typed, the one signed up, the verification under way. */
const STATE_KEY = "certgate-demo-state";
/** An account ID as certgate accepts it: printable ASCII without spaces, at most 128 characters. */
const ACCOUNT_REF = /^[\x21-\x7e]{1,128}$/;

const body = document.body;
const createUrl = body.dataset.createUrl;
const outcomeBox = document.getElementById("outcome");
const outcomeTitle = document.getElementById("outcome-title");
const accountRefInput = document.getElementById("account-ref");
const accountRefError = document.getElementById("account-ref-error");
const reverifyRefInput = document.getElementById("reverify-ref");
const reverifyRefError = document.getElementById("reverify-ref-error");

let lang = pickLanguage();
/** The outcome on screen, kept so a language switch can render it again. */
let current = null;

function pickLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked === "ko" || asked === "en") return asked;
  try {
    const stored = localStorage.getItem(LANG_KEY);
    if (stored === "ko" || stored === "en") return stored;
  } catch {
    // Storage can be off; the browser's language decides then.
  }
  return navigator.language?.toLowerCase().startsWith("ko") ? "ko" : "en";
}

function t(key) {
  return TEXT[lang][key] ?? key;
}

/** A status or reason code as a row shows it: in Korean, the label first and the code beside it. */
function codeLabel(group, code) {
  const label = lang === "ko" ? TEXT.ko[group][code] : undefined;
  return label ? `${label} (${code})` : code;
}

function readState() {
  try {
    const state = JSON.parse(sessionStorage.getItem(STATE_KEY) ?? "{}");
    return state && typeof state === "object" ? state : {};
  } catch {
    return {};
  }
}

function saveState(change) {
  try {
    sessionStorage.setItem(STATE_KEY, JSON.stringify({ ...readState(), ...change }));
  } catch {
    // Storage can be off: the page works, it only forgets across a redirect.
  }
}

/** A sign-up passed: that account is the one the phone-number change re-verifies. */
function rememberSignedUp(accountRef) {
  saveState({ signedUp: accountRef });
  reverifyRefInput.value = accountRef;
}

/** Checks an account ID field; shows its error and focuses it when it is not one. */
function readAccountRef(input, error) {
  const ref = input.value.trim();
  const ok = ACCOUNT_REF.test(ref);
  if (ok) input.removeAttribute("aria-invalid");
  else input.setAttribute("aria-invalid", "true");
  error.hidden = ok;
  if (!ok) input.focus();
  return ok ? ref : null;
}

function applyLanguage() {
  document.documentElement.lang = lang;
  document.title = lang === "ko" ? "certgate 데모: 본인인증" : "certgate demo: identity verification";
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === lang));
  }
  if (current) renderOutcome(current, false);
}

function newAccountRef() {
  const bytes = new Uint8Array(4);
  crypto.getRandomValues(bytes);
  return `user-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** The page itself, with the query it reads when a redirect flow comes back. */
function returnUrl(flow, api) {
  const url = new URL(location.pathname, location.origin);
  url.searchParams.set("flow", flow);
  url.searchParams.set("api", api);
  url.searchParams.set("lang", lang);
  return url.toString();
}

/**
 * The V2 SDK sits where the V1 one does: beside the emulator's `/v1/iamport.js` in sandbox mode,
 * on PortOne's CDN otherwise. Loaded once, on first use, so a V1-only visit never fetches it.
 */
let v2Sdk = null;
function loadV2Sdk() {
  if (window.PortOne) return Promise.resolve(window.PortOne);
  if (!v2Sdk) {
    const v1 = document.getElementById("v1-sdk")?.src ?? "";
    const local = /^(.*)\/v1\/iamport\.js$/.exec(v1);
    const src =
      local && new URL(v1).origin === location.origin ? `${local[1]}/v2/browser-sdk.js` : PORTONE_V2_SDK_URL;
    v2Sdk = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = () => (window.PortOne ? resolve(window.PortOne) : reject(new Error("no PortOne")));
      script.onerror = () => {
        v2Sdk = null;
        reject(new Error("V2 SDK failed to load"));
      };
      document.head.append(script);
    });
  }
  return v2Sdk;
}

function chosenApi() {
  const api = document.querySelector("input[name=api]:checked")?.value;
  return APIS.includes(api) ? api : "v1";
}

async function postJson(url, payload) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(payload),
  });
  let json = null;
  try {
    json = await res.json();
  } catch {
    // A body that is not JSON is reported by status alone.
  }
  return { status: res.status, json: json && typeof json === "object" ? json : {} };
}

function setBusy(form, busy) {
  const button = form.querySelector("button[type=submit]");
  button.disabled = busy;
  form.setAttribute("aria-busy", String(busy));
}

async function start(form) {
  const flow = form.dataset.flow;
  const mode = form.querySelector("input[name=mode]:checked")?.value ?? "auto";
  const api = chosenApi();
  const request = { return_url: returnUrl(flow, api) };
  if (api === "v2") request.api_version = "v2";
  if (flow === "adult") {
    request.policy = { min_age: 19, age_rule: "year" };
  } else {
    const ref =
      flow === "signup"
        ? readAccountRef(accountRefInput, accountRefError)
        : readAccountRef(reverifyRefInput, reverifyRefError);
    if (!ref) return;
    request.account_ref = ref;
    // Re-verifying asks "is this the account's own person?", not "may this person sign up?".
    if (flow === "reverify") request.purpose = "reverify";
  }

  setBusy(form, true);
  show({ kind: "working", flow, api });
  try {
    const created = await postJson(createUrl, request);
    if (created.status !== 201) {
      show(
        {
          kind: "error",
          flow,
          api,
          code: created.json.error?.code ?? `HTTP ${created.status}`,
          accountRef: request.account_ref ?? null,
        },
        true,
      );
      return;
    }
    const verification = created.json;
    // A redirect leaves the page: what it comes back to is found again by the verification's id.
    saveState({ pending: { id: verification.id, flow, accountRef: request.account_ref ?? null } });
    if (api === "v2") {
      await startV2(verification, { flow, mode, accountRef: request.account_ref ?? null });
      return;
    }
    // PortOne's SDK takes the merchant code once, then the parameters the backend issued.
    window.IMP.init(verification.sdk.imp_code);
    const params = {
      ...verification.sdk.certification,
      // The service's redirect route on this page's own origin: the page and the service share it,
      // whichever host name the visitor typed.
      m_redirect_url: new URL("/certifications/redirect", location.href).toString(),
    };
    if (mode === "popup") params.popup = true;
    if (mode === "redirect") params.popup = false;
    const rsp = await new Promise((resolve) => window.IMP.certification(params, resolve));
    if (rsp?.success !== true) {
      // The browser's word is a hint: a failed window means nothing to confirm, not a verdict.
      show(
        {
          kind: rsp?.error_code === "F0000" ? "cancelled" : "failedWindow",
          flow,
          errorCode: rsp?.error_code ?? null,
          errorMsg: rsp?.error_msg ?? null,
        },
        true,
      );
      return;
    }
    // The merchant_uid is ours, not the window's: certgate checks that the record belongs to it.
    const completed = await postJson("/certifications", {
      imp_uid: rsp.imp_uid,
      merchant_uid: verification.merchant_uid,
    });
    showCompletion(completed, { flow, api, accountRef: request.account_ref ?? null });
  } catch {
    show({ kind: "error", flow, api, code: "network_error" }, true);
  } finally {
    setBusy(form, false);
  }
}

/** The V2 flow: PortOne.requestIdentityVerification, then POST /identity-verifications. */
async function startV2(verification, { flow, mode, accountRef }) {
  const PortOne = await loadV2Sdk();
  const params = {
    ...verification.sdk.identity_verification,
    // As in V1: the service's redirect route on this page's own origin.
    redirectUrl: new URL("/identity-verifications/redirect", location.href).toString(),
  };
  if (mode === "popup") params.windowType = { pc: "POPUP", mobile: "POPUP" };
  if (mode === "redirect") params.windowType = { pc: "REDIRECTION", mobile: "REDIRECTION" };
  const response = await PortOne.requestIdentityVerification(params);
  // Redirected: the page is going away and comes back through the service.
  if (response === undefined) return;
  if (typeof response?.code === "string") {
    // A failure code from the browser is a hint: nothing to confirm, not a verdict.
    show(
      {
        kind: response.code === "FAILURE_TYPE_PG" ? "cancelled" : "failedWindow",
        flow,
        api: "v2",
        errorCode: response.code,
        errorMsg: response.message ?? null,
      },
      true,
    );
    return;
  }
  // The id is the one certgate issued, not the window's: certgate fetches the record itself.
  const completed = await postJson("/identity-verifications", {
    identityVerificationId: verification.identity_verification_id,
  });
  showCompletion(completed, { flow, api: "v2", accountRef });
}

/** The service's answer to a completion (POST /certifications or /identity-verifications). */
function showCompletion(completed, { flow, api, accountRef }) {
  const v = completed.json.verification;
  if (!v) {
    show({ kind: "error", flow, api, code: completed.json.error?.code ?? `HTTP ${completed.status}` }, true);
    return;
  }
  showDecision({
    flow,
    api,
    via: "popup",
    id: v.id,
    status: v.status,
    reason: v.reason ?? (completed.status === 409 ? "already_used" : null),
    nameMasked: v.name_masked ?? null,
    accountRef,
    existing: v.existing_account_ref ?? null,
  });
}

/** A decision, from a completion's answer or a redirect's query. */
function showDecision(decision) {
  const verified = decision.status === "verified";
  if (verified && decision.flow === "signup" && decision.accountRef) rememberSignedUp(decision.accountRef);
  show({ kind: verified ? "verified" : "rejected", ...decision }, true);
}

function show(outcome, focus) {
  if (!outcome.api) outcome.api = "v1";
  current = outcome;
  renderOutcome(outcome, focus);
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

const FLOW_NAMES = { signup: "flowSignup", adult: "flowAdult", reverify: "flowReverify" };
const VERIFIED_HEADLINES = { signup: "signupVerified", adult: "adultVerified", reverify: "reverifyVerified" };

function renderOutcome(o, focus) {
  const parts = [];
  const rows = [
    [t("flow"), t(FLOW_NAMES[o.flow])],
    [t("api"), o.api === "v2" ? "V2" : "V1"],
  ];
  if (o.kind === "working") {
    parts.push(element("p", "note", t("working")));
  } else if (o.kind === "verified" || o.kind === "rejected") {
    const verified = o.kind === "verified";
    const headline = verified ? t(VERIFIED_HEADLINES[o.flow]) : t("rejected");
    parts.push(element("p", `verdict ${verified ? "ok" : "no"}`, headline));
    if (o.reason) parts.push(element("p", null, TEXT[lang].reasons[o.reason] ?? o.reason));
    // A failed attempt (another record, an unknown id) does not finish the verification.
    if (o.status === "pending") parts.push(element("p", "note", t("attemptFailedNote")));
    rows.push([t("status"), codeLabel("statuses", o.status)]);
    if (o.reason) rows.push([t("reason"), codeLabel("reasonLabels", o.reason)]);
    if (o.nameMasked) rows.push([t("nameMasked"), o.nameMasked]);
    if (o.accountRef) rows.push([t("accountRefLabel"), o.accountRef]);
    if (o.existing) rows.push([t("existingAccount"), o.existing]);
    rows.push([t("verificationId"), o.id]);
  } else if (o.kind === "cancelled" || o.kind === "failedWindow") {
    parts.push(element("p", "verdict cancel", t(o.kind)));
    if (o.errorCode) rows.push([t("errorCode"), o.errorCode]);
    if (o.errorMsg) rows.push([t("errorMsg"), o.errorMsg]);
  } else {
    parts.push(element("p", "verdict error", t("error")));
    const explained = TEXT[lang].errors[o.code];
    if (explained) parts.push(element("p", null, explained));
    if (o.accountRef) rows.push([t("accountRefLabel"), o.accountRef]);
    rows.push([t("errorCode"), o.code]);
  }
  const list = element("dl");
  for (const [term, value] of rows) {
    list.append(element("dt", null, term), element("dd", null, value));
  }
  parts.push(list);
  if (o.kind === "verified" || o.kind === "rejected") {
    parts.push(element("p", "note", t(o.via === "redirect" ? "redirectNote" : "popupNote")));
  }
  if (o.kind === "cancelled" || o.kind === "failedWindow") parts.push(element("p", "note", t("cancelNote")));
  outcomeBox.replaceChildren(...parts);
  if (focus) outcomeTitle.focus();
}

/**
 * Back from a redirect flow: the service sent the visitor here with the decision in the query. The
 * account ID is the one this tab started the verification with (the query does not carry it).
 */
function readReturn() {
  const query = new URLSearchParams(location.search);
  const flow = query.get("flow");
  const api = APIS.includes(query.get("api")) ? query.get("api") : "v1";
  const id = query.get("verification_id");
  const status = query.get("status");
  if (!FLOWS.includes(flow) || !id || !status) return;
  const pending = readState().pending;
  const started = pending && pending.id === id && pending.flow === flow ? pending : null;
  showDecision({
    flow,
    api,
    via: "redirect",
    id,
    status,
    reason: query.get("reason"),
    nameMasked: null,
    accountRef: started?.accountRef ?? null,
    existing: query.get("existing_account_ref"),
  });
}

for (const button of document.querySelectorAll("[data-lang]")) {
  button.addEventListener("click", () => {
    lang = button.dataset.lang;
    try {
      localStorage.setItem(LANG_KEY, lang);
    } catch {
      // Not remembered then; the page still switches.
    }
    applyLanguage();
  });
}
document.getElementById("generate-ref").addEventListener("click", () => {
  accountRefInput.value = newAccountRef();
  saveState({ accountRef: accountRefInput.value });
  accountRefInput.focus();
});
accountRefInput.addEventListener("input", () => saveState({ accountRef: accountRefInput.value }));
for (const form of document.querySelectorAll("form[data-flow]")) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    start(form);
  });
}
document.getElementById("sandbox-notice").hidden = body.dataset.mode !== "sandbox";
// The account ID survives a redirect and a reload of this tab; a new tab starts with a fresh one.
const remembered = readState();
accountRefInput.value = typeof remembered.accountRef === "string" ? remembered.accountRef : newAccountRef();
saveState({ accountRef: accountRefInput.value });
reverifyRefInput.value = typeof remembered.signedUp === "string" ? remembered.signedUp : "";
// Back from a V2 redirect, keep V2 chosen.
if (new URLSearchParams(location.search).get("api") === "v2")
  document.getElementById("api-v2").checked = true;
applyLanguage();
readReturn();
