// The chat page (templates/chats/chat.html): the list of chats, one conversation, and a composer that
// sends text, files and a voice recording as one request.
import { root, parts, state } from "./chat/common.js";
import { setupComposer } from "./chat/composer.js";
import { setupConversation } from "./chat/conversation.js";
import { setupList } from "./chat/list.js";
import { setupManage } from "./chat/manage.js";
import { setupRecorder } from "./chat/recorder.js";
import { setupWhere } from "./chat/where.js";

if (root) {
  setupList();
  setupConversation();
  setupManage();
  setupComposer();
  setupRecorder();
  setupWhere();
  parts.updateComposer();
  parts.fitSide();
  parts.loadChats(false);
  parts.openChat(state.chatId);
}
