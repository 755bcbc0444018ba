// The composer: text, files (picked or dropped on the conversation) and a voice recording (recorder.js),
// sent as ONE multipart request (the API stores a message with all its attachments, or nothing), its
// upload progress shown on the message and spread over the files' bars in the order they travel. A refused
// or cancelled message says why and keeps everything in the composer for another try.
import { $, el, formatBytes, mimeGroup, parseJson, quoted, SIGNED_OUT } from "../locker.js";
import { ApiError, draft, formatDuration, messageOf, parts, ROLE_LABELS, sayError, state, xhrTo } from "./common.js";
import { messageNode } from "./messages.js";
import { recorder, releaseRecording, showRecorder, stopRecording } from "./recorder.js";
import { chosenFolder } from "./where.js";

const list = $("messages");
const form = $("composer");
const textarea = $("composer-text");
const fileList = $("composer-files");
let nextFileKey = 0;

function composerError(text) {
  $("composer-error").textContent = text || "";
}

function hasDraft() {
  return Boolean(textarea.value.trim() || draft.files.length || draft.recording);
}

function updateComposer() {
  fileList.hidden = draft.files.length === 0;
  $("send").disabled = Boolean(draft.sending) || recorder.active || !hasDraft();
  $("record").disabled = Boolean(draft.sending) || recorder.active || Boolean(draft.recording);
  $("attach").disabled = Boolean(draft.sending);
  textarea.readOnly = Boolean(draft.sending);
  form.classList.toggle("is-sending", Boolean(draft.sending));
  for (const button of fileList.querySelectorAll("button[data-remove]")) button.disabled = Boolean(draft.sending);
  $("rec-discard").disabled = Boolean(draft.sending);
  if (parts.renderWhere) parts.renderWhere();
}

function addFiles(files) {
  if (draft.sending) {
    composerError("Wait until this message is sent before adding more files.");
    return;
  }
  for (const file of files) {
    const key = String(++nextFileKey);
    const bar = el("progress", { max: 1, value: 0, "aria-label": `Sending ${file.name}` });
    bar.hidden = true;
    const li = el("li", { class: "composer-file", "data-key": key, "data-testid": "composer-file" }, [
      el("span", { class: `icon file ${mimeGroup(file.type)}`, "aria-hidden": "true" }),
      el("span", { class: "composer-file-label" }, [
        el("span", { class: "composer-file-name", text: file.name }),
        " ",
        el("span", { class: "composer-file-size muted", text: formatBytes(file.size) }),
      ]),
      bar,
      el("button", { type: "button", class: "small", "data-remove": key, "aria-label": `Remove ${quoted(file.name)}`, title: "Remove", text: "✕" }),
    ]);
    draft.files.push({ key, file, li, bar });
    fileList.append(li);
  }
  composerError("");
  updateComposer();
}

function autosize() {
  textarea.style.height = ""; // CSSOM, not a style attribute in the markup: allowed by style-src 'self'
  textarea.style.height = `${Math.min(textarea.scrollHeight + 2, window.innerHeight * 0.4)}px`;
}

// --- sending: one multipart request, its upload progress spread over the files in order ---

function pendingNode(text, names) {
  const bar = el("progress", { max: 1, value: 0, class: "pending-progress", "aria-label": "Sending" });
  const status = el("span", { class: "message-status", "data-status": "sending", "data-testid": "message-status" }, [
    el("span", { class: "status-icon", "aria-hidden": "true" }),
    el("span", { class: "status-text", text: "Sending…" }),
  ]);
  const error = el("p", { class: "message-error", "data-testid": "message-error" });
  error.hidden = true;
  const li = el("li", { class: "message user pending", "data-role": "user", "data-status": "sending", "data-testid": "message" }, [
    el("div", { class: "bubble" }, [
      el("div", { class: "message-meta" }, [el("span", { class: "message-role", text: ROLE_LABELS.user }), status]),
      text ? el("p", { class: "message-text", text }) : null,
      names.length
        ? el("ul", { class: "pending-names", "aria-label": "Attachments" }, names.map(([icon, name]) => el("li", {}, [el("span", { class: `icon file ${icon}`, "aria-hidden": "true" }), name])))
        : null,
      bar,
      error,
    ]),
  ]);
  return { li, bar, status, error };
}

