// Rename and delete the open chat (deleting asks first, and waits for a message being sent).
import { $, quoted } from "../locker.js";
import { api, ApiError, chatTitle, CHATS_URL, draft, parts, say, sayError, state } from "./common.js";

export function setupManage() {
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
        parts.showTitle();
      }
      parts.upsertChat(saved, false);
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
    if (draft.sending && draft.sending.chatId === chat.id) {
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
      await parts.openChat(null);
      say(`Deleted the chat ${quoted(chatTitle(chat))}.`, "success");
    } catch (err) {
      sayError(err, "Could not delete the chat.");
    } finally {
      button.disabled = false;
    }
  });
}
