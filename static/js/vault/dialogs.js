// The file browser's item actions and their dialogs: create a folder, star, rename, move (a folder picker that
// walks the tree one level at a time), add tags and move to the trash, for one item or a selection, and moving
// by drag and drop (dragmove.js calls moveTo). After each, the focus stays on the item, or on its neighbour when
// it left the listing: it is never lost.
import { $, el, quoted, SIGNED_OUT } from "../locker.js";
import { api, ApiError, collator, fetchAll, folderHref, parseTags, say, sayError, TRASH_URL } from "./common.js";
import { keyOf } from "./listing.js";

function itemPath(item, kind) {
  return kind === "folder" ? `folders/${item.id}/` : `files/${item.id}/`;
}

// The folder an item is in (null: the top level).
function originOf(o) {
  return (o.kind === "folder" ? o.item.parent : o.item.folder) || null;
}

function label(items) {
  return items.length === 1 ? quoted(items[0].item.name) : `${items.length} items`;
}

// An error in a dialog is said in the dialog, which stays open to fix it; a lost sign-in (or a locked vault)
// closes it and says so on the page, with the link to sign in again.
function dialogError(dialog, id, err, prefix) {
  if (err instanceof ApiError && SIGNED_OUT.includes(err.status)) {
    dialog.close();
    sayError(err, prefix);
  } else {
    $(id).textContent = err instanceof ApiError ? err.message : prefix;
  }
}

