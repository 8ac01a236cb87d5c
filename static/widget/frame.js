/*
 * The widget's panel: the visitor's conversation (conversation/conversation.js) in a
 * frame that the loader (widget.js, on the host page) opens. It keeps no cookie: the
 * loader hands it the visitor token it keeps in the host page's storage, the frame
 * renews it with the server and hands the new one back.
 *
 * Messages with the loader are objects {sohbet: 1, type, ...}, taken only from the
 * parent window at the allowed origin the server named (config.widget.host), and
 * posted only to it. From the loader: init {token, page, user, attributes, open,
 * unread}, open, close, page {url, title}, identify {user}, attributes {attributes}.
 * To it: ready, token {token}, unread {count}, message {author}, close.
 */
import { readConfig } from "../chat/lib/util.js";
import { setMediaGrant } from "../chat/lib/attachments.js";
import { mountConversation } from "../chat/conversation/conversation.js";
import { pageContext } from "../chat/conversation/context.js";

const SESSION_RETRY_MS = [1000, 3000, 10000];
const config = readConfig("sohbet-config");
const widget = config.widget || {};
const host = typeof widget.host === "string" ? widget.host : "";
const state = { token: null, open: false, mounted: null, page: null, started: false };

function post(message) {
  window.parent.postMessage(Object.assign({ sohbet: 1 }, message), host);
}

async function call(url, body) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  if (state.token) {
    headers["X-Sohbet-Visitor"] = state.token;
  }
  const response = await fetch(url, {
    method: "POST", headers, body: JSON.stringify(body || {}), credentials: "omit",
  });
  let data = null;
  try {
    data = await response.json();
  } catch (err) {
    data = null;
  }
  return { ok: response.ok, status: response.status, data: data || {} };
}

function takeToken(token) {
  if (typeof token === "string" && token && token !== state.token) {
    state.token = token;
    post({ type: "token", token });
  }
}

async function session(attempt) {
  try {
    const answer = await call(widget.session);
    if (answer.ok) {
      takeToken(answer.data.token);
      setMediaGrant(answer.data.grant);
      return true;
    }
  } catch (err) {
    /* offline: try again */
  }
  const wait = SESSION_RETRY_MS[Math.min(attempt, SESSION_RETRY_MS.length - 1)];
  await new Promise((resolve) => setTimeout(resolve, wait));
  return session(attempt + 1);
}

async function identify(user) {
  if (!user || typeof user !== "object") {
    return;
  }
  const answer = await call(widget.identify, {
    user_id: user.user_id == null ? "" : String(user.user_id),
    email: user.email || "", name: user.name || "", user_hash: user.user_hash || "",
  }).catch(() => null);
  if (!answer) {
    return;
  }
  if (!answer.ok) {
    const detail = answer.data.error && answer.data.error.detail;
    console.error("Sohbet: identify refused: " + (detail || answer.status));
    return;
  }
  takeToken(answer.data.token);
  if (answer.data.reconnect && state.mounted) {
    state.mounted.client.connection.renew(); // with the new token, whatever the old socket did
  }
}

function setOpen(open) {
  state.open = open;
  if (open) {
    const input = document.getElementById("composer-input");
    if (input) {
      input.focus();
    }
    if (state.mounted) {
      state.mounted.seen();
    }
  }
}

async function start(init) {
  if (state.started) {
    return;
  }
  state.started = true;
  state.token = typeof init.token === "string" && init.token ? init.token : null;
  state.page = init.page || null;
  state.open = !!init.open;
  await session(0);
  if (init.user) {
    await identify(init.user); // before the socket: no reconnect for it
  }
  state.mounted = mountConversation(document.getElementById("app"), Object.assign({}, config, {
    storagePrefix: "sohbet.widget.",
    token: () => state.token,
    deviceRequest: call, // continue on another device, with this frame's token
    onToken: takeToken,
    isShown: () => state.open && document.visibilityState === "visible",
    onUnseen: (count) => post({ type: "unread", count }),
    onIncoming: (count) => {
      for (let i = 0; i < count; i += 1) {
        post({ type: "message", author: "operator" });
      }
    },
    // The host page's address and title; the time zone and language are this
    // browser's, the frame's own.
    context: () => Object.assign(pageContext(), state.page || {}),
  }));
  if (init.attributes && state.mounted.setAttributes) {
    state.mounted.setAttributes(init.attributes);
  }
  setOpen(state.open);
}

function receive(event) {
  if (event.source !== window.parent || event.origin !== host) {
    return;
  }
  const m = event.data;
  if (!m || typeof m !== "object" || m.sohbet !== 1 || typeof m.type !== "string") {
    return;
  }
  const mounted = state.mounted;
  switch (m.type) {
    case "init":
      start(m);
      break;
    case "open":
      setOpen(true);
      break;
    case "close":
      setOpen(false);
      break;
    case "page":
      state.page = m.page || null;
      if (mounted && mounted.setContext) {
        mounted.setContext(state.page);
      }
      break;
    case "identify":
      identify(m.user);
      break;
    case "attributes":
      if (mounted && mounted.setAttributes) {
        mounted.setAttributes(m.attributes);
      }
      break;
    default:
      break;
  }
}

const FOCUSABLE = "a[href], button:not([disabled]), input:not([disabled]):not([tabindex='-1']), " +
  "textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";

// While the panel is open, Tab cycles inside it (the host page's controls are behind).
function trapFocus(event) {
  if (event.key !== "Tab") {
    return;
  }
  const scope = document.querySelector("dialog[open]") || document; // a modal's own
  const all = Array.from(scope.querySelectorAll(FOCUSABLE)).filter(
    (node) => !node.closest("[hidden]") && node.getClientRects().length > 0);
  if (!all.length) {
    return;
  }
  const first = all[0];
  const last = all[all.length - 1];
  if (event.shiftKey && (document.activeElement === first || !document.hasFocus())) {
    last.focus();
    event.preventDefault();
  } else if (!event.shiftKey && document.activeElement === last) {
    first.focus();
    event.preventDefault();
  }
}

function closeButton() {
  document.addEventListener("keydown", trapFocus);
  const button = document.getElementById("widget-close");
  if (button) {
    button.addEventListener("click", () => post({ type: "close" }));
  }
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.defaultPrevented) {
      post({ type: "close" });
    }
  });
}

if (!host || window.parent === window) {
  console.error("Sohbet: this page is the widget's panel; it works only inside an allowed site.");
} else {
  window.addEventListener("message", receive);
  closeButton();
  post({ type: "ready" });
}
