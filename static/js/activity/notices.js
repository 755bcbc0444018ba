// What a notification says, and where it leads (the toasts of live.js and the notifications page).
// A notification names its item by id only (names are encrypted): the sentence says what happened to "a file" or
// "a folder", and the link opens the item. `data.by` is the username of whoever acted (shares, changes made by
// someone an item is shared with); it goes into the page as text only, like every other string here.
import { filePreviewHref, folderHref, noteHref, pageUrls } from "../locker.js";

// The pages' addresses, from the bell's data-*-url attributes (templates/base.html).
export function noticeUrls(dataset) {
  return {
    ...pageUrls(dataset || {}),
    trash: (dataset && dataset.trashUrl) || "/trash/",
    settings: (dataset && dataset.settingsUrl) || "/settings",
    activity: (dataset && dataset.activityUrl) || "/activity",
    notifications: (dataset && dataset.notificationsUrl) || "/notifications",
  };
}

const THING = { folder: "a folder", file: "a file", note: "a note" };

function thing(type) {
  return THING[type] || "an item";
}

function who(data) {
  return data && typeof data.by === "string" && data.by ? data.by : "Someone";
}

// A change made by someone an item is shared with (shared_item.changed), by the action of its event.
const CHANGES = {
  "file.uploaded": "added a file to something you share",
  "file.version_added": "saved a new version of a file you share",
  "file.version_restored": "restored an earlier version of a file you share",
  "file.renamed": "renamed a file you share",
  "file.moved": "moved a file you share",
  "file.retagged": "changed the tags of a file you share",
  "folder.created": "created a folder in something you share",
  "folder.renamed": "renamed a folder you share",
  "folder.moved": "moved a folder you share",
  "trash.added": "moved something you share to the trash",
  "trash.restored": "restored something you share from the trash",
  "note.updated": "edited a note you share",
};

const MAY = { view: "view it", edit: "edit it", delete: "edit and delete it" };

// "93%" from {used, quota}; "90%" when they are missing.
function percentOf(data) {
  const used = Number(data && data.used);
  const quota = Number(data && data.quota);
  return quota > 0 && isFinite(used) ? `${Math.max(90, Math.min(100, Math.floor((used / quota) * 100)))}%` : "90%";
}

// The item a notification is about: a file opens in the preview pane, a folder in the file browser, a note in
// the editor (what is gone or not the user's any more answers the page's own "not found").
function itemLink(n, urls, text) {
  if (!n.object_id) return null;
  if (n.object_type === "file") return { href: filePreviewHref(urls, n.object_id, null), text: text || "Show the file" };
  if (n.object_type === "folder") return { href: folderHref(urls, n.object_id), text: text || "Open the folder" };
  if (n.object_type === "note") return { href: noteHref(urls, n.object_id), text: text || "Open the note" };
  return null;
}

function sharedWithMe(n, urls) {
  if (n.object_type === "note" && n.object_id) return { href: noteHref(urls, n.object_id), text: "Open the note" };
  return { href: `${urls.files}#shared-with-me`, text: "Shared with me" };
}

// describe(notification, urls) -> {text, link: {href, text} | null}: the server's sentence (`summary`, with the
// names the reader can open; neutral words on the live stream), or, for a notification without one (an older
// server), this module's own sentence for its kind; and where it leads.
export function describe(n, urls) {
  const own = ownWords(n, urls);
  const summary = n && typeof n.summary === "string" && n.summary ? n.summary : "";
  return summary ? { text: summary, link: own.link } : own;
}

function ownWords(n, urls) {
  const data = (n && n.data) || {};
  switch (n && n.kind) {
    case "upload.finished":
      return data.action === "file.version_added"
        ? { text: "A new version of a file was saved.", link: itemLink(n, urls) }
        : { text: "A file was uploaded.", link: itemLink(n, urls) };
    case "file.downloaded":
      return { text: `${who(data)} downloaded one of your files.`, link: itemLink(n, urls) };
    case "share.received":
      return { text: `${who(data)} shared ${thing(n.object_type)} with you.`, link: sharedWithMe(n, urls) };
    case "share.changed": {
      const may = MAY[data.permission];
      const text = `${who(data)} changed what you may do with ${thing(n.object_type)} they share with you${may ? `: you can now ${may}` : ""}.`;
      return { text, link: sharedWithMe(n, urls) };
    }
    case "share.revoked":
      return { text: `${who(data)} stopped sharing ${thing(n.object_type)} with you.`, link: null };
    case "shared_item.changed":
      return { text: `${who(data)} ${CHANGES[data.action] || "changed something you share"}.`, link: itemLink(n, urls) };
    case "link.used":
      return {
        text: data.download === "zip" ? "Someone downloaded a folder through one of your public links." : "Someone downloaded a file through one of your public links.",
        link: itemLink(n, urls),
      };
    case "login.failed":
      return { text: "A sign-in to your account failed.", link: { href: `${urls.activity}?type=auth.login&outcome=failure`, text: "See failed sign-ins" } };
    case "device.signed_in":
      return { text: "A device signed in to your account.", link: { href: `${urls.settings}#sessions`, text: "Review your devices" } };
    case "quota.90":
      return { text: `Your storage is ${percentOf(data)} full.`, link: { href: urls.trash, text: "Free up space" } };
    case "quota.100":
      return { text: "Your storage is full: new uploads will be refused.", link: { href: urls.trash, text: "Free up space" } };
    default:
      return { text: "Something happened in your account.", link: null };
  }
}

// The kinds after which a listing of files, folders or shares may have changed (the file browser reloads).
export const LISTING_KINDS = new Set(["upload.finished", "shared_item.changed", "share.received", "share.changed", "share.revoked"]);
export const SHARE_KINDS = new Set(["share.received", "share.changed", "share.revoked"]);
export const QUOTA_KINDS = new Set(["quota.90", "quota.100"]);
