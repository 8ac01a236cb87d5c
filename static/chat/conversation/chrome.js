/*
 * Around a visitor's conversation: the connection line (#connection-state), the
 * closed-conversation note (#thread-note), short notices (#toast), the optional
 * name (#menu-button, #name-panel) and who is typing (#typing-indicator). Who is
 * there: availability.js.
 */
import { t, tf } from "../lib/i18n.js";
import { debounce } from "../lib/util.js";
import { countdownBanner, limitedText } from "../lib/status.js";
import { TYPING_EXPIRE_MS } from "../lib/typing.js";

export class ConnectionLine {
  constructor(el) {
    this.el = el;
    this.banner = countdownBanner(el.connection, el.connectionText, limitedText);
    el.connectionRetry.addEventListener("click", () => window.location.reload());
  }

  // retryAt: when a "limited" connection tries again (ms).
  show(state, retryAt) {
    const el = this.el;
    el.connection.setAttribute("data-state", state);
    el.app.setAttribute("data-connection", state);
    el.connectionRetry.hidden = state !== "denied";
    this.banner.stop();
    el.connection.hidden = state === "open";
    if (state === "connecting") {
      el.connectionText.textContent = t("Connecting…");
    } else if (state === "reconnecting") {
      el.connectionText.textContent = t("Reconnecting…");
    } else if (state === "offline") {
      el.connectionText.textContent = t("Offline: your messages will be sent when you are back online");
    } else if (state === "limited") {
      this.banner.start(retryAt);
    } else if (state === "denied") {
      el.connectionText.textContent = t("This chat is not available right now. Please reload the page.");
    }
  }
}

// Closed by an operator: a note above the composer (writing again reopens it).
export function showThreadStatus(el, status) {
  if (status === "open" || status === "closed") {
    el.threadNote.hidden = status !== "closed";
    if (el.transcriptOffer) {
      // conversation/email.js; not on a chat without email (the menu's action hidden)
      el.transcriptOffer.hidden = status !== "closed" || el.transcriptButton.hidden;
    }
  }
}

// An operator's `typing` frames: shown while they type, gone TYPING_EXPIRE_MS after
// the last one; the list stays at its end if it was there.
export class TypingLine {
  constructor(el, scroller) {
    this.el = el;
    this.scroller = scroller;
    this._expire = debounce(() => this.hide(), TYPING_EXPIRE_MS);
  }

  show(f) {
    const el = this.el;
    if (!f.active) {
      this.hide();
      return;
    }
    el.typingText.textContent = f.name ? tf("%(name)s is typing…", { name: f.name }) : t("Operator is typing…");
    const atEnd = this.scroller.atEnd();
    el.typing.hidden = false;
    if (atEnd) {
      this.scroller.toEnd(false);
    }
    this._expire();
  }

  hide() {
    this._expire.cancel();
    this.el.typing.hidden = true;
  }
}

export class Toast {
  constructor(node) {
    this.node = node;
    this.timer = null;
  }

  show(text) {
    const node = this.node;
    node.textContent = text;
    node.hidden = false;
    node.classList.remove("leaving");
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      node.classList.add("leaving");
      this.timer = setTimeout(() => {
        node.hidden = true;
        node.textContent = "";
        node.classList.remove("leaving");
      }, 250);
    }, 4500);
  }
}

/*
 * The name menu: saves with onSave(name) (0-80 characters; "" removes it) and thanks
 * the visitor; Escape or a click elsewhere closes it.
 */
export function nameMenu(el, toast, onSave) {
  const setOpen = (open) => {
    el.namePanel.hidden = !open;
    el.menuButton.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) {
      el.nameInput.focus();
      el.nameInput.select();
    }
  };
  el.menuButton.addEventListener("click", () => setOpen(el.namePanel.hidden));
  el.namePanel.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = el.nameInput.value.trim().slice(0, 80);
    el.nameInput.value = name;
    onSave(name);
    setOpen(false);
    el.menuButton.focus();
    toast.show(name ? tf("Thanks, %(name)s!", { name }) : t("Your name was removed."));
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !el.namePanel.hidden) {
      setOpen(false);
      el.menuButton.focus();
    }
  });
  document.addEventListener("click", (event) => {
    if (!el.namePanel.hidden && !el.namePanel.contains(event.target) && !el.menuButton.contains(event.target)) {
      setOpen(false);
    }
  });
}
