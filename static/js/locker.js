// Locker's shared page helpers: the one module every page module imports (ES module, no build step).
// Nothing here runs on import: page.js installs the behaviours every page has, and each page's entry
// module (files.js, note.js, chat.js, ...) starts its page. No inline script anywhere (CSP). Every
// user-controlled string goes into the page as text (textContent, Text nodes, attributes), never as HTML.

// el("a", {href: "/x", class: "y", text: "label"}, [children]): attributes and text only, never HTML.
export function el(tag, props, children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of [].concat(children === undefined ? [] : children)) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

export function $(id) {
  return document.getElementById(id);
}

// 1536 -> "1.5 KiB"; anything that is not a number -> "—".
export function formatBytes(value) {
  if (typeof value !== "number" || !isFinite(value)) return "—";
  let size = value;
  for (const unit of ["B", "KiB", "MiB", "GiB", "TiB"]) {
    if (Math.abs(size) < 1024 || unit === "TiB") return unit === "B" ? `${Math.round(size)} B` : `${size.toFixed(1)} ${unit}`;
    size /= 1024;
  }
  return `${size.toFixed(1)} TiB`;
}

export function pad(n) {
  return String(n).padStart(2, "0");
}

// A Date as the local "2025-01-31" and "14:05".
export function localDay(date) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

export function localClock(date) {
  return `${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function quoted(name) {
  return `“${name}”`;
}

export function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch (err) {
    return null;
  }
}

// The API's absolute URLs (next pages, content_url) as same-origin paths.
export function localPath(url) {
  const parsed = new URL(url, window.location.href);
  return parsed.pathname + parsed.search;
}

// The API's content URL with ?inline=1: the browser shows safe types itself (images, media, PDF, plain text).
export function inlineUrl(contentUrl) {
  const url = new URL(contentUrl, window.location.href);
  url.searchParams.set("inline", "1");
  return url.pathname + url.search;
}

// As vault.filters.mime_group_of on the server.
export function mimeGroup(mime) {
  mime = String(mime || "");
  for (const group of ["image", "audio", "video"]) if (mime.startsWith(`${group}/`)) return group;
  if (mime === "application/pdf") return "pdf";
  if (mime.startsWith("text/") || mime === "application/json" || mime === "application/xml") return "text";
  return "other";
}

// The query's words marked in `text` with <mark> (3+ letters match as prefixes, like the server); text nodes only.
export function highlighted(text, query) {
  const words = String(query || "")
    .split(/\s+/)
    .map((w) => w.replace(/[^\p{L}\p{N}]+/gu, ""))
    .filter(Boolean)
    .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const out = document.createDocumentFragment();
  if (!words.length || !text) {
    out.append(text || "");
    return out;
  }
  const pattern = new RegExp(`(${words.sort((a, b) => b.length - a.length).join("|")})`, "giu");
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) out.append(text.slice(last, match.index));
    out.append(el("mark", { text: match[0] }));
    last = match.index + match[0].length;
  }
  if (last < text.length) out.append(text.slice(last));
  return out;
}

// Text with the server's marks (GET search's `snippet_marks`: [start, end] pairs, in this string's indexes)
// as <mark>s: the words the search matched, found as it finds them (accents and case folded, prefixes).
// Without marks (an older server, a snippet from elsewhere), the query's words as `highlighted` finds them.
export function markedText(text, marks, query) {
  if (!Array.isArray(marks)) return highlighted(text, query);
  const out = document.createDocumentFragment();
  let last = 0;
  for (const pair of marks) {
    const [start, end] = Array.isArray(pair) ? pair : [];
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= last && end > start && end <= (text || "").length)) continue;
    if (start > last) out.append(text.slice(last, start));
    out.append(el("mark", { text: text.slice(start, end) }));
    last = end;
  }
  if (last < (text || "").length) out.append(text.slice(last));
  return out;
}

// --- search results: what each kind is called and where it opens -------------------------------

// GET /api/v1/search answers mixed results, each with its `kind`; `parent` is the folder of a file, a
// folder or a note, and the chat of a message (whose `name` is the chat's title, `snippet` its words).
export const KIND_LABEL = { file: "File", folder: "Folder", note: "Note", message: "Message" };

// The kind to show for a result (an unknown kind shows as a file, as it always has).
export function resultKind(result) {
  return KIND_LABEL[result.kind] ? result.kind : "file";
}

// The pages' addresses, read from a form's or a page's data-*-url attributes.
export function pageUrls(dataset) {
  return {
    files: dataset.filesUrl || "/files/",
    notes: dataset.notesUrl || "/notes/",
    chats: dataset.chatsUrl || "/chats/",
    search: dataset.searchUrl || "/search/",
  };
}

export function folderHref(urls, id) {
  return id ? `${urls.files}${encodeURIComponent(id)}/` : urls.files;
}

// A file opens in its folder's listing with the preview pane showing it.
export function filePreviewHref(urls, fileId, folderId) {
  return `${folderHref(urls, folderId)}?preview=${encodeURIComponent(fileId)}`;
}

export function noteHref(urls, id) {
  return `${urls.notes}${encodeURIComponent(id)}/`;
}

export function chatHref(urls, id) {
  return `${urls.chats}${encodeURIComponent(id)}/`;
}

// A message opens in its chat, which scrolls to it and marks it (chat/conversation.js reads the fragment).
export function messageHref(urls, chatId, messageId) {
  return `${chatHref(urls, chatId)}#message-${encodeURIComponent(messageId)}`;
}

