// The chat page: a list of chats, one conversation, and a composer that sends text, files and a voice
// recording as ONE multipart request (the API stores a message with all its attachments, or nothing).
// Loaded with `defer`; no inline script or style anywhere (CSP). Every user-controlled string (titles,
// messages, file names, error details) goes into the page as text (textContent, Text nodes, attributes),
// never as HTML.
"use strict";

(function () {
  const root = document.getElementById("chat-app");
  if (!root) return;

  const API = root.dataset.api || "/api/v1/";
  const CSRF = root.dataset.csrf || "";
  const CHATS_URL = root.dataset.chatsUrl || "/chats/";
  const LOGIN_URL = root.dataset.loginUrl || "/login";
  const PAGE_SIZE = 50; // messages shown per step when scrolling up
  const FETCH_SIZE = 200; // messages per request (the API's maximum page size)
  const MAX_RECORDING_MS = 15 * 60 * 1000;
  const ROLE_LABELS = { user: "You", assistant: "Assistant", system: "System" };
  const STATUS_LABELS = { sent: "Sent", delivered: "Delivered", read: "Read", error: "Error" };

  // --- small helpers (as in vault.js) ----------------------------------------------------------

  const el = window.Locker.el; // el("a", {href, class, text}, [children]): text only, never HTML (locker.js)

  const { $, formatBytes } = window.Locker; // $(id), formatBytes(n) -> "1.5 MiB" (locker.js)

  // 75.4 -> "1:15"; 3725 -> "1:02:05"; unknown -> "".
  function formatDuration(seconds) {
    if (typeof seconds !== "number" || !isFinite(seconds) || seconds < 0) return "";
    const total = seconds > 0 && seconds < 1 ? 1 : Math.floor(seconds); // as the browsers' players count
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = String(total % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
  }

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  // <time datetime="..."> with the clock only for today, the date and the clock before.
  function timeNode(iso) {
    const date = new Date(iso);
    if (!iso || isNaN(date)) return null;
    const now = new Date();
    const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
    const sameDay = date.toDateString() === now.toDateString();
    const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
    return el("time", { datetime: iso, title: date.toLocaleString() }, sameDay ? [clock] : [el("span", { text: day }), " ", el("span", { text: clock })]);
  }

  // The API's absolute URLs (pages, content_url) as same-origin paths.
  function localPath(url) {
    const parsed = new URL(url, window.location.href);
    return parsed.pathname + parsed.search;
  }

  // The content URL with ?inline=1: media and images are shown by the browser itself (Range supported).
  function inlineUrl(contentUrl) {
    const url = new URL(contentUrl, window.location.href);
    url.searchParams.set("inline", "1");
    return url.pathname + url.search;
  }

  function mimeGroup(mime) {
    mime = String(mime || "");
    for (const group of ["image", "audio", "video"]) if (mime.startsWith(`${group}/`)) return group;
    if (mime === "application/pdf") return "pdf";
    if (mime.startsWith("text/") || mime === "application/json" || mime === "application/xml") return "text";
    return "other";
  }

  function quoted(name) {
    return `“${name}”`;
  }

  function chatTitle(chat) {
    return (chat && chat.title) || "Untitled chat";
  }

  function chatHref(id) {
    return `${CHATS_URL}${encodeURIComponent(id)}/`;
  }

  function parseJson(text) {
    try {
      return JSON.parse(text);
    } catch (err) {
      return null;
    }
  }

  // --- the API ---------------------------------------------------------------------------------

  // The JSON API (locker.js); 400 reasons are shown for these fields, in this order.
  const { api, ApiError, messageOf } = window.Locker.jsonApi({
    base: API,
    csrf: CSRF,
    fields: ["title", "content", "role", "file", "audio", "reply_to", "status", "non_field_errors"],
  });

  // --- page messages ---------------------------------------------------------------------------

  const messageBox = $("chat-message");

  function say(text, kind, extra) {
    const box = el("div", { class: `msg ${kind || "success"}`, "data-testid": "chat-page-message" }, [text]);
    if (extra) box.append(" ", extra);
    messageBox.replaceChildren(box);
  }

  function unsay() {
    messageBox.replaceChildren();
  }

  function signInLink(err) {
    return err && [401, 403, 423].includes(err.status) ? el("a", { href: LOGIN_URL, text: "Sign in again" }) : null;
  }

  function sayError(err, prefix) {
    const text = err instanceof ApiError ? err.message : "Something went wrong in this page; reload it and try again.";
    say(prefix ? `${prefix} ${text}` : text, "error", signInLink(err));
    if (!(err instanceof ApiError)) console.warn(err);
  }

  // Dialogs: <button data-close> closes its <dialog>.
  document.addEventListener("click", function (event) {
    const close = event.target.closest("dialog [data-close]");
    if (close) close.closest("dialog").close();
  });

  // === the list of chats ========================================================================

  const state = {
    chats: [],
    chatsNext: null,
    chatId: root.dataset.chat || null,
    chat: null,
    generation: 0, // bumped whenever another chat opens: late answers for the old one are dropped
    older: null, // how to get older messages: {buffer: [...]} (already read) and/or {url} (the API's link)
    loadingOlder: false,
    shownIds: new Set(),
  };

  const chatList = $("chat-list");
  const side = $("chat-side");
  const phone = window.matchMedia("(max-width: 760px)");

  function chatItem(chat) {
    const current = chat.id === state.chatId;
    return el("li", { class: "chat-item", "data-id": chat.id, "data-testid": "chat-item" }, [
      el("a", { class: "chat-link", href: chatHref(chat.id), "aria-current": current ? "page" : null }, [
        el("span", { class: "chat-link-title", text: chatTitle(chat) }),
        el("span", { class: "chat-link-time" }, [timeNode(chat.updated_at)]),
      ]),
    ]);
  }

  function renderChats() {
    chatList.replaceChildren(...state.chats.map(chatItem));
    $("chat-list-loading").hidden = true;
    $("chat-list-empty").hidden = state.chats.length > 0;
    $("chat-list-more-row").hidden = !state.chatsNext;
    $("chat-side-current").textContent = state.chat ? `· ${chatTitle(state.chat)}` : "";
  }

  function upsertChat(chat, toTop) {
    const index = state.chats.findIndex((c) => c.id === chat.id);
    if (index >= 0) state.chats.splice(index, 1);
    if (toTop || index < 0) state.chats.unshift(chat);
    else state.chats.splice(index, 0, chat);
    renderChats();
  }

  async function loadChats(more) {
    const button = $("chat-list-more");
    button.disabled = true;
    try {
      const page = await api("GET", more && state.chatsNext ? state.chatsNext : "chats/?page_size=100");
      const known = new Set(state.chats.map((c) => c.id));
      if (more) state.chats.push(...page.results.filter((c) => !known.has(c.id)));
      else state.chats = page.results;
      state.chatsNext = page.next ? localPath(page.next) : null;
      renderChats();
    } catch (err) {
      $("chat-list-loading").hidden = true;
      sayError(err, "Could not list your chats.");
    } finally {
      button.disabled = false;
    }
  }

  $("chat-list-more").addEventListener("click", () => loadChats(true));

  chatList.addEventListener("click", function (event) {
    const link = event.target.closest("a.chat-link");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey || event.button) return;
    event.preventDefault();
    const id = link.closest("[data-id]").dataset.id;
    if (id === state.chatId) {
      if (phone.matches) side.open = false;
      return;
    }
    if (!leaveOk()) return;
    history.pushState({ chat: id }, "", chatHref(id));
    openChat(id);
  });

  window.addEventListener("popstate", function () {
    const match = window.location.pathname.match(/\/chats\/([0-9a-f-]{36})\/?$/i);
    openChat(match ? match[1] : null);
  });

  $("new-chat-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    if (!leaveOk()) return;
    const input = $("new-chat-title");
    const button = event.target.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const chat = await api("POST", "chats/", { title: input.value.trim() });
      input.value = "";
      upsertChat(chat, true);
      history.pushState({ chat: chat.id }, "", chatHref(chat.id));
      await openChat(chat.id, chat);
      textarea.focus();
    } catch (err) {
      sayError(err, "Could not create the chat.");
    } finally {
      button.disabled = false;
    }
  });

  // On phones the list folds away while a chat is open; on wide screens it is always open.
  function fitSide() {
    side.open = !phone.matches || !state.chatId;
  }
  phone.addEventListener("change", fitSide);

  // === one conversation ========================================================================

  const log = $("chat-log");
  const list = $("messages");
  let settleUntil = 0; // until then, media that finish loading keep the log scrolled to the bottom

  function attachmentNode(att) {
    const name = att.name || "Attachment";
    const content = att.content_url ? localPath(att.content_url) : null;
    const download = content
      ? el("a", { class: "attachment-download", href: content, download: name, "aria-label": `Download ${quoted(name)}`, text: "Download" })
      : null;
    if (att.kind === "audio") {
      const player = el("audio", { controls: true, preload: "metadata", class: "attachment-audio", "data-testid": "attachment-audio", "aria-label": `Voice message ${name}` });
      if (content) player.src = inlineUrl(att.content_url);
      const duration = formatDuration(att.duration);
      return el("li", { class: "attachment audio", "data-testid": "attachment", "data-kind": "audio", "data-id": att.id }, [
        el("span", { class: "icon file audio", "aria-hidden": "true" }),
        el("div", { class: "attachment-main" }, [
          el("span", { class: "attachment-line" }, [
            el("span", { class: "attachment-name", text: duration ? "Voice message" : name, title: name }),
            duration ? el("span", { class: "attachment-meta", "data-testid": "attachment-duration", text: duration }) : null,
            el("span", { class: "attachment-meta", text: formatBytes(att.size) }),
            download,
          ]),
          player,
        ]),
      ]);
    }
    let visual;
    if (att.preview_url) {
      const img = el("img", { src: localPath(att.preview_url), alt: "", loading: "lazy", decoding: "async", "data-testid": "attachment-thumb" });
      img.addEventListener("error", () => img.replaceWith(el("span", { class: `icon file ${mimeGroup(att.mime_type)}` })), { once: true });
      visual = el("a", { class: "attachment-thumb", href: content ? inlineUrl(att.content_url) : "#", target: "_blank", rel: "noopener", tabindex: "-1", "aria-hidden": "true" }, [img]);
    } else {
      visual = el("span", { class: `attachment-icon icon file ${mimeGroup(att.mime_type)}`, "aria-hidden": "true" });
    }
    return el("li", { class: `attachment file${att.preview_url ? " has-thumb" : ""}`, "data-testid": "attachment", "data-kind": "file", "data-id": att.id }, [
      visual,
      el("div", { class: "attachment-main" }, [
        content
          ? el("a", { class: "attachment-name", href: inlineUrl(att.content_url), target: "_blank", rel: "noopener", text: name })
          : el("span", { class: "attachment-name", text: `${name} (removed)` }),
        el("span", { class: "attachment-line" }, [el("span", { class: "attachment-meta", text: formatBytes(att.size) }), download]),
      ]),
    ]);
  }

  function statusNode(status) {
    const label = STATUS_LABELS[status] || status || "";
    return el("span", { class: "message-status", "data-status": status, "data-testid": "message-status", title: label }, [
      el("span", { class: "status-icon", "aria-hidden": "true" }),
      el("span", { class: "status-text", text: label }),
    ]);
  }

  function messageNode(message) {
    const role = ROLE_LABELS[message.role] ? message.role : "system";
    const attachments = Array.isArray(message.attachments) ? message.attachments : [];
    return el("li", { class: `message ${role}`, "data-id": message.id, "data-role": role, "data-status": message.status, "data-testid": "message" }, [
      el("div", { class: "bubble" }, [
        el("div", { class: "message-meta" }, [
          el("span", { class: "message-role", text: ROLE_LABELS[role] }),
          timeNode(message.created_at),
          statusNode(message.status),
        ]),
        message.content ? el("p", { class: "message-text", "data-testid": "message-text", text: message.content }) : null,
        attachments.length
          ? el("ul", { class: "attachments", "aria-label": `${attachments.length} attachment${attachments.length === 1 ? "" : "s"}` }, attachments.map(attachmentNode))
          : null,
      ]),
    ]);
  }

  function nearBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  }

  function scrollToBottom() {
    log.scrollTop = log.scrollHeight;
  }

  // A log read at its bottom stays there when it gets shorter (a phone's keyboard, a growing composer).
  let atBottom = true;
  log.addEventListener("scroll", () => (atBottom = nearBottom()), { passive: true });
  if (typeof ResizeObserver === "function") new ResizeObserver(() => atBottom && scrollToBottom()).observe(log);

  function showEmptyState() {
    const none = list.children.length === 0;
    $("messages-empty").hidden = !none || !$("messages-loading").hidden;
    $("chat-older").hidden = !hasOlder();
    $("chat-log-start").hidden = none || hasOlder() || !$("messages-loading").hidden;
  }

  function hasOlder() {
    return Boolean(state.older && ((state.older.buffer && state.older.buffer.length) || state.older.url));
  }

  function appendMessages(messages) {
    const fresh = messages.filter((m) => !state.shownIds.has(m.id));
    for (const m of fresh) state.shownIds.add(m.id);
    list.append(...fresh.map(messageNode));
  }

  // Older messages go on top without moving what the reader is looking at.
  function prependMessages(messages) {
    const fresh = messages.filter((m) => !state.shownIds.has(m.id));
    if (!fresh.length) return;
    for (const m of fresh) state.shownIds.add(m.id);
    const before = log.scrollHeight - log.scrollTop;
    list.prepend(...fresh.map(messageNode));
    log.scrollTop = log.scrollHeight - before;
  }

  // The newest messages of a chat, in one request (`?latest=1`: the newest page, oldest first within it).
  // The page is shown PAGE_SIZE at a time as the reader scrolls up; before it, the page's `previous`
  // link reads further back.
  async function fetchNewest(chatId, generation) {
    const page = await api("GET", `chats/${encodeURIComponent(chatId)}/messages/?latest=1&page_size=${FETCH_SIZE}`);
    if (generation !== state.generation) return null;
    const buffer = page.results;
    const shown = buffer.splice(Math.max(0, buffer.length - PAGE_SIZE));
    return { shown, older: { buffer, url: page.previous ? localPath(page.previous) : null } };
  }

  async function loadOlder() {
    if (state.loadingOlder || !hasOlder()) return;
    const generation = state.generation;
    state.loadingOlder = true;
    const button = $("load-older");
    button.disabled = true;
    try {
      let batch;
      if (state.older.buffer && state.older.buffer.length) {
        batch = state.older.buffer.splice(Math.max(0, state.older.buffer.length - PAGE_SIZE));
      } else {
        const page = await api("GET", state.older.url);
        if (generation !== state.generation) return;
        batch = page.results;
        state.older.url = page.previous ? localPath(page.previous) : null;
      }
      prependMessages(batch);
    } catch (err) {
      if (generation === state.generation) sayError(err, "Could not load older messages.");
    } finally {
      state.loadingOlder = false;
      button.disabled = false;
      if (generation === state.generation) showEmptyState();
    }
  }

  $("load-older").addEventListener("click", loadOlder);
  log.addEventListener("scroll", function () {
    if (log.scrollTop < 120 && hasOlder() && !state.loadingOlder) loadOlder();
  }, { passive: true });

  async function openChat(id, known) {
    const generation = ++state.generation;
    state.chatId = id || null;
    state.chat = id ? known || state.chats.find((c) => c.id === id) || null : null;
    state.older = null;
    state.shownIds = new Set();
    list.replaceChildren();
    unsay();
    root.dataset.chat = state.chatId || "";
    $("chat-none").hidden = Boolean(id);
    $("chat-open").hidden = !id;
    renderChats();
    fitSide();
    if (!id) {
      document.title = "Chats · Locker";
      return;
    }
    showTitle();
    $("messages-loading").hidden = false;
    showEmptyState();
    try {
      const [chat, newest] = await Promise.all([api("GET", `chats/${encodeURIComponent(id)}/`), fetchNewest(id, generation)]);
      if (generation !== state.generation || !newest) return;
      state.chat = chat;
      showTitle();
      upsertChat(chat, false);
      state.older = newest.older;
      appendMessages(newest.shown);
      $("messages-loading").hidden = true;
      showEmptyState();
      scrollToBottom();
      // the thumbnails and players have no size until they load: stay at the bottom meanwhile
      settleUntil = performance.now() + 3000;
      for (const media of list.querySelectorAll("img, audio")) media.addEventListener(media.tagName === "IMG" ? "load" : "loadedmetadata", stickToBottom, { once: true });
    } catch (err) {
      if (generation !== state.generation) return;
      $("messages-loading").hidden = true;
      if (err.status === 404) {
        $("chat-open").hidden = true;
        $("chat-none").hidden = false;
        state.chatId = null;
        state.chat = null;
        renderChats();
        fitSide();
        say("This chat does not exist (any more).", "error", el("a", { href: CHATS_URL, text: "All chats" }));
      } else {
        sayError(err, "Could not load this chat.");
      }
    }
  }

  function stickToBottom() {
    if (performance.now() < settleUntil) scrollToBottom();
  }

  function showTitle() {
    const title = chatTitle(state.chat);
    $("chat-title").textContent = state.chat ? title : "Chat";
    document.title = `${state.chat ? title : "Chat"} · Chats · Locker`;
    $("chat-side-current").textContent = state.chat ? `· ${title}` : "";
  }

  // --- rename and delete the open chat ---

  const renameDialog = $("chat-rename-dialog");

  $("rename-chat").addEventListener("click", function () {
    if (!state.chat) return;
    $("chat-rename-error").textContent = "";
    $("chat-rename-input").value = state.chat.title || "";
    renameDialog.showModal();
    $("chat-rename-input").select();
  });

  $("chat-rename-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    if (!state.chat) return;
    const chat = state.chat;
    const title = $("chat-rename-input").value.trim();
    if (title === (chat.title || "")) {
      renameDialog.close();
      return;
    }
    const submit = event.target.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      const saved = await api("PATCH", `chats/${encodeURIComponent(chat.id)}/`, { title });
      renameDialog.close();
      if (state.chat && state.chat.id === saved.id) {
        state.chat = saved;
        showTitle();
      }
      upsertChat(saved, false);
      say(`Renamed the chat to ${quoted(chatTitle(saved))}.`, "success");
    } catch (err) {
      $("chat-rename-error").textContent = err instanceof ApiError ? err.message : "Could not rename the chat.";
    } finally {
      submit.disabled = false;
    }
  });

  $("delete-chat").addEventListener("click", async function () {
    if (!state.chat) return;
    const chat = state.chat;
    if (sending && sending.chatId === chat.id) {
      say("Wait until the message is sent (or cancel it) before deleting this chat.", "error");
      return;
    }
    if (!window.confirm(`Delete the chat ${quoted(chatTitle(chat))} and all its messages? This cannot be undone.`)) return;
    const button = $("delete-chat");
    button.disabled = true;
    try {
      await api("DELETE", `chats/${encodeURIComponent(chat.id)}/`);
      state.chats = state.chats.filter((c) => c.id !== chat.id);
      history.pushState({ chat: null }, "", CHATS_URL);
      await openChat(null);
      say(`Deleted the chat ${quoted(chatTitle(chat))}.`, "success");
    } catch (err) {
      sayError(err, "Could not delete the chat.");
    } finally {
      button.disabled = false;
    }
  });

  // === the composer: text, files and a voice recording, sent as one multipart request ===========

  const form = $("composer");
  const textarea = $("composer-text");
  const fileList = $("composer-files");
  const draft = { files: [], recording: null }; // files: [{file, li, bar}]; recording: {blob, url, seconds, name}
  let sending = null; // {xhr, chatId, pending}
  let nextFileKey = 0;

  function composerError(text) {
    $("composer-error").textContent = text || "";
  }

  function hasDraft() {
    return Boolean(textarea.value.trim() || draft.files.length || draft.recording);
  }

  function updateComposer() {
    fileList.hidden = draft.files.length === 0;
    $("send").disabled = Boolean(sending) || recorder.active || !hasDraft();
    $("record").disabled = Boolean(sending) || recorder.active || Boolean(draft.recording);
    $("attach").disabled = Boolean(sending);
    textarea.readOnly = Boolean(sending);
    form.classList.toggle("is-sending", Boolean(sending));
    for (const button of fileList.querySelectorAll("button[data-remove]")) button.disabled = Boolean(sending);
    $("rec-discard").disabled = Boolean(sending);
  }

  function addFiles(files) {
    if (sending) {
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

  fileList.addEventListener("click", function (event) {
    const button = event.target.closest("button[data-remove]");
    if (!button || sending) return;
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
    event.dataTransfer.dropEffect = sending ? "none" : "copy";
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

  function autosize() {
    textarea.style.height = ""; // CSSOM, not a style attribute in the markup: allowed by style-src 'self'
    textarea.style.height = `${Math.min(textarea.scrollHeight + 2, window.innerHeight * 0.4)}px`;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    send();
  });

  // --- voice recording ---

  const recorder = { active: false, media: null, stream: null, chunks: [], started: 0, timer: null, discard: false };

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

  function showRecorder() {
    $("recorder").hidden = !recorder.active && !draft.recording;
    $("recorder-live").hidden = !recorder.active;
    $("recorder-done").hidden = !draft.recording;
    updateComposer();
  }

  function tick() {
    const ms = performance.now() - recorder.started;
    $("rec-timer").textContent = formatDuration(Math.floor(ms / 1000));
    $("rec-timer").dataset.ms = String(Math.round(ms));
    if (ms >= MAX_RECORDING_MS) stopRecording(false);
  }

  async function startRecording() {
    composerError("");
    const unsupported = recorderSupport();
    if (unsupported) {
      composerError(unsupported);
      return;
    }
    if (recorder.active || draft.recording || sending) return;
    $("record").disabled = true;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (err) {
      composerError(micError(err));
      updateComposer();
      return;
    }
    const type = recordingType();
    let media;
    try {
      media = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    } catch (err) {
      for (const track of stream.getTracks()) track.stop();
      composerError(`This browser cannot record audio: ${err.message || err.name}.`);
      updateComposer();
      return;
    }
    Object.assign(recorder, { active: true, media, stream, chunks: [], discard: false });
    media.addEventListener("dataavailable", (event) => event.data && event.data.size && recorder.chunks.push(event.data));
    media.addEventListener("stop", finishRecording);
    media.addEventListener("error", function (event) {
      composerError(`Recording failed: ${(event.error && event.error.message) || "the recorder stopped"}.`);
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

  function stopRecording(discard) {
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
        composerError("The recording is empty: the microphone sent no sound. Try again.");
      } else {
        const now = new Date();
        const stamp = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ${pad(now.getHours())}.${pad(now.getMinutes())}.${pad(now.getSeconds())}`;
        draft.recording = { blob, url: URL.createObjectURL(blob), seconds, name: `Voice message ${stamp}.${extensionOf(type)}` };
        $("rec-audio").src = draft.recording.url;
        $("rec-length").textContent = `${formatDuration(seconds)} · ${formatBytes(blob.size)}`;
      }
    }
    showRecorder();
    if (draft.recording) $("rec-audio").focus();
    else $("record").focus();
  }

  function discardRecording() {
    if (!draft.recording || sending) return;
    const audio = $("rec-audio");
    audio.pause();
    audio.removeAttribute("src");
    audio.load();
    URL.revokeObjectURL(draft.recording.url);
    draft.recording = null;
    showRecorder();
  }

  $("record").addEventListener("click", startRecording);
  $("rec-stop").addEventListener("click", () => stopRecording(false));
  $("rec-cancel").addEventListener("click", () => stopRecording(true));
  $("rec-discard").addEventListener("click", function () {
    discardRecording();
    $("record").focus();
  });

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
    if (sending || !state.chatId) return;
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

    // The parts in the order they travel, to turn bytes sent into a bar per file.
    const parts = files.map((f) => ({ size: f.file.size, bar: f.bar }));
    if (recording) parts.push({ size: recording.blob.size, bar: $("rec-progress") });
    const totalSize = parts.reduce((sum, p) => sum + p.size, 0) || 1;
    for (const p of parts) {
      p.bar.value = 0;
      p.bar.hidden = false;
    }

    const names = files.map((f) => [mimeGroup(f.file.type), f.file.name]);
    if (recording) names.push(["audio", `Voice message (${formatDuration(recording.seconds)})`]);
    const pending = pendingNode(text.trim() ? text : "", names);
    for (const old of list.querySelectorAll("li.message.pending.failed")) old.remove(); // this is its retry
    list.append(pending.li);
    $("messages-empty").hidden = true;
    scrollToBottom();

    const overall = $("send-progress");
    overall.value = 0;
    overall.hidden = false;
    $("send-cancel").hidden = false;
    $("composer-status").textContent = parts.length ? "Uploading…" : "Sending…";

    const xhr = new XMLHttpRequest();
    sending = { xhr, chatId, pending };
    updateComposer();

    function progress(fraction) {
      overall.value = fraction;
      pending.bar.value = fraction;
      let offset = 0;
      const sent = fraction * totalSize;
      for (const p of parts) {
        p.bar.value = p.size ? Math.max(0, Math.min(1, (sent - offset) / p.size)) : sent >= offset ? 1 : 0;
        offset += p.size;
      }
    }

    function done() {
      sending = null;
      overall.hidden = true;
      $("send-cancel").hidden = true;
      $("composer-status").textContent = "";
      for (const p of parts) p.bar.hidden = true;
      updateComposer();
    }

    function failed(text, retryable) {
      const bottom = nearBottom();
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
      if (bottom) scrollToBottom(); // the reason takes room: keep the bubble in view
    }

    xhr.open("POST", `${API}chats/${encodeURIComponent(chatId)}/messages/`);
    xhr.setRequestHeader("X-CSRFToken", CSRF);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable && e.total) progress(Math.min(1, e.loaded / e.total));
    });
    xhr.upload.addEventListener("load", function () {
      progress(1);
      if (sending && sending.xhr === xhr) $("composer-status").textContent = parts.length ? "Saving (encrypting)…" : "Sending…";
    });
    xhr.addEventListener("load", function () {
      const data = parseJson(xhr.responseText);
      if (xhr.status === 201 && data && data.id) {
        clearDraft();
        done();
        if (state.chatId === chatId && pending.li.isConnected) {
          state.shownIds.add(data.id);
          pending.li.replaceWith(messageNode(data));
          const fresh = list.querySelector(`li[data-id="${CSS.escape(data.id)}"]`);
          for (const media of fresh ? fresh.querySelectorAll("img, audio") : []) media.addEventListener(media.tagName === "IMG" ? "load" : "loadedmetadata", stickToBottom, { once: true });
          settleUntil = performance.now() + 3000;
          scrollToBottom();
        } else {
          pending.li.remove();
        }
        const chat = state.chats.find((c) => c.id === chatId);
        if (chat) upsertChat({ ...chat, updated_at: data.created_at || new Date().toISOString() }, true);
        $("composer-status").textContent = "Sent.";
        setTimeout(() => !sending && ($("composer-status").textContent = ""), 3000);
        textarea.focus();
      } else {
        const message = messageOf(xhr.status, data);
        failed(message, true);
        if ([401, 403, 423].includes(xhr.status)) sayError(new ApiError(xhr.status, data), "Not sent.");
      }
    });
    xhr.addEventListener("error", () => failed(messageOf(0, null), true));
    xhr.addEventListener("abort", () => failed("Cancelled: nothing was stored.", true));
    xhr.send(body);
  }

  list.addEventListener("click", function (event) {
    const dismiss = event.target.closest("button[data-dismiss]");
    if (dismiss) {
      dismiss.closest("li.message").remove();
      showEmptyState();
      textarea.focus();
    }
  });

  $("send-cancel").addEventListener("click", function () {
    if (sending) sending.xhr.abort();
  });

  function clearDraft() {
    textarea.value = "";
    autosize();
    for (const f of draft.files) f.li.remove();
    draft.files = [];
    if (draft.recording) {
      const audio = $("rec-audio");
      audio.pause();
      audio.removeAttribute("src");
      audio.load();
      URL.revokeObjectURL(draft.recording.url);
      draft.recording = null;
    }
    composerError("");
    showRecorder();
  }

  // Leaving the chat (another chat, a new one) while something would be lost: ask first.
  function leaveOk() {
    if (sending) {
      window.alert("A message is still being sent. Wait for it, or cancel it, before switching chats.");
      return false;
    }
    if (recorder.active) stopRecording(false);
    return true;
  }

  window.addEventListener("beforeunload", function (event) {
    if (sending || recorder.active || draft.files.length || draft.recording) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // --- start ---

  updateComposer();
  fitSide();
  loadChats(false);
  openChat(state.chatId);
})();
