/*
 * The operator inbox (/admin/inbox/): the page's wiring of the client library to its
 * markup (templates/admin/chat/inbox.html; the hooks are listed in inbox/threads.js,
 * inbox/bubbles.js, inbox/pane.js and inbox/visitor.js). Configuration: #sohbet-inbox-config ({wsPath,
 * me, operators, threadAdminUrl, uploadUrl, csrfCookieName, maxUpload, uploadTypes}).
 * The operator's receipts (`delivered` for what reached the inbox, `read` for what the
 * open conversation shows) are the page's; everything that moves messages is lib/.
 */
import { t, tf } from "./lib/i18n.js";
import { coalesce, debounce, isPageActive, readConfig } from "./lib/util.js";
import { makeStore } from "./lib/store.js";
import { ChatClient } from "./lib/client.js";
import { uploadSettings } from "./lib/uploader.js";
import { Composer } from "./lib/composer.js";
import { Scroller } from "./lib/scroller.js";
import { setUploadProgress } from "./lib/attachments.js";
import { typingSender } from "./lib/typing.js";
import { countdownBanner, limitedText } from "./lib/status.js";
import { ThreadList } from "./inbox/threads.js";
import { ConversationPane } from "./inbox/pane.js";
import { Alerts } from "./inbox/alerts.js";
import { Receipts } from "./inbox/receipts.js";
import { Drafts } from "./inbox/drafts.js";
import { VisitorPanel } from "./inbox/visitor.js";
import { Team } from "./inbox/team.js";
import { emailedIds } from "./inbox/bubbles.js";
import { wireTranscriptMenu } from "./inbox/transcript.js";
import { CannedMenu } from "./inbox/canned.js";
import { Shortcuts } from "./inbox/shortcuts.js";
import { Views } from "./inbox/views.js";
import { Labels } from "./inbox/labels.js";
import { ThreadSafety } from "./inbox/safety.js";
import { Notes } from "./inbox/notes.js";
import { PushSettings, isPushConfigured, registerInboxWorker } from "./inbox/push.js";

const READ_COALESCE_MS = 250;
const SEARCH_DEBOUNCE_MS = 300;

const IDS = {
  root: "sohbet-inbox", state: "connection-state", notify: "enable-notifications",
  notice: "inbox-notice", filter: "thread-filter", search: "thread-search", list: "thread-list",
  listEmpty: "thread-list-empty", listLoading: "thread-list-loading", loadMore: "thread-load-more",
  conversation: "conversation", empty: "conversation-empty", header: "conversation-header",
  back: "conversation-back", title: "conversation-title", presence: "conversation-presence",
  status: "conversation-status", assign: "assign-select", close: "close-thread",
  reopen: "reopen-thread", details: "thread-details", scroll: "messages-scroll",
  loadEarlier: "load-earlier", messages: "messages", jump: "jump-latest",
  footer: "conversation-footer", typing: "typing-indicator", closedNote: "closed-note",
  form: "reply-form", input: "reply-input", send: "reply-send", count: "reply-count",
  attach: "attach-button", fileInput: "file-input", preview: "attachment-preview",
  dropOverlay: "drop-overlay", record: "record-button", recorder: "recorder",
  recorderTime: "recorder-time", recorderCancel: "recorder-cancel", recorderSend: "recorder-send",
  visitorToggle: "visitor-toggle", visitorPanel: "visitor-panel", visitorClose: "visitor-panel-close",
  blockVisitor: "block-visitor", unblockVisitor: "unblock-visitor", blockedNote: "thread-blocked-note",
  ratingNote: "thread-rating-note", blockDialog: "block-dialog", blockForm: "block-form",
  blockReason: "block-reason", blockNetwork: "block-network",
  visitorBody: "visitor-panel-body", awaySwitch: "away-switch", teamList: "team-list",
  cannedMenu: "canned-menu", cannedList: "canned-list", cannedEmpty: "canned-empty",
  cannedStatus: "canned-status", cannedFile: "canned-file", cannedFileName: "canned-file-name",
  cannedFileRemove: "canned-file-remove", shortcutsDialog: "shortcuts-dialog",
  shortcutsClose: "shortcuts-close", shortcutsOpen: "shortcuts-open",
  labelFilter: "label-filter", headerLabels: "conversation-labels", labelsButton: "labels-button",
  labelMenu: "label-menu", labelOptions: "label-options", labelOptionsEmpty: "label-options-empty",
  labelForm: "label-form", labelName: "label-name", labelColour: "label-colour",
  // Private notes (inbox/notes.js)
  modeReply: "mode-reply", modeNote: "mode-note", suggest: "mention-suggest", mentions: "mention-alerts",
  transfer: "transfer-thread", transferDialog: "transfer-dialog", transferForm: "transfer-form",
  transferOperator: "transfer-operator", transferNote: "transfer-note", transferCancel: "transfer-cancel",
  pushSettings: "push-settings", pushDialog: "push-dialog", pushForm: "push-form",
  pushStatus: "push-status", pushOff: "push-off", pushCancel: "push-cancel",
};

