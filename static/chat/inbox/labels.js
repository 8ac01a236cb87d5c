/*
 * Labels in the inbox: the catalogue (`views` and `labels` frames), the chips on a
 * row and in the conversation's header, the header's menu that puts labels on the
 * open conversation or makes a new one (`thread.label`, `label.create`), and the
 * list's filter by label (#label-filter). A label is its name in its colour: the
 * name is always written, so the colour is never the only sign.
 */
import { t } from "../lib/i18n.js";
import { make } from "../lib/dom.js";

// Literal msgids, so that makemessages finds them (chat.desk_models.LabelColour).
function colours() {
  return [
    ["#4b5563", t("Grey")], ["#b91c1c", t("Red")], ["#c2410c", t("Orange")],
    ["#92400e", t("Brown")], ["#15803d", t("Green")], ["#0f766e", t("Teal")],
    ["#1d4ed8", t("Blue")], ["#4338ca", t("Indigo")], ["#7e22ce", t("Purple")],
    ["#be185d", t("Pink")],
  ];
}

/*
 * new Labels(el, {send(frame) -> bool, threads (ThreadList), openId() -> id|null,
 *                 filter(labelId|null), changed() (a thread's labels or the catalogue)})
 */
export class Labels {
  constructor(el, hooks) {
    this.el = el;
    this.hooks = hooks;
    this.byId = new Map();
    this._wire();
  }

  // A frame about labels -> true when it was one.
  apply(f) {
    if ((f.type === "labels" || f.type === "views") && Array.isArray(f.labels)) {
      this.byId = new Map(f.labels.map((l) => [l.id, l]));
      this.renderFilter();
      this.renderMenu();
      this.hooks.changed();
      return f.type === "labels";
    }
    if (f.type === "thread.labels" && f.thread != null) {
      this.hooks.threads.setLabels(f.thread, Array.isArray(f.labels) ? f.labels : []);
      this.renderMenu();
      this.hooks.changed();
      return true;
    }
    return false;
  }

  // The chips of these label ids in `box` (those the catalogue knows).
  chips(box, ids) {
    const known = (Array.isArray(ids) ? ids : []).map((id) => this.byId.get(id)).filter(Boolean);
    const key = known.map((l) => l.id + ":" + l.name + ":" + l.colour).join("|");
    if (box.dataset.key === key) {
      return;
    }
    box.dataset.key = key;
    box.replaceChildren(...known.map((l) => {
      const chip = make("span", "label-chip", l.name);
      chip.style.backgroundColor = l.colour; // CSSOM: allowed by the CSP
      return chip;
    }));
    box.hidden = known.length === 0;
  }

  renderFilter() {
    const select = this.el.labelFilter;
    const value = select.value;
    select.replaceChildren(new Option(t("All labels"), ""));
    this.byId.forEach((l) => select.appendChild(new Option(l.name, String(l.id))));
    select.value = this.byId.has(Number(value)) ? value : "";
    select.hidden = this.byId.size === 0 && !value;
  }

  renderHeader() {
    const id = this.hooks.openId();
    const th = id == null ? null : this.hooks.threads.get(id);
    this.chips(this.el.headerLabels, th ? th.labels : []);
    this.el.labelsButton.disabled = !(th && th.status);
    this.renderMenu();
  }

  renderMenu() {
    const el = this.el;
    if (el.labelMenu.hidden) {
      return;
    }
    const id = this.hooks.openId();
    const th = id == null ? null : this.hooks.threads.get(id);
    const on = new Set(th && Array.isArray(th.labels) ? th.labels : []);
    const items = [];
    this.byId.forEach((l) => {
      const row = make("label", "label-option");
      const box = make("input");
      box.type = "checkbox";
      box.value = String(l.id);
      box.checked = on.has(l.id);
      const chip = make("span", "label-chip", l.name);
      chip.style.backgroundColor = l.colour;
      row.append(box, chip);
      items.push(row);
    });
    const focused = document.activeElement && el.labelOptions.contains(document.activeElement)
      ? document.activeElement.value : null;
    el.labelOptions.replaceChildren(...items);
    el.labelOptionsEmpty.hidden = items.length > 0;
    if (focused) {
      const again = el.labelOptions.querySelector('input[value="' + focused + '"]');
      if (again) {
        again.focus();
      }
    }
  }

  open() {
    this.el.labelMenu.hidden = false;
    this.el.labelsButton.setAttribute("aria-expanded", "true");
    this.renderMenu();
    const first = this.el.labelOptions.querySelector("input") || this.el.labelName;
    first.focus();
  }

  close(focusButton) {
    if (this.el.labelMenu.hidden) {
      return;
    }
    this.el.labelMenu.hidden = true;
    this.el.labelsButton.setAttribute("aria-expanded", "false");
    if (focusButton) {
      this.el.labelsButton.focus();
    }
  }

  _wire() {
    const el = this.el;
    el.labelColour.replaceChildren(...colours().map(([value, name]) => new Option(name, value)));
    el.labelFilter.addEventListener("change", () => {
      this.hooks.filter(el.labelFilter.value ? Number(el.labelFilter.value) : null);
    });
    el.labelsButton.addEventListener("click", () => (el.labelMenu.hidden ? this.open() : this.close(true)));
    el.labelOptions.addEventListener("change", (event) => {
      const box = event.target;
      const thread = this.hooks.openId();
      if (box.type === "checkbox" && thread != null) {
        this.hooks.send({ type: "thread.label", thread, label: Number(box.value), on: box.checked });
      }
    });
    el.labelForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const name = el.labelName.value.trim();
      const thread = this.hooks.openId();
      if (name && thread != null &&
          this.hooks.send({ type: "label.create", name, colour: el.labelColour.value, thread })) {
        el.labelName.value = "";
      }
    });
    el.labelMenu.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.close(true);
      }
    });
    document.addEventListener("click", (event) => {
      if (!el.labelMenu.hidden && !el.labelMenu.contains(event.target) && !el.labelsButton.contains(event.target)) {
        this.close(false);
      }
    });
  }
}
