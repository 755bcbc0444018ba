// What the parts of the chat page (templates/chats/chat.html) share: its settings (data-* of #chat-app),
// the JSON API, the message line, the state of the open chat and of the composer, and `parts`, through
// which the parts call each other (each module adds its functions to it; chat.js starts the page).
// Every user-controlled string (titles, messages, file names, error details) goes into the page as text
// (textContent, Text nodes, attributes), never as HTML.
import { $, chatHref as chatHrefIn, el, jsonApi, localClock, localDay, pageMessages } from "../locker.js";

export const root = document.getElementById("chat-app");
const data = root ? root.dataset : {};

export const API = data.api || "/api/v1/";
export const CHATS_URL = data.chatsUrl || "/chats/";
export const ROLE_LABELS = { user: "You", assistant: "Assistant", system: "System" };

// The JSON API (locker.js); 400 reasons are shown for these fields, in this order.
export const { api, ApiError, messageOf, xhrTo } = jsonApi({
  base: API,
  csrf: data.csrf || "",
  fields: ["title", "content", "role", "file", "audio", "reply_to", "status", "non_field_errors"],
});

export const { say, unsay, sayError } = pageMessages({
  box: $("chat-message"),
  loginUrl: data.loginUrl || "/login",
  ApiError,
  testid: "chat-page-message",
});

// The chats and the open one.
export const state = {
  chats: [],
  chatsNext: null,
  chatId: data.chat || null,
  chat: null,
  generation: 0, // bumped whenever another chat opens: late answers for the old one are dropped
  older: null, // how to get older messages: {buffer: [...]} (already read) and/or {url} (the API's link)
  loadingOlder: null, // the read of older messages under way (a Promise), see conversation.js
  shownIds: new Set(),
};

// The message being written: files [{key, file, li, bar}], a recording {blob, url, seconds, name}, and the
// request sending it ({xhr, chatId, pending}, or null).
export const draft = { files: [], recording: null, sending: null };

// The parts' functions (openChat, upsertChat, updateComposer, ...), see each module.
export const parts = {};

// 75.4 -> "1:15"; 3725 -> "1:02:05"; unknown -> "".
export function formatDuration(seconds) {
  if (typeof seconds !== "number" || !isFinite(seconds) || seconds < 0) return "";
  const total = seconds > 0 && seconds < 1 ? 1 : Math.floor(seconds); // as the browsers' players count
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

// <time datetime="..."> with the clock only for today, the date and the clock before.
export function timeNode(iso) {
  const date = new Date(iso);
  if (!iso || isNaN(date)) return null;
  const clock = localClock(date);
  const sameDay = date.toDateString() === new Date().toDateString();
  return el("time", { datetime: iso, title: date.toLocaleString() }, sameDay ? [clock] : [el("span", { text: localDay(date) }), " ", el("span", { text: clock })]);
}

export function chatTitle(chat) {
  return (chat && chat.title) || "Untitled chat";
}

export function chatHref(id) {
  return chatHrefIn({ chats: CHATS_URL }, id);
}