// Literal msgids, so that makemessages finds them.
function stateText(state) {
  switch (state) {
    case "open":
      return t("Live");
    case "reconnecting":
      return t("Reconnecting…");
    case "offline":
      return t("Offline, reconnecting…");
    case "denied":
      return t("You are signed out. Reload the page to sign in again.");
    default:
      return t("Connecting…");
  }
}

function fractionCount(length, max) {
  return length > max * 0.8 ? tf("%(count)s / %(max)s", { count: length, max }) : null;
}

function finePointer() {
  return !!(window.matchMedia && window.matchMedia("(pointer: fine)").matches);
}

function isVisible() {
  return document.visibilityState === "visible";
}

function main(el) {
  const config = readConfig("sohbet-inbox-config");
  let me = config.me || { id: null, name: "" };
  let openId = null;
  const notifiedIds = new Set();

  const client = new ChatClient({
    path: config.wsPath || "/ws/operator/",
    role: "operator",
    uploads: uploadSettings(config),
    outbox: { store: makeStore("sessionStorage"), key: "sohbet.inbox.outbox", shared: false },
    on: { hello, frame, messages, outbox: (thread) => paintIfOpen(thread), error, state: stateChanged,
      close: closed, request, progress },
  });
  client.name = me.name;
  const threads = new ThreadList(el, {
    send: (f) => client.send(f),
    me: () => me,
    openId: () => openId,
    isOpenAndVisible: (id) => id === openId && isVisible(),
    onOpen: (id) => openThread(id, { focus: true }),
    chips: (box, ids) => labels.chips(box, ids),
    changed: (before, th) => views.changed(before, th),
    counts: (counts) => views.setCounts(counts),
    unknown: () => views.recountSoon(),
  });
  const views = new Views(el, { send: (f) => client.send(f), me: () => me, select: (v) => threads.setView(v) });
  const labels = new Labels(el, {
    send: (f) => client.send(f),
    threads,
    openId: () => openId,
    filter: (label) => threads.setLabel(label),
    changed: () => {
      threads.render();
      labels.renderHeader();
    },
  });
  const pushManaged = isPushConfigured(config.push);
  const alerts = new Alerts(el, { threads, pushManaged, onOpen: (id) => openThread(id, { focus: true }) });
  if (pushManaged) {
    const pushConfig = { ...config.push, csrfCookieName: config.csrfCookieName };
    const onOpen = (id) => openThread(id, { focus: true });
    new PushSettings(el, { config: pushConfig, onOpen, notice: (text) => alerts.notice(text) });
  } else {
    registerInboxWorker();
  }
  const pane = new ConversationPane(el, {
    client, threads, config, me: () => me, openId: () => openId, focus: () => composer.focus(),
    merge: (id, items, hasEarlier) => notes.merge(id, items, hasEarlier),
  });
  const visitorPanel = new VisitorPanel(el, {
    send: (f, thread) => client.send(f, thread),
    threads,
    openId: () => openId,
  });
  const safety = new ThreadSafety(el, {
    send: (f, thread) => client.send(f, thread),
    openId: () => openId,
    notice: (text) => alerts.notice(text),
  });
  const scroller = new Scroller(el.scroll, {
    content: el.messages,
    jump: el.jump,
    nearPx: 60,
    nearTopPx: 40,
    render: () => pane.renderMessages(),
    active: () => openId != null,
    onNearTop: () => openId != null && client.loadEarlier(client.log(openId)),
  });
  // Writing a private note is not told to the visitor as typing.
  const typing = typingSender((active, thread) => {
    if (!(active && notes.isNoteMode())) {
      client.send({ type: "typing", active }, thread);
    }
  });
  const composer = new Composer({
    form: el.form, input: el.input, send: el.send, counter: el.count, attach: el.attach,
    fileInput: el.fileInput, preview: el.preview, dropTarget: el.conversation,
    dropOverlay: el.dropOverlay, pasteTarget: el.input, record: el.record, recorder: el.recorder,
    recorderTime: el.recorderTime, recorderCancel: el.recorderCancel, recorderSend: el.recorderSend,
  }, {
    uploads: client.uploads,
    typing,
    typingKey: () => openId,
    formatCount: fractionCount,
    autoGrow: false,
    canUse: () => openId != null,
    notice: (text) => alerts.notice(text),
    onSend: (body, files) => {
      if (notes.isNoteMode()) {
        if (notes.send(openId, body, files)) {
          drafts.sent(openId);
        } else {
          Promise.resolve().then(() => composer.setText(body)); // kept: not taken
        }
        return;
      }
      const sentWithFile = canned.sendBody(openId, body, files.length > 0); // a saved reply's file
      if (files.length) {
        client.sendFiles(openId, files, body);
      } else if (!sentWithFile) {
        client.post(openId, body);
      }
      drafts.sent(openId);
      scroller.paint({ force: true });
    },
  });
  const drafts = new Drafts(composer);
  const canned = new CannedMenu(el, {
    send: (f, thread) => client.send(f, thread),
    openId: () => openId,
    values: () => ({ visitor_name: (threads.get(openId) || {}).visitor_name || "", operator_name: me.name }),
    notice: (text) => alerts.notice(text),
    changed: () => composer.update(),
    sendWithFile: (thread, body, att) => {
      if (att) {
        client.outbox.add({ thread, body, attachment: att.id, att });
      } else if (body) {
        client.post(thread, body);
      }
      paintIfOpen(thread, { force: true });
    },
  });
  const notes = new Notes(el, {
    send: (f, thread) => client.send(f, thread),
    me: () => me,
    openId: () => openId,
    onOpen: (id) => openThread(id, { focus: true }),
    repaint: (thread) => paintIfOpen(thread),
    notice: (text) => alerts.notice(text),
    composer,
    operators: Array.isArray(config.mentionable) ? config.mentionable : [],
  });
  el.modeNote.addEventListener("click", () => typing.stop()); // the visitor's notice ends
  const receipts = new Receipts(client);
  const team = new Team(el, { send: (f) => client.send(f), me: () => me });
  const banner = countdownBanner(el.state, el.state, limitedText);
  // A burst of visitor messages is read with one frame.
  const maybeSendRead = coalesce(() => {
    if (isPageActive() && receipts.read(openId, threads.get(openId))) {
      threads.render();
      alerts.updateTitle();
    }
  }, READ_COALESCE_MS);

  function paintIfOpen(thread, opts) {
    if (thread === openId && openId != null) {
      scroller.paint(opts);
    }
  }

  // ------------------------------------------------------------ frames
  function hello(f) {
    if (f.operator) {
      me = { id: f.operator.id, name: f.operator.name || me.name };
      client.name = me.name;
    }
    composer.limitsChanged(client.maxBody);
    // Messages committed together may come in one frame (a burst: one frame, one
    // paint); docs/protocol.md, "options".
    client.send({ type: "options", batch_messages: true });
    threads.forgetRequests();
    client.send({ type: "views" }); // the labels (the counts come with the first page)
    threads.request(true);
    if (openId != null) {
      client.load(client.log(openId));
    }
    receipts.resend();
    visitorPanel.reset();
    team.hello(f);
    canned.hello();
    notes.hello();
  }

  function frame(f) {
    if (f.type === "typing") {
      if (f.thread != null) {
        pane.noteTyping(f);
      }
      return;
    }
    if (
      visitorPanel.apply(f) || team.apply(f) || canned.apply(f) || labels.apply(f) ||
      safety.apply(f) || notes.apply(f)
    ) {
      return;
    }
    if (f.type === "views") {
      views.setCounts(f.counts);
      return;
    }
    if (f.type === "emailed") {
      (Array.isArray(f.messages) ? f.messages : []).forEach((id) => emailedIds.add(id));
      paintIfOpen(f.thread);
      return;
    }
    const about = threads.apply(f); // pong, options and anything newer: undefined
    if (about !== undefined && openId != null && (about === null || about === openId)) {
      pane.renderHeader();
      labels.renderHeader();
      scroller.paint();
      visitorPanel.render(); // the thread's visitor may be known only now
    }
    alerts.updateTitle();
  }

  function messages(items, kind, info) {
    if (kind === "sync" || kind === "history") {
      items.forEach((i) => notifiedIds.add(i.message.id));
      if (info.log.id === openId) {
        if (info.initial) {
          el.messages.setAttribute("aria-busy", "false");
        }
        scroller.paint(info.initial ? { force: true } : { keep: kind === "history" });
        maybeSendRead();
      }
      return;
    }
    let incoming = false;
    for (const { log, message: m, isNew } of items) {
      const thread = log ? log.id : m.thread;
      let fresh = !notifiedIds.has(m.id);
      notifiedIds.add(m.id);
      if (kind === "ack") {
        threads.noteMessage(m, { unread: false });
        continue;
      }
      if (log) {
        fresh = fresh && (isNew || !log.ready);
        incoming = incoming || (thread === openId && isNew && m.author !== "operator");
      }
      const unread = m.author === "visitor" && !(thread === openId && isVisible());
      if (threads.noteMessage(m, { unread })) {
        pane.typingEnded(thread, m.author);
      }
      if (m.author === "visitor" && fresh) {
        receipts.delivered(thread, m.id);
        if (!isVisible() || thread !== openId) {
          alerts.message(m);
        }
      }
    }
    threads.render();
    if (items.some((i) => (i.log ? i.log.id : i.message.thread) === openId)) {
      scroller.paint({ notify: incoming });
      pane.renderTyping();
      maybeSendRead();
    }
    alerts.updateTitle();
  }

  function request(log) {
    if (log.id === openId) {
      pane.renderLoadEarlier();
    }
  }

  function progress(entry) {
    const node = entry.thread === openId ? pane.view(openId).node(entry) : null;
    const bar = node && node.querySelector(".upload-status");
    if (bar) {
      setUploadProgress(bar, entry.upload.percent);
    }
  }

  function error(f) {
    canned.failed(); // a saved reply's file that could not be copied
    alerts.notice(f.detail || f.code || t("Something went wrong."));
  }

  function stateChanged(s, retryAt) {
    el.state.dataset.state = s;
    banner.stop();
    if (s === "limited") {
      banner.start(retryAt);
    } else {
      el.state.textContent = stateText(s);
    }
    composer.setDisabled(s === "denied");
    if (s !== "open") {
      pane.clearTyping();
    }
    paintIfOpen(openId); // "Sending…" or "Waiting for connection…"
  }

  function closed() {
    threads.forgetRequests();
    typing.reset();
    threads.renderChrome();
    pane.renderLoadEarlier();
  }

  // ------------------------------------------------------------ opening a thread
  function leave() {
    canned.close();
    canned.dropFile();
    typing.stop();
    drafts.park(openId);
  }

  function openThread(id, opts) {
    if (id == null || isNaN(id)) {
      return;
    }
    if (openId !== id) {
      leave();
      openId = id;
      notes.setMode(false);
      notes.load(id);
      drafts.restore(id);
      const log = client.log(id);
      el.messages.setAttribute("aria-busy", log.ready ? "false" : "true");
      writeHash(id);
      labels.close(false);
      pane.renderHeader();
      labels.renderHeader();
      visitorPanel.render();
      safety.render();
      scroller.paint({ force: true });
      pane.renderTyping();
      threads.render();
      client.load(log);
      maybeSendRead();
      alerts.updateTitle();
    }
    // Not on touch screens, where focusing the reply box pops up the keyboard.
    if (opts && opts.focus && finePointer()) {
      composer.focus();
    }
  }

  function closeConversation() {
    leave();
    const previous = openId;
    openId = null;
    writeHash(null);
    labels.close(false);
    pane.renderHeader();
    visitorPanel.render();
    safety.render();
    pane.renderMessages();
    pane.renderTyping();
    threads.render();
    const row = previous != null ? threads.row(previous) : null;
    if (row && row.isConnected) {
      row.focus();
    }
  }

  function writeHash(id) {
    const url = window.location.pathname + window.location.search + (id == null ? "" : "#thread-" + id);
    try {
      window.history.replaceState(null, "", url);
    } catch (err) {
      /* not important */
    }
  }

  function threadFromHash() {
    const match = /^#thread-(\d+)$/.exec(window.location.hash);
    return match ? Number(match[1]) : null;
  }

  new Shortcuts(el, {
    threads, pane, composer, me: () => me, openId: () => openId, open: (id) => openThread(id),
    notice: (text) => alerts.notice(text),
  });

  // ------------------------------------------------------------ wiring
  el.search.addEventListener("input", debounce(() => threads.setSearch(el.search.value.trim()), SEARCH_DEBOUNCE_MS));
  el.search.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && el.search.value) {
      el.search.value = "";
      el.search.dispatchEvent(new Event("input"));
    } else if (event.key === "ArrowDown") {
      event.preventDefault();
      threads.focusRow(0, "first");
    }
  });
  el.loadEarlier.addEventListener("click", () => {
    if (openId != null) {
      client.loadEarlier(client.log(openId));
    }
  });
  el.close.addEventListener("click", () => pane.threadAction("thread.close", el.close, alerts.notice.bind(alerts)));
  el.reopen.addEventListener("click", () => pane.threadAction("thread.reopen", el.reopen, alerts.notice.bind(alerts)));
  el.assign.addEventListener("change", () => pane.assign(alerts.notice.bind(alerts)));
  el.back.addEventListener("click", closeConversation);
  document.addEventListener("visibilitychange", () => {
    alerts.updateTitle();
    threads.render();
    maybeSendRead();
  });
  window.addEventListener("focus", maybeSendRead);
  window.addEventListener("hashchange", () => {
    const id = threadFromHash();
    if (id != null) {
      openThread(id);
    }
  });
  setInterval(() => {
    threads.refreshTimes();
    visitorPanel.refreshTime();
  }, 30000);

  pane.buildAssignOptions(Array.isArray(config.operators) ? config.operators : []);
  wireTranscriptMenu();
  threads.render();
  pane.renderHeader();
  labels.renderHeader();
  visitorPanel.render();
  const initial = threadFromHash();
  if (initial != null) {
    openThread(initial);
  }
}

const elements = {};
for (const [name, id] of Object.entries(IDS)) {
  elements[name] = document.getElementById(id);
}
if (elements.root) {
  main(elements);
}
