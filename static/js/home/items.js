// The home page's recent files (tiles with thumbnails) and starred items (a short list). Every name goes into the
// page as text (textContent, attributes), never as HTML.
import { el, filePreviewHref, folderHref, formatBytes, localPath } from "../locker.js";
import { fileIconClass } from "../vault/common.js";

// What was last done with a recent file, from its event's action (GET /api/v1/recent/ `action`).
export const ACTION_WORDS = {
  "file.uploaded": "Uploaded",
  "file.downloaded": "Opened",
  "file.version_added": "New version",
  "file.version_restored": "Version restored",
  "file.renamed": "Renamed",
  "file.moved": "Moved",
  "file.retagged": "Tags changed",
};

export function actionWord(action) {
  return ACTION_WORDS[action] || "Changed";
}

const relative = typeof Intl !== "undefined" && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }) : null;
const STEPS = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
];

// "5 minutes ago", "yesterday", "just now" (the local date and time in the title).
export function agoText(date, now) {
  const seconds = Math.round(((now || Date.now()) - date.getTime()) / 1000);
  if (seconds < 45) return "just now";
  for (const [unit, size] of STEPS) {
    if (seconds >= size) {
      const count = Math.floor(seconds / size);
      return relative ? relative.format(-count, unit) : `${count} ${unit}${count === 1 ? "" : "s"} ago`;
    }
  }
  return relative ? relative.format(-1, "minute") : "1 minute ago";
}

export function whenNode(iso) {
  const date = new Date(iso);
  if (!iso || isNaN(date)) return document.createTextNode("—");
  return el("time", { datetime: iso, title: date.toLocaleString(), text: agoText(date) });
}

function thumbnail(file, href) {
  const thumb = el("a", { href, class: "tile-thumb", tabindex: "-1", "aria-hidden": "true" });
  const icon = () => el("span", { class: `tile-icon icon ${fileIconClass(file)}` });
  if (file.preview_url) {
    const img = el("img", { src: localPath(file.preview_url), alt: "", loading: "lazy", decoding: "async", "data-testid": "thumbnail" });
    img.addEventListener("error", () => img.replaceWith(icon()), { once: true });
    thumb.append(img);
  } else {
    thumb.append(icon());
  }
  return thumb;
}

// One recent file: its thumbnail (or its kind's icon), its name linking to it in its folder, what was done and when.
export function recentTile(entry, urls) {
  const file = entry.file;
  const href = filePreviewHref(urls, file.id, file.folder);
  return el("li", { class: "tile home-tile", "data-testid": "recent-tile", "data-id": file.id, "data-action": entry.action }, [
    thumbnail(file, href),
    el("div", { class: "tile-body" }, [
      el("a", { class: "item-name", href, "data-testid": "recent-name", text: file.name }),
      el("span", { class: "tile-meta", "data-testid": "recent-what" }, [actionWord(entry.action), " ", whenNode(entry.at)]),
      el("span", { class: "tile-meta" }, [formatBytes(file.size)]),
    ]),
  ]);
}

// One starred item: its icon and name linking to it (a folder opens in the file browser, a file in its folder).
export function starredRow(entry, urls) {
  const isFolder = entry.kind === "folder";
  const item = isFolder ? entry.folder : entry.file;
  const href = isFolder ? folderHref(urls, item.id) : filePreviewHref(urls, item.id, item.folder);
  const kindWord = isFolder ? "Folder" : formatBytes(item.size);
  return el("li", { class: "home-list-row", "data-testid": "starred-row", "data-kind": entry.kind, "data-id": item.id }, [
    el("span", { class: `icon ${isFolder ? "folder" : fileIconClass(item)}`, "aria-hidden": "true" }),
    el("a", { class: "item-name", href, "data-testid": "starred-name", text: item.name }),
    el("span", { class: "home-list-meta" }, [el("span", { class: "sr-only", text: ", " }), kindWord]),
  ]);
}

// The empty states: what the section will hold, and how to get there.
export function emptyRecent(urls) {
  return [
    "No recent files yet. Files you upload, open or change show here. ",
    el("a", { href: urls.files, "data-testid": "recent-upload-link", text: "Upload files" }),
  ];
}

export function emptyStarred() {
  return ["Nothing starred yet. Use ☆ next to a file or folder to keep it here, one click from home."];
}
