/*
 * A visitor's conversation: the component the chat page mounts, and the widget's
 * panel (an iframe served by Sohbet) mounts the same way. It wires the client library
 * (client, composer, scroller) to the conversation's markup; the ids it looks up are
 * listed in templates/chat/visitor.html and conversation/bubbles.js.
 *
 *   mountConversation(root, config)
 *     config: {wsPath, httpPath (the HTTP fallback's; by default from wsPath),
 *              uploadUrl, csrfCookieName, maxUpload, uploadTypes,
 *              storagePrefix (default "sohbet."): where in localStorage the outbox
 *              and the cache live; another identity on the same origin (the widget's
 *              visitor) keeps its own;
 *              context: () -> {url, title, referrer, timezone, language}, what is
 *              told after each hello (default: this page's own; conversation/context.js);
 *              the widget's frame adds: token (() -> its visitor token), isShown
 *              (() -> whether the conversation can be seen: the panel is open),
 *              onUnseen(count) (operator messages that came while it could not),
 *              onIncoming(count) (operator messages that came, seen or not),
 *              devices, deviceRequest, onToken: conversation/devices.js}
 *   -> {client, seen(), setContext(partial), setAttributes(obj)}: seen() after it is
 *     shown again (read marks, title); setContext / setAttributes tell the operators
 *     at once (the widget: when the host page navigates, or calls its setAttributes).
 * What the server says goes to the parts through conversation/frames.js.
 */
import { nt, tf } from "../lib/i18n.js";
import { coalesce, debounce, isPageActive } from "../lib/util.js";
import { makeStore } from "../lib/store.js";
import { ChatClient } from "../lib/client.js";
import { uploadSettings } from "../lib/uploader.js";
import { Composer } from "../lib/composer.js";
import { LogView } from "../lib/render.js";
import { Scroller } from "../lib/scroller.js";
import { typingSender } from "../lib/typing.js";
import { playChime, setTitleCount } from "../lib/alerts.js";
import { buildBubble, updateBubble } from "./bubbles.js";
import { VisitorCache } from "./cache.js";
import { PageContext, pageContext } from "./context.js";
import { ConnectionLine, nameMenu, Toast, TypingLine } from "./chrome.js";
import { Availability } from "./availability.js";
import { emailPanel } from "./email.js";
import { deviceDialog, pageRequest } from "./devices.js";
import { telegramAction } from "./telegram.js";
import { ratingPanel } from "./rating.js";
import { conversationFrames } from "./frames.js";

const READ_DEBOUNCE_MS = 500;
const COUNTER_FROM = 500; // the count shows this many characters before the limit

const IDS = {
  app: "app", messages: "messages", conversation: "conversation", composer: "composer",
  input: "composer-input", send: "send-button", counter: "char-counter",
  connection: "connection-state", connectionText: "connection-text",
  connectionRetry: "connection-retry", availability: "availability",
  availabilityText: "availability-text", typing: "typing-indicator", typingText: "typing-text",
  loadEarlier: "load-earlier", welcome: "welcome", jump: "jump-latest", toast: "toast",
  threadNote: "thread-note", menuButton: "menu-button", namePanel: "name-panel",
  nameInput: "name-input", attach: "attach-button", fileInput: "file-input",
  preview: "attachment-preview", dropOverlay: "drop-overlay", record: "record-button",
  recorder: "recorder", recorderTime: "recorder-time", recorderCancel: "recorder-cancel",
  recorderSend: "recorder-send", emailAsk: "email-ask", emailHint: "email-ask-hint",
  emailInput: "email-input", emailError: "email-error", emailDismiss: "email-dismiss",
  transcriptButton: "transcript-button", transcriptOffer: "transcript-offer",
  emailWebsite: "email-website", rating: "rating", ratingComment: "rating-comment",
  ratingSend: "rating-send", ratingThanks: "rating-thanks",
};

function elements(root) {
  const el = {};
  for (const [name, id] of Object.entries(IDS)) {
    el[name] = root.id === id ? root : root.querySelector("#" + id);
  }
  el.composerArea = root.querySelector(".composer-area");
  return el;
}

function remainingCount(length, max) {
  const left = max - length;
  if (left > COUNTER_FROM) {
    return null;
  }
  return left < 0
    ? tf(nt("%(count)s character too many", "%(count)s characters too many", -left), { count: -left })
    : tf(nt("%(count)s character left", "%(count)s characters left", left), { count: left });
}

