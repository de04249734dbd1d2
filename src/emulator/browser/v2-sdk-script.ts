/**
 * The stand-in for PortOne's V2 browser SDK (`https://cdn.portone.io/v2/browser-sdk.js`), served by
 * the emulator at `/v2/browser-sdk.js`. It defines the global `PortOne` with
 * `PortOne.requestIdentityVerification({ storeId, identityVerificationId, channelKey, redirectUrl?,
 * windowType?, customer?, customData? })` and opens the emulator's verification window (see
 * `window-app.ts`), the same one the V1 stand-in opens.
 *
 * Behaviour:
 * - The emulator's base URL comes from the script's own URL, as in the V1 stand-in.
 * - The window type is `windowType.pc` on a PC and `windowType.mobile` on a mobile browser; by default
 *   POPUP on PC and REDIRECTION on mobile, as PortOne's SDK does. IFRAME is shown as a popup.
 * - POPUP: the promise resolves to `{ transactionType: "IDENTITY_VERIFICATION", identityVerificationId,
 *   identityVerificationTxId, code?, message? }` (`code` set means failure). Messages are accepted only
 *   from the emulator's origin, from the window opened, of the expected type and request id. Closing
 *   the window without an answer resolves with the cancel failure.
 * - REDIRECTION: the page navigates to the window, which ends at `redirectUrl` with the same fields as
 *   query parameters; the promise resolves to `undefined`.
 * - Missing or malformed parameters resolve with a failure `code` (PortOne's SDK reports them too;
 *   whether it rejects instead is not documented, and a resolved failure is the easier to handle).
 */
import { V2_RESPONSE_ERRORS, WINDOW_MESSAGE_TYPE } from "./messages.js";

/** Path of the V2 window page, relative to the emulator's base URL. */
export const V2_WINDOW_PATH = "/browser/identity-verification";

const constants = JSON.stringify({
  messageType: WINDOW_MESSAGE_TYPE,
  windowPath: V2_WINDOW_PATH,
  errors: V2_RESPONSE_ERRORS,
});

/** The script's source text (plain ES2017, for the reason given in `iamport-script.ts`). */
export const V2_BROWSER_SDK_SCRIPT = `/* certgate PortOne V2 emulator: stand-in for https://cdn.portone.io/v2/browser-sdk.js (PortOne.requestIdentityVerification). */
(function () {
  "use strict";
  var C = ${constants};
  var script = document.currentScript;
  var match = script && script.src ? /^(.*)\\/v2\\/browser-sdk\\.js(?:[?#].*)?$/.exec(script.src) : null;
  var base = match ? match[1] : "";
  var emulatorOrigin = base ? new URL(base).origin : "";
  var WINDOW_TYPES = ["POPUP", "IFRAME", "REDIRECTION"];

  function isMobile() {
    if (/Android|iPhone|iPad|iPod|Mobile/i.test(navigator.userAgent)) return true;
    return navigator.maxTouchPoints > 0 && window.innerWidth < 768;
  }

  function text(value) {
    return typeof value === "string" ? value : null;
  }

  function response(id, txId, error) {
    var out = { transactionType: "IDENTITY_VERIFICATION", identityVerificationId: id, identityVerificationTxId: txId };
    if (error) { out.code = error.code; out.message = error.message; }
    return out;
  }

  /* Copies only the known fields, with their types checked: the message crossed a window boundary. */
  function readResponse(value) {
    if (!value || typeof value !== "object" || value.transactionType !== "IDENTITY_VERIFICATION") return null;
    if (typeof value.identityVerificationId !== "string" || typeof value.identityVerificationTxId !== "string") return null;
    var out = response(value.identityVerificationId, value.identityVerificationTxId, null);
    if (typeof value.code === "string") { out.code = value.code; out.message = text(value.message) || ""; }
    return out;
  }

  function randomId() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  function windowTypeOf(p) {
    var mobile = isMobile();
    var asked = p.windowType && typeof p.windowType === "object" ? (mobile ? p.windowType.mobile : p.windowType.pc) : null;
    if (WINDOW_TYPES.indexOf(asked) >= 0) return asked;
    return mobile ? "REDIRECTION" : "POPUP";
  }

  function requestIdentityVerification(params) {
    var p = params && typeof params === "object" ? params : {};
    var id = text(p.identityVerificationId) || "";
    if (!base) return Promise.resolve(response(id, "", C.errors.scriptUrlUnknown));
    if (!text(p.storeId) || !id) return Promise.resolve(response(id, "", C.errors.invalidParams));
    var redirect = windowTypeOf(p) === "REDIRECTION";
    if (redirect && !text(p.redirectUrl)) return Promise.resolve(response(id, "", C.errors.redirectUrlRequired));

    var requestId = randomId();
    var query = new URLSearchParams();
    query.set("storeId", p.storeId);
    query.set("identityVerificationId", id);
    query.set("request_id", requestId);
    query.set("mode", redirect ? "redirect" : "popup");
    query.set("origin", location.origin);
    query.set("page", location.href.split("#")[0]);
    if (text(p.channelKey)) query.set("channelKey", p.channelKey);
    if (redirect) query.set("redirectUrl", p.redirectUrl);
    if (p.customData !== undefined && p.customData !== null) {
      query.set("customData", typeof p.customData === "string" ? p.customData : JSON.stringify(p.customData));
    }
    var customer = p.customer && typeof p.customer === "object" ? p.customer : {};
    var fullName = text(customer.fullName);
    if (fullName) query.set("name", fullName);
    if (text(customer.phoneNumber)) query.set("phone", customer.phoneNumber);
    var url = base + C.windowPath + "?" + query.toString();

    if (redirect) {
      location.href = url;
      return Promise.resolve(undefined);
    }

    return new Promise(function (resolve) {
      var popup = window.open(url, "certgate_identity_verification_" + requestId, "width=480,height=760");
      if (!popup) return resolve(response(id, "", C.errors.popupBlocked));
      var watch;
      var onMessage = function (event) {
        if (event.origin !== emulatorOrigin || event.source !== popup) return;
        var data = event.data;
        if (!data || data.type !== C.messageType || data.request_id !== requestId) return;
        var answer = readResponse(data.rsp);
        if (!answer) return;
        stop();
        resolve(answer);
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
          resolve(response(id, "", C.errors.cancelled));
        }, 500);
      }, 250);
    });
  }

  window.PortOne = { requestIdentityVerification: requestIdentityVerification };
})();
`;
