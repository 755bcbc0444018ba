// Sharing on the note page: a "Share" dialog for a note of one's own (people and what each may do; a note has no
// public link), and, on a note someone shares with this user, who shared it and a read-only editor when they
// may only view it (note.js reads root.dataset.readonly).
import { $, el, quoted } from "../locker.js";
import { api, ApiError, fetchAll, root, say, sayError } from "./common.js";
import { PERMISSIONS, permissionSelect } from "./sharing.js";

export async function setupNoteSharing() {
  const noteId = root.dataset.note;
  if (!noteId) return;
  let received = [];
  try {
    received = (await fetchAll("shared-with-me/?page_size=200")).filter((s) => s.item.kind === "note" && s.item.id === noteId);
  } catch (err) {
    sayError(err, "Could not tell whether this note is shared with you.");
  }
  if (received.length) {
    const share = received[0];
    const banner = $("shared-note-banner");
    banner.textContent = `Shared with you by ${share.owner}: you ${PERMISSIONS[share.permission].short}.`;
    banner.hidden = false;
    if (share.permission === "view") root.dataset.readonly = "1";
    if (share.permission !== "delete") $("delete-note").hidden = true;
    return;
  }
  const button = $("share-note");
  button.hidden = false;
  const dialog = $("note-share-dialog");
  const username = $("note-share-username");
  const error = $("note-share-error");

  async function loadShares() {
    const list = $("note-share-list");
    try {
      const mine = (await fetchAll("shares/?page_size=200")).filter((s) => s.item.id === noteId);
      list.replaceChildren(...mine.map(row));
      $("note-share-empty").hidden = mine.length > 0;
    } catch (err) {
      sayError(err, "Could not load who has access.");
    }
  }

  function row(share) {
    const select = permissionSelect(share.permission, `What ${share.recipient} may do`, "note-share-permission");
    select.addEventListener("change", async function () {
      try {
        await api("PATCH", `shares/${share.id}/`, { permission: select.value });
        say(`${share.recipient} ${PERMISSIONS[select.value].short} now.`, "success");
      } catch (err) {
        sayError(err, "Could not change the permission.");
        loadShares();
      }
    });
    const stop = el("button", { type: "button", class: "small danger-text", text: "Stop sharing" });
    stop.addEventListener("click", async function () {
      if (!window.confirm(`Stop sharing this note with ${share.recipient}?`)) return;
      try {
        await api("DELETE", `shares/${share.id}/`);
        loadShares();
      } catch (err) {
        sayError(err, "Could not stop sharing.");
      }
    });
    return el("li", { class: "share-row", "data-testid": "note-share-row" }, [
      el("strong", { text: share.recipient }),
      el("div", { class: "action-row" }, [select, stop]),
    ]);
  }

  button.addEventListener("click", function () {
    error.textContent = "";
    dialog.showModal();
    username.focus();
    loadShares();
  });
  $("note-share-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    const name = username.value.trim();
    if (!name) {
      error.textContent = "Type the username of the person to share with.";
      username.focus();
      return;
    }
    try {
      await api("POST", "shares/", { item: noteId, username: name, permission: $("note-share-level").value });
      username.value = "";
      error.textContent = "";
      $("note-share-status").textContent = `Shared with ${quoted(name)}.`;
      loadShares();
    } catch (err) {
      const field = err instanceof ApiError && err.body.errors && err.body.errors.username;
      error.textContent = field ? field.join(" ") : err.message || "Could not share the note.";
      username.focus();
    }
  });
  $("note-share-level").addEventListener("change", function (event) {
    $("note-share-help").textContent = PERMISSIONS[event.target.value].help;
  });
}
