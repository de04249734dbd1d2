/**
 * HTML of the emulator's verification window: choose a person, enter the one-time code, and the
 * pages that end the flow. Server-rendered, bilingual (Korean first), usable with the keyboard alone;
 * every interpolated value is escaped.
 */
import type { CertificationRsp, IdentityVerificationResponse } from "./messages.js";
import { WINDOW_MESSAGE_TYPE } from "./messages.js";

/** Markup that is already safe; only {@link html} and {@link raw} make one. */
export interface SafeHtml {
  readonly html: string;
}

type HtmlValue = SafeHtml | string | number | null | undefined | false | readonly HtmlValue[];

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return "";
  if (typeof value === "string") return escapeHtml(value);
  if (typeof value === "number") return String(value);
  if (isSafeHtml(value)) return value.html;
  return value.map(render).join("");
}

function isSafeHtml(value: SafeHtml | readonly HtmlValue[]): value is SafeHtml {
  return !Array.isArray(value);
}

/** Tagged template: interpolations are escaped unless they are {@link SafeHtml}. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? "";
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? "");
  });
  return { html: out };
}

/** JSON for an inline `<script>`: `<` is escaped so no string can close the element. */
function scriptJson(value: unknown): SafeHtml {
  return { html: JSON.stringify(value).replace(/</g, "\\u003c") };
}

const STYLE = `
:root { color-scheme: light; font-family: system-ui, "Apple SD Gothic Neo", "Noto Sans KR", sans-serif; }
body { margin: 0; background: #f4f6f8; color: #1b1f24; line-height: 1.5; }
main { max-width: 30rem; margin: 0 auto; padding: 1.25rem; }
h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
.en { display: block; font-size: .85em; font-weight: 400; color: #4a5561; }
.banner { background: #fff4d6; border: 1px solid #e0b84c; border-radius: .5rem; padding: .5rem .75rem; font-size: .9rem; }
fieldset { border: 1px solid #c9d1da; border-radius: .5rem; margin: 1rem 0; padding: .5rem .75rem .75rem; background: #fff; }
legend { font-weight: 600; padding: 0 .25rem; }
.choice { display: flex; gap: .5rem; align-items: flex-start; padding: .3rem 0; }
.choice small { display: block; color: #4a5561; }
.last { display: inline-block; font-size: .8rem; font-weight: 600; background: #e0e7ff; color: #3730a3; border-radius: 999px; padding: 0 .5rem; }
:lang(ko) { word-break: keep-all; overflow-wrap: break-word; }
label.field { display: block; margin-top: .6rem; font-weight: 500; }
input[type=text], input[type=tel], input[type=date], select { display: block; width: 100%; box-sizing: border-box;
  font: inherit; padding: .45rem .5rem; border: 1px solid #8a96a3; border-radius: .4rem; background: #fff; }
.actions { display: flex; gap: .5rem; margin-top: 1rem; }
button { font: inherit; padding: .55rem 1rem; border-radius: .4rem; border: 1px solid #1a56db; cursor: pointer; }
button.primary { background: #1a56db; color: #fff; }
button.secondary { background: #fff; color: #1a56db; }
:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.error { color: #b42318; font-weight: 600; }
.hint { color: #4a5561; font-size: .9rem; }
`;

function page(title: string, body: SafeHtml, script?: SafeHtml): string {
  return `<!doctype html>
<html lang="ko">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<p class="banner">certgate PortOne 에뮬레이터: 실제 본인인증이 아닙니다. <span lang="en">Emulator, not a real verification.</span></p>
${body.html}
</main>
${script ? `<script>${script.html}</script>` : ""}
</body>
</html>`;
}

/** A persona as the window lists it. */
export interface PersonaChoice {
  id: string;
  name: string;
  birthday: string;
  /** What the persona is, Korean and English, in plain words. */
  shown: { ko: string; en: string };
  /** The persona last verified in this browser: the tester's "same person". */
  last: boolean;
}

/** Values to show again in the form (from the merchant's parameters or a rejected submission). */
export interface PersonFormValues {
  persona?: string | undefined;
  name?: string | undefined;
  birthday?: string | undefined;
  gender?: string | undefined;
  phone?: string | undefined;
  carrier?: string | undefined;
}

