// The list of chats: newest first, "show more", a new chat; a chat opens in place (history.pushState),
// and Back/Forward open the chat of the address. On phones the list folds away while a chat is open.
import { $, el, localPath } from "../locker.js";
import { api, chatHref, chatTitle, parts, sayError, state, timeNode } from "./common.js";

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
    const answer = await api("GET", more && state.chatsNext ? state.chatsNext : "chats/?page_size=100");
    const known = new Set(state.chats.map((c) => c.id));
    if (more) state.chats.push(...answer.results.filter((c) => !known.has(c.id)));
    else state.chats = answer.results;
    state.chatsNext = answer.next ? localPath(answer.next) : null;
    renderChats();
  } catch (err) {
    $("chat-list-loading").hidden = true;
    sayError(err, "Could not list your chats.");
  } finally {
    button.disabled = false;
  }
}

// On phones the list folds away while a chat is open; on wide screens it is always open.
function fitSide() {
  side.open = !phone.matches || !state.chatId;
}

export function setupList() {
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
    if (!parts.leaveOk()) return;
    history.pushState({ chat: id }, "", chatHref(id));
    parts.openChat(id);
  });

  window.addEventListener("popstate", function () {
    const match = window.location.pathname.match(/\/chats\/([0-9a-f-]{36})\/?$/i);
    const id = match ? match[1] : null;
    if (id && id === state.chatId && parts.revealLinked()) return; // another message of the open chat
    parts.openChat(id);
  });

  $("new-chat-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    if (!parts.leaveOk()) return;
    const input = $("new-chat-title");
    const button = event.target.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const chat = await api("POST", "chats/", { title: input.value.trim() });
      input.value = "";
      upsertChat(chat, true);
      history.pushState({ chat: chat.id }, "", chatHref(chat.id));
      await parts.openChat(chat.id, chat);
      $("composer-text").focus();
    } catch (err) {
      sayError(err, "Could not create the chat.");
    } finally {
      button.disabled = false;
    }
  });

  phone.addEventListener("change", fitSide);

  Object.assign(parts, { renderChats, upsertChat, loadChats, fitSide });
}
