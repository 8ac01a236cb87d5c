/*
 * Getting attention while the page is hidden: a short chime (Web Audio, unlocked by
 * the first gesture, as browsers require) and the count in the title, "(2) Title".
 */

let audioCtx = null;

function getAudio() {
  if (audioCtx) {
    return audioCtx;
  }
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) {
    return null;
  }
  try {
    audioCtx = new Ctx();
  } catch (err) {
    audioCtx = null;
  }
  return audioCtx;
}

function unlockAudio() {
  window.removeEventListener("pointerdown", unlockAudio, true);
  window.removeEventListener("keydown", unlockAudio, true);
  const ctx = getAudio();
  if (ctx && ctx.state === "suspended") {
    ctx.resume().catch(() => {});
  }
}
window.addEventListener("pointerdown", unlockAudio, true);
window.addEventListener("keydown", unlockAudio, true);

function tone(ctx, freq, startAt, length) {
  const osc = ctx.createOscillator();
  const gain = ctx.createGain();
  osc.type = "sine";
  osc.frequency.setValueAtTime(freq, startAt);
  gain.gain.setValueAtTime(0.0001, startAt);
  gain.gain.exponentialRampToValueAtTime(0.18, startAt + 0.015);
  gain.gain.exponentialRampToValueAtTime(0.0001, startAt + length);
  osc.connect(gain);
  gain.connect(ctx.destination);
  osc.start(startAt);
  osc.stop(startAt + length + 0.02);
}

export function playChime() {
  try {
    const ctx = getAudio();
    if (!ctx) {
      return;
    }
    const play = () => {
      if (ctx.state !== "running") {
        return;
      }
      const now = ctx.currentTime + 0.01;
      tone(ctx, 659.25, now, 0.22); // E5
      tone(ctx, 987.77, now + 0.12, 0.35); // B5
    };
    if (ctx.state === "suspended") {
      ctx.resume().then(play, () => {});
    } else {
      play();
    }
  } catch (err) {
    /* audio blocked or unavailable: stay silent */
  }
}

let baseTitle = null;

// "(n) Title" while n > 0, the title as it was otherwise.
export function setTitleCount(n) {
  const count = Math.max(0, Math.floor(Number(n) || 0));
  if (count > 0) {
    if (baseTitle === null) {
      baseTitle = document.title;
    }
    document.title = "(" + count + ") " + baseTitle;
  } else if (baseTitle !== null) {
    document.title = baseTitle;
    baseTitle = null;
  }
}