// Where a result opens: a folder in the file browser, a file in its folder with the preview open, a note
// in the editor, a message in its chat.
export function resultHref(result, urls) {
  const kind = resultKind(result);
  if (kind === "folder") return folderHref(urls, result.id);
  if (kind === "note") return noteHref(urls, result.id);
  if (kind === "message") return messageHref(urls, result.parent, result.id);
  return filePreviewHref(urls, result.id, result.parent);
}

// --- the JSON API ---------------------------------------------------------------------------------

// jsonApi({base, csrf, fields}) -> {api, ApiError, messageOf}: the JSON API as the page scripts call it.
// api("GET", "files/?all=1", undefined, {signal}) resolves to the parsed body, or rejects with an ApiError
// whose message is the server's `detail` plus the per-field reasons of a 400 (for `fields`, in that order);
// an aborted request rejects with the AbortError itself.
export function jsonApi(options) {
  const base = options.base || "/api/v1/";
  const fields = options.fields || ["non_field_errors"];

  function messageOf(status, body) {
    if (status === 0) return "Network error: check your connection and try again.";
    if (body && typeof body === "object" && !Array.isArray(body) && body.detail) {
      const parts = [String(body.detail)];
      if (status === 400 && body.errors && typeof body.errors === "object") {
        for (const field of fields) {
          for (const msg of [].concat(body.errors[field] || [])) {
            const text = typeof msg === "string" ? msg : JSON.stringify(msg);
            if (!parts.includes(text)) parts.push(text);
          }
        }
      }
      return parts.join(" ");
    }
    if (status === 413) return "Too large for the server.";
    return `The server answered ${status}; nothing was changed.`;
  }

  class ApiError extends Error {
    constructor(status, body) {
      super(messageOf(status, body));
      this.status = status;
      this.body = body && typeof body === "object" ? body : {};
      this.code = this.body.code || "";
    }
  }

  async function api(method, path, body, opts) {
    const headers = { Accept: "application/json" };
    const init = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (opts && opts.signal) init.signal = opts.signal;
    if (method !== "GET") headers["X-CSRFToken"] = options.csrf || "";
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path.startsWith("/") ? path : base + path, init);
    } catch (err) {
      if (err && err.name === "AbortError") throw err;
      throw new ApiError(0, null);
    }
    let data = null;
    if (response.status !== 204 && (response.headers.get("Content-Type") || "").includes("json")) {
      try {
        data = await response.json();
      } catch (err) {
        data = null;
      }
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  // An XMLHttpRequest to the API (uploads, for their progress events), with the headers every write sends.
  function xhrTo(method, path) {
    const xhr = new XMLHttpRequest();
    xhr.open(method, path.startsWith("/") ? path : base + path);
    xhr.setRequestHeader("X-CSRFToken", options.csrf || "");
    xhr.setRequestHeader("Accept", "application/json");
    return xhr;
  }

  return { api, ApiError, messageOf, xhrTo };
}

// Statuses that mean "sign in again" (no session, or a locked vault).
export const SIGNED_OUT = [401, 403, 423];

// pageMessages({box, loginUrl, ApiError, testid}) -> {say, unsay, sayError}: a page's message line.
// say(text, "success" | "error", extra node); sayError(err, prefix) shows an ApiError's message (with a
// "Sign in again" link when the session is gone) or a generic sentence for a bug in the page.
export function pageMessages(options) {
  function say(text, kind, extra) {
    const box = el("div", { class: `msg ${kind || "success"}`, "data-testid": options.testid }, [text]);
    if (extra) box.append(" ", extra);
    options.box.replaceChildren(box);
  }

  function unsay() {
    options.box.replaceChildren();
  }

  function signInLink(err) {
    return err && SIGNED_OUT.includes(err.status) ? el("a", { href: options.loginUrl, text: "Sign in again" }) : null;
  }

  function sayError(err, prefix) {
    const text = err instanceof options.ApiError ? err.message : "Something went wrong in this page; reload it and try again.";
    say(prefix ? `${prefix} ${text}` : text, "error", signInLink(err));
    if (!(err instanceof options.ApiError)) console.warn(err);
  }

  return { say, unsay, sayError };
}
