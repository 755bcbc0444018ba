// The file browser's listing: breadcrumbs, folders and files as a table or a grid, sorting, "show more",
// and the per-item buttons. The other concerns of the page (uploads.js, dialogs.js, versions.js,
// preview.js, sharing.js, live.js) plug into the object createBrowser() returns:
//   browser.actions[name](item, kind)   what an item's button does (rename, move, delete, versions, share)
//   browser.actions.preview(fileId)     a file's name opens the preview pane
//   browser.afterRender                 functions run after each render of the listing
//   browser.afterPath                   functions run once the breadcrumbs are known (state.path)
//   browser.refreshSoon(), loadPath()   the listing (debounced) and the path read again (live.js)
// In a folder someone shares with you, state.path starts at the shared folder (its parent is not ours to
// see) and state.access ({owner, permission}, set by sharing.js) hides the buttons the share does not allow.
import { $, el, formatBytes, localPath, quoted } from "../locker.js";
import { api, collator, fetchAll, fileIconClass, filePreviewHref, FILES_URL, folderHref, loadQuota, root, say, sayError, tagChips, timeNode } from "./common.js";

export function createBrowser() {
  const state = {
    folderId: root.dataset.folder || null,
    path: [], // [{id, name, parent}] from the top level down to the current folder
    folders: [],
    files: [],
    filesNext: null,
    sort: { key: "name", dir: 1 },
    generation: 0,
    access: null, // in a folder shared with us: {owner, permission}
    sharedWithMe: null, // the shares made to us, once a shared folder needed them
  };
  const browser = { state, actions: {}, afterRender: [], afterPath: [] };
  const tbody = $("items");

  function currentName() {
    if (state.path.length) return state.path[state.path.length - 1].name;
    return state.folderId ? "Folder" : "Files";
  }

  // --- breadcrumbs ---

  async function loadPath() {
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

  function renderPath() {
    const items = [
      isShared()
        ? el("li", {}, [el("a", { href: `${FILES_URL}#shared-with-me`, text: "Shared with me" })])
        : el("li", {}, [el("a", { href: FILES_URL, text: "Files" })]),
    ];
    state.path.forEach(function (folder, index) {
      const last = index === state.path.length - 1;
      items.push(
        el("li", {}, [
          last ? el("span", { "aria-current": "page", text: folder.name }) : el("a", { href: folderHref(folder.id), text: folder.name }),
        ]),
      );
    });
    if (!state.path.length && state.folderId) items.push(el("li", {}, [el("span", { "aria-current": "page", text: "…" })]));
    else if (!state.path.length) items[0].replaceChildren(el("span", { "aria-current": "page", text: "Files" }));
    $("crumbs").replaceChildren(...items);
    $("folder-title").textContent = currentName();
    document.title = `${currentName()} · Locker`;
  }

  // --- the listing ---

  async function loadListing() {
    const generation = ++state.generation;
    const where = state.folderId ? `parent=${state.folderId}&` : "";
    const inFolder = state.folderId ? `folder=${state.folderId}&` : "";
    try {
      const [folders, files] = await Promise.all([
        fetchAll(`folders/?${where}page_size=200`),
        api("GET", `files/?${inFolder}page_size=100`),
      ]);
      if (generation !== state.generation) return;
      state.folders = folders;
      state.files = files.results;
      state.filesNext = files.next ? localPath(files.next) : null;
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
    if (order === 0) order = collator.compare(a.name, b.name);
    return order * dir;
  }

  function actionButton(label, action, name, extraClass) {
    return el("button", {
      type: "button",
      class: `small${extraClass ? " " + extraClass : ""}`,
      "data-action": action,
      "aria-label": `${label} ${quoted(name)}`,
      text: label,
    });
  }

  // The name of an item: a folder opens, a file opens in the preview pane (a real link: ?preview=<id>).
  function nameLink(item, kind, extra) {
    if (kind === "folder") return el("a", { href: folderHref(item.id), class: "item-name", ...extra, text: item.name });
    return el("a", { href: filePreviewHref(item.id, item.folder), class: "item-name", "data-preview": item.id, title: "Preview", ...extra, text: item.name });
  }

  // What a share lets us do with an item that is not ours (unknown permission: every button; the server decides).
  const ALLOWED = { view: ["versions"], edit: ["versions", "rename", "move"], delete: ["versions", "rename", "move", "delete"] };
  function allowed(item, action) {
    if (item.owned !== false) return action !== "share" || item.owned === true;
    if (action === "share") return false; // only the owner shares
    const permission = state.access && state.access.permission;
    return !ALLOWED[permission] || ALLOWED[permission].includes(action);
  }

  function itemActions(item, kind) {
    const buttons = [
      kind === "file"
        ? el("a", { href: localPath(item.content_url), class: "button small", download: true, "aria-label": `Download ${quoted(item.name)}`, text: "Download" })
        : null,
      kind === "file" ? actionButton("Versions", "versions", item.name) : null,
      actionButton("Share", "share", item.name),
      actionButton("Rename", "rename", item.name),
      actionButton("Move", "move", item.name),
      actionButton("Delete", "delete", item.name, "danger-text"),
    ];
    return buttons.filter((b) => b && (b.tagName !== "BUTTON" || allowed(item, b.dataset.action)));
  }

  function row(item, kind) {
    const isFolder = kind === "folder";
    return el("tr", { "data-testid": "item-row", "data-kind": kind, "data-id": item.id }, [
      el("td", { class: "name" }, [
        el("span", { class: `icon ${isFolder ? "folder" : fileIconClass(item)}`, "aria-hidden": "true" }),
        nameLink(item, kind),
        isFolder ? el("span", { class: "sr-only", text: " (folder)" }) : null,
        !isFolder && item.version > 1 ? el("span", { class: "tag", text: `v${item.version}` }) : null,
        tagChips(item.tags, `Tags of ${quoted(item.name)}`),
      ]),
      el("td", { class: "size num", text: isFolder ? "—" : formatBytes(item.size) }),
      el("td", { class: "modified" }, [timeNode(item.modified_at)]),
      el("td", { class: "actions" }, [el("div", { class: "action-row" }, itemActions(item, kind))]),
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
    return el("li", { class: "tile", "data-testid": "item-tile", "data-kind": kind, "data-id": item.id }, [
      thumb,
      el("div", { class: "tile-body" }, [
        nameLink(item, kind),
        el("span", { class: "tile-meta" }, [meta, " · ", timeNode(item.modified_at)]),
        tagChips(item.tags, `Tags of ${quoted(item.name)}`),
      ]),
      el("details", { class: "tile-menu" }, [
        el("summary", { "aria-label": `Actions for ${quoted(item.name)}`, title: "Actions" }, [el("span", { "aria-hidden": "true", text: "⋯" })]),
        el("div", { class: "tile-actions" }, itemActions(item, kind)),
      ]),
    ]);
  }

  function sortedItems() {
    const folders = [...state.folders];
    const files = [...state.files].sort(compare);
    // Folders have no size: "size" orders them by name.
    folders.sort(state.sort.key === "size" ? (a, b) => collator.compare(a.name, b.name) * state.sort.dir : compare);
    return { folders, files };
  }

  function renderListing() {
    const { folders, files } = sortedItems();
    const grid = state.view === "grid";
    const container = grid ? $("items-grid") : tbody;
    // Keep the keyboard focus on the same control of the same item across a re-render.
    const active = document.activeElement;
    const holder = active && container.contains(active) ? active.closest("[data-id]") : null;
    const focused = holder ? { id: holder.dataset.id, action: active.dataset.action } : null;
    if (grid) {
      $("items-grid").replaceChildren(...folders.map((f) => tile(f, "folder")), ...files.map((f) => tile(f, "file")));
      tbody.replaceChildren();
    } else {
      tbody.replaceChildren(...folders.map((f) => row(f, "folder")), ...files.map((f) => row(f, "file")));
      $("items-grid").replaceChildren();
    }
    if (focused) {
      const item = container.querySelector(`[data-id="${CSS.escape(focused.id)}"]`);
      const target = item && (focused.action ? item.querySelector(`[data-action="${CSS.escape(focused.action)}"]`) : item.querySelector("a.item-name"));
      if (target) {
        const menu = target.closest("details");
        if (menu) menu.open = true;
        target.focus();
      } else $("folder-title").focus();
    }
    const empty = folders.length + files.length === 0;
    $("items-loading").hidden = true;
    $("items-empty").hidden = !empty;
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

  function find(kind, id) {
    return (kind === "folder" ? state.folders : state.files).find((item) => item.id === id);
  }

  document.querySelector("#items-table thead").addEventListener("click", function (event) {
    const th = event.target.closest("th[data-sort]");
    if (!th || !event.target.closest("button")) return;
    const key = th.dataset.sort;
    if (state.sort.key === key) state.sort.dir = -state.sort.dir;
    else state.sort = { key, dir: key === "modified" ? -1 : 1 };
    renderListing();
  });

  function onItemClick(event) {
    const preview = event.target.closest("a[data-preview]");
    if (preview && !(event.ctrlKey || event.metaKey || event.shiftKey || event.altKey || event.button)) {
      event.preventDefault();
      browser.actions.preview(preview.dataset.preview);
      return;
    }
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const holder = button.closest("[data-id]");
    const item = find(holder.dataset.kind, holder.dataset.id);
    if (!item) return;
    const kind = holder.dataset.kind;
    const menu = button.closest("details");
    if (menu) menu.open = false;
    const action = browser.actions[button.dataset.action];
    if (action) action(item, kind);
  }
  tbody.addEventListener("click", onItemClick);
  $("items-grid").addEventListener("click", onItemClick);

  // One tile menu open at a time; Escape or a click elsewhere closes it.
  $("items-grid").addEventListener("toggle", function (event) {
    if (!event.target.open) return;
    for (const other of $("items-grid").querySelectorAll("details[open]")) if (other !== event.target) other.open = false;
  }, true);
  document.addEventListener("click", function (event) {
    for (const menu of $("items-grid").querySelectorAll("details[open]")) if (!menu.contains(event.target)) menu.open = false;
  });
  $("items-grid").addEventListener("keydown", function (event) {
    const menu = event.target.closest("details[open]");
    if (event.key === "Escape" && menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });

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

  $("load-more").addEventListener("click", loadMore);

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

  return Object.assign(browser, { loadListing, loadPath, refreshSoon, renderListing, sortedItems, start });
}
