// A voice message's "elapsed / total" ("0:00 / 0:42"), shown before and while it plays. The total is the
// server's (chats/audio.py reads it from the recording: `duration`), or the recorder's own count for one not
// sent yet, or else the player's. Chromium reports Infinity for MediaRecorder's WebM (it carries no duration):
// then, with no other total, the player is asked to seek past the end once, which makes it read the real length.
import { formatDuration } from "./common.js";

function clock(seconds) {
  return formatDuration(Math.floor(Math.max(0, seconds || 0)));
}

// `audio`: the <audio>; `elapsed`, `total`: the elements showing each; `known`: the total in seconds, if known.
export function followPlayTime(audio, elapsed, total, known) {
  let length = typeof known === "number" && isFinite(known) && known > 0 ? known : null;
  let probing = false;

  function show() {
    elapsed.textContent = clock(probing ? 0 : audio.currentTime);
    total.textContent = length !== null ? formatDuration(length) : "–:––";
    const holder = total.closest("[data-duration-known]");
    if (holder) holder.dataset.durationKnown = length !== null ? "1" : "0";
  }

  function learn() {
    if (length === null && isFinite(audio.duration) && audio.duration > 0) length = audio.duration;
    if (probing && isFinite(audio.duration)) {
      probing = false;
      audio.currentTime = 0;
    }
    show();
  }

  audio.addEventListener("loadedmetadata", function () {
    if (length === null && audio.duration === Infinity && audio.paused && !probing) {
      probing = true;
      audio.currentTime = 1e9; // past the end: the player reads on and learns the length
    }
    learn();
  });
  audio.addEventListener("durationchange", learn);
  audio.addEventListener("timeupdate", show);
  audio.addEventListener("seeked", show);
  audio.addEventListener("ended", show);
  audio.addEventListener("emptied", function () {
    probing = false;
    show();
  });
  show();
  return {
    reset(seconds) {
      length = typeof seconds === "number" && isFinite(seconds) && seconds > 0 ? seconds : null;
      probing = false;
      show();
    },
  };
}