function send() {
  if (draft.sending || !state.chatId) return;
  if (recorder.active) {
    composerError("Stop the recording first (or cancel it).");
    return;
  }
  if (!hasDraft()) {
    composerError("Write something, attach a file or record a voice message first.");
    textarea.focus();
    return;
  }
  composerError("");
  const chatId = state.chatId;
  const text = textarea.value;
  const files = draft.files.slice();
  const recording = draft.recording;

  const body = new FormData();
  body.append("role", "user");
  body.append("content", text);
  for (const f of files) body.append("file", f.file, f.file.name);
  if (recording) body.append("audio", recording.blob, recording.name);
  const folder = files.length || recording ? chosenFolder() : null;
  if (folder) body.append("folder", folder);

  // The parts in the order they travel, to turn bytes sent into a bar per file.
  const pieces = files.map((f) => ({ size: f.file.size, bar: f.bar }));
  if (recording) pieces.push({ size: recording.blob.size, bar: $("rec-progress") });
  const totalSize = pieces.reduce((sum, p) => sum + p.size, 0) || 1;
  for (const p of pieces) {
    p.bar.value = 0;
    p.bar.hidden = false;
  }

  const names = files.map((f) => [mimeGroup(f.file.type), f.file.name]);
  if (recording) names.push(["audio", `Voice message (${formatDuration(recording.seconds)})`]);
  const pending = pendingNode(text.trim() ? text : "", names);
  for (const old of list.querySelectorAll("li.message.pending.failed")) old.remove(); // this is its retry
  list.append(pending.li);
  $("messages-empty").hidden = true;
  parts.scrollToBottom();

  const overall = $("send-progress");
  overall.value = 0;
  overall.hidden = false;
  $("send-cancel").hidden = false;
  $("composer-status").textContent = pieces.length ? "Uploading…" : "Sending…";

  const xhr = xhrTo("POST", `chats/${encodeURIComponent(chatId)}/messages/`);
  draft.sending = { xhr, chatId, pending };
  updateComposer();

  function progress(fraction) {
    overall.value = fraction;
    pending.bar.value = fraction;
    let offset = 0;
    const sent = fraction * totalSize;
    for (const p of pieces) {
      p.bar.value = p.size ? Math.max(0, Math.min(1, (sent - offset) / p.size)) : sent >= offset ? 1 : 0;
      offset += p.size;
    }
  }

  function done() {
    draft.sending = null;
    overall.hidden = true;
    $("send-cancel").hidden = true;
    $("composer-status").textContent = "";
    for (const p of pieces) p.bar.hidden = true;
    updateComposer();
  }

  function failed(text, retryable) {
    const bottom = parts.nearBottom();
    pending.li.classList.add("failed");
    pending.li.dataset.status = "failed";
    pending.status.dataset.status = "failed";
    pending.status.querySelector(".status-text").textContent = "Not sent";
    pending.bar.hidden = true;
    pending.error.hidden = false;
    pending.error.setAttribute("role", "alert");
    pending.error.replaceChildren(
      text,
      " ",
      retryable ? "Your message is still in the box below: press Send to try again." : "",
      " ",
      el("button", { type: "button", class: "link", "data-dismiss": "1", text: "Dismiss" }),
    );
    done();
    if (!pending.li.isConnected) composerError(`Not sent: ${text}`); // another chat is open now
    if (bottom) parts.scrollToBottom(); // the reason takes room: keep the bubble in view
  }

  xhr.upload.addEventListener("progress", function (e) {
    if (e.lengthComputable && e.total) progress(Math.min(1, e.loaded / e.total));
  });
  xhr.upload.addEventListener("load", function () {
    progress(1);
    if (draft.sending && draft.sending.xhr === xhr) $("composer-status").textContent = pieces.length ? "Saving (encrypting)…" : "Sending…";
  });
  xhr.addEventListener("load", function () {
    const data = parseJson(xhr.responseText);
    if (xhr.status === 201 && data && data.id) {
      clearDraft();
      done();
      if (files.length || recording) parts.attachmentsSent();
      if (state.chatId === chatId && pending.li.isConnected && state.shownIds.has(data.id)) {
        pending.li.remove(); // already shown (read with the newer messages meanwhile)
      } else if (state.chatId === chatId && pending.li.isConnected) {
        state.shownIds.add(data.id);
        pending.li.replaceWith(messageNode(data));
        parts.settle(list.querySelector(`li[data-id="${CSS.escape(data.id)}"]`));
        parts.scrollToBottom();
      } else {
        pending.li.remove();
      }
      const chat = state.chats.find((c) => c.id === chatId);
      if (chat) parts.upsertChat({ ...chat, updated_at: data.created_at || new Date().toISOString() }, true);
      $("composer-status").textContent = "Sent.";
      setTimeout(() => !draft.sending && ($("composer-status").textContent = ""), 3000);
      textarea.focus();
    } else {
      const message = messageOf(xhr.status, data);
      failed(message, true);
      if (xhr.status === 404 && folder && data && data.detail === "No such folder.") parts.folderGone();
      if (SIGNED_OUT.includes(xhr.status)) sayError(new ApiError(xhr.status, data), "Not sent.");
    }
  });
  xhr.addEventListener("error", () => failed(messageOf(0, null), true));
  xhr.addEventListener("abort", () => failed("Cancelled: nothing was stored.", true));
  xhr.send(body);
}

