// The file browser's folder and item dialogs: create a folder, rename, move (a folder picker that walks
// the tree one level at a time) and delete (to the trash), for files and folders alike.
import { $, el, quoted } from "../locker.js";
import { api, ApiError, collator, fetchAll, folderHref, say, sayError, TRASH_URL } from "./common.js";

function itemPath(item, kind) {
  return kind === "folder" ? `folders/${item.id}/` : `files/${item.id}/`;
}

export function setupDialogs(browser) {
  const { state } = browser;

  // --- create a folder ---

  $("new-folder-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    const input = $("new-folder-name");
    const name = input.value.trim();
    if (!name) {
      say("Type a name for the new folder.", "error");
      input.focus();
      return;
    }
    const button = event.target.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const folder = await api("POST", "folders/", { name, parent: state.folderId });
      input.value = "";
      say(`Created the folder ${quoted(folder.name)}.`, "success");
      browser.loadListing();
    } catch (err) {
      sayError(err, "Could not create the folder.");
      input.focus();
    } finally {
      button.disabled = false;
    }
  });

  // --- delete (to the trash) ---

  async function trashItem(item, kind) {
    const what = kind === "folder" ? `the folder ${quoted(item.name)} and everything in it` : quoted(item.name);
    if (!window.confirm(`Move ${what} to the trash?`)) return;
    try {
      await api("DELETE", itemPath(item, kind));
      say(`Moved ${quoted(item.name)} to the trash.`, "success", el("a", { href: TRASH_URL, text: "Open the trash" }));
      browser.loadListing();
    } catch (err) {
      sayError(err, `Could not delete ${quoted(item.name)}.`);
      browser.loadListing();
    }
  }

  // --- rename ---

  const renameDialog = $("rename-dialog");
  let renaming = null;

  function openRename(item, kind) {
    renaming = { item, kind };
    $("rename-h").textContent = `Rename ${quoted(item.name)}`;
    $("rename-error").textContent = "";
    const input = $("rename-input");
    input.value = item.name;
    renameDialog.showModal();
    input.focus();
    const dot = item.name.lastIndexOf(".");
    input.setSelectionRange(0, kind === "file" && dot > 0 ? dot : item.name.length);
  }

  $("rename-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    if (!renaming) return;
    const { item, kind } = renaming;
    const name = $("rename-input").value.trim();
    if (!name) {
      $("rename-error").textContent = "Type a name.";
      return;
    }
    if (name === item.name) {
      renameDialog.close();
      return;
    }
    const submit = event.target.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      const saved = await api("PATCH", itemPath(item, kind), { name });
      renameDialog.close();
      say(`Renamed ${quoted(item.name)} to ${quoted(saved.name)}.`, "success");
      browser.loadListing();
    } catch (err) {
      $("rename-error").textContent = err instanceof ApiError ? err.message : "Could not rename.";
    } finally {
      submit.disabled = false;
    }
  });

  // --- move: a folder picker that walks the tree one level at a time ---

  const moveDialog = $("move-dialog");
  let moving = null; // {item, kind, chain: [{id, name}]}

  function openMove(item, kind) {
    moving = { item, kind, chain: state.path.map((f) => ({ id: f.id, name: f.name })) };
    $("move-h").textContent = `Move ${quoted(item.name)}`;
    $("move-error").textContent = "";
    moveDialog.showModal();
    showMoveLevel();
  }

  async function showMoveLevel() {
    const here = moving.chain.length ? moving.chain[moving.chain.length - 1].id : null;
    const list = $("move-folders");
    $("move-path").textContent = ["Files", ...moving.chain.map((f) => f.name)].join(" / ");
    $("move-up").disabled = !moving.chain.length;
    const origin = moving.kind === "folder" ? moving.item.parent : moving.item.folder;
    const confirm = $("move-confirm");
    confirm.disabled = (origin || null) === here;
    confirm.textContent = confirm.disabled ? "Already here" : "Move here";
    list.replaceChildren(el("li", { class: "muted", text: "Loading…" }));
    try {
      const folders = await fetchAll(here ? `folders/?parent=${here}&page_size=200` : "folders/?page_size=200");
      if (!moving || (moving.chain.length ? moving.chain[moving.chain.length - 1].id : null) !== here) return;
      const choices = folders
        .filter((f) => !(moving.kind === "folder" && f.id === moving.item.id)) // not into itself
        .sort((a, b) => collator.compare(a.name, b.name));
      list.replaceChildren(
        ...choices.map((f) =>
          el("li", {}, [
            el("button", { type: "button", class: "picker", "data-folder": f.id, "aria-label": `Open ${quoted(f.name)}` }, [
              el("span", { class: "icon folder", "aria-hidden": "true" }),
              f.name,
            ]),
          ]),
        ),
      );
      if (!choices.length) list.replaceChildren(el("li", { class: "muted", text: "No folders here." }));
    } catch (err) {
      list.replaceChildren();
      $("move-error").textContent = err instanceof ApiError ? err.message : "Could not list the folders.";
    }
  }

  $("move-folders").addEventListener("click", function (event) {
    const button = event.target.closest("button[data-folder]");
    if (!button || !moving) return;
    const name = button.textContent;
    moving.chain.push({ id: button.dataset.folder, name });
    showMoveLevel().then(() => $("move-up").focus());
  });

  $("move-up").addEventListener("click", function () {
    if (!moving || !moving.chain.length) return;
    moving.chain.pop();
    showMoveLevel();
  });

  $("move-confirm").addEventListener("click", async function () {
    if (!moving) return;
    const { item, kind, chain } = moving;
    const target = chain.length ? chain[chain.length - 1] : null;
    const button = $("move-confirm");
    button.disabled = true;
    try {
      const body = kind === "folder" ? { parent: target ? target.id : null } : { folder: target ? target.id : null };
      await api("PATCH", itemPath(item, kind), body);
      moveDialog.close();
      say(`Moved ${quoted(item.name)} to ${target ? quoted(target.name) : "the top level"}.`, "success", el("a", { href: folderHref(target && target.id), text: "Open it" }));
      browser.loadListing();
    } catch (err) {
      $("move-error").textContent = err instanceof ApiError ? err.message : "Could not move.";
      button.disabled = false;
    }
  });

  moveDialog.addEventListener("close", function () {
    moving = null;
  });

  Object.assign(browser.actions, { rename: openRename, move: openMove, delete: trashItem });
}
