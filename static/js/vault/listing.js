// The file browser's listing: breadcrumbs, folders and files as a table or a grid, sorting, filtering by type,
// "show more", selection marks and each row's star and menu button. The page is a folder (the top level when
// state.folderId is null), or the Recent or Starred view (state.place). The other concerns of the page plug into
// the object createBrowser() returns:
//   browser.actions[name](item, kind)   what an item's menu entry does (rename, move, delete, versions, share, ...)
//   browser.actions.preview(fileId)     a file's name opens the preview pane
//   browser.afterRender                 functions run after each render of the listing
//   browser.afterPath                   functions run once the breadcrumbs are known (state.path)
//   browser.refreshSoon(), loadPath()   the listing (debounced) and the path read again (live.js)
//   browser.selection                   the selected items (selection.js), as "kind:id" keys
// In a folder someone shares with you, state.path starts at the shared folder (its parent is not ours to
// see) and state.access ({owner, permission}, set by sharing.js) hides the entries the share does not allow.
import { $, el, formatBytes, localPath, mimeGroup, quoted } from "../locker.js";
import { api, collator, fetchAll, fileIconClass, filePreviewHref, FILES_URL, folderHref, loadQuota, root, say, sayError, tagChips, timeNode } from "./common.js";

export const keyOf = (kind, id) => `${kind}:${id}`;

// What a share lets us do with an item that is not ours (unknown permission: every entry; the server decides).
const ALLOWED = { view: ["versions", "download"], edit: ["versions", "download", "rename", "move", "tag"], delete: ["versions", "download", "rename", "move", "tag", "delete"] };

// The type filter's groups (documents: PDFs and text, as the search page's "type").
const TYPE_GROUPS = { image: ["image"], video: ["video"], audio: ["audio"], document: ["pdf", "text"], other: ["other"] };