const CARRIER_LABELS: ReadonlyArray<readonly [string, string]> = [
  ["SKT", "SKT"],
  ["KT", "KT"],
  ["LGT", "LG U+"],
  ["SKT_MVNO", "알뜰폰 SKT (MVNO)"],
  ["KT_MVNO", "알뜰폰 KT (MVNO)"],
  ["LGT_MVNO", "알뜰폰 LG U+ (MVNO)"],
];

function cancelForm(session: string): SafeHtml {
  return html`<form method="post" action="certification-cancel">
<input type="hidden" name="session" value="${session}">
<button type="submit" class="secondary">취소 <span lang="en">(Cancel)</span></button>
</form>`;
}

function errorBlock(errors: readonly string[]): SafeHtml {
  if (errors.length === 0) return html``;
  return html`<div id="form-error" class="error" role="alert" tabindex="-1">
<p>${errors.join(" ")}</p>
</div>`;
}

/** Step 1: pick a persona or type a person, then ask for the code. */
export function personFormPage(input: {
  session: string;
  company: string | undefined;
  personas: readonly PersonaChoice[];
  values: PersonFormValues;
  errors: readonly string[];
}): string {
  const { values } = input;
  const selected = values.persona ?? input.personas.find((p) => p.last)?.id ?? "adult";
  const personaChoices = input.personas.map(
    (p) => html`<div class="choice">
<input type="radio" name="persona" id="persona-${p.id}" value="${p.id}"${selected === p.id ? html` checked` : ""}>
<label for="persona-${p.id}">${p.name} · ${p.birthday}${p.last ? html` <span class="last">지난번에 인증한 사람 <span lang="en">(verified last time)</span></span>` : ""}<small>${p.shown.ko} <span lang="en">(${p.shown.en})</span></small></label>
</div>`,
  );
  const carrierOptions = CARRIER_LABELS.map(
    ([value, label]) =>
      html`<option value="${value}"${values.carrier === value ? html` selected` : ""}>${label}</option>`,
  );
  const gender = values.gender ?? "";
  const body = html`<h1>휴대폰 본인인증<span class="en" lang="en">Phone verification</span></h1>
${input.company ? html`<p>${input.company}에서 본인인증을 요청합니다.</p>` : ""}
${errorBlock(input.errors)}
<form method="post" action="certification-request">
<input type="hidden" name="session" value="${input.session}">
<fieldset>
<legend>인증할 사람 <span lang="en">(Who is verifying)</span></legend>
<p class="hint">다른 사람으로 인증하려면 다른 인물을 고르세요. <span lang="en">To verify as someone else, pick another person.</span></p>
${personaChoices}
<div class="choice">
<input type="radio" name="persona" id="persona-manual" value="manual"${selected === "manual" ? html` checked` : ""}>
<label for="persona-manual">직접 입력<small lang="en">Type a person below</small></label>
</div>
</fieldset>
<fieldset>
<legend>직접 입력 <span lang="en">(Typed person: used when "직접 입력" is chosen)</span></legend>
<label class="field" for="name">이름 <span lang="en">(Name)</span></label>
<input type="text" id="name" name="name" autocomplete="name" value="${values.name ?? ""}">
<label class="field" for="birthday">생년월일 <span lang="en">(Birthday)</span></label>
<input type="date" id="birthday" name="birthday" value="${values.birthday ?? ""}">
<label class="field" for="gender">성별 <span lang="en">(Gender)</span></label>
<select id="gender" name="gender">
<option value=""${gender === "" ? html` selected` : ""}>선택 안 함 (none)</option>
<option value="male"${gender === "male" ? html` selected` : ""}>남성 (male)</option>
<option value="female"${gender === "female" ? html` selected` : ""}>여성 (female)</option>
</select>
<label class="field" for="phone">휴대폰 번호 <span lang="en">(Phone, digits)</span></label>
<input type="tel" id="phone" name="phone" inputmode="numeric" autocomplete="tel" value="${values.phone ?? ""}">
<label class="field" for="carrier">통신사 <span lang="en">(Carrier)</span></label>
<select id="carrier" name="carrier">${carrierOptions}</select>
</fieldset>
<div class="actions">
<button type="submit" class="primary">인증번호 받기 <span lang="en">(Send code)</span></button>
</div>
</form>
<div class="actions">${cancelForm(input.session)}</div>`;
  return page(
    "본인인증 (certgate emulator)",
    body,
    focusScript(input.errors.length > 0 ? "form-error" : undefined),
  );
}

