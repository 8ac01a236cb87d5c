/*
 * Choosing files: dragged, pasted or picked, then held in the preview strip (a
 * thumbnail, an icon or a mini player each, and a remove button) until the message
 * goes. The composer owns one strip; the inbox swaps its items per conversation.
 */
import { nt, t, tf } from "./i18n.js";
import { uuid4 } from "./util.js";
import { formatSize } from "./format.js";
import { button, icon, make, reconcile } from "./dom.js";
import { baseType, fileType, kindOf } from "./uploader.js";

const PASTED_NAMES = { "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp" };

// The files of a drop or a paste; an unnamed pasted image gets a name.
export function filesFromTransfer(dt) {
  const out = [];
  if (!dt) {
    return out;
  }
  if (dt.files && dt.files.length) {
    out.push(...Array.from(dt.files));
  } else if (dt.items) {
    for (const item of Array.from(dt.items)) {
      const f = item.kind === "file" && item.getAsFile ? item.getAsFile() : null;
      if (f) {
        out.push(f);
      }
    }
  }
  return out.map((f) => {
    if (f.name) {
      return f;
    }
    const ext = PASTED_NAMES[baseType(f.type)] || "bin";
    try {
      return new File([f], "pasted-image." + ext, { type: f.type });
    } catch (err) {
      return f;
    }
  });
}

function isFileDrag(event) {
  const types = event.dataTransfer && event.dataTransfer.types;
  return !!types && Array.prototype.indexOf.call(types, "Files") !== -1;
}

let pageDropGuard = false;

// Files dragged onto `target`: the overlay shows while they are over it, onFiles(files)
// on drop. opts: {overlay, onFiles(files), enabled() -> bool}
export function dropZone(target, opts) {
  let depth = 0;
  const enabled = opts.enabled || (() => true);
  const show = (on) => {
    if (opts.overlay) {
      opts.overlay.hidden = !on;
    }
    target.classList.toggle("drag-over", on);
  };
  target.addEventListener("dragenter", (event) => {
    if (isFileDrag(event) && enabled()) {
      event.preventDefault();
      depth++;
      show(true);
    }
  });
  target.addEventListener("dragover", (event) => {
    if (isFileDrag(event) && enabled()) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      show(true);
    }
  });
  target.addEventListener("dragleave", (event) => {
    if (isFileDrag(event)) {
      depth = Math.max(0, depth - 1);
      if (!depth) {
        show(false);
      }
    }
  });
  target.addEventListener("drop", (event) => {
    if (!isFileDrag(event)) {
      return;
    }
    event.preventDefault();
    depth = 0;
    show(false);
    if (enabled()) {
      const files = filesFromTransfer(event.dataTransfer);
      if (files.length) {
        opts.onFiles(files);
      }
    }
  });
  if (!pageDropGuard) {
    // A file dropped beside the zone must not replace the page with the file.
    pageDropGuard = true;
    const guard = (event) => {
      if (isFileDrag(event)) {
        event.preventDefault();
      }
    };
    window.addEventListener("dragover", guard);
    window.addEventListener("drop", guard);
  }
}

// Files pasted into `target` (a copied image, a screenshot). Text pastes are left
// alone, also when the clipboard carries a picture of the text (office suites do).
export function pasteFiles(target, opts) {
  target.addEventListener("paste", (event) => {
    if (opts.enabled && !opts.enabled()) {
      return;
    }
    const data = event.clipboardData;
    if (!data) {
      return;
    }
    let text = "";
    try {
      text = data.getData("text/plain");
    } catch (err) {
      text = "";
    }
    if (text) {
      return;
    }
    const files = filesFromTransfer(data);
    if (files.length) {
      event.preventDefault();
      opts.onFiles(files);
    }
  });
}

// A file chosen but not sent yet: {key, file, name, size, type, kind, url (an object
// URL of an image or audio file, else null)}.
export function stageFile(file) {
  const type = fileType(file);
  const kind = kindOf(type);
  let url = null;
  if ((kind === "image" || kind === "audio") && globalThis.URL && URL.createObjectURL) {
    try {
      url = URL.createObjectURL(file);
    } catch (err) {
      url = null;
    }
  }
  return { key: uuid4(), file, name: file.name || t("Attachment"), size: file.size, type, kind, url };
}

