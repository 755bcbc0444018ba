// The activity log's action codes (activity/actions.py) in plain words, grouped as the page's filter shows them.
// An unknown code (a newer server) shows as itself.

export const ACTION_GROUPS = [
  {
    label: "Sign-in and account",
    actions: {
      "auth.login": "Signed in",
      "auth.logout": "Signed out",
      "auth.session_revoked": "Signed a device out",
      "auth.session_renamed": "Renamed a signed-in device",
      "auth.refresh_token_reused": "A reused sign-in token was refused",
      "auth.password_changed": "Changed the password",
      "auth.recovery_used": "Used the recovery key",
      "account.registered": "Created the account",
      "account.updated": "Changed account details",
      "account.admin_reset": "An admin reset the account",
      "account.deleted": "Deleted the account",
      "account.data_exported": "Exported data",
      "app_password.created": "Created an app password",
      "app_password.revoked": "Revoked an app password",
      "invitation.created": "Created an invitation to join",
      "invitation.revoked": "Revoked an invitation",
      "invitation.used": "Joined through an invitation",
      "site.settings_changed": "Changed the site settings (open registration)",
    },
  },
  {
    label: "Files and folders",
    actions: {
      "file.uploaded": "Uploaded a file",
      "file.downloaded": "Downloaded a file",
      "file.version_added": "Saved a new version of a file",
      "file.version_restored": "Restored an earlier version of a file",
      "file.renamed": "Renamed a file",
      "file.moved": "Moved a file",
      "file.retagged": "Changed a file's tags",
      "file.integrity_failed": "A file failed its integrity check",
      "folder.created": "Created a folder",
      "folder.renamed": "Renamed a folder",
      "folder.moved": "Moved a folder",
      "quota.refused": "An upload was refused: storage full",
    },
  },
  {
    label: "Trash",
    actions: {
      "trash.added": "Moved an item to the trash",
      "trash.restored": "Restored an item from the trash",
      "trash.purged": "Deleted an item forever",
    },
  },
  {
    label: "Sharing and links",
    actions: {
      "share.created": "Shared an item",
      "share.changed": "Changed what someone may do with a shared item",
      "share.revoked": "Stopped sharing an item",
      "share.left": "Left an item shared with you",
      "share.received": "An item was shared with you",
      "share.received_changed": "Your permission on an item shared with you changed",
      "share.received_ended": "An item shared with you is no longer shared",
      "link.created": "Created a public link",
      "link.revoked": "Turned a public link off",
      "link.used": "A public link was used",
    },
  },
  {
    label: "Notes and chats",
    actions: {
      "note.created": "Created a note",
      "note.updated": "Edited a note",
      "chat.created": "Started a chat",
      "chat.renamed": "Renamed a chat",
      "chat.deleted": "Deleted a chat",
      "message.created": "Sent a message",
      "message.status_changed": "A message's status changed",
      "audio.uploaded": "Recorded audio",
    },
  },
];

const LABELS = Object.assign({}, ...ACTION_GROUPS.map((group) => group.actions));

// Failed sign-ins say why, in the user's words (the event's `reason`).
const LOGIN_FAILURES = {
  bad_password: "Sign-in failed: wrong password",
  unknown_user: "Sign-in failed: unknown username",
  inactive: "Sign-in refused: account deactivated",
};

export function actionLabel(event) {
  const data = (event && event.data) || {};
  if (event.action === "auth.login" && event.outcome === "failure") return LOGIN_FAILURES[data.reason] || "Sign-in failed";
  return LABELS[event.action] || event.action;
}

const PERMISSION = { view: "can view", edit: "can edit", delete: "can edit and delete" };
const DOWNLOAD = { file: "a file", zip: "the folder as a zip" };

// The details worth a short line under the label: who acted, in whose files, what a share allows...
export function actionDetails(event) {
  const data = (event && event.data) || {};
  const parts = [];
  const isAccount = String(event.action).startsWith("account.");
  if (typeof data.by === "string" && data.by && !isAccount) parts.push(`by ${data.by}`);
  if (typeof data.owner === "string" && data.owner) parts.push(`in ${data.owner}'s files`);
  if (PERMISSION[data.permission]) parts.push(data.was && PERMISSION[data.was] ? `${PERMISSION[data.was]} → ${PERMISSION[data.permission]}` : PERMISSION[data.permission]);
  if (event.action === "link.used" && DOWNLOAD[data.download]) parts.push(`downloaded ${DOWNLOAD[data.download]}`);
  if (event.action === "auth.login" && data.kind === "token") parts.push("an app or API client");
  if (event.action === "account.data_exported" && data.what) parts.push(data.what === "activity" ? "the activity log as CSV" : "all your data");
  return parts.join(" · ");
}

// "Chrome on Linux" from a User-Agent header (a guess for people; the whole header is in the title and the CSV).
export function deviceOf(userAgent) {
  const ua = String(userAgent || "");
  if (!ua) return "";
  const browsers = [
    [/Edg(e|A|iOS)?\//, "Edge"],
    [/OPR\/|Opera/, "Opera"],
    [/Firefox\/|FxiOS\//, "Firefox"],
    [/Chrome\/|CriOS\/|Chromium\//, "Chrome"],
    [/Safari\//, "Safari"],
    [/^curl\//, "curl"],
    [/python-requests|python-urllib|Python-urllib|httpx/i, "a Python script"],
  ];
  const systems = [
    [/iPhone|iPad|iPod/, "iOS"],
    [/Android/, "Android"],
    [/Windows/, "Windows"],
    [/Mac OS X|Macintosh/, "macOS"],
    [/CrOS/, "ChromeOS"],
    [/Linux/, "Linux"],
  ];
  const browser = (browsers.find(([pattern]) => pattern.test(ua)) || [])[1];
  const system = (systems.find(([pattern]) => pattern.test(ua)) || [])[1];
  if (browser && system) return `${browser} on ${system}`;
  if (browser || system) return browser || system;
  return ua.length > 40 ? `${ua.slice(0, 40)}…` : ua;
}
