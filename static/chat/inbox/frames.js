/*
 * What the server tells the inbox, handed on to the page's parts: the handlers of the
 * inbox's ChatClient (lib/client.js, `on`). A frame the client does not handle comes
 * to frame(f), which offers it to each part (their apply(f)) in turn; messages live
 * or ours move the thread list, the receipts (`delivered`) and the alerts; the
 * connection's state is told in #connection-state.
 *
 *   inboxFrames(el, page) -> {hello, frame, messages, request, progress, error,
 *                             stateChanged(state, retryAt), closed}
 *     page: the parts (client, threads, pane, composer, views, labels, visitorPanel,
 *       team, canned, notes, safety, receipts, alerts, scroller, typing) and
 *       me() / setMe(me), openId(), isVisible(), paintIfOpen(thread, opts),
 *       maybeSendRead()
 */
import { t } from "../lib/i18n.js";
import { setUploadProgress } from "../lib/attachments.js";
import { countdownBanner, limitedText } from "../lib/status.js";
import { emailedIds } from "./bubbles.js";

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

export function inboxFrames(el, page) {
  const {
    client, threads, pane, composer, views, labels, visitorPanel, team, canned, notes, safety,
    receipts, alerts, scroller, typing, openId, isVisible, paintIfOpen, maybeSendRead,
  } = page;
  const notifiedIds = new Set();
  const banner = countdownBanner(el.state, el.state, limitedText);

  function hello(f) {
    if (f.operator) {
      const me = { id: f.operator.id, name: f.operator.name || page.me().name };
      page.setMe(me);
      client.name = me.name;
    }
    composer.limitsChanged(client.maxBody);
    // Messages committed together may come in one frame (a burst: one frame, one
    // paint); docs/protocol.md, "options".
    client.send({ type: "options", batch_messages: true });
    threads.forgetRequests();
    client.send({ type: "views" }); // the labels (the counts come with the first page)
    threads.request(true);
    if (openId() != null) {
      client.load(client.log(openId()));
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
    if (about !== undefined && openId() != null && (about === null || about === openId())) {
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
      if (info.log.id === openId()) {
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
        incoming = incoming || (thread === openId() && isNew && m.author !== "operator");
      }
      const unread = m.author === "visitor" && !(thread === openId() && isVisible());
      if (threads.noteMessage(m, { unread })) {
        pane.typingEnded(thread, m.author);
      }
      if (m.author === "visitor" && fresh) {
        receipts.delivered(thread, m.id);
        if (!isVisible() || thread !== openId()) {
          alerts.message(m);
        }
      }
    }
    threads.render();
    if (items.some((i) => (i.log ? i.log.id : i.message.thread) === openId())) {
      scroller.paint({ notify: incoming });
      pane.renderTyping();
      maybeSendRead();
    }
    alerts.updateTitle();
  }

  function request(log) {
    if (log.id === openId()) {
      pane.renderLoadEarlier();
    }
  }

  function progress(entry) {
    const node = entry.thread === openId() ? pane.view(openId()).node(entry) : null;
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
    paintIfOpen(openId()); // "Sending…" or "Waiting for connection…"
  }

  function closed() {
    threads.forgetRequests();
    typing.reset();
    threads.renderChrome();
    pane.renderLoadEarlier();
  }

  return { hello, frame, messages, request, progress, error, stateChanged, closed };
}