/** Step 2: the one-time code. */
export function codeFormPage(input: {
  session: string;
  maskedPhone: string;
  otpHint: string;
  error: string | undefined;
}): string {
  const body = html`<h1>인증번호 입력<span class="en" lang="en">Enter the code</span></h1>
<p>${input.maskedPhone}(으)로 인증번호를 보냈습니다. <span lang="en">A code was sent to ${input.maskedPhone}.</span></p>
<p class="hint">에뮬레이터의 인증번호는 <strong>${input.otpHint}</strong> 입니다. <span lang="en">The emulator's code is ${input.otpHint}.</span></p>
<form method="post" action="certification-confirm">
<input type="hidden" name="session" value="${input.session}">
<label class="field" for="otp">인증번호 <span lang="en">(One-time code)</span></label>
<input type="text" id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code" maxlength="6" required
  ${input.error ? html`aria-invalid="true" aria-describedby="otp-error"` : ""} autofocus>
${input.error ? html`<p id="otp-error" class="error" role="alert">${input.error}</p>` : ""}
<div class="actions">
<button type="submit" class="primary">확인 <span lang="en">(Confirm)</span></button>
</div>
</form>
<div class="actions">${cancelForm(input.session)}</div>`;
  return page("인증번호 입력 (certgate emulator)", body, focusScript("otp"));
}

/** Danal's `min_age` refusal: a failure screen whose close button answers like a cancel. */
export function refusedPage(input: { session: string; minAge: number }): string {
  const body = html`<h1 id="refused" tabindex="-1">인증실패<span class="en" lang="en">Verification failed</span></h1>
<p class="error" role="alert">만 ${input.minAge}세 이상만 본인인증을 할 수 있습니다. <span lang="en">Only people aged ${input.minAge} or over (international age) may verify here.</span></p>
<form method="post" action="certification-cancel">
<input type="hidden" name="session" value="${input.session}">
<button type="submit" class="primary">닫기 <span lang="en">(Close)</span></button>
</form>`;
  return page("인증실패 (certgate emulator)", body, focusScript("refused"));
}

/**
 * The end of a popup flow: posts `rsp` (V1's callback argument or V2's response) to the opener (its
 * origin only), then closes itself.
 */
export function deliverPage(input: {
  rsp: CertificationRsp | IdentityVerificationResponse;
  requestId: string;
  openerOrigin: string;
}): string {
  const done = "success" in input.rsp ? input.rsp.success : input.rsp.code === undefined;
  const body = html`<h1 id="done" tabindex="-1">${done ? "본인인증이 완료되었습니다" : "본인인증을 마치지 못했습니다"}<span class="en" lang="en">${done ? "Verification complete" : "Verification not completed"}</span></h1>
<p>이 창은 곧 닫힙니다. <span lang="en">This window closes by itself.</span></p>
<button type="button" class="secondary" id="close">창 닫기 <span lang="en">(Close window)</span></button>`;
  const script = html`(function () {
  var message = { type: ${scriptJson(WINDOW_MESSAGE_TYPE)}, request_id: ${scriptJson(input.requestId)}, rsp: ${scriptJson(input.rsp)} };
  document.getElementById("close").addEventListener("click", function () { window.close(); });
  if (window.opener) window.opener.postMessage(message, ${scriptJson(input.openerOrigin)});
  setTimeout(function () { window.close(); }, 100);
})();`;
  return page("본인인증 결과 (certgate emulator)", body, script);
}

/** A window that cannot go on and has nobody to answer (an expired or malformed request). */
export function errorPage(message: string): string {
  const body = html`<h1 id="error" tabindex="-1">본인인증을 진행할 수 없습니다<span class="en" lang="en">Verification cannot continue</span></h1>
<p class="error" role="alert">${message}</p>
<button type="button" class="secondary" id="close">창 닫기 <span lang="en">(Close window)</span></button>`;
  const script = html`document.getElementById("close").addEventListener("click", function () { window.close(); });`;
  return page("본인인증 오류 (certgate emulator)", body, script);
}

function focusScript(id: string | undefined): SafeHtml | undefined {
  if (!id) return undefined;
  return html`(function () { var el = document.getElementById(${scriptJson(id)}); if (el) el.focus(); })();`;
}
