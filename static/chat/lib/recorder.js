/*
 * Voice notes: recording from the microphone (MediaRecorder), and the recorder panel
 * that replaces the composer while it runs (a timer, Cancel, Stop and send). The
 * microphone is always released at the end, and when the page goes away.
 */
import { t } from "./i18n.js";
import { formatDuration } from "./format.js";
import { baseType } from "./uploader.js";

export const RECORD_TYPES = Object.freeze([
  "audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4", "audio/webm",
]);
const RECORD_EXTENSIONS = { "audio/webm": "webm", "audio/ogg": "ogg", "audio/mp4": "m4a", "video/webm": "webm" };
const RECORD_MAX_SECONDS = 300;

export function canRecord() {
  const md = globalThis.navigator && navigator.mediaDevices;
  return !!(md && typeof md.getUserMedia === "function" && typeof globalThis.MediaRecorder === "function");
}

// The first type of RECORD_TYPES the browser records, or "" (its default).
export function pickRecordingType() {
  const MR = globalThis.MediaRecorder;
  if (!MR || typeof MR.isTypeSupported !== "function") {
    return "";
  }
  for (const type of RECORD_TYPES) {
    try {
      if (MR.isTypeSupported(type)) {
        return type;
      }
    } catch (err) {
      /* next */
    }
  }
  return "";
}

function microphoneError(err) {
  const name = err && err.name;
  if (name === "NotAllowedError" || name === "PermissionDeniedError" || name === "SecurityError") {
    return t(
      "Microphone access was refused. To record a voice note, allow the microphone for this site in your browser settings."
    );
  }
  if (name === "NotFoundError" || name === "DevicesNotFoundError" || name === "OverconstrainedError") {
    return t("No microphone was found.");
  }
  if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") {
    return t("The microphone is in use by another app or cannot be started.");
  }
  return t("The voice note could not be recorded.");
}

function stopTracks(stream) {
  stream.getTracks().forEach((track) => {
    try {
      track.stop();
    } catch (err) {
      /* ignore */
    }
  });
}

function noteFile(chunks, mime) {
  const blob = new Blob(chunks, { type: mime });
  if (!blob.size) {
    return null;
  }
  const fileName = "voice-note." + (RECORD_EXTENSIONS[mime] || "webm");
  try {
    return new File([blob], fileName, { type: mime });
  } catch (err) {
    blob.name = fileName;
    return blob;
  }
}

/*
 * startRecording({maxSeconds, onStart(), onTick(seconds), onStop(file, seconds),
 * onError(translated message)}) -> {stop(), cancel(), state(), elapsed()}
 *   stop() finishes (onStop gets a File "voice-note.<ext>"); cancel() throws it away.
 */
export function startRecording(opts) {
  const maxMs = (opts.maxSeconds || RECORD_MAX_SECONDS) * 1000;
  let stream = null;
  let recorder = null;
  let chunks = [];
  let startedAt = 0;
  let stoppedAt = 0;
  let timer = null;
  let limitTimer = null;
  let status = "starting"; // starting | recording | stopping | done | cancelled | failed

  const call = (name, a, b) => {
    if (typeof opts[name] === "function") {
      try {
        opts[name](a, b);
      } catch (err) {
        console.error(err);
      }
    }
  };
  const elapsed = () => (startedAt ? ((stoppedAt || Date.now()) - startedAt) / 1000 : 0);
  const ended = () => status === "cancelled" || status === "done" || status === "failed";
  const release = () => {
    clearInterval(timer);
    clearTimeout(limitTimer);
    timer = limitTimer = null;
    if (stream) {
      stopTracks(stream);
      stream = null;
    }
  };
  const stopRecorder = () => {
    if (recorder && recorder.state !== "inactive") {
      try {
        recorder.stop();
      } catch (err) {
        /* ignore */
      }
    }
  };
  const fail = (message) => {
    if (ended()) {
      return;
    }
    status = "failed";
    stopRecorder();
    release();
    call("onError", message);
  };
  const finished = (type) => {
    const seconds = elapsed();
    release();
    if (status !== "stopping" && status !== "recording") {
      return; // cancelled or failed
    }
    status = "done";
    const file = noteFile(chunks, baseType((recorder && recorder.mimeType) || type) || "audio/webm");
    chunks = [];
    if (file) {
      call("onStop", file, seconds);
    } else {
      call("onError", t("Nothing was recorded. Please try again."));
    }
  };

  const ctl = {
    stop() {
      if (status === "starting") {
        ctl.cancel();
      } else if (status === "recording") {
        status = "stopping";
        stoppedAt = Date.now();
        try {
          recorder.stop(); // dataavailable, then stop: finished()
        } catch (err) {
          fail(microphoneError(err));
        }
      }
    },
    cancel() {
      if (!ended()) {
        status = "cancelled";
        chunks = [];
        stopRecorder();
        release();
      }
    },
    state: () => status,
    elapsed,
  };

  if (!canRecord()) {
    setTimeout(() => fail(t("This browser cannot record voice notes.")), 0);
    return ctl;
  }
  let request;
  try {
    request = navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
  } catch (err) {
    request = Promise.reject(err);
  }
  request.then((s) => {
    if (status !== "starting") {
      stopTracks(s); // cancelled while the browser asked
      return;
    }
    stream = s;
    const type = pickRecordingType();
    try {
      const options = { audioBitsPerSecond: 48000 };
      if (type) {
        options.mimeType = type;
      }
      recorder = new globalThis.MediaRecorder(s, options);
    } catch (err) {
      fail(microphoneError(err));
      return;
    }
    recorder.addEventListener("dataavailable", (event) => {
      if (event.data && event.data.size && status !== "cancelled") {
        chunks.push(event.data);
      }
    });
    recorder.addEventListener("stop", () => finished(type));
    recorder.addEventListener("error", (event) => fail(microphoneError(event && event.error)));
    try {
      recorder.start(1000);
    } catch (err) {
      fail(microphoneError(err));
      return;
    }
    status = "recording";
    startedAt = Date.now();
    call("onStart");
    call("onTick", 0);
    timer = setInterval(() => call("onTick", elapsed()), 250);
    limitTimer = setTimeout(ctl.stop, maxMs);
    // The microphone unplugged or taken away.
    s.getTracks().forEach((track) => track.addEventListener("ended", () => ctl.stop()));
  }, (err) => fail(microphoneError(err)));
  return ctl;
}

