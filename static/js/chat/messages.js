// How a message looks in the conversation: its role, time and status, its text, its attachments (files
// with a thumbnail or an icon, voice messages with a player).
import { el, formatBytes, inlineUrl, localPath, mimeGroup, quoted } from "../locker.js";
import { formatDuration, ROLE_LABELS, timeNode } from "./common.js";
import { followPlayTime } from "./playtime.js";

const STATUS_LABELS = { sent: "Sent", delivered: "Delivered", read: "Read", error: "Error" };

function attachmentNode(att) {
  const name = att.name || "Attachment";
  const content = att.content_url ? localPath(att.content_url) : null;
  const download = content
    ? el("a", { class: "attachment-download", href: content, download: name, "aria-label": `Download ${quoted(name)}`, text: "Download" })
    : null;
  if (att.kind === "audio") {
    const player = el("audio", { controls: true, preload: "metadata", class: "attachment-audio", "data-testid": "attachment-audio", "aria-label": `Voice message ${name}` });
    const duration = formatDuration(att.duration);
    // "0:00 / 0:42": the length before it plays, the position while it plays
    const elapsed = el("span", { "data-testid": "attachment-elapsed", text: "0:00" });
    const total = el("span", { "data-testid": "attachment-duration", text: duration });
    const time = el("span", { class: "attachment-meta attachment-time", "data-testid": "attachment-time", "data-duration-known": duration ? "1" : "0", title: "Played / length" }, [elapsed, " / ", total]);
    followPlayTime(player, elapsed, total, att.duration);
    if (content) player.src = inlineUrl(att.content_url);
    return el("li", { class: "attachment audio", "data-testid": "attachment", "data-kind": "audio", "data-id": att.id }, [
      el("span", { class: "icon file audio", "aria-hidden": "true" }),
      el("div", { class: "attachment-main" }, [
        el("span", { class: "attachment-line" }, [
          el("span", { class: "attachment-name", text: content ? "Voice message" : "Voice message (removed)", title: name }),
          content ? time : null,
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

export function messageNode(message) {
  const role = ROLE_LABELS[message.role] ? message.role : "system";
  const attachments = Array.isArray(message.attachments) ? message.attachments : [];
  // id: the target of a link to this message (/chats/<chat>/#message-<id>, from the search)
  return el("li", { id: `message-${message.id}`, class: `message ${role}`, "data-id": message.id, "data-role": role, "data-status": message.status, "data-testid": "message" }, [
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
