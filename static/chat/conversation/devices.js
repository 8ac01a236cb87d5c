/*
 * Continue on another device (#device-dialog, templates/chat/device_dialog.html):
 * shows a one-time code with its QR code, takes a code from another device, signs
 * this browser out.
 *
 *   deviceDialog(root, client, options) -> {joined()}: joined() when the server
 *     says a code of this visitor was used (device.joined)
 *     options: {urls: {code, redeem, signOut} (the page's config.devices),
 *       request(url, body) -> Promise of {ok, status, data} (default: pageRequest),
 *       onToken(token) (the widget: its session's new token after a code),
 *       forget() (signed out: the component clears what it shows and keeps),
 *       toast(text)}
 *   After a code or a sign-out the client reconnects: into the other device's
 *   conversation, or a new one (unsent messages of the old one are dropped).
 *   pageRequest(root) -> request: the chat page's calls (its cookie and CSRF token).
 */
import { focusAfterClose } from "../lib/dom.js";
import { t } from "../lib/i18n.js";

const IDS = {
  button: "device-button", dialog: "device-dialog", close: "device-close",
  show: "device-show", result: "device-result", qr: "device-qr",
  address: "device-address", code: "device-code", expiry: "device-expiry",
  enter: "device-enter", input: "device-code-input", enterButton: "device-enter-button",
  enterError: "device-enter-error", signOut: "device-sign-out", confirm: "device-confirm",
  yes: "device-sign-out-yes", no: "device-sign-out-no",
};

export function pageRequest(root) {
  return async (url, body) => {
    const field = root.querySelector('input[name="csrfmiddlewaretoken"]');
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": field ? field.value : "",
      },
      body: JSON.stringify(body || {}),
      credentials: "same-origin",
    });
    let data = null;
    try {
      data = await response.json();
    } catch (err) {
      data = null;
    }
    return { ok: response.ok, status: response.status, data: data || {} };
  };
}

function detail(answer) {
  const error = answer && answer.data && answer.data.error;
  return error && typeof error.detail === "string" && error.detail
    ? error.detail : t("Something went wrong. Please try again.");
}

export function deviceDialog(root, client, options) {
  const el = {};
  for (const [name, id] of Object.entries(IDS)) {
    el[name] = root.querySelector("#" + id);
  }
  if (!el.dialog || !el.button || !options.urls) {
    return { joined() {} };
  }
  const urls = options.urls;
  const request = options.request || pageRequest(root);
  let expiryTimer = null;

  const call = async (url, body) => {
    try {
      return await request(url, body);
    } catch (err) {
      return { ok: false, status: 0, data: { error: { detail: t("You are offline. Please try again.") } } };
    }
  };

  function setBusy(button, busy) {
    button.disabled = busy;
    button.setAttribute("aria-busy", busy ? "true" : "false");
  }

  async function showCode() {
    setBusy(el.show, true);
    const answer = await call(urls.code);
    setBusy(el.show, false);
    if (!answer.ok || typeof answer.data.code !== "string") {
      el.expiry.textContent = detail(answer);
      el.result.hidden = false;
      el.result.setAttribute("data-expired", "true");
      return;
    }
    const data = answer.data;
    el.qr.src = data.qr;
    el.code.textContent = data.code;
    el.address.textContent = data.link.split("#")[0].replace(/^https?:\/\//, "");
    el.result.hidden = false;
    el.result.setAttribute("data-expired", "false");
    el.expiry.textContent = t("This code works once, for 10 minutes.");
    el.show.textContent = t("Get a new code");
    el.show.classList.replace("button-primary", "button-quiet");
    clearTimeout(expiryTimer);
    expiryTimer = setTimeout(() => {
      el.result.setAttribute("data-expired", "true");
      el.expiry.textContent = t("This code has expired. Get a new one.");
    }, Math.max(0, (data.expires_in || 600) * 1000 - 2000));
  }

  async function enter(event) {
    event.preventDefault();
    const code = el.input.value.trim();
    if (!code) {
      el.enterError.textContent = t("Type the code shown on your other device.");
      el.input.focus();
      return;
    }
    el.enterError.textContent = "";
    setBusy(el.enterButton, true);
    const answer = await call(urls.redeem, { code });
    setBusy(el.enterButton, false);
    if (!answer.ok) {
      el.enterError.textContent = detail(answer);
      el.input.setAttribute("aria-invalid", "true");
      el.input.focus();
      return;
    }
    el.input.value = "";
    el.input.removeAttribute("aria-invalid");
    close();
    if (typeof options.onToken === "function") {
      options.onToken(answer.data.token);
    }
    client.connection.renew(); // into the other device's conversation
    options.toast(t("This device now continues your conversation."));
  }

  async function signOut() {
    setBusy(el.yes, true);
    const answer = await call(urls.signOut);
    setBusy(el.yes, false);
    if (!answer.ok) {
      options.toast(detail(answer));
      return;
    }
    close();
    reset();
    for (const entry of client.outbox.list(null).slice()) {
      if (entry.upload) {
        client.uploader.drop(entry);
      } else {
        client.outbox.remove(entry);
      }
    }
    options.forget();
    if (typeof options.onToken === "function") {
      options.onToken(answer.data.token);
    }
    client.connection.renew();
    options.toast(t("This device is signed out of the conversation."));
  }

  function reset() {
    clearTimeout(expiryTimer);
    el.result.hidden = true;
    el.qr.removeAttribute("src");
    el.code.textContent = "";
    el.show.textContent = t("Get a code");
    el.show.classList.replace("button-quiet", "button-primary");
    el.confirm.hidden = true;
    el.signOut.hidden = false;
  }

  function open() {
    el.enterError.textContent = "";
    el.dialog.showModal();
    el.button.setAttribute("aria-expanded", "true");
  }

  function close() {
    if (el.dialog.open) {
      el.dialog.close();
    }
  }

  el.button.addEventListener("click", open);
  el.close.addEventListener("click", close);
  el.dialog.addEventListener("close", () => {
    el.button.setAttribute("aria-expanded", "false");
    el.confirm.hidden = true;
    el.signOut.hidden = false;
    focusAfterClose(el.button, el.dialog);
  });
  el.dialog.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault(); // the dialog's own: not the widget's "close the panel"
      close();
    }
  });
  el.show.addEventListener("click", showCode);
  el.enter.addEventListener("submit", enter);
  el.signOut.addEventListener("click", () => {
    el.signOut.hidden = true;
    el.confirm.hidden = false;
    el.no.focus();
  });
  el.no.addEventListener("click", () => {
    el.confirm.hidden = true;
    el.signOut.hidden = false;
    el.signOut.focus();
  });
  el.yes.addEventListener("click", signOut);

  return {
    joined() {
      const text = t("Another device has joined this conversation.");
      if (!el.result.hidden && el.result.getAttribute("data-expired") === "false") {
        clearTimeout(expiryTimer);
        el.result.setAttribute("data-expired", "true"); // used: greyed out
        el.expiry.textContent = text;
      }
      if (!el.dialog.open) {
        options.toast(text);
      }
    },
  };
}
