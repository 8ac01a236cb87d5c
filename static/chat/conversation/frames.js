/*
 * What the server tells a visitor's conversation, handed on to its parts: the
 * handlers of the conversation's ChatClient (lib/client.js, `on`). hello says which
 * conversation this is (another one, after the session changed, clears what is
 * shown), the operators' read and delivered marks move the ticks, presence and hours
 * who can answer now.
 *
 *   conversationFrames(el, c) -> {hello, messages, request, progress, frame, error, closed}
 *     c: the conversation's parts (client, log, cache, marks, state, composer, scroller,
 *       view, availability, email, rating, page, toast, typing, typingLine, devices),
 *       its config, and isShown(), scheduleRead(), sendName(name), notifyHidden(count)
 */
import { t } from "../lib/i18n.js";
import { isInt } from "../lib/util.js";
import { setUploadProgress } from "../lib/attachments.js";
import { showThreadStatus } from "./chrome.js";
import { hoursAt } from "./availability.js";

export function conversationFrames(el, c) {
  const {
    client, log, cache, marks, state, composer, scroller, view, availability, email, rating,
    page, toast, typing, typingLine, devices, config, isShown, scheduleRead, sendName, notifyHidden,
  } = c;

  // Someone can answer now: an operator online (not away) within the hours.
  function someoneThere(online) {
    return !!online && hoursAt(state.hours, Date.now()).open;
  }

  function hello(frame) {
    const thread = frame.thread || {};
    composer.limitsChanged(client.maxBody);
    let serverLastSeq = null;
    if (isInt(thread.id)) {
      serverLastSeq = isInt(thread.last_seq) ? thread.last_seq : null;
      const stale = log.id !== thread.id || (serverLastSeq !== null && log.seq.last > serverLastSeq);
      if (stale && log.id !== null) {
        log.clear(); // another conversation now (the session changed): only unsent ones stay
        cache.clear();
        marks.read = marks.delivered = 0;
      }
      log.id = thread.id;
      cache.saveLastSeq(log);
      marks.read = Math.max(marks.read, isInt(thread.operator_read_up_to) ? thread.operator_read_up_to : 0);
      marks.delivered = Math.max(
        marks.delivered, marks.read,
        isInt(thread.operator_delivered_up_to) ? thread.operator_delivered_up_to : 0
      );
      showThreadStatus(el, thread.status);
      rating.hello(frame.rating, thread.status);
    }
    if (frame.visitor && typeof frame.visitor.name === "string" &&
        document.activeElement !== el.nameInput && state.pendingName === null) {
      el.nameInput.value = frame.visitor.name;
    }
    availability.update({ online: !!frame.operators_online, hours: frame.hours });
    state.hours = frame.hours;
    email.hello(frame.email, someoneThere(frame.operators_online));
    scroller.paint();
    client.load(log, serverLastSeq);
    if (state.pendingName !== null) {
      sendName(state.pendingName);
    }
    page.hello();
    scheduleRead();
  }

  function messages(items, kind, info) {
    const mine = items.filter((i) => i.log === log);
    const fromOperator = mine.filter((i) => i.isNew && i.message.author === "operator").length;
    cache.saveLastSeq(log);
    if (fromOperator) {
      typingLine.hide();
      const news = kind === "live" || (kind === "sync" && state.syncedOnce);
      if (news && typeof config.onIncoming === "function") {
        config.onIncoming(fromOperator);
      }
    }
    if (kind === "history") {
      scroller.paint(info.initial ? { force: true } : { keep: true });
    } else if (kind === "sync") {
      scroller.paint({ notify: mine.length > 0 });
      // What the first sync of the page brings is not news.
      if (fromOperator && !isShown() && state.syncedOnce) {
        notifyHidden(fromOperator);
      }
      if (!info.more) {
        el.messages.setAttribute("aria-busy", "false");
        state.syncedOnce = true;
      }
    } else {
      const own = mine.every((i) => i.message.author === "visitor");
      scroller.paint(kind === "live" ? { notify: !own, smooth: true } : {});
      if (fromOperator && !isShown()) {
        notifyHidden(fromOperator);
      }
    }
    if (fromOperator || kind === "sync") {
      scheduleRead();
    }
    email.sent(); // a conversation with messages needs no email first
  }

  function request(_log, kind) {
    if (kind === "sync") {
      el.messages.setAttribute("aria-busy", "true");
    }
    scroller.paint({ keep: kind === "history" && log.ready });
  }

  function progress(entry) {
    const node = view.node(entry);
    const bar = node && node.querySelector(".upload-status");
    if (bar) {
      setUploadProgress(bar, entry.upload.percent);
    }
  }

  function frame(f) {
    switch (f.type) {
      case "typing":
        if (f.author === "operator") {
          typingLine.show(f);
        }
        break;
      case "read":
        if (f.by === "operator" && isInt(f.up_to) && f.up_to > marks.read) {
          marks.read = f.up_to;
          marks.delivered = Math.max(marks.delivered, f.up_to);
          scroller.paint();
        }
        break;
      case "delivered":
        if (isInt(f.up_to) && f.up_to > marks.delivered) {
          marks.delivered = f.up_to;
          scroller.paint();
        }
        break;
      case "presence":
        if (typeof f.operators_online === "boolean") {
          availability.update({ online: f.operators_online });
          email.presence(someoneThere(f.operators_online));
        }
        break;
      case "hours":
        availability.update({ hours: f.hours });
        state.hours = f.hours;
        break;
      case "thread":
        if (f.thread && f.thread.id === log.id) {
          showThreadStatus(el, f.thread.status);
          rating.status(f.thread.status);
        }
        break;
      case "rating":
        rating.frame(f);
        break;
      case "email":
      case "transcript":
        email.frame(f);
        break;
      case "device.joined":
        devices.joined();
        break;
      default:
        break; // pong, and what this page does not know
    }
  }

  function error(f) {
    const detail = typeof f.detail === "string" && f.detail ? f.detail : null;
    if (email.error(f) || rating.error(f)) {
      return;
    }
    if (f.frame === "visitor.context") {
      console.warn("Sohbet: " + (detail || f.code)); // for the site's developer
      return;
    }
    if (f.code === "rate_limited") {
      toast.show(detail || t("You are sending messages too quickly. Please wait a moment."));
    } else {
      toast.show(detail || t("Something went wrong. Please try again."));
    }
  }

  function closed() {
    page.closed();
    typing.reset();
    typingLine.hide();
    scroller.paint();
  }

  return { hello, messages, request, progress, frame, error, closed };
}