export function setupDialogs(browser) {
  const { state } = browser;

  // --- create a folder ---

  const newFolderDialog = $("new-folder-dialog");
  browser.openNewFolder = function () {
    $("new-folder-form").reset();
    $("new-folder-error").textContent = "";
    newFolderDialog.showModal();
    $("new-folder-name").focus();
  };
  $("new-folder").addEventListener("click", browser.openNewFolder);

  $("new-folder-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    const input = $("new-folder-name");
    const name = input.value.trim();
    if (!name) {
      $("new-folder-error").textContent = "Type a name for the new folder.";
      input.focus();
      return;
    }
    const button = event.target.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const folder = await api("POST", "folders/", { name, parent: state.folderId });
      newFolderDialog.close();
      say(`Created the folder ${quoted(folder.name)}.`, "success");
      await browser.loadListing();
      browser.focusItem(keyOf("folder", folder.id));
      if (browser.reloadSideFolders && !state.folderId) browser.reloadSideFolders();
    } catch (err) {
      dialogError(newFolderDialog, "new-folder-error", err, "Could not create the folder.");
      input.focus();
    } finally {
      button.disabled = false;
    }
  });

  // --- star ---

  async function toggleStar(item, kind) {
    const on = !item.starred;
    try {
      await api(on ? "PUT" : "DELETE", `${itemPath(item, kind)}star`);
      item.starred = on;
      say(on ? `Starred ${quoted(item.name)}.` : `Removed the star from ${quoted(item.name)}.`, "success");
      if (state.place === "starred" && !on) {
        state.folders = state.folders.filter((f) => f !== item);
        state.files = state.files.filter((f) => f !== item);
      }
      browser.renderListing();
      browser.focusItem(keyOf(kind, item.id), "star");
    } catch (err) {
      sayError(err, `Could not change the star of ${quoted(item.name)}.`);
    }
  }

  // --- move to the trash ---

  async function trashMany(items) {
    if (!items.length) return;
    const one = items.length === 1 && items[0];
    const what = one ? (one.kind === "folder" ? `the folder ${quoted(one.item.name)} and everything in it` : quoted(one.item.name)) : `${items.length} items (folders with everything in them)`;
    if (!window.confirm(`Move ${what} to the trash?`)) return;
    const before = browser.ordered().map((o) => o.key);
    const failed = [];
    for (const o of items) {
      try {
        await api("DELETE", itemPath(o.item, o.kind));
        browser.selection.delete(o.key);
      } catch (err) {
        failed.push({ o, err });
      }
    }
    const done = items.length - failed.length;
    if (failed.length) sayError(failed[0].err, `Could not move ${quoted(failed[0].o.item.name)}${failed.length > 1 ? ` and ${failed.length - 1} more` : ""} to the trash.`);
    else say(`Moved ${label(items)} to the trash.`, "success", el("a", { href: TRASH_URL, text: "Open the trash" }));
    if (done) {
      await browser.loadListing();
      browser.focusNear(items[0].key, before);
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
      await browser.loadListing();
      browser.focusItem(keyOf(kind, item.id));
    } catch (err) {
      dialogError(renameDialog, "rename-error", err, "Could not rename.");
    } finally {
      submit.disabled = false;
    }
  });

  // --- move: to a folder chosen in a picker, or dropped on ---

  // Moves each item into target ({id, name}; id null: the top level); returns how many moved.
  async function moveTo(chosen, target) {
    const items = chosen.filter((o) => originOf(o) !== target.id); // what is already there stays
    if (!items.length) {
      say(`Already in ${target.id ? quoted(target.name) : "the top level"}.`, "info");
      return 0;
    }
    const before = browser.ordered().map((o) => o.key);
    const failed = [];
    for (const o of items) {
      const body = o.kind === "folder" ? { parent: target.id } : { folder: target.id };
      try {
        await api("PATCH", itemPath(o.item, o.kind), body);
        browser.selection.delete(o.key);
      } catch (err) {
        failed.push({ o, err });
      }
    }
    const moved = items.length - failed.length;
    const where = target.id ? quoted(target.name) : "the top level";
    if (failed.length) {
      sayError(failed[0].err, `Could not move ${quoted(failed[0].o.item.name)}${failed.length > 1 ? ` and ${failed.length - 1} more` : ""} to ${where}.`);
    } else {
      say(`Moved ${label(items)} to ${where}.`, "success", el("a", { href: folderHref(target.id), text: "Open it" }));
    }
    if (moved) {
      await browser.loadListing();
      browser.focusNear(items[0].key, before);
      if (browser.reloadSideFolders) browser.reloadSideFolders();
    }
    return moved;
  }
  browser.moveTo = moveTo;

  const moveDialog = $("move-dialog");
  let moving = null; // {items, chain: [{id, name}]}

  function openMove(items) {
    moving = { items, chain: state.path.filter((f) => f.owned !== false).map((f) => ({ id: f.id, name: f.name })) };
    $("move-h").textContent = `Move ${label(items)}`;
    $("move-error").textContent = "";
    moveDialog.showModal();
    showMoveLevel();
  }

  async function showMoveLevel() {
    const here = moving.chain.length ? moving.chain[moving.chain.length - 1].id : null;
    const list = $("move-folders");
    $("move-path").textContent = ["Files", ...moving.chain.map((f) => f.name)].join(" / ");
    $("move-up").disabled = !moving.chain.length;
    const confirm = $("move-confirm");
    confirm.disabled = moving.items.every((o) => originOf(o) === here);
    confirm.textContent = confirm.disabled ? "Already here" : "Move here";
    list.replaceChildren(el("li", { class: "muted", text: "Loading…" }));
    const movingFolders = new Set(moving.items.filter((o) => o.kind === "folder").map((o) => o.item.id));
    try {
      const folders = await fetchAll(here ? `folders/?parent=${here}&page_size=200` : "folders/?page_size=200");
      if (!moving || (moving.chain.length ? moving.chain[moving.chain.length - 1].id : null) !== here) return;
      const choices = folders.filter((f) => !movingFolders.has(f.id)).sort((a, b) => collator.compare(a.name, b.name)); // not into itself
      list.replaceChildren(
        ...choices.map((f) =>
          el("li", {}, [
            el("button", { type: "button", class: "picker", "data-folder": f.id, "aria-label": `Open ${quoted(f.name)}` }, [el("span", { class: "icon folder", "aria-hidden": "true" }), f.name]),
          ]),
        ),
      );
      if (!choices.length) list.replaceChildren(el("li", { class: "muted", text: "No folders here." }));
    } catch (err) {
      list.replaceChildren();
      dialogError(moveDialog, "move-error", err, "Could not list the folders.");
    }
  }

  $("move-folders").addEventListener("click", function (event) {
    const button = event.target.closest("button[data-folder]");
    if (!button || !moving) return;
    moving.chain.push({ id: button.dataset.folder, name: button.textContent });
    showMoveLevel().then(() => $("move-up").focus());
  });

  $("move-up").addEventListener("click", function () {
    if (!moving || !moving.chain.length) return;
    moving.chain.pop();
    showMoveLevel();
  });

  $("move-confirm").addEventListener("click", async function () {
    if (!moving) return;
    const { items, chain } = moving;
    const target = chain.length ? chain[chain.length - 1] : { id: null, name: "Files" };
    const button = $("move-confirm");
    button.disabled = true;
    moveDialog.close();
    const moved = await moveTo(items, target);
    if (!moved) button.disabled = false;
  });

  moveDialog.addEventListener("close", function () {
    moving = null;
  });

  // --- add tags to several items ---

  const tagsDialog = $("tags-dialog");
  let tagging = null;

  function openTags(items) {
    tagging = items;
    $("tags-h").textContent = `Add tags to ${label(items)}`;
    $("tags-form").reset();
    $("tags-error").textContent = "";
    tagsDialog.showModal();
    $("tags-input").focus();
  }

  $("tags-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    if (!tagging) return;
    const add = parseTags($("tags-input").value);
    if (!add.length) {
      $("tags-error").textContent = "Type at least one tag.";
      return;
    }
    const submit = event.target.querySelector("button[type=submit]");
    submit.disabled = true;
    const items = tagging;
    try {
      for (const o of items) {
        const tags = parseTags([...(o.item.tags || []), ...add].join(","));
        await api("PATCH", itemPath(o.item, o.kind), { tags });
      }
      tagsDialog.close();
      say(`Added ${add.map(quoted).join(", ")} to ${label(items)}.`, "success");
      await browser.loadListing();
      browser.focusItem(items[0].key);
    } catch (err) {
      dialogError(tagsDialog, "tags-error", err, "Could not add the tags.");
      browser.loadListing();
    } finally {
      submit.disabled = false;
    }
  });
  tagsDialog.addEventListener("close", function () {
    tagging = null;
  });

  // One item's actions act on the selection when the item is part of it (a right-click on a selected row).
  function forItem(many) {
    return function (item, kind) {
      const key = keyOf(kind, item.id);
      const chosen = browser.selection.has(key) ? browser.selected() : [{ kind, item, key }];
      return many(chosen);
    };
  }

  Object.assign(browser.actions, {
    rename: openRename,
    move: forItem(openMove),
    delete: forItem(trashMany),
    star: toggleStar,
    moveMany: openMove,
    tagMany: openTags,
    trashMany,
  });
}