export function releaseStaged(item) {
  if (item && item.url) {
    try {
      URL.revokeObjectURL(item.url);
    } catch (err) {
      /* ignore */
    }
    item.url = null;
  }
}

function buildPreviewItem(item) {
  const node = make("div", "preview-item preview-" + item.kind);
  node.setAttribute("role", "listitem");
  node.setAttribute("data-key", item.key);
  node.setAttribute("data-kind", item.kind);
  if (item.kind === "image" && item.url) {
    const img = make("img", "preview-thumb");
    img.src = item.url;
    img.alt = "";
    img.decoding = "async";
    node.appendChild(img);
  } else {
    const glyph = make("span", "preview-icon");
    glyph.appendChild(icon(item.kind === "audio" ? "audio" : "file", 24));
    node.appendChild(glyph);
  }
  const text = make("span", "preview-text");
  const name = make("span", "preview-name", item.name);
  name.title = item.name;
  text.appendChild(name);
  const size = formatSize(item.size);
  if (size) {
    text.appendChild(make("span", "preview-size", size));
  }
  if (item.kind === "audio" && item.url) {
    const audio = make("audio", "preview-audio");
    audio.controls = true;
    audio.preload = "metadata";
    audio.src = item.url;
    audio.setAttribute("aria-label", item.name);
    text.appendChild(audio);
  }
  node.appendChild(text);
  const remove = button("remove");
  remove.setAttribute("aria-label", tf("Remove %(name)s", { name: item.name }));
  remove.title = t("Remove");
  remove.appendChild(icon("close", 16));
  node.appendChild(remove);
  return node;
}

/*
 * new PreviewStrip(box, {check(file) -> reason|null, max, onChange(n), onRemove()})
 *   .add(files) -> the reasons for those refused   .remove(key)   .count()
 *   .take() -> the items (their object URLs now the caller's)   .swap(items) -> old
 *   .clear()
 */
export class PreviewStrip {
  constructor(box, opts) {
    this.box = box;
    this.opts = opts || {};
    this.items = [];
    this._nodes = new Map();
    box.setAttribute("role", "list");
    box.setAttribute("aria-label", t("Files to send"));
    box.hidden = true;
    box.addEventListener("click", (event) => {
      const remove = event.target.closest ? event.target.closest(".remove") : null;
      const item = remove && remove.closest("[data-key]");
      if (item) {
        this.remove(item.getAttribute("data-key"));
      }
    });
  }

  add(files) {
    const errors = [];
    const max = this.opts.max || 10;
    for (const file of files) {
      let reason = this.opts.check ? this.opts.check(file) : null;
      if (!reason && this.items.length >= max) {
        reason = tf(
          nt("You can send up to %(count)s file at a time.", "You can send up to %(count)s files at a time.", max),
          { count: max }
        );
      }
      if (reason) {
        errors.push(reason);
      } else {
        this.items.push(stageFile(file));
      }
    }
    this.render();
    return errors;
  }

  remove(key) {
    this.items = this.items.filter((item) => {
      if (item.key === key) {
        releaseStaged(item);
        return false;
      }
      return true;
    });
    this.render();
    if (this.opts.onRemove) {
      this.opts.onRemove();
    }
  }

  count() {
    return this.items.length;
  }

  take() {
    const items = this.items;
    this.items = [];
    this.render();
    return items;
  }

  swap(items) {
    const old = this.items;
    this.items = items || [];
    this.render();
    return old;
  }

  clear() {
    this.items.forEach(releaseStaged);
    this.items = [];
    this.render();
  }

  render() {
    const nodes = [];
    const used = new Set();
    for (const item of this.items) {
      used.add(item.key);
      if (!this._nodes.has(item.key)) {
        this._nodes.set(item.key, buildPreviewItem(item));
      }
      nodes.push(this._nodes.get(item.key));
    }
    for (const key of Array.from(this._nodes.keys())) {
      if (!used.has(key)) {
        this._nodes.delete(key);
      }
    }
    reconcile(this.box, nodes);
    this.box.hidden = nodes.length === 0;
    if (this.opts.onChange) {
      this.opts.onChange(this.items.length);
    }
  }
}
