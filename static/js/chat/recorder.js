// Voice messages: recorded with getUserMedia + MediaRecorder (at most 15 minutes), listened to before
// sending, sent with the message (composer.js). When the browser cannot record, or the microphone is
// refused or missing, the composer says why.
import { $, formatBytes, localDay, pad } from "../locker.js";
import { draft, formatDuration, parts } from "./common.js";
import { followPlayTime } from "./playtime.js";

const MAX_RECORDING_MS = 15 * 60 * 1000;

let previewTime = null; // "0:00 / 0:02" of the recording being listened to (playtime.js)

export const recorder = { active: false, media: null, stream: null, chunks: [], started: 0, timer: null, discard: false };

function recorderSupport() {
  if (!window.isSecureContext) return "Voice recording needs a secure (https) connection to this site.";
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return "This browser cannot use a microphone here, so it cannot record. You can attach an audio file instead.";
  if (typeof window.MediaRecorder !== "function") return "This browser cannot record audio (no MediaRecorder). You can attach an audio file instead.";
  return null;
}

function micError(err) {
  const name = err && err.name;
  if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") {
    return "The microphone is blocked: allow it for this site in the browser (the icon in the address bar), then press “Record voice” again.";
  }
  if (name === "NotFoundError" || name === "DevicesNotFoundError" || name === "OverconstrainedError") return "No microphone was found. Connect one and try again.";
  if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") return "The microphone could not be started; another application may be using it.";
  return `Could not start recording${err && err.message ? `: ${err.message}` : "."}`;
}

function recordingType() {
  for (const type of ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/mp4"]) {
    if (typeof MediaRecorder.isTypeSupported === "function" && MediaRecorder.isTypeSupported(type)) return type;
  }
  return "";
}

function extensionOf(type) {
  if (type.includes("ogg")) return "ogg";
  if (type.includes("mp4") || type.includes("aac")) return "m4a";
  if (type.includes("mpeg")) return "mp3";
  if (type.includes("wav")) return "wav";
  return "webm";
}

export function showRecorder() {
  $("recorder").hidden = !recorder.active && !draft.recording;
  $("recorder-live").hidden = !recorder.active;
  $("recorder-done").hidden = !draft.recording;
  parts.updateComposer();
}

function tick() {
  const ms = performance.now() - recorder.started;
  $("rec-timer").textContent = formatDuration(Math.floor(ms / 1000));
  $("rec-timer").dataset.ms = String(Math.round(ms));
  if (ms >= MAX_RECORDING_MS) stopRecording(false);
}

async function startRecording() {
  parts.composerError("");
  const unsupported = recorderSupport();
  if (unsupported) {
    parts.composerError(unsupported);
    return;
  }
  if (recorder.active || draft.recording || draft.sending) return;
  $("record").disabled = true;
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (err) {
    parts.composerError(micError(err));
    parts.updateComposer();
    return;
  }
  const type = recordingType();
  let media;
  try {
    media = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
  } catch (err) {
    for (const track of stream.getTracks()) track.stop();
    parts.composerError(`This browser cannot record audio: ${err.message || err.name}.`);
    parts.updateComposer();
    return;
  }
  Object.assign(recorder, { active: true, media, stream, chunks: [], discard: false });
  media.addEventListener("dataavailable", (event) => event.data && event.data.size && recorder.chunks.push(event.data));
  media.addEventListener("stop", finishRecording);
  media.addEventListener("error", function (event) {
    parts.composerError(`Recording failed: ${(event.error && event.error.message) || "the recorder stopped"}.`);
    stopRecording(true);
  });
  media.start(250); // a chunk every 250 ms: a recording cut short still has its data
  recorder.started = performance.now();
  $("rec-timer").textContent = "0:00";
  $("rec-timer").dataset.ms = "0";
  recorder.timer = setInterval(tick, 200);
  showRecorder();
  $("rec-stop").focus();
}

export function stopRecording(discard) {
  if (!recorder.active || !recorder.media) return;
  recorder.discard = discard;
  clearInterval(recorder.timer);
  recorder.seconds = (performance.now() - recorder.started) / 1000;
  if (recorder.media.state !== "inactive") recorder.media.stop();
  else finishRecording();
}

function finishRecording() {
  for (const track of recorder.stream ? recorder.stream.getTracks() : []) track.stop();
  const type = (recorder.media && recorder.media.mimeType) || "audio/webm";
  const chunks = recorder.chunks;
  const discard = recorder.discard;
  const seconds = recorder.seconds || 0;
  Object.assign(recorder, { active: false, media: null, stream: null, chunks: [], timer: null });
  if (!discard) {
    const blob = new Blob(chunks, { type });
    if (!blob.size) {
      parts.composerError("The recording is empty: the microphone sent no sound. Try again.");
    } else {
      const now = new Date();
      const stamp = `${localDay(now)} ${pad(now.getHours())}.${pad(now.getMinutes())}.${pad(now.getSeconds())}`;
      draft.recording = { blob, url: URL.createObjectURL(blob), seconds, name: `Voice message ${stamp}.${extensionOf(type)}` };
      previewTime.reset(seconds); // the recorder's count: MediaRecorder's WebM tells the player no length
      $("rec-audio").src = draft.recording.url;
      $("rec-size").textContent = formatBytes(blob.size);
    }
  }
  showRecorder();
  if (draft.recording) $("rec-audio").focus();
  else $("record").focus();
}

// Forget the recording: stop its player and free its blob.
export function releaseRecording() {
  const audio = $("rec-audio");
  audio.pause();
  audio.removeAttribute("src");
  audio.load();
  URL.revokeObjectURL(draft.recording.url);
  draft.recording = null;
}

function discardRecording() {
  if (!draft.recording || draft.sending) return;
  releaseRecording();
  showRecorder();
}

export function setupRecorder() {
  previewTime = followPlayTime($("rec-audio"), $("rec-elapsed"), $("rec-total"), null);
  $("record").addEventListener("click", startRecording);
  $("rec-stop").addEventListener("click", () => stopRecording(false));
  $("rec-cancel").addEventListener("click", () => stopRecording(true));
  $("rec-discard").addEventListener("click", function () {
    discardRecording();
    $("record").focus();
  });
}