/*
 * The recorder panel of a composer. el: {record, recorder, recorderTime,
 * recorderCancel, recorderSend, form (hidden while recording), area? (gets the class
 * "recording")}. opts: {available (files can be sent), enabled() -> bool,
 * onFile(file), onError(message), focus()}. Shows the microphone button only where
 * recording works.
 */
export class VoiceNote {
  constructor(el, opts) {
    this.el = el;
    this.opts = opts;
    this.ctl = null;
    if (!opts.available || !canRecord() || !el.record) {
      return;
    }
    el.record.hidden = false;
    el.record.setAttribute("aria-pressed", "false");
    el.record.addEventListener("click", () => this.start());
    el.recorderCancel.addEventListener("click", () => this.cancel());
    el.recorderSend.addEventListener("click", () => this.finish());
    el.recorder.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.cancel();
      }
    });
    window.addEventListener("pagehide", () => this.abandon());
  }

  active() {
    return this.ctl !== null;
  }

  _show(on) {
    const el = this.el;
    el.recorder.hidden = !on;
    el.form.hidden = on;
    if (el.area) {
      el.area.classList.toggle("recording", on);
    }
    el.record.setAttribute("aria-pressed", on ? "true" : "false");
    if (on) {
      el.recorderTime.textContent = formatDuration(0);
      el.recorderSend.focus();
    }
  }

  _done() {
    this.ctl = null;
    this.el.record.disabled = false;
    this.el.record.removeAttribute("aria-busy");
    this._show(false);
  }

  start() {
    if (this.ctl || !this.opts.enabled()) {
      return;
    }
    const record = this.el.record;
    record.disabled = true; // while the browser asks for the microphone
    record.setAttribute("aria-busy", "true");
    this.ctl = startRecording({
      onStart: () => {
        record.disabled = false;
        record.removeAttribute("aria-busy");
        this._show(true);
      },
      onTick: (seconds) => {
        this.el.recorderTime.textContent = formatDuration(seconds);
        this.el.recorderTime.dateTime = "PT" + Math.floor(seconds) + "S";
      },
      onStop: (file) => {
        this._done();
        this.opts.focus();
        this.opts.onFile(file);
      },
      onError: (message) => {
        this._done();
        this.opts.onError(message);
      },
    });
  }

  // Throws the recording away (Cancel, Escape, another conversation opened).
  cancel() {
    const ctl = this.ctl;
    this._done();
    if (ctl) {
      ctl.cancel();
    }
    this.opts.focus();
  }

  // Stops and sends: onFile follows.
  finish() {
    if (this.ctl) {
      this.ctl.stop();
    }
  }

  // The page goes away: the microphone never stays on.
  abandon() {
    if (this.ctl) {
      this.ctl.cancel();
      this.ctl = null;
    }
  }
}