export function mountConversation(root, config) {
  const el = elements(root);
  const store = makeStore("localStorage");
  const prefix = typeof config.storagePrefix === "string" ? config.storagePrefix : "sohbet.";
  const cache = new VisitorCache(store, prefix);
  const toast = new Toast(el.toast);
  const line = new ConnectionLine(el);
  const availability = new Availability(el);
  const marks = { read: 0, delivered: 0 }; // the operators' read and delivered ids
  const state = { pendingName: null, unseen: 0, syncedOnce: false, hours: null };

  const isShown = typeof config.isShown === "function" ? config.isShown
    : () => document.visibilityState === "visible";
  const isActive = () => isShown() && isPageActive();
  const client = new ChatClient({
    path: config.wsPath || "/ws/chat/",
    token: config.token,
    httpPath: config.httpPath,
    role: "visitor",
    uploads: uploadSettings(Object.assign({}, config, { token: config.token })),
    outbox: { store, key: prefix + "outbox", shared: true },
    // The handlers are conversation/frames.js's, made once the parts they feed exist.
    on: {
      hello: (f) => frames.hello(f), frame: (f) => frames.frame(f),
      messages: (items, kind, info) => frames.messages(items, kind, info),
      outbox: () => scroller.paint(), error: (f) => frames.error(f),
      state: (s, retryAt) => line.show(s, retryAt), close: () => frames.closed(),
      request: (threadLog, kind) => frames.request(threadLog, kind),
      progress: (entry) => frames.progress(entry),
    },
  });
  const log = client.own;
  const page = new PageContext(
    (frame) => client.send(frame),
    typeof config.context === "function" ? config.context : pageContext
  );
  const typing = typingSender((active) => client.send({ type: "typing", active }));
  const saveSoon = coalesce(() => cache.save(log, marks), 300);
  const scheduleRead = debounce(() => {
    if (isActive() && client.markRead(log)) {
      saveSoon();
    }
  }, READ_DEBOUNCE_MS);
  const view = new LogView(el.messages, {
    build: buildBubble,
    update: (item, node) => updateBubble(item, node, marks),
  });
  const scroller = new Scroller(el.conversation, {
    content: el.messages,
    jump: el.jump,
    nearPx: 120,
    nearTopPx: 80,
    render,
    onNearTop: () => client.loadEarlier(log),
  });
  const typingLine = new TypingLine(el, scroller);
  const composer = new Composer({
    form: el.composer, input: el.input, send: el.send, counter: el.counter,
    attach: el.attach, fileInput: el.fileInput, preview: el.preview,
    dropTarget: el.app, dropOverlay: el.dropOverlay, pasteTarget: document,
    record: el.record, recorder: el.recorder, recorderTime: el.recorderTime,
    recorderCancel: el.recorderCancel, recorderSend: el.recorderSend, area: el.composerArea,
  }, {
    uploads: client.uploads,
    typing,
    typingKey: () => undefined,
    formatCount: remainingCount,
    autoGrow: true,
    canUse: () => true,
    canPaste: () => document.activeElement !== el.nameInput && document.activeElement !== el.emailInput,
    notice: (text) => toast.show(text),
    onSend: (body, files) => {
      if (files.length) {
        client.sendFiles(null, files, body);
      } else {
        client.post(null, body);
      }
      scroller.paint({ force: true, smooth: true });
      email.sent();
    },
  });
  const email = emailPanel(el, {
    send: (f) => client.ready && client.send(f),
    toast,
    composer,
    hasMessages: () => log.messages.length > 0 || client.pending(log).length > 0,
    store,
    key: prefix + "email-dismissed",
  });

  const rating = ratingPanel(el, { send: (f) => client.ready && client.send(f), toast });

  function render() {
    const items = log.messages.concat(client.pending(log));
    view.render(items);
    el.welcome.hidden = items.length > 0;
    el.loadEarlier.hidden = !log.hasEarlier();
    el.loadEarlier.disabled = log.awaiting("history");
    el.loadEarlier.setAttribute("aria-busy", log.awaiting("history") ? "true" : "false");
    saveSoon();
  }

  // ------------------------------------------------------------ unseen, signed out, the name
  function notifyHidden(count) {
    state.unseen += count;
    if (typeof config.onUnseen === "function") {
      config.onUnseen(count);
      return; // the host page shows it (the launcher's badge, its own sound)
    }
    setTitleCount(state.unseen);
    playChime();
  }

  function seen() {
    state.unseen = 0;
    setTitleCount(0);
    scroller.paint(); // "Today" may have become "Yesterday"
    scheduleRead();
  }

  function forget() { // signed out: nothing of the conversation stays shown or kept
    log.clear();
    cache.clear();
    marks.read = marks.delivered = 0;
    state.pendingName = null;
    el.nameInput.value = "";
    render();
  }

  function sendName(name) {
    if (client.ready && client.send({ type: "visitor.update", name })) {
      state.pendingName = null;
    } else {
      state.pendingName = name;
    }
  }

  // ------------------------------------------------------------ wiring
  el.messages.addEventListener("click", (event) => {
    const action = event.target.closest ? event.target.closest("[data-action]") : null;
    const node = action && action.closest(".message");
    const entry = node && client.outbox.find(node.getAttribute("data-client-id"));
    if (!entry) {
      return;
    }
    const what = action.getAttribute("data-action");
    if (entry.upload) {
      if (what === "retry") {
        client.uploader.start(entry);
      } else if (what === "cancel-upload" || what === "remove") {
        client.uploader.drop(entry);
        composer.focus();
      }
    } else if (what === "edit" || what === "remove") {
      client.outbox.remove(entry);
      if (what === "edit") {
        composer.setText(entry.body);
      }
      composer.focus();
    }
  });
  el.loadEarlier.addEventListener("click", () => client.loadEarlier(log));
  nameMenu(el, toast, sendName);
  const devices = deviceDialog(root, client, {
    urls: config.devices, request: config.deviceRequest, onToken: config.onToken,
    toast: (text) => toast.show(text), forget,
  });
  const frames = conversationFrames(el, {
    client, log, cache, marks, state, composer, scroller, view, availability, email, rating,
    page, toast, typing, typingLine, devices, config, isShown, scheduleRead, sendName, notifyHidden,
  });
  telegramAction(root, {
    url: config.telegram && config.telegram.link,
    request: config.deviceRequest || pageRequest(root),
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      seen();
    } else {
      typing.stop();
    }
  });
  window.addEventListener("focus", scheduleRead);
  window.addEventListener("resize", () => {
    if (scroller.atEnd()) {
      scroller.toEnd(false);
    }
  });

  Object.assign(marks, cache.load(log));
  line.show(client.state, 0);
  scroller.paint({ force: true });
  return {
    client,
    seen,
    setContext: (partial) => page.setContext(partial),
    setAttributes: (obj) => page.setAttributes(obj),
  };
}
