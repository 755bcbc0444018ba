// One conversation: the newest messages first (one request: ?latest=1), older ones as the reader scrolls
// up (or presses "Load older messages") without moving what they are looking at; the log stays at its
// bottom while it is read there. An address ending in #message-<id> (a search result) scrolls to that
// message and marks it, reading further back first when it is older than what is shown. While the page is
// in view, messages posted by other clients (the assistant's replies) appear within a few seconds: the page
// reads what came after the newest message it shows (`?after=`), since chat messages are not notifications.
import { $, el, localPath } from "../locker.js";
import { api, chatTitle, CHATS_URL, draft, parts, root, say, sayError, state, unsay } from "./common.js";
import { messageNode } from "./messages.js";

const PAGE_SIZE = 50; // messages shown per step when scrolling up
const FETCH_SIZE = 200; // messages per request (the API's maximum page size)
const MAX_REVEAL_READS = 25; // going back to a linked message: at most this many more requests
const FOLLOW_MS = 4000; // how often an open chat in view asks for newer messages
const log = $("chat-log");
const list = $("messages");
let settleUntil = 0; // until then, media that finish loading keep the log where it should be:
let anchor = null; // at this message (a linked one), or else at the bottom
let atBottom = true; // the log is read at its bottom

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

// One step further back: what the newest request left, or else the next older page. One read at a time:
// a call while one is under way gets that one. Resolves to whether it showed older messages.
function loadOlder() {
  if (!state.loadingOlder && hasOlder()) state.loadingOlder = readOlder().finally(() => (state.loadingOlder = null));
  return state.loadingOlder || Promise.resolve(false);
}

async function readOlder() {
  const generation = state.generation;
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
    return true;
  } catch (err) {
    if (generation === state.generation) sayError(err, "Could not load older messages.");
    return false;
  } finally {
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
    settle(list);
    const linked = linkedMessage();
    if (linked) await revealMessage(linked);
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

// Newer messages of the open chat (another client's, the assistant's replies), appended as they come. Not while
// the chat loads or a message of this page is being sent (its answer shows that one).
let following = false;
async function readNewer() {
  const newest = [...list.querySelectorAll("li.message[data-id]")].pop();
  if (following || !state.chatId || document.hidden || draft.sending || !$("messages-loading").hidden) return;
  if (!newest && list.children.length) return;
  const generation = state.generation;
  const chatId = state.chatId;
  following = true;
  try {
    let url = `chats/${encodeURIComponent(chatId)}/messages/?page_size=${FETCH_SIZE}${newest ? `&after=${encodeURIComponent(newest.dataset.id)}` : ""}`;
    while (url) {
      const page = await api("GET", url);
      if (generation !== state.generation || draft.sending) return;
      const bottom = nearBottom();
      const before = list.children.length;
      appendMessages(page.results);
      if (list.children.length !== before) {
        showEmptyState();
        if (bottom) {
          scrollToBottom();
          settle(list.lastElementChild); // its thumbnails and players: stay at the bottom as they load
        }
        const chat = state.chats.find((c) => c.id === chatId);
        const last = page.results[page.results.length - 1];
        if (chat && last) parts.upsertChat({ ...chat, updated_at: last.created_at }, true);
      }
      url = page.next ? localPath(page.next) : null;
    }
  } catch {
    /* a missed look: the next one reads the same messages (a deleted chat says so when opened again) */
  } finally {
    following = false;
  }
}

function stick() {
  if (performance.now() >= settleUntil) return;
  if (anchor && anchor.isConnected) anchor.scrollIntoView({ block: "center" });
  else scrollToBottom();
}

// Thumbnails and players have no size until they load: for 3 s, the ones in `container` that finish
// loading keep the log at `target` (a linked message), or else at its bottom.
function settle(container, target) {
  anchor = target || null;
  settleUntil = performance.now() + 3000;
  for (const media of container ? container.querySelectorAll("img, audio") : []) media.addEventListener(media.tagName === "IMG" ? "load" : "loadedmetadata", stick, { once: true });
}

// The message the address links to (#message-<id>), or null.
function linkedMessage() {
  const match = window.location.hash.match(/^#message-([0-9a-f-]{36})$/i);
  return match ? match[1].toLowerCase() : null;
}

// Scrolls to message `id` of the open chat and marks it; when it is older than what is shown, reads
// further back first (at most MAX_REVEAL_READS requests), and says so when it is not found.
async function revealMessage(id) {
  const generation = state.generation;
  let reads = 0;
  let tooFar = false;
  while (!state.shownIds.has(id) && hasOlder() && generation === state.generation) {
    if (!(state.older.buffer && state.older.buffer.length) && reads++ >= MAX_REVEAL_READS) {
      tooFar = true;
      break;
    }
    if (!(await loadOlder())) break;
  }
  if (generation !== state.generation) return;
  const target = $(`message-${id}`);
  if (!target) {
    say(tooFar ? "The linked message is further back: scroll up to read older messages." : "The linked message is not in this chat.", "error");
    return;
  }
  for (const other of list.querySelectorAll("li.message.found")) other.classList.remove("found");
  target.classList.add("found");
  target.setAttribute("tabindex", "-1");
  settle(list, target);
  target.scrollIntoView({ block: "center" });
  atBottom = nearBottom();
  target.focus({ preventScroll: true });
}

// Back/Forward (or a link) to another message of the open chat: scroll to it without reloading the chat.
// False when the address links to no message.
function revealLinked() {
  const linked = linkedMessage();
  if (!linked) return false;
  if ($("messages-loading").hidden) revealMessage(linked); // else openChat reveals it once loaded
  return true;
}

function showTitle() {
  const title = chatTitle(state.chat);
  $("chat-title").textContent = state.chat ? title : "Chat";
  document.title = `${state.chat ? title : "Chat"} · Chats · Locker`;
  $("chat-side-current").textContent = state.chat ? `· ${title}` : "";
}

export function setupConversation() {
  // A log read at its bottom stays there when it gets shorter (a phone's keyboard, a growing composer).
  log.addEventListener("scroll", () => (atBottom = nearBottom()), { passive: true });
  if (typeof ResizeObserver === "function") new ResizeObserver(() => atBottom && scrollToBottom()).observe(log);

  $("load-older").addEventListener("click", loadOlder);
  log.addEventListener("scroll", function () {
    if (log.scrollTop < 120 && hasOlder() && !state.loadingOlder) loadOlder();
  }, { passive: true });

  setInterval(readNewer, FOLLOW_MS);
  document.addEventListener("visibilitychange", () => !document.hidden && readNewer());

  Object.assign(parts, { nearBottom, scrollToBottom, showEmptyState, settle, openChat, showTitle, revealLinked, readNewer });
}
