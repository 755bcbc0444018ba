// What the vault pages (file browser, trash, search, notes list, note editor) share: the page's settings
// (data-* of #vault), the JSON API, the message line, the quota bar, dates, tags and links.
// Every user-controlled string (names, tags, note text, error details) goes into the page as text
// (textContent, Text nodes, attributes), never as HTML.
import * as links from "../locker.js";
import { $, el, formatBytes, jsonApi, localClock, localDay, localPath, mimeGroup, pageMessages, pageUrls } from "../locker.js";

export const root = document.getElementById("vault");
const data = root ? root.dataset : {};

export const API = data.api || "/api/v1/";
export const URLS = pageUrls(data);
export const FILES_URL = URLS.files;
export const NOTES_URL = URLS.notes;
export const SEARCH_URL = URLS.search;
export const TRASH_URL = data.trashUrl || "/trash/";
export const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

// --- the API ---------------------------------------------------------------------------------

// The JSON API (locker.js); 400 reasons are shown for these fields, in this order.
const json = jsonApi({
  base: API,
  csrf: data.csrf || "",
  fields: ["name", "parent", "folder", "tags", "file", "on_conflict", "non_field_errors"],
});
export const { api, ApiError, xhrTo } = json;

// A page may say what a 404 means where it is (e.g. a shared folder you may only view): the uploads and
// the new versions, which read their answers with messageOf, then show that instead of "No such folder."
let notFoundText = "";
export function explainNotFound(text) {
  notFoundText = text || "";
}

export function messageOf(status, body) {
  return status === 404 && notFoundText ? notFoundText : json.messageOf(status, body);
}

// Every page of a paginated listing.
export async function fetchAll(path, options) {
  const items = [];
  let next = path;
  for (let guard = 0; next && guard < 100; guard++) {
    const page = await api("GET", next, undefined, options);
    items.push(...page.results);
    next = page.next ? localPath(page.next) : null;
  }
  return items;
}

// --- messages and the quota bar ------------------------------------------------------------

export const { say, sayError } = pageMessages({
  box: $("vault-message"),
  loginUrl: data.loginUrl || "/login",
  ApiError,
  testid: "vault-message",
});

export async function loadQuota() {
  const box = $("quota");
  if (!box) return;
  try {
    const me = await api("GET", "me");
    const bar = $("quota-bar");
    bar.max = Math.max(me.quota, 1);
    bar.value = Math.min(me.usage, me.quota);
    $("quota-text").textContent = `${formatBytes(me.usage)} of ${formatBytes(me.quota)} used`;
    box.classList.toggle("full", me.quota > 0 && me.usage / me.quota >= 0.9);
    box.hidden = false;
  } catch (err) {
    box.hidden = true; // the bar is a hint; the listing shows the real error
  }
}

// Flash messages across a navigation (e.g. "Moved the note to the trash." shown on the notes list).
export function flashNext(text, kind, link) {
  try {
    sessionStorage.setItem("locker.flash", JSON.stringify({ text, kind: kind || "success", link: link || null }));
  } catch (err) {
    /* storage off: no message, nothing lost */
  }
}

function takeFlash() {
  try {
    const raw = sessionStorage.getItem("locker.flash");
    sessionStorage.removeItem("locker.flash");
    return raw ? JSON.parse(raw) : null;
  } catch (err) {
    return null;
  }
}

// Each page's entry module: startVault(thePage) shows a message left by the page before, starts the
// page, then fills the quota bar (on the pages that have one).
export function startVault(page) {
  if (!root) return;
  const flash = takeFlash();
  if (flash && flash.text) say(flash.text, flash.kind, flash.link ? el("a", { href: flash.link.href, text: flash.link.text }) : null);
  page();
  loadQuota();
}

// --- dates, tags, links and kinds shared by the pages ----------------------------------------

// <time datetime="..."><span>2025-01-31</span> <span>14:05</span></time>: wraps between date and time only.
export function timeNode(iso) {
  const date = new Date(iso);
  if (!iso || isNaN(date)) return document.createTextNode("—");
  return el("time", { datetime: iso, title: date.toLocaleString() }, [el("span", { text: localDay(date) }), " ", el("span", { text: localClock(date) })]);
}

// The search page filtered by one tag.
function tagHref(tag) {
  return `${SEARCH_URL}?tag=${encodeURIComponent(tag)}`;
}

// <ul class="chips"> of links to the tag filter (empty list: null).
export function tagChips(tags, label) {
  if (!tags || !tags.length) return null;
  return el(
    "ul",
    { class: "chips", "aria-label": label || "Tags" },
    tags.map((tag) => el("li", {}, [el("a", { class: "chip", href: tagHref(tag), "data-testid": "tag-chip", text: tag })])),
  );
}

// "a, b,  B , c" -> ["a", "b", "c"] (blank and repeated tags dropped, ignoring case, as the server does).
export function parseTags(text) {
  const seen = new Set();
  const tags = [];
  for (const raw of String(text || "").split(",")) {
    const tag = raw.split(/\s+/).filter(Boolean).join(" ");
    if (!tag || seen.has(tag.toLocaleLowerCase())) continue;
    seen.add(tag.toLocaleLowerCase());
    tags.push(tag);
  }
  return tags;
}

// Tags compare like the server's tag index: case and accents folded.
export function foldTag(tag) {
  return String(tag).normalize("NFKD").replace(/\p{M}+/gu, "").toLocaleLowerCase().split(/\s+/).filter(Boolean).join(" ");
}

// Links bound to this page's addresses (see locker.js).
export function folderHref(id) {
  return links.folderHref(URLS, id);
}

export function filePreviewHref(fileId, folderId) {
  return links.filePreviewHref(URLS, fileId, folderId);
}

export function noteHref(id) {
  return links.noteHref(URLS, id);
}

// The icon of a file: "file" plus its MIME group (image, audio, video, pdf, text, other).
export function fileIconClass(file) {
  return `file ${mimeGroup(file && file.mime_type)}`;
}
