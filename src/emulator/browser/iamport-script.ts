/**
 * The stand-in for PortOne's V1 browser SDK (`https://cdn.iamport.kr/v1/iamport.js`), served by the
 * emulator at `/v1/iamport.js`. It defines the global `IMP` with `IMP.init(code)` and
 * `IMP.certification(params, callback)` taking PortOne's parameters, and opens the emulator's
 * verification window (see `window-app.ts`).
 *
 * The script is plain ES2017 kept in a string: the package ships compiled TypeScript only, and a
 * function's `toString()` would carry whatever helpers the compiler injects.
 *
 * Behaviour:
 * - The emulator's base URL comes from the script's own URL (`document.currentScript.src` minus
 *   `/v1/iamport.js`), so it works at `/v1/iamport.js` of a lone emulator and at
 *   `/emulator/v1/iamport.js` of certgate's sandbox alike.
 * - Popup mode (PC, or `popup: true`): `window.open` + `postMessage`. The page accepts a message
 *   only from the emulator's origin, from the window it opened, of the expected type and request id;
 *   the window posts only to the origin of the page that opened it. Closing the window without an
 *   answer calls back with the cancel `rsp`.
 * - Redirect mode (mobile without `popup: true`, or `popup: false`): the page navigates to the
 *   window, which ends at `m_redirect_url?imp_uid=…&merchant_uid=…&success=…`. Real PortOne always
 *   uses a popup on PC; the stand-in honours `popup: false` there so the redirect flow can be shown
 *   on a desktop.
 * - Mobile: a mobile user agent, or a viewport narrower than 768 CSS pixels on a touch device.
 */
import { RSP_ERRORS, WINDOW_MESSAGE_TYPE } from "./messages.js";

/** Path of the window page, relative to the emulator's base URL. */
export const WINDOW_PATH = "/browser/certification";

/** Parameters of `IMP.certification` the stand-in forwards to the window, as PortOne names them. */
export const FORWARDED_PARAMS = [
  "merchant_uid",
  "min_age",
  "name",
  "phone",
  "carrier",
  "company",
  "m_redirect_url",
  "pg",
  "channelKey",
] as const;

const constants = JSON.stringify({
  messageType: WINDOW_MESSAGE_TYPE,
  windowPath: WINDOW_PATH,
  forwarded: FORWARDED_PARAMS,
  errors: RSP_ERRORS,
});

/** The script's source text. */
export const IAMPORT_SCRIPT = `/* certgate PortOne V1 emulator: stand-in for https://cdn.iamport.kr/v1/iamport.js (IMP.init, IMP.certification). */
(function () {
  "use strict";
  var C = ${constants};
  var script = document.currentScript;
  var match = script && script.src ? /^(.*)\\/v1\\/iamport\\.js(?:[?#].*)?$/.exec(script.src) : null;
  var base = match ? match[1] : "";
  var emulatorOrigin = base ? new URL(base).origin : "";
  var userCode = null;

  function isMobile() {
    if (/Android|iPhone|iPad|iPod|Mobile/i.test(navigator.userAgent)) return true;
    return navigator.maxTouchPoints > 0 && window.innerWidth < 768;
  }

  function text(value) {
    return typeof value === "string" ? value : null;
  }

  function failure(error, merchantUid) {
    return {
      success: false, imp_uid: null, merchant_uid: merchantUid, error_code: error.code,
      error_msg: error.message, pg_provider: "danal", pg_type: "certification"
    };
  }

  /* Copies only the known fields, with their types checked: the message crossed a window boundary. */
  function readRsp(value) {
    if (!value || typeof value !== "object" || typeof value.success !== "boolean") return null;
    return {
      success: value.success, imp_uid: text(value.imp_uid), merchant_uid: text(value.merchant_uid),
      error_code: text(value.error_code), error_msg: text(value.error_msg),
      pg_provider: text(value.pg_provider), pg_type: "certification"
    };
  }

  function randomId() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  function certification(params, callback) {
    var p = params && typeof params === "object" ? params : {};
    var answered = false;
    var answer = function (rsp) {
      if (answered) return;
      answered = true;
      if (typeof callback === "function") setTimeout(function () { callback(rsp); }, 0);
    };
    var merchantUid = text(p.merchant_uid);
    if (!userCode) return answer(failure(C.errors.notInitialized, merchantUid));
    if (!base) return answer(failure(C.errors.scriptUrlUnknown, merchantUid));
    var redirect = p.popup === false || (p.popup !== true && isMobile());
    if (redirect && !text(p.m_redirect_url)) return answer(failure(C.errors.redirectUrlRequired, merchantUid));

    var requestId = randomId();
    var query = new URLSearchParams();
    query.set("imp", userCode);
    query.set("request_id", requestId);
    query.set("mode", redirect ? "redirect" : "popup");
    query.set("origin", location.origin);
    query.set("page", location.href.split("#")[0]);
    C.forwarded.forEach(function (key) {
      if (p[key] !== undefined && p[key] !== null && p[key] !== "") query.set(key, String(p[key]));
    });
    var url = base + C.windowPath + "?" + query.toString();

    if (redirect) {
      location.href = url;
      return;
    }

    var popup = window.open(url, "certgate_certification_" + requestId, "width=480,height=760");
    if (!popup) return answer(failure(C.errors.popupBlocked, merchantUid));
    var watch;
    var onMessage = function (event) {
      if (event.origin !== emulatorOrigin || event.source !== popup) return;
      var data = event.data;
      if (!data || data.type !== C.messageType || data.request_id !== requestId) return;
      var rsp = readRsp(data.rsp);
      if (!rsp) return;
      stop();
      answer(rsp);
    };
    var stop = function () {
      window.removeEventListener("message", onMessage);
      clearInterval(watch);
    };
    window.addEventListener("message", onMessage);
    watch = setInterval(function () {
      if (!popup.closed) return;
      clearInterval(watch);
      /* The window posts its answer just before it closes: give that message time to arrive. */
      setTimeout(function () {
        stop();
        answer(failure(C.errors.cancelled, merchantUid));
      }, 500);
    }, 250);
  }

  window.IMP = {
    init: function (code) {
      userCode = typeof code === "string" && code ? code : null;
    },
    certification: certification
  };
})();
`;
