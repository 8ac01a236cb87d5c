/*
 * Moving about the inbox: opening a conversation (its row, a notification, a mention,
 * a shortcut, a link) and going back to the list (Back, in the narrow layout). The
 * address names the open conversation (#thread-<id>), so that a reload or a link
 * opens it again.
 *
 *   new Navigation(el, page)
 *     page: the parts (client, threads, pane, composer, labels, visitorPanel, safety,
 *       notes, drafts, canned, typing, scroller, alerts), openId() / setOpenId(id),
 *       maybeSendRead()
 *     .open(id, {focus}) (focus: the reply box, not on touch screens); .back()
 *   threadFromHash() -> the id the address names, or null
 */

function finePointer() {
  return !!(window.matchMedia && window.matchMedia("(pointer: fine)").matches);
}

function writeHash(id) {
  const url = window.location.pathname + window.location.search + (id == null ? "" : "#thread-" + id);
  try {
    window.history.replaceState(null, "", url);
  } catch (err) {
    /* not important */
  }
}

export function threadFromHash() {
  const match = /^#thread-(\d+)$/.exec(window.location.hash);
  return match ? Number(match[1]) : null;
}

export class Navigation {
  constructor(el, page) {
    this.el = el;
    this.page = page;
    el.back.addEventListener("click", () => this.back());
    window.addEventListener("hashchange", () => {
      const id = threadFromHash();
      if (id != null) {
        this.open(id);
      }
    });
  }

  // What the open conversation leaves behind when another opens, or none.
  _leave() {
    const { canned, typing, drafts, openId } = this.page;
    canned.close();
    canned.dropFile();
    typing.stop();
    drafts.park(openId());
  }

  open(id, opts) {
    const {
      client, threads, pane, composer, labels, visitorPanel, safety, notes, drafts, scroller, alerts,
      openId, setOpenId, maybeSendRead,
    } = this.page;
    if (id == null || isNaN(id)) {
      return;
    }
    if (openId() !== id) {
      this._leave();
      setOpenId(id);
      notes.setMode(false);
      notes.load(id);
      drafts.restore(id);
      const log = client.log(id);
      this.el.messages.setAttribute("aria-busy", log.ready ? "false" : "true");
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

  back() {
    const { threads, pane, labels, visitorPanel, safety, openId, setOpenId } = this.page;
    this._leave();
    const previous = openId();
    setOpenId(null);
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
}
