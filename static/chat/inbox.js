/*
 * The operator inbox (/admin/inbox/): the page's wiring of the client library to its
 * markup (templates/admin/chat/inbox.html; the hooks are listed in inbox/threads.js,
 * inbox/bubbles.js, inbox/pane.js and inbox/visitor.js). Configuration: #sohbet-inbox-config ({wsPath,
 * me, operators, threadAdminUrl, uploadUrl, csrfCookieName, maxUpload, uploadTypes}).
 * The operator's receipts (`delivered` for what reached the inbox, `read` for what the
 * open conversation shows) are the page's; everything that moves messages is lib/.
 * What the server says goes to the parts through inbox/frames.js; opening a
 * conversation is inbox/navigation.js's.
 */
import { tf } from "./lib/i18n.js";
import { coalesce, debounce, isPageActive, readConfig } from "./lib/util.js";
import { makeStore } from "./lib/store.js";
import { ChatClient } from "./lib/client.js";
import { uploadSettings } from "./lib/uploader.js";
import { Composer } from "./lib/composer.js";
import { Scroller } from "./lib/scroller.js";
import { typingSender } from "./lib/typing.js";
import { ThreadList } from "./inbox/threads.js";
import { ConversationPane } from "./inbox/pane.js";
import { Alerts } from "./inbox/alerts.js";
import { Receipts } from "./inbox/receipts.js";
import { Drafts } from "./inbox/drafts.js";
import { VisitorPanel } from "./inbox/visitor.js";
import { Team } from "./inbox/team.js";
import { wireTranscriptMenu } from "./inbox/transcript.js";
import { CannedMenu } from "./inbox/canned.js";
import { Shortcuts } from "./inbox/shortcuts.js";
import { Views } from "./inbox/views.js";
import { Labels } from "./inbox/labels.js";
import { ThreadSafety } from "./inbox/safety.js";
import { Notes } from "./inbox/notes.js";
import { PushSettings, isPushConfigured, registerInboxWorker } from "./inbox/push.js";
import { inboxFrames } from "./inbox/frames.js";
import { Navigation, threadFromHash } from "./inbox/navigation.js";

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

function fractionCount(length, max) {
  return length > max * 0.8 ? tf("%(count)s / %(max)s", { count: length, max }) : null;
}

function isVisible() {
  return document.visibilityState === "visible";
}

function main(el) {
  const config = readConfig("sohbet-inbox-config");
  let me = config.me || { id: null, name: "" };
  let openId = null;

  // The handlers are inbox/frames.js's, made once the parts they feed exist.
  const client = new ChatClient({
    path: config.wsPath || "/ws/operator/",
    role: "operator",
    uploads: uploadSettings(config),
    outbox: { store: makeStore("sessionStorage"), key: "sohbet.inbox.outbox", shared: false },
    on: {
      hello: (f) => frames.hello(f), frame: (f) => frames.frame(f),
      messages: (items, kind, info) => frames.messages(items, kind, info),
      outbox: (thread) => paintIfOpen(thread), error: (f) => frames.error(f),
      state: (s, retryAt) => frames.stateChanged(s, retryAt), close: () => frames.closed(),
      request: (log) => frames.request(log), progress: (entry) => frames.progress(entry),
    },
  });
  client.name = me.name;
  const threads = new ThreadList(el, {
    send: (f) => client.send(f),
    me: () => me,
    openId: () => openId,
    isOpenAndVisible: (id) => id === openId && isVisible(),
    onOpen: (id) => navigation.open(id, { focus: true }),
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
  const alerts = new Alerts(el, { threads, pushManaged, onOpen: (id) => navigation.open(id, { focus: true }) });
  if (pushManaged) {
    const pushConfig = { ...config.push, csrfCookieName: config.csrfCookieName };
    const onOpen = (id) => navigation.open(id, { focus: true });
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
    onOpen: (id) => navigation.open(id, { focus: true }),
    repaint: (thread) => paintIfOpen(thread),
    notice: (text) => alerts.notice(text),
    composer,
    operators: Array.isArray(config.mentionable) ? config.mentionable : [],
  });
  el.modeNote.addEventListener("click", () => typing.stop()); // the visitor's notice ends
  const receipts = new Receipts(client);
  const team = new Team(el, { send: (f) => client.send(f), me: () => me });
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

  const frames = inboxFrames(el, {
    client, threads, pane, composer, views, labels, visitorPanel, team, canned, notes, safety,
    receipts, alerts, scroller, typing, isVisible, paintIfOpen, maybeSendRead,
    me: () => me,
    setMe: (operator) => {
      me = operator;
    },
    openId: () => openId,
  });
  const navigation = new Navigation(el, {
    client, threads, pane, composer, labels, visitorPanel, safety, notes, drafts, canned, typing,
    scroller, alerts, maybeSendRead,
    openId: () => openId,
    setOpenId: (id) => {
      openId = id;
    },
  });

  new Shortcuts(el, {
    threads, pane, composer, me: () => me, openId: () => openId, open: (id) => navigation.open(id),
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
  document.addEventListener("visibilitychange", () => {
    alerts.updateTitle();
    threads.render();
    maybeSendRead();
  });
  window.addEventListener("focus", maybeSendRead);
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
    navigation.open(initial);
  }
}

const elements = {};
for (const [name, id] of Object.entries(IDS)) {
  elements[name] = document.getElementById(id);
}
if (elements.root) {
  main(elements);
}