function clearDraft() {
  textarea.value = "";
  autosize();
  for (const f of draft.files) f.li.remove();
  draft.files = [];
  if (draft.recording) releaseRecording();
  composerError("");
  showRecorder();
}

// Leaving the chat (another chat, a new one) while something would be lost: ask first.
function leaveOk() {
  if (draft.sending) {
    window.alert("A message is still being sent. Wait for it, or cancel it, before switching chats.");
    return false;
  }
  if (recorder.active) stopRecording(false);
  return true;
}

export function setupComposer() {
  fileList.addEventListener("click", function (event) {
    const button = event.target.closest("button[data-remove]");
    if (!button || draft.sending) return;
    const index = draft.files.findIndex((f) => f.key === button.dataset.remove);
    if (index < 0) return;
    draft.files[index].li.remove();
    draft.files.splice(index, 1);
    updateComposer();
    textarea.focus();
  });

  $("attach").addEventListener("click", () => $("attach-input").click());
  $("attach-input").addEventListener("change", function (event) {
    addFiles([...event.target.files]);
    event.target.value = "";
  });

  // Drag and drop anywhere on the conversation.
  const dropTarget = $("chat-main");
  let dragDepth = 0;
  function dragsFiles(event) {
    return event.dataTransfer && [...event.dataTransfer.types].includes("Files");
  }
  dropTarget.addEventListener("dragenter", function (event) {
    if (!dragsFiles(event) || !state.chatId) return;
    event.preventDefault();
    dragDepth += 1;
    dropTarget.classList.add("dragging");
  });
  dropTarget.addEventListener("dragover", function (event) {
    if (!dragsFiles(event) || !state.chatId) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = draft.sending ? "none" : "copy";
  });
  dropTarget.addEventListener("dragleave", function (event) {
    if (!dragsFiles(event)) return;
    dragDepth = Math.max(0, dragDepth - 1);
    if (!dragDepth) dropTarget.classList.remove("dragging");
  });
  dropTarget.addEventListener("drop", function (event) {
    if (!dragsFiles(event)) return;
    event.preventDefault();
    dragDepth = 0;
    dropTarget.classList.remove("dragging");
    if (state.chatId) addFiles([...event.dataTransfer.files]);
  });

  // Enter sends, Shift+Enter starts a new line (not while an input method is composing).
  textarea.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.ctrlKey && !event.altKey && !event.metaKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
  textarea.addEventListener("input", function () {
    autosize();
    updateComposer();
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    send();
  });

  list.addEventListener("click", function (event) {
    const dismiss = event.target.closest("button[data-dismiss]");
    if (dismiss) {
      dismiss.closest("li.message").remove();
      parts.showEmptyState();
      textarea.focus();
    }
  });

  $("send-cancel").addEventListener("click", function () {
    if (draft.sending) draft.sending.xhr.abort();
  });

  window.addEventListener("beforeunload", function (event) {
    if (draft.sending || recorder.active || draft.files.length || draft.recording) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  Object.assign(parts, { updateComposer, composerError, leaveOk });
}
