// One conversation: the newest messages first (one request: ?latest=1), older ones as the reader scrolls
// up (or presses "Load older messages") without moving what they are looking at; the log stays at its
// bottom while it is read there.
import { $, el, localPath } from "../locker.js";
import { api, chatTitle, CHATS_URL, parts, root, say, sayError, state, unsay } from "./common.js";
import { messageNode } from "./messages.js";

const PAGE_SIZE = 50; // messages shown per step when scrolling up
const FETCH_SIZE = 200; // messages per request (the API's maximum page size)
const log = $("chat-log");
const list = $("messages");
let settleUntil = 0; // until then, media that finish loading keep the log scrolled to the bottom

function nearBottom() {
  return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
}

function scrollToBottom() {
  log.scrollTop = log.scrollHeight;
}

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
  const newest = await api("GET", `chats/${encodeURIComponent(chatId)}/messages/?latest=1&page_size=${FETCH_SIZE}`);
  if (generation !== state.generation) return null;
  const buffer = newest.results;
  const shown = buffer.splice(Math.max(0, buffer.length - PAGE_SIZE));
  return { shown, older: { buffer, url: newest.previous ? localPath(newest.previous) : null } };
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
      const older = await api("GET", state.older.url);
      if (generation !== state.generation) return;
      batch = older.results;
      state.older.url = older.previous ? localPath(older.previous) : null;
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
  parts.renderChats();
  parts.fitSide();
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
    parts.upsertChat(chat, false);
    state.older = newest.older;
    appendMessages(newest.shown);
    $("messages-loading").hidden = true;
    showEmptyState();
    scrollToBottom();
    // the thumbnails and players have no size until they load: stay at the bottom meanwhile
    settleAtBottom(list);
  } catch (err) {
    if (generation !== state.generation) return;
    $("messages-loading").hidden = true;
    if (err.status === 404) {
      $("chat-open").hidden = true;
      $("chat-none").hidden = false;
      state.chatId = null;
      state.chat = null;
      parts.renderChats();
      parts.fitSide();
      say("This chat does not exist (any more).", "error", el("a", { href: CHATS_URL, text: "All chats" }));
    } else {
      sayError(err, "Could not load this chat.");
    }
  }
}

function stickToBottom() {
  if (performance.now() < settleUntil) scrollToBottom();
}

// Thumbnails and players have no size until they load: for 3 s, the ones in `container` that finish
// loading keep the log at its bottom.
function settleAtBottom(container) {
  settleUntil = performance.now() + 3000;
  for (const media of container ? container.querySelectorAll("img, audio") : []) media.addEventListener(media.tagName === "IMG" ? "load" : "loadedmetadata", stickToBottom, { once: true });
}

function showTitle() {
  const title = chatTitle(state.chat);
  $("chat-title").textContent = state.chat ? title : "Chat";
  document.title = `${state.chat ? title : "Chat"} · Chats · Locker`;
  $("chat-side-current").textContent = state.chat ? `· ${title}` : "";
}

export function setupConversation() {
  // A log read at its bottom stays there when it gets shorter (a phone's keyboard, a growing composer).
  let atBottom = true;
  log.addEventListener("scroll", () => (atBottom = nearBottom()), { passive: true });
  if (typeof ResizeObserver === "function") new ResizeObserver(() => atBottom && scrollToBottom()).observe(log);

  $("load-older").addEventListener("click", loadOlder);
  log.addEventListener("scroll", function () {
    if (log.scrollTop < 120 && hasOlder() && !state.loadingOlder) loadOlder();
  }, { passive: true });

  Object.assign(parts, { nearBottom, scrollToBottom, showEmptyState, settleAtBottom, openChat, showTitle });
}
