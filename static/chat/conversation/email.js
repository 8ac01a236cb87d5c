/*
 * Email in a visitor's conversation: the form that asks for their address
 * (#email-ask) when nobody is online, or always (the server's hello.email.ask), and,
 * when the server requires it, before their first message; the transcript action
 * (#transcript-button in the menu, #transcript-offer when the conversation closed).
 *
 *   emailPanel(el, {send(frame) -> bool, toast, composer, hasMessages() -> bool,
 *                   store, key: where "Not now" is remembered for a day})
 *   -> {hello(emailState, operatorsOnline), presence(online), frame(f), error(f) -> bool,
 *       sent()}
 */
import { t, tf } from "../lib/i18n.js";

// What the browser checks of an address; the server checks it again.
const SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const DISMISSED_FOR_MS = 24 * 3600 * 1000;

export function emailPanel(el, opts) {
  const state = {
    address: "", unsubscribed: false, ask: "never", required: false,
    online: false, known: false, wantsTranscript: false, enabled: true,
    dismissed: Number(opts.store.get(opts.key, 0)) > Date.now() - DISMISSED_FOR_MS,
  };

  function needed() {
    if (!state.known || state.address || state.unsubscribed) {
      return false;
    }
    return state.ask === "always" || (state.ask === "offline" && !state.online);
  }

  function blocking() {
    return needed() && state.required && !opts.hasMessages();
  }

  function update() {
    const show = state.wantsTranscript || (needed() && (!state.dismissed || blocking()));
    const wasHidden = el.emailAsk.hidden;
    el.emailAsk.hidden = !show;
    el.emailDismiss.hidden = blocking();
    el.emailHint.textContent = state.wantsTranscript
      ? t("Where should we send the conversation?")
      : blocking()
        ? t("Please leave your email address before your first message, so that we can answer you.")
        : t("Nobody is online right now. Leave your email address and we will answer there too if you are gone.");
    opts.composer.setDisabled(blocking());
    if (show && wasHidden && state.wantsTranscript) {
      el.emailInput.focus();
    }
  }

  function showError(text) {
    el.emailError.textContent = text;
    el.emailError.hidden = !text;
    el.emailInput.setAttribute("aria-invalid", text ? "true" : "false");
  }

  function requestTranscript() {
    if (!state.enabled) {
      return;
    }
    if (!state.address || state.unsubscribed) {
      state.wantsTranscript = true;
      update();
      el.emailInput.focus();
      return;
    }
    if (opts.send({ type: "transcript.send" })) {
      opts.toast.show(t("Sending the conversation to your email…"));
    }
  }

  el.emailAsk.addEventListener("submit", (event) => {
    event.preventDefault();
    const address = el.emailInput.value.trim();
    if (!SHAPE.test(address)) {
      showError(t("Please enter a valid email address."));
      el.emailInput.focus();
      return;
    }
    showError("");
    const frame = { type: "visitor.email", email: address };
    if (el.emailWebsite && el.emailWebsite.value) {
      frame.website = el.emailWebsite.value; // the honeypot: only a bot fills it
    }
    if (!opts.send(frame)) {
      showError(t("Not connected. Please try again in a moment."));
    }
  });
  el.emailDismiss.addEventListener("click", () => {
    state.dismissed = true;
    opts.store.set(opts.key, Date.now());
    state.wantsTranscript = false;
    update();
  });
  el.transcriptButton.addEventListener("click", () => {
    el.namePanel.hidden = true;
    el.menuButton.setAttribute("aria-expanded", "false");
    requestTranscript();
  });
  el.transcriptOffer.addEventListener("click", requestTranscript);

  return {
    hello(email, online) {
      if (email && typeof email === "object") {
        state.address = typeof email.address === "string" ? email.address : "";
        state.unsubscribed = !!email.unsubscribed;
        state.ask = typeof email.ask === "string" ? email.ask : "never";
        state.required = !!email.required;
        state.known = true;
        // No email on this chat: nothing to offer.
        el.transcriptButton.hidden = email.enabled === false;
        state.enabled = email.enabled !== false;
      }
      state.online = online;
      update();
    },
    presence(online) {
      state.online = online;
      update();
    },
    sent() {
      update(); // the first message went: no longer required
    },
    frame(f) {
      if (f.type === "email") {
        state.address = typeof f.address === "string" ? f.address : "";
        state.unsubscribed = false;
        el.emailInput.value = "";
        opts.toast.show(tf("Thanks! We will email you at %(email)s.", { email: state.address }));
        const transcript = state.wantsTranscript;
        state.wantsTranscript = false;
        update();
        if (transcript) {
          requestTranscript();
        }
      } else if (f.type === "transcript") {
        opts.toast.show(t("On its way: check your inbox in a few minutes."));
      }
    },
    error(f) {
      if (f.frame === "visitor.email") {
        showError(typeof f.detail === "string" && f.detail ? f.detail : t("Please enter a valid email address."));
        el.emailInput.focus();
        return true;
      }
      if (f.frame === "transcript.send") {
        opts.toast.show(typeof f.detail === "string" && f.detail ? f.detail : t("Something went wrong. Please try again."));
        return true;
      }
      return false;
    },
  };
}