export function createBrowser() {
  const state = {
    place: root.dataset.place || "folder",
    folderId: root.dataset.folder || null,
    path: [], // [{id, name, parent}] from the top level down to the current folder
    folders: [],
    files: [],
    filesNext: null,
    sort: { key: "name", dir: 1 },
    type: "",
    generation: 0,
    access: null, // in a folder shared with us: {owner, permission}
    sharedWithMe: null, // the shares made to us, once a shared folder needed them
  };
  if (state.place !== "folder") state.sort = { key: "used", dir: -1 }; // Recent, Starred: the latest first
  const browser = { state, actions: {}, afterRender: [], afterPath: [], selection: new Set() };
  const tbody = $("items");
  const PLACE_TITLES = { recent: "Recent", starred: "Starred" };

  function currentName() {
    if (PLACE_TITLES[state.place]) return PLACE_TITLES[state.place];
    if (state.path.length) return state.path[state.path.length - 1].name;
    return state.folderId ? "Folder" : "Files";
  }

  // --- breadcrumbs ---

  async function loadPath() {
    if (state.place !== "folder") {
      renderPath();
      for (const hook of browser.afterPath) hook();
      return;
    }
    const chain = [];
    let id = state.folderId;
    for (let guard = 0; id && guard < 256; guard++) {
      let folder;
      try {
        folder = await api("GET", `folders/${id}/`);
      } catch (err) {
        // Above a folder shared with us lies its owner's folder (404): the path starts at the shared one.
        if (err.status === 404 && chain.length) break;
        throw err;
      }
      chain.unshift(folder);
      if (folder.owned === false && (await sharedFolderIds()).has(folder.id)) break; // its parent is not ours
      id = folder.parent;
    }
    state.path = chain;
    renderPath();
    for (const hook of browser.afterPath) hook();
  }

  // The folders others share with us (state.sharedWithMe: the shares, for sharing.js as well).
  async function sharedFolderIds() {
    if (!state.sharedWithMe) {
      try {
        state.sharedWithMe = await fetchAll("shared-with-me/?page_size=200");
      } catch (err) {
        state.sharedWithMe = []; // the walk up then stops at the first folder we may not see
      }
    }
    return new Set(state.sharedWithMe.filter((s) => s.item && s.item.kind === "folder").map((s) => s.item.id));
  }

  function isShared() {
    return state.path.length > 0 && state.path[0].owned === false;
  }

  // Each crumb that is a folder of ours is a drop target for moving items (dragmove.js): data-drop-folder.
  function renderPath() {
    const top = isShared()
      ? el("li", {}, [el("a", { href: `${FILES_URL}#shared-with-me`, text: "Shared with me" })])
      : el("li", {}, [el("a", { href: FILES_URL, "data-drop-folder": "", text: "Files" })]);
    const items = [top];
    state.path.forEach(function (folder, index) {
      const last = index === state.path.length - 1;
      items.push(
        el("li", {}, [
          last
            ? el("span", { "aria-current": "page", text: folder.name })
            : el("a", { href: folderHref(folder.id), "data-drop-folder": folder.id, text: folder.name }),
        ]),
      );
    });
    if (PLACE_TITLES[state.place]) items.push(el("li", {}, [el("span", { "aria-current": "page", text: PLACE_TITLES[state.place] })]));
    else if (!state.path.length && state.folderId) items.push(el("li", {}, [el("span", { "aria-current": "page", text: "…" })]));
    else if (!state.path.length) items[0].replaceChildren(el("span", { "aria-current": "page", text: "Files" }));
    $("crumbs").replaceChildren(...items);
    $("folder-title").textContent = currentName();
    document.title = `${currentName()} · Locker`;
  }

  // --- the listing ---

  async function loadFolder() {
    const where = state.folderId ? `parent=${state.folderId}&` : "";
    const inFolder = state.folderId ? `folder=${state.folderId}&` : "";
    const [folders, files] = await Promise.all([fetchAll(`folders/?${where}page_size=200`), api("GET", `files/?${inFolder}page_size=100`)]);
    return { folders, files: files.results, next: files.next ? localPath(files.next) : null };
  }

  // Recent and Starred: rows {kind, at, folder|file}; each item remembers when it was used or starred.
  async function loadPlace() {
    const rows = await fetchAll(state.place === "recent" ? "recent/?limit=100" : "starred/?page_size=200");
    const folders = [];
    const files = [];
    for (const row of rows) {
      const item = row[row.kind];
      if (!item) continue;
      item.used_at = row.at;
      item.last_action = row.action || null;
      (row.kind === "folder" ? folders : files).push(item);
    }
    return { folders, files, next: null };
  }

  async function loadListing() {
    const generation = ++state.generation;
    try {
      const loaded = state.place === "folder" ? await loadFolder() : await loadPlace();
      if (generation !== state.generation) return;
      state.folders = loaded.folders;
      state.files = loaded.files;
      state.filesNext = loaded.next;
      renderListing();
    } catch (err) {
      if (generation !== state.generation) return;
      if (err.status === 404) {
        say("This folder does not exist or is in the trash.", "error", el("a", { href: FILES_URL, text: "Go to the top level" }));
      } else {
        sayError(err, "Could not load this folder.");
      }
      $("items-loading").hidden = true;
    }
  }

  async function loadMore() {
    if (!state.filesNext) return;
    const button = $("load-more");
    button.disabled = true;
    try {
      const page = await api("GET", state.filesNext);
      const known = new Set(state.files.map((f) => f.id));
      state.files.push(...page.results.filter((f) => !known.has(f.id)));
      state.filesNext = page.next ? localPath(page.next) : null;
      renderListing();
    } catch (err) {
      sayError(err, "Could not load more files.");
    } finally {
      button.disabled = false;
    }
  }

  let refreshTimer = null;
  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      loadListing();
      loadQuota();
    }, 150);
  }

  function compare(a, b) {
    const { key, dir } = state.sort;
    let order = 0;
    if (key === "size") order = (a.size ?? -1) - (b.size ?? -1);
    else if (key === "modified") order = Date.parse(a.modified_at) - Date.parse(b.modified_at);
    else if (key === "used") order = Date.parse(a.used_at) - Date.parse(b.used_at);
    if (order === 0) order = collator.compare(a.name, b.name);
    return order * dir;
  }

  function allowed(item, action) {
    if (action === "star" || action === "details" || action === "open") return true;
    if (item.owned !== false) return action !== "share" || item.owned === true;
    if (action === "share") return false; // only the owner shares
    const permission = state.access && state.access.permission;
    return !ALLOWED[permission] || ALLOWED[permission].includes(action);
  }

  // The name of an item: a folder opens, a file opens in the preview pane (a real link: ?preview=<id>).
  function nameLink(item, kind, extra) {
    if (kind === "folder") return el("a", { href: folderHref(item.id), class: "item-name", ...extra, text: item.name });
    return el("a", { href: filePreviewHref(item.id, item.folder), class: "item-name", "data-preview": item.id, title: "Preview", ...extra, text: item.name });
  }

  function starButton(item) {
    return el("button", {
      type: "button",
      class: `star${item.starred ? " on" : ""}`,
      "data-action": "star",
      "aria-pressed": String(Boolean(item.starred)),
      "aria-label": `Star ${quoted(item.name)}`,
      title: item.starred ? "Starred: click to unstar" : "Star",
      text: item.starred ? "★" : "☆",
    });
  }

  function menuButton(item) {
    return el("button", {
      type: "button",
      class: "menu-button",
      "data-menu": "",
      "aria-haspopup": "menu",
      "aria-expanded": "false",
      "aria-controls": "item-menu",
      "aria-label": `Actions for ${quoted(item.name)}`,
      title: "Actions",
      text: "⋯",
    });
  }

  function pickBox(item, kind) {
    const selected = browser.selection.has(keyOf(kind, item.id));
    return el("input", { type: "checkbox", class: "pick-box", "data-pick": "", checked: selected, "aria-label": `Select ${quoted(item.name)}` });
  }

  function rowAttrs(item, kind, base) {
    const selected = browser.selection.has(keyOf(kind, item.id));
    return {
      ...base,
      "data-kind": kind,
      "data-id": item.id,
      "data-key": keyOf(kind, item.id),
      class: `${base.class || ""}${selected ? " selected" : ""}`.trim() || null,
      "aria-selected": base["data-testid"] === "item-row" ? String(selected) : null, // rows only (a list item has no such state: its checkbox says it)
      draggable: allowed(item, "move") ? "true" : null,
    };
  }

  function row(item, kind) {
    const isFolder = kind === "folder";
    const when = state.place === "folder" ? item.modified_at : item.used_at || item.modified_at;
    return el("tr", rowAttrs(item, kind, { "data-testid": "item-row" }), [
      el("td", { class: "pick" }, [pickBox(item, kind)]),
      el("td", { class: "name" }, [
        el("span", { class: `icon ${isFolder ? "folder" : fileIconClass(item)}`, "aria-hidden": "true" }),
        nameLink(item, kind),
        isFolder ? el("span", { class: "sr-only", text: " (folder)" }) : null,
        !isFolder && item.version > 1 ? el("span", { class: "tag", text: `v${item.version}` }) : null,
        tagChips(item.tags, `Tags of ${quoted(item.name)}`),
        starButton(item),
      ]),
      el("td", { class: "size num", text: isFolder ? "—" : formatBytes(item.size) }),
      el("td", { class: "modified" }, [timeNode(when)]),
      el("td", { class: "menu-col" }, [menuButton(item)]),
    ]);
  }

  // Grid view: a tile per item with its thumbnail (files with a preview) or a big icon.
  function tile(item, kind) {
    const isFolder = kind === "folder";
    const href = isFolder ? folderHref(item.id) : filePreviewHref(item.id, item.folder);
    const thumb = el("a", { href, class: "tile-thumb", tabindex: "-1", "aria-hidden": "true", "data-preview": isFolder ? null : item.id });
    if (!isFolder && item.preview_url) {
      const img = el("img", { src: localPath(item.preview_url), alt: "", loading: "lazy", decoding: "async", "data-testid": "thumbnail" });
      img.addEventListener("error", () => img.replaceWith(el("span", { class: `tile-icon icon ${fileIconClass(item)}` })), { once: true });
      thumb.append(img);
    } else {
      thumb.append(el("span", { class: `tile-icon icon ${isFolder ? "folder" : fileIconClass(item)}` }));
    }
    const meta = isFolder ? "Folder" : formatBytes(item.size);
    return el("li", rowAttrs(item, kind, { class: "tile", "data-testid": "item-tile" }), [
      el("div", { class: "tile-pick" }, [pickBox(item, kind)]),
      thumb,
      el("div", { class: "tile-body" }, [
        nameLink(item, kind),
        el("span", { class: "tile-meta" }, [meta, " · ", timeNode(item.modified_at)]),
        tagChips(item.tags, `Tags of ${quoted(item.name)}`),
      ]),
      el("div", { class: "tile-tools" }, [starButton(item), menuButton(item)]),
    ]);
  }

  function ofType(item, kind) {
    if (!state.type) return true;
    if (state.type === "folder") return kind === "folder";
    return kind === "file" && TYPE_GROUPS[state.type].includes(mimeGroup(item.mime_type));
  }

  function sortedItems() {
    const folders = state.folders.filter((f) => ofType(f, "folder"));
    const files = state.files.filter((f) => ofType(f, "file")).sort(compare);
    // Folders have no size: "size" orders them by name.
    folders.sort(state.sort.key === "size" ? (a, b) => collator.compare(a.name, b.name) * state.sort.dir : compare);
    return { folders, files };
  }

  // Every listed item in its order on the page, as {kind, item, key}.
  function ordered() {
    const { folders, files } = sortedItems();
    return [...folders.map((item) => ({ kind: "folder", item, key: keyOf("folder", item.id) })), ...files.map((item) => ({ kind: "file", item, key: keyOf("file", item.id) }))];
  }

  const container = () => (state.view === "grid" ? $("items-grid") : tbody);

  // Where the keyboard is in the listing: {key, part} (part: "name", "pick", "menu", "star").
  function focusedSpot() {
    const active = document.activeElement;
    const holder = active && container().contains(active) ? active.closest("[data-key]") : null;
    if (!holder) return null;
    const part = active.matches("[data-pick]") ? "pick" : active.matches("[data-menu]") ? "menu" : active.matches("[data-action=star]") ? "star" : "name";
    return { key: holder.dataset.key, part };
  }

  const PART_SELECTOR = { pick: "[data-pick]", menu: "[data-menu]", star: "[data-action=star]", name: "a.item-name" };

  // Put the focus on an item (its name link, or the same part as before); the folder title when it is gone.
  function focusItem(key, part) {
    const holder = key ? container().querySelector(`[data-key="${CSS.escape(key)}"]`) : null;
    const target = holder && holder.querySelector(PART_SELECTOR[part || "name"]);
    if (target) target.focus();
    else $("folder-title").focus();
  }

  function renderListing() {
    const { folders, files } = sortedItems();
    const grid = state.view === "grid";
    // Keep the keyboard focus on the same control of the same item across a re-render.
    const spot = focusedSpot();
    const listed = new Set([...folders.map((f) => keyOf("folder", f.id)), ...files.map((f) => keyOf("file", f.id))]);
    for (const key of [...browser.selection]) if (!listed.has(key)) browser.selection.delete(key);
    if (grid) {
      $("items-grid").replaceChildren(...folders.map((f) => tile(f, "folder")), ...files.map((f) => tile(f, "file")));
      tbody.replaceChildren();
    } else {
      tbody.replaceChildren(...folders.map((f) => row(f, "folder")), ...files.map((f) => row(f, "file")));
      $("items-grid").replaceChildren();
    }
    if (spot) {
      if (listed.has(spot.key)) focusItem(spot.key, spot.part);
      else browser.focusNear(spot.key);
    }
    const empty = folders.length + files.length === 0;
    $("items-loading").hidden = true;
    $("items-empty").hidden = !empty;
    $("items-empty-text").replaceChildren(...emptyText());
    $("items-table").hidden = empty || grid;
    $("items-grid").hidden = empty || !grid;
    $("grid-sort").hidden = empty || !grid;
    $("more-row").hidden = !state.filesNext;
    for (const th of document.querySelectorAll("#items-table th[data-sort]")) {
      if (th.dataset.sort === state.sort.key) th.setAttribute("aria-sort", state.sort.dir > 0 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    }
    $("grid-sort-select").value = `${state.sort.key}:${state.sort.dir}`;
    for (const hook of browser.afterRender) hook();
  }

  let lastKeys = [];
  // After an item left the listing (moved, trashed): the focus goes to its neighbour, never lost.
  // ``before``: the order the item was in (default: the last render's).
  browser.focusNear = function (goneKey, before) {
    const keys = before || lastKeys;
    const index = keys.indexOf(goneKey);
    const now = ordered().map((o) => o.key);
    if (now.includes(goneKey)) return focusItem(goneKey);
    const next = keys.slice(index + 1).find((k) => now.includes(k)) || keys.slice(0, Math.max(index, 0)).reverse().find((k) => now.includes(k));
    focusItem(next || null);
  };
  browser.afterRender.push(function () {
    lastKeys = ordered().map((o) => o.key);
  });

  function emptyText() {
    if (state.type) return [el("strong", { text: "Nothing of this type here." }), " Choose “Everything” to see all items."];
    if (state.place === "recent") return [el("strong", { text: "Nothing yet." }), " Files you upload, change or open show up here."];
    if (state.place === "starred") return [el("strong", { text: "No starred items." }), " Use ☆ next to a file or folder to keep it here."];
    return [el("strong", { text: "This folder is empty." }), " Drop files or folders anywhere on this page, or use “Upload files”."];
  }

  const find = (kind, id) => (kind === "folder" ? state.folders : state.files).find((item) => item.id === id);

  function itemOf(key) {
    const [kind, id] = key.split(":");
    const item = find(kind, id);
    return item ? { kind, item, key } : null;
  }

  document.querySelector("#items-table thead").addEventListener("click", function (event) {
    const th = event.target.closest("th[data-sort]");
    if (!th || !event.target.closest("button")) return;
    const key = th.dataset.sort;
    if (state.sort.key === key) state.sort.dir = -state.sort.dir;
    else state.sort = { key, dir: key === "modified" ? -1 : 1 };
    renderListing();
  });

  // A file's name opens the preview; the star button stars; other clicks belong to selection.js and menu.js.
  function onItemClick(event) {
    const preview = event.target.closest("a[data-preview]");
    if (preview && !(event.ctrlKey || event.metaKey || event.shiftKey || event.altKey || event.button)) {
      event.preventDefault();
      browser.actions.preview(preview.dataset.preview);
      return;
    }
    const star = event.target.closest("button[data-action=star]");
    if (star) {
      const holder = star.closest("[data-key]");
      const found = itemOf(holder.dataset.key);
      if (found) browser.actions.star(found.item, found.kind);
    }
  }
  tbody.addEventListener("click", onItemClick);
  $("items-grid").addEventListener("click", onItemClick);

  // --- list or grid (remembered in this browser) ---

  const VIEW_KEY = "locker.files.view";
  function storedView() {
    try {
      return localStorage.getItem(VIEW_KEY) === "grid" ? "grid" : "list";
    } catch (err) {
      return "list";
    }
  }
  state.view = storedView();

  function showView() {
    for (const button of document.querySelectorAll("#view-toggle button[data-view]")) {
      button.setAttribute("aria-pressed", String(button.dataset.view === state.view));
    }
    root.dataset.view = state.view;
  }

  $("view-toggle").addEventListener("click", function (event) {
    const button = event.target.closest("button[data-view]");
    if (!button || button.dataset.view === state.view) return;
    state.view = button.dataset.view;
    try {
      localStorage.setItem(VIEW_KEY, state.view);
    } catch (err) {
      /* private mode: the choice lasts for this page only */
    }
    showView();
    if (!$("items-loading").hidden) return; // the first listing is still on its way
    renderListing();
  });

  // The grid has no column headers: a select sorts it (the same order as the table's).
  $("grid-sort-select").addEventListener("change", function (event) {
    const [key, dir] = event.target.value.split(":");
    state.sort = { key, dir: Number(dir) };
    renderListing();
  });

  $("type-filter").addEventListener("change", function (event) {
    state.type = event.target.value;
    renderListing();
  });

  $("load-more").addEventListener("click", loadMore);

  // Adding (new folder, uploads) only in a folder we may add to: not in Recent or Starred, not in a view-only share.
  browser.afterPath.push(function () {
    const canAdd = state.place === "folder" && (!isShared() || !state.access || state.access.permission !== "view");
    for (const button of document.querySelectorAll("[data-adds]")) button.hidden = !canAdd;
  });

  // The page starts: the view, the path, the listing; then the file named by ?preview=<id>, if any.
  function start() {
    showView();
    renderPath();
    loadPath().catch(function (err) {
      if (err.status !== 404) sayError(err, "Could not load the folder path.");
    });
    const wanted = new URLSearchParams(window.location.search).get("preview");
    loadListing().then(function () {
      if (wanted) browser.actions.preview(wanted);
    });
  }

  return Object.assign(browser, { allowed, container, find, focusItem, isShared, itemOf, loadListing, loadPath, ordered, refreshSoon, renderListing, sortedItems, start });
}
