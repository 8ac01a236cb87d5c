/*
 * What an operator was writing in each conversation: the text and the files chosen
 * stay with their thread while they look at another, as in any mail client. A voice
 * note being recorded is thrown away when they leave (the microphone never follows).
 */

export class Drafts {
  constructor(composer) {
    this.composer = composer;
    this._texts = new Map(); // thread -> text
    this._files = new Map(); // thread -> staged files (files.js items)
  }

  // Leaving `thread` (null: none was open).
  park(thread) {
    const composer = this.composer;
    if (composer.voice.active()) {
      composer.voice.cancel();
    }
    const files = composer.strip.swap([]);
    if (thread == null) {
      return;
    }
    const text = composer.el.input.value;
    if (text) {
      this._texts.set(thread, text);
    } else {
      this._texts.delete(thread);
    }
    if (files.length) {
      this._files.set(thread, files);
    } else {
      this._files.delete(thread);
    }
  }

  // Opening `thread`: its text and files back in the composer.
  restore(thread) {
    this.composer.strip.swap(this._files.get(thread) || []);
    this._files.delete(thread);
    this.composer.setText(this._texts.get(thread) || "");
  }

  // Sent: the text is no longer a draft.
  sent(thread) {
    this._texts.delete(thread);
  }
}
