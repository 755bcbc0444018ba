// Where a message's attachments are kept: in the user's files, by default in the top-level folder
// "Chat attachments" (made by the first attachment, GET chats/attachments-folder/), or in a top-level folder
// of theirs chosen here (sent as `folder` with the message). The composer says so, with a link to the folder,
// as soon as the message carries a file or a recording. This browser remembers the choice (the folder's id
// only: its name is read from the vault each time, and a folder gone since falls back to the default).
import { $, el, folderHref, pageUrls, quoted } from "../locker.js";
import { api, ApiError, draft, parts, root, say } from "./common.js";

const STORE = "locker.chat.attachments-folder";
const urls = pageUrls(root ? root.dataset : {});
const where = { defaultId: null, defaultName: "Chat attachments", chosen: null }; // chosen: {id, name}

function remembered() {
  try {
    return window.localStorage.getItem(STORE);
  } catch {
    return null;
  }
}

function remember(id) {
  try {
    if (id) window.localStorage.setItem(STORE, id);
    else window.localStorage.removeItem(STORE);
  } catch {
    /* private mode: the choice lasts for this page */
  }
}

// The folder id to send with a message, or null (the default folder).
export function chosenFolder() {
  return where.chosen ? where.chosen.id : null;
}

function renderWhere() {
  const box = $("composer-where");
  box.hidden = !(draft.files.length || draft.recording);
  const id = where.chosen ? where.chosen.id : where.defaultId;
  const name = where.chosen ? where.chosen.name : where.defaultName;
  const link = $("composer-where-link");
  link.hidden = !id;
  if (id) {
    link.href = folderHref(urls, id);
    link.textContent = `“${name}”`;
    link.target = "_blank"; // the draft stays here
    link.rel = "noopener";
    $("composer-where-name").textContent = "";
  } else {
    link.removeAttribute("href");
    link.textContent = "";
    $("composer-where-name").textContent = `“${name}” (made when you send the first one)`;
  }
  $("composer-where-change").disabled = Boolean(draft.sending);
}

async function loadWhere() {
  try {
    const found = await api("GET", "chats/attachments-folder/");
    where.defaultId = found.id;
    where.defaultName = found.name || where.defaultName;
  } catch {
    /* the composer still works; it names the default folder without a link */
  }
  const id = remembered();
  if (id && !where.chosen) {
    try {
      const folder = await api("GET", `folders/${encodeURIComponent(id)}/`);
      if (folder.owned === false) throw new ApiError(404, null);
      where.chosen = { id: folder.id, name: folder.name };
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) remember(null); // gone (deleted, trashed): the default again
    }
  }
  renderWhere();
}

// After a message with attachments: the default folder may exist now.
function attachmentsSent() {
  if (!where.chosen && !where.defaultId) loadWhere();
}

// The chosen folder is gone (the server said 404 for it): back to the default.
function folderGone() {
  const name = where.chosen ? where.chosen.name : "";
  where.chosen = null;
  remember(null);
  renderWhere();
  say(`The folder ${quoted(name)} chosen for attachments is no longer there: attachments go to ${quoted(where.defaultName)} again.`, "error");
}

async function openChooser() {
  const dialog = $("chat-folder-dialog");
  const select = $("chat-folder-select");
  const error = $("chat-folder-error");
  error.textContent = "";
  select.replaceChildren(el("option", { value: "", text: `${where.defaultName} (default)` }));
  select.disabled = true;
  dialog.showModal();
  try {
    const listed = await api("GET", "folders/?page_size=200");
    const options = listed.results
      .filter((f) => f.owned !== false && f.id !== where.defaultId)
      .map((f) => el("option", { value: f.id, text: f.name }));
    select.append(...options);
    select.value = where.chosen ? where.chosen.id : "";
    if (listed.next) error.textContent = "Only your first 200 top-level folders are listed.";
    if (!options.length) error.textContent = "You have no other top-level folder yet: make one in Files to choose it here.";
  } catch (err) {
    error.textContent = err instanceof ApiError ? err.message : "Could not list your folders.";
  } finally {
    select.disabled = false;
    select.focus();
  }
}

export function setupWhere() {
  $("composer-where-change").addEventListener("click", openChooser);
  $("chat-folder-form").addEventListener("submit", function (event) {
    event.preventDefault();
    const select = $("chat-folder-select");
    const option = select.selectedOptions[0];
    where.chosen = select.value && option ? { id: select.value, name: option.textContent } : null;
    remember(select.value || null);
    $("chat-folder-dialog").close();
    renderWhere();
    $("composer-text").focus();
  });
  Object.assign(parts, { renderWhere, attachmentsSent, folderGone });
  loadWhere();
}
