/*
 * The operator's away switch (#away-switch: a button with aria-pressed, pressed when
 * away) and who of the team is online, away or offline (#team-list). The state is
 * the server's: the switch sends `operator.away` and shows what `away` frames say
 * (from this tab, another one, or Telegram's /away and /online); `team` frames
 * update one colleague, the `hello` carries them all (docs/protocol.md).
 */
import { t } from "../lib/i18n.js";
import { make } from "../lib/dom.js";

// Literal msgids, so that makemessages finds them.
function statusText(status) {
  switch (status) {
    case "online":
      return t("Online");
    case "away":
      return t("Away");
    default:
      return t("Offline");
  }
}

export class Team {
  constructor(el, opts) {
    this.el = el;
    this.opts = opts; // {send(frame), me() -> {id}}
    this.members = new Map(); // id -> {id, name, status}
    this.away = false;
    el.awaySwitch.addEventListener("click", () => {
      el.awaySwitch.disabled = true; // until the server says what it is now
      opts.send({ type: "operator.away", away: !this.away });
    });
  }

  hello(f) {
    this.members = new Map((Array.isArray(f.team) ? f.team : []).map((m) => [m.id, m]));
    this.showAway(!!f.away);
    this.render();
  }

  // A frame this module owns: handled, true.
  apply(f) {
    if (f.type === "away") {
      this.showAway(!!f.away);
      return true;
    }
    if (f.type === "team" && f.operator && f.operator.id != null) {
      this.members.set(f.operator.id, f.operator);
      this.render();
      return true;
    }
    return false;
  }

  showAway(away) {
    const sw = this.el.awaySwitch;
    this.away = away;
    sw.disabled = false;
    sw.setAttribute("aria-pressed", away ? "true" : "false");
    sw.dataset.away = away ? "true" : "false";
    sw.querySelector(".away-switch-text").textContent = away ? t("Away") : t("Available");
    const me = this.opts.me();
    if (me && this.members.has(me.id)) {
      const mine = this.members.get(me.id);
      this.members.set(me.id, Object.assign({}, mine, { status: away ? "away" : "online" }));
      this.render();
    }
  }

  render() {
    const list = this.el.teamList;
    const members = [...this.members.values()].sort(
      (a, b) => order(a.status) - order(b.status) || String(a.name).localeCompare(String(b.name))
    );
    list.replaceChildren(...members.map((m) => {
      const item = make("li", "team-member");
      item.dataset.status = m.status;
      item.dataset.operator = String(m.id);
      item.appendChild(make("span", "team-dot")).setAttribute("aria-hidden", "true");
      item.appendChild(make("span", "team-name", m.name));
      item.appendChild(make("span", "team-status", statusText(m.status)));
      return item;
    }));
  }
}

function order(status) {
  return status === "online" ? 0 : status === "away" ? 1 : 2;
}
