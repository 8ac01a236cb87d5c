/*
 * The box a message is written in, the same on every page: Enter sends (Shift+Enter
 * is a new line), a count near the limit, typing notices, files picked, dropped or
 * pasted (held in the preview strip until sent) and voice notes. It decides what is
 * sent; the page decides where (onSend).
 */
import { bodyLength, isSendKey } from "./util.js";
import { checkFile } from "./uploader.js";
import { dropZone, pasteFiles, PreviewStrip, stageFile } from "./files.js";
import { VoiceNote } from "./recorder.js";

const MAX_STAGED = 10;

// What is sent of what was typed: blank lines before it and white space after it
// are dropped; the rest is kept as typed.
export function cleanBody(text) {
  return String(text).replace(/^(?:[ \t]*(?:\r\n|\r|\n))+/, "").trimEnd();
}

function finePointer() {
  return !!(window.matchMedia && window.matchMedia("(pointer: fine)").matches);
}

/*
 * new Composer(el, opts)
 *   el: {form, input, send, counter, attach?, fileInput?, preview, dropTarget,
 *        dropOverlay, pasteTarget, record?, recorder?, recorderTime?, recorderCancel?,
 *        recorderSend?, area?}
 *   opts: {uploads (uploader.js settings), typing (typing.js sender), typingKey(),
 *          formatCount(length, max) -> text | null (hidden), autoGrow,
 *          canUse() -> bool (a conversation to write in), canPaste() -> bool,
 *          onSend(body, stagedFiles), notice(text)}
 */
export class Composer {
  constructor(el, opts) {
    this.el = el;
    this.opts = opts;
    this.maxBody = 4000;
    this.disabled = false;
    this.strip = new PreviewStrip(el.preview, {
      max: MAX_STAGED,
      check: (file) => checkFile(file, opts.uploads),
      onChange: () => this.update(),
      onRemove: () => el.input.focus(),
    });
    el.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    el.input.addEventListener("keydown", (event) => {
      if (isSendKey(event)) {
        event.preventDefault();
        this.send();
      }
    });
    el.input.addEventListener("input", () => {
      this._grow();
      this.update();
      if (this.opts.canUse()) {
        opts.typing.input(el.input.value.replace(/\s+/g, "") !== "", opts.typingKey());
      }
    });
    el.input.addEventListener("blur", () => opts.typing.blur());
    this.voice = new VoiceNote(el, {
      available: this.uploadsEnabled(),
      enabled: () => this.uploadsEnabled() && this.opts.canUse() && !this.disabled,
      onFile: (file) => this._sendVoiceNote(file),
      onError: (message) => opts.notice(message),
      focus: () => this.focusAfterRecording(),
    });
    this._wireFiles();
    this._grow();
    this.update();
  }

  uploadsEnabled() {
    return !!this.opts.uploads.url;
  }

  _wireFiles() {
    const el = this.el;
    if (!this.uploadsEnabled()) {
      return;
    }
    this.limitsChanged();
    el.attach.hidden = false;
    el.attach.addEventListener("click", () => {
      if (this.opts.canUse() && !this.disabled) {
        el.fileInput.value = "";
        el.fileInput.click();
      }
    });
    el.fileInput.addEventListener("change", () => {
      const files = Array.from(el.fileInput.files || []);
      el.fileInput.value = "";
      this.addFiles(files);
      el.input.focus();
    });
    const usable = () => !this.voice.active() && this.opts.canUse() && !this.disabled;
    dropZone(el.dropTarget, { overlay: el.dropOverlay, onFiles: (f) => this.addFiles(f), enabled: usable });
    pasteFiles(el.pasteTarget, {
      onFiles: (f) => this.addFiles(f),
      enabled: () => usable() && (!this.opts.canPaste || this.opts.canPaste()),
    });
  }

  // The server's limits (hello) changed: body length, file types.
  limitsChanged(maxBody) {
    if (maxBody) {
      this.maxBody = maxBody;
      if (this.el.input.hasAttribute("maxlength")) {
        this.el.input.maxLength = maxBody;
      }
    }
    if (this.el.fileInput) {
      this.el.fileInput.accept = this.opts.uploads.types.join(",");
    }
    this.update();
  }

  addFiles(files) {
    if (!this.uploadsEnabled() || this.voice.active() || !this.opts.canUse() || !files.length) {
      return;
    }
    const errors = this.strip.add(files);
    if (errors.length) {
      this.opts.notice(errors.join(" "));
    }
    this.update();
  }

  _sendVoiceNote(file) {
    const reason = checkFile(file, this.opts.uploads);
    if (reason) {
      this.opts.notice(reason);
    } else {
      this.opts.onSend("", [stageFile(file)]);
    }
  }

  send() {
    const input = this.el.input;
    if (this.disabled || !this.opts.canUse()) {
      return;
    }
    const length = bodyLength(input.value);
    const files = this.strip.count();
    if (length > this.maxBody || (!length && !files)) {
      input.focus();
      return;
    }
    const body = length ? cleanBody(input.value) : "";
    this.opts.typing.sent(); // the message ends the notice on the other side
    this.opts.onSend(body, files ? this.strip.take() : []);
    this.setText("");
    input.focus();
  }

  setText(text) {
    this.el.input.value = text;
    this._grow();
    this.update();
  }

  focus() {
    this.el.input.focus();
  }

  // After a voice note: the text box where there is a keyboard, else the microphone
  // (not to pop up a phone's keyboard).
  focusAfterRecording() {
    if (!this.opts.canUse()) {
      return;
    }
    if (finePointer()) {
      this.el.input.focus();
    } else if (this.el.record && !this.el.record.hidden) {
      this.el.record.focus();
    }
  }

  // No writing (the connection was refused for good).
  setDisabled(disabled) {
    this.disabled = disabled;
    const el = this.el;
    el.input.disabled = disabled;
    for (const control of [el.attach, el.record]) {
      if (control) {
        control.disabled = disabled;
      }
    }
    this.update();
  }

  // The count, the limit's marks and the send button.
  update() {
    const el = this.el;
    const length = bodyLength(el.input.value);
    const tooLong = length > this.maxBody;
    const text = this.opts.formatCount(length, this.maxBody);
    el.counter.hidden = text === null;
    el.counter.textContent = text || "";
    el.counter.classList.toggle("over", tooLong);
    el.form.classList.toggle("over-limit", tooLong);
    el.input.setAttribute("aria-invalid", tooLong ? "true" : "false");
    el.send.disabled = this.disabled || tooLong || (length === 0 && this.strip.count() === 0);
  }

  _grow() {
    if (!this.opts.autoGrow) {
      return;
    }
    const input = this.el.input;
    input.style.height = "auto";
    const max = Math.round(window.innerHeight * 0.35);
    const h = Math.min(input.scrollHeight + 2, Math.max(max, 120));
    input.style.height = h + "px";
    input.classList.toggle("scrolling", input.scrollHeight + 2 > h);
  }
}
