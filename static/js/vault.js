// The vault pages (file browser, trash, search, notes list and note editor) over the v1 JSON API.
// Loaded with `defer`; no inline script or style anywhere (CSP). Every user-controlled string (names,
// tags, note text, error details) goes into the page as text (textContent, Text nodes, attributes),
// never as HTML. The one exception is a note's `html`: the server renders the Markdown without raw HTML
// and sanitizes it (markdown-it-py + nh3 allowlist), so it may be assigned to innerHTML.
"use strict";

(function () {
  const root = document.getElementById("vault");
  if (!root) return;

  const API = root.dataset.api || "/api/v1/";
  const CSRF = root.dataset.csrf || "";
  const FILES_URL = root.dataset.filesUrl || "/files/";
  const LOGIN_URL = root.dataset.loginUrl || "/login";
  const TRASH_URL = root.dataset.trashUrl || "/trash/";
  const SEARCH_URL = root.dataset.searchUrl || "/search/";
  const NOTES_URL = root.dataset.notesUrl || "/notes/";
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

  // --- small helpers ---------------------------------------------------------------------------

  const el = window.Locker.el; // el("a", {href, class, text}, [children]): text only, never HTML (locker.js)

  const { $, formatBytes } = window.Locker; // $(id), formatBytes(n) -> "1.5 MiB" (locker.js)

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  // <time datetime="..."><span>2025-01-31</span> <span>14:05</span></time>: wraps between date and time only.
  function timeNode(iso) {
    const date = new Date(iso);
    if (!iso || isNaN(date)) return document.createTextNode("—");
    const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
    const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
    return el("time", { datetime: iso, title: date.toLocaleString() }, [el("span", { text: day }), " ", el("span", { text: clock })]);
  }

  // The API's absolute URLs (next pages, content_url) as same-origin paths.
  function localPath(url) {
    const parsed = new URL(url, window.location.href);
    return parsed.pathname + parsed.search;
  }

  function quoted(name) {
    return `“${name}”`;
  }

  // --- tags, links and kinds shared by the pages ----------------------------------------------

  // The search page filtered by one tag.
  function tagHref(tag) {
    return `${SEARCH_URL}?tag=${encodeURIComponent(tag)}`;
  }

  // <ul class="chips"> of links to the tag filter (empty list: null).
  function tagChips(tags, label) {
    if (!tags || !tags.length) return null;
    return el(
      "ul",
      { class: "chips", "aria-label": label || "Tags" },
      tags.map((tag) => el("li", {}, [el("a", { class: "chip", href: tagHref(tag), "data-testid": "tag-chip", text: tag })])),
    );
  }

  // "a, b,  B , c" -> ["a", "b", "c"] (blank and repeated tags dropped, ignoring case, as the server does).
  function parseTags(text) {
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
  function foldTag(tag) {
    return String(tag).normalize("NFKD").replace(/\p{M}+/gu, "").toLocaleLowerCase().split(/\s+/).filter(Boolean).join(" ");
  }

  function folderHref(id) {
    return id ? `${FILES_URL}${encodeURIComponent(id)}/` : FILES_URL;
  }

  // A file opens in its folder's listing with the preview pane showing it.
  function filePreviewHref(fileId, folderId) {
    return `${folderHref(folderId)}?preview=${encodeURIComponent(fileId)}`;
  }

  function noteHref(id) {
    return `${NOTES_URL}${encodeURIComponent(id)}/`;
  }

  // The API's content URL with ?inline=1: the browser shows safe types itself (images, media, PDF, plain text).
  function inlineUrl(contentUrl) {
    const url = new URL(contentUrl, window.location.href);
    url.searchParams.set("inline", "1");
    return url.pathname + url.search;
  }

  // As vault.filters.mime_group_of on the server.
  function mimeGroup(mime) {
    mime = String(mime || "");
    for (const group of ["image", "audio", "video"]) if (mime.startsWith(`${group}/`)) return group;
    if (mime === "application/pdf") return "pdf";
    if (mime.startsWith("text/") || mime === "application/json" || mime === "application/xml") return "text";
    return "other";
  }

  // The icon of a file: "file" plus its MIME group (image, audio, video, pdf, text, other).
  function fileIconClass(file) {
    return `file ${mimeGroup(file && file.mime_type)}`;
  }

  // Flash messages across a navigation (e.g. "Moved the note to the trash." shown on the notes list).
  function flashNext(text, kind, link) {
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

  // --- the API ---------------------------------------------------------------------------------

  // The JSON API (locker.js); 400 reasons are shown for these fields, in this order.
  const { api, ApiError, messageOf } = window.Locker.jsonApi({
    base: API,
    csrf: CSRF,
    fields: ["name", "parent", "folder", "tags", "file", "on_conflict", "non_field_errors"],
  });

  // Every page of a paginated listing.
  async function fetchAll(path, options) {
    const items = [];
    let next = path;
    for (let guard = 0; next && guard < 100; guard++) {
      const page = await api("GET", next, undefined, options);
      items.push(...page.results);
      next = page.next ? localPath(page.next) : null;
    }
    return items;
  }

  function parseJson(text) {
    try {
      return JSON.parse(text);
    } catch (err) {
      return null;
    }
  }

  // --- messages and the quota bar ------------------------------------------------------------

  const messageBox = $("vault-message");

  function say(text, kind, extra) {
    const box = el("div", { class: `msg ${kind || "success"}`, "data-testid": "vault-message" }, [text]);
    if (extra) box.append(" ", extra);
    messageBox.replaceChildren(box);
  }

  function signInLink(err) {
    return err && [401, 403, 423].includes(err.status) ? el("a", { href: LOGIN_URL, text: "Sign in again" }) : null;
  }

  function sayError(err, prefix) {
    const text = err instanceof ApiError ? err.message : "Something went wrong in this page; reload it and try again.";
    say(prefix ? `${prefix} ${text}` : text, "error", signInLink(err));
    if (!(err instanceof ApiError)) console.warn(err);
  }

  async function loadQuota() {
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

  // Dialogs: <button data-close> closes its <dialog>.
  document.addEventListener("click", function (event) {
    const close = event.target.closest("dialog [data-close]");
    if (close) close.closest("dialog").close();
  });

  const flash = takeFlash();
  if (flash && flash.text) say(flash.text, flash.kind, flash.link ? el("a", { href: flash.link.href, text: flash.link.text }) : null);

  const PAGES = { browser: browserPage, trash: trashPage, search: searchPage, notes: notesPage, note: notePage };
  if (PAGES[root.dataset.page]) PAGES[root.dataset.page]();
  loadQuota();

  // === the file browser ==========================================================================

  function browserPage() {
    const state = {
      folderId: root.dataset.folder || null,
      path: [], // [{id, name, parent}] from the top level down to the current folder
      folders: [],
      files: [],
      filesNext: null,
      sort: { key: "name", dir: 1 },
      generation: 0,
    };
    const tbody = $("items");

    function folderUrl(id) {
      return id ? `${FILES_URL}${id}/` : FILES_URL;
    }

    function currentName() {
      if (state.path.length) return state.path[state.path.length - 1].name;
      return state.folderId ? "Folder" : "Files";
    }

    // --- breadcrumbs ---

    async function loadPath() {
      const chain = [];
      let id = state.folderId;
      for (let guard = 0; id && guard < 256; guard++) {
        const folder = await api("GET", `folders/${id}/`);
        chain.unshift(folder);
        id = folder.parent;
      }
      state.path = chain;
      renderPath();
    }

    function renderPath() {
      const items = [el("li", {}, [el("a", { href: FILES_URL, text: "Files" })])];
      state.path.forEach(function (folder, index) {
        const last = index === state.path.length - 1;
        items.push(
          el("li", {}, [
            last ? el("span", { "aria-current": "page", text: folder.name }) : el("a", { href: folderUrl(folder.id), text: folder.name }),
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
      if (kind === "folder") return el("a", { href: folderUrl(item.id), class: "item-name", ...extra, text: item.name });
      return el("a", { href: filePreviewHref(item.id, item.folder), class: "item-name", "data-preview": item.id, title: "Preview", ...extra, text: item.name });
    }

    function itemActions(item, kind) {
      return kind === "folder"
        ? [actionButton("Rename", "rename", item.name), actionButton("Move", "move", item.name), actionButton("Delete", "delete", item.name, "danger-text")]
        : [
            el("a", { href: localPath(item.content_url), class: "button small", download: true, "aria-label": `Download ${quoted(item.name)}`, text: "Download" }),
            actionButton("Versions", "versions", item.name),
            actionButton("Rename", "rename", item.name),
            actionButton("Move", "move", item.name),
            actionButton("Delete", "delete", item.name, "danger-text"),
          ];
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
      const href = isFolder ? folderUrl(item.id) : filePreviewHref(item.id, item.folder);
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
      if (preview.file) updatePreviewNav();
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
        openPreview(preview.dataset.preview);
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
      if (button.dataset.action === "rename") openRename(item, kind);
      else if (button.dataset.action === "move") openMove(item, kind);
      else if (button.dataset.action === "delete") trashItem(item, kind);
      else if (button.dataset.action === "versions") openVersions(item);
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
        loadListing();
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
        await api("DELETE", kind === "folder" ? `folders/${item.id}/` : `files/${item.id}/`);
        say(`Moved ${quoted(item.name)} to the trash.`, "success", el("a", { href: TRASH_URL, text: "Open the trash" }));
        loadListing();
      } catch (err) {
        sayError(err, `Could not delete ${quoted(item.name)}.`);
        loadListing();
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
        const saved = await api("PATCH", kind === "folder" ? `folders/${item.id}/` : `files/${item.id}/`, { name });
        renameDialog.close();
        say(`Renamed ${quoted(item.name)} to ${quoted(saved.name)}.`, "success");
        loadListing();
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
        await api("PATCH", kind === "folder" ? `folders/${item.id}/` : `files/${item.id}/`, body);
        moveDialog.close();
        say(`Moved ${quoted(item.name)} to ${target ? quoted(target.name) : "the top level"}.`, "success", el("a", { href: folderUrl(target && target.id), text: "Open it" }));
        loadListing();
      } catch (err) {
        $("move-error").textContent = err instanceof ApiError ? err.message : "Could not move.";
        button.disabled = false;
      }
    });

    moveDialog.addEventListener("close", function () {
      moving = null;
    });

    // --- versions ---

    const versionsDialog = $("versions-dialog");
    let versionsOf = null; // the file (with its current etag)

    async function openVersions(file) {
      versionsOf = file;
      $("versions-h").textContent = `Versions of ${quoted(file.name)}`;
      $("versions-error").textContent = "";
      $("version-status").textContent = "";
      $("version-progress").hidden = true;
      $("version-input").value = "";
      $("versions-list").replaceChildren();
      versionsDialog.showModal();
      await loadVersions();
    }

    async function loadVersions() {
      const file = versionsOf;
      if (!file) return;
      try {
        const [fresh, versions] = await Promise.all([api("GET", `files/${file.id}/`), api("GET", `files/${file.id}/versions/`)]);
        if (versionsOf !== file) return;
        versionsOf = fresh;
        $("versions-list").replaceChildren(
          ...versions.results.map((v) =>
            el("tr", { "data-testid": "version-row", "data-number": v.number, class: v.current ? "current" : null }, [
              el("td", {}, [`Version ${v.number}`, v.current ? el("span", { class: "tag", text: "current" }) : null]),
              el("td", { class: "num", text: formatBytes(v.size) }),
              el("td", {}, [timeNode(v.created_at)]),
              el("td", { class: "actions" }, [
                el("div", { class: "action-row" }, [
                  el("a", {
                    href: `${API}files/${fresh.id}/versions/${v.number}/content`,
                    class: "button small",
                    download: true,
                    "aria-label": `Download version ${v.number}`,
                    text: "Download",
                  }),
                  v.current
                    ? null
                    : el("button", { type: "button", class: "small", "data-restore": v.number, "aria-label": `Restore version ${v.number}`, text: "Restore" }),
                ]),
              ]),
            ]),
          ),
        );
      } catch (err) {
        $("versions-error").textContent = err instanceof ApiError ? err.message : "Could not list the versions.";
      }
    }

    $("versions-list").addEventListener("click", async function (event) {
      const button = event.target.closest("button[data-restore]");
      if (!button || !versionsOf) return;
      const number = Number(button.dataset.restore);
      button.disabled = true;
      $("versions-error").textContent = "";
      try {
        const version = await api("POST", `files/${versionsOf.id}/versions/${number}/restore`);
        $("version-progress").hidden = true;
        $("version-status").textContent = `Restored version ${number} as version ${version.number}.`;
        await loadVersions();
        refreshSoon();
      } catch (err) {
        $("versions-error").textContent = err instanceof ApiError ? err.message : "Could not restore.";
        button.disabled = false;
      }
    });

    $("version-input").addEventListener("change", function (event) {
      const input = event.target;
      const chosen = input.files && input.files[0];
      if (!chosen || !versionsOf) return;
      const file = versionsOf;
      const bar = $("version-progress");
      const status = $("version-status");
      $("versions-error").textContent = "";
      bar.max = Math.max(chosen.size, 1);
      bar.value = 0;
      bar.hidden = false;
      status.textContent = `Uploading ${quoted(chosen.name)}…`;
      input.disabled = true;
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", `${API}files/${file.id}/content`);
      xhr.setRequestHeader("X-CSRFToken", CSRF);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      if (file.etag) xhr.setRequestHeader("If-Match", file.etag); // refuse to overwrite a change made elsewhere
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable && e.total) bar.value = (e.loaded / e.total) * bar.max;
      });
      const finish = function () {
        input.disabled = false;
        input.value = "";
      };
      xhr.addEventListener("load", async function () {
        finish();
        const body = parseJson(xhr.responseText);
        if (xhr.status === 200 && body && body.id) {
          bar.value = bar.max;
          status.textContent = `Saved as version ${body.version}.`;
          if (versionsOf && versionsOf.id === file.id) await loadVersions();
          refreshSoon();
        } else {
          bar.hidden = true;
          status.textContent = "";
          $("versions-error").textContent = messageOf(xhr.status, body);
        }
      });
      xhr.addEventListener("error", function () {
        finish();
        bar.hidden = true;
        status.textContent = "";
        $("versions-error").textContent = messageOf(0, null);
      });
      xhr.send(chosen);
    });

    versionsDialog.addEventListener("close", function () {
      versionsOf = null;
    });

    // --- uploads: one request per file, each with its own bar and Cancel -------------------------

    const MAX_PARALLEL = 3;
    const uploads = [];
    let batch = 0;
    const uploadList = $("upload-list");
    const PENDING = new Set(["queued", "uploading", "saving"]);

    function pending() {
      return uploads.filter((u) => PENDING.has(u.state));
    }

    function addFiles(files) {
      if (!files.length) return;
      if (!pending().length) {
        batch += 1;
        // a new batch: forget finished successes (failures stay until "Clear finished")
        for (const u of uploads.filter((u) => u.state === "done")) u.li.remove();
        uploads.splice(0, uploads.length, ...uploads.filter((u) => u.state !== "done"));
      }
      for (const file of files) {
        const u = { file, batch, folder: state.folderId, state: "queued", loaded: 0, xhr: null, max: Math.max(file.size, 1) };
        u.bar = el("progress", { max: u.max, value: 0, "aria-label": `Upload of ${quoted(file.name)}` });
        u.status = el("span", { class: "upload-status", text: "Waiting…" });
        u.cancel = el("button", { type: "button", class: "small", "aria-label": `Cancel upload of ${quoted(file.name)}`, text: "Cancel" });
        u.cancel.addEventListener("click", () => cancel(u));
        u.li = el("li", { class: "upload", "data-testid": "upload-item", "data-state": "queued" }, [
          el("span", { class: "upload-name", text: file.name }),
          el("span", { class: "upload-size muted", text: formatBytes(file.size) }),
          u.bar,
          u.status,
          u.cancel,
        ]);
        uploads.push(u);
        uploadList.append(u.li);
      }
      $("uploads").hidden = false;
      pump();
      updateOverall();
    }

    function setState(u, next, text) {
      u.state = next;
      u.li.dataset.state = next;
      u.li.classList.toggle("failed", next === "error");
      if (text !== undefined) u.status.textContent = text;
      if (!PENDING.has(next)) {
        u.cancel.remove();
        u.xhr = null;
      }
    }

    function pump() {
      while (uploads.filter((u) => u.state === "uploading" || u.state === "saving").length < MAX_PARALLEL) {
        const next = uploads.find((u) => u.state === "queued");
        if (!next) break;
        start(next);
      }
      updateOverall();
    }

    function start(u) {
      const xhr = new XMLHttpRequest();
      u.xhr = xhr;
      setState(u, "uploading", "Uploading…");
      xhr.open("POST", `${API}files/`);
      xhr.setRequestHeader("X-CSRFToken", CSRF);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable || !e.total) return;
        u.loaded = Math.min(u.max, (e.loaded / e.total) * u.max);
        u.bar.value = u.loaded;
        updateOverall();
      });
      xhr.upload.addEventListener("load", function () {
        if (u.state !== "uploading") return;
        u.loaded = u.max;
        u.bar.value = u.max;
        setState(u, "saving", "Saving…");
        updateOverall();
      });
      xhr.addEventListener("load", function () {
        const body = parseJson(xhr.responseText);
        const result = Array.isArray(body) ? body[0] : body && Array.isArray(body.results) ? body.results[0] : null;
        if (xhr.status === 201 && result && result.ok) {
          u.loaded = u.max;
          u.bar.value = u.max;
          const name = result.file ? result.file.name : u.file.name;
          let text = "Uploaded";
          if (result.created === false) text = `Saved as version ${result.file ? result.file.version : "new"} of ${quoted(name)}`;
          else if (name !== u.file.name.normalize("NFC").trim()) text = `Uploaded as ${quoted(name)}`;
          setState(u, "done", text);
          refreshSoon();
        } else {
          fail(u, result && result.detail ? result.detail : messageOf(xhr.status, body));
        }
        pump();
      });
      xhr.addEventListener("error", function () {
        fail(u, "Network error: the upload did not finish; nothing was stored.");
        pump();
      });
      xhr.addEventListener("abort", function () {
        setState(u, "cancelled", "Cancelled");
        u.bar.value = 0;
        pump();
      });
      const form = new FormData();
      if (u.folder) form.append("folder", u.folder);
      form.append("file", u.file, u.file.name);
      xhr.send(form);
    }

    function fail(u, text) {
      setState(u, "error", text);
      u.status.setAttribute("role", "alert");
    }

    function cancel(u) {
      if (u.state === "queued") {
        setState(u, "cancelled", "Cancelled");
        updateOverall();
      } else if (u.xhr) {
        u.xhr.abort();
      }
    }

    function updateOverall() {
      const current = uploads.filter((u) => u.batch === batch && u.state !== "cancelled");
      const finished = (u) => u.state === "done" || u.state === "error";
      const total = current.reduce((sum, u) => sum + u.max, 0);
      const loaded = current.reduce((sum, u) => sum + (finished(u) ? u.max : u.loaded), 0);
      const overall = $("upload-overall");
      overall.max = Math.max(total, 1);
      overall.value = Math.min(loaded, overall.max);
      const done = current.filter((u) => u.state === "done").length;
      const failed = current.filter((u) => u.state === "error").length;
      const waiting = pending().length;
      let text = `${done} of ${current.length} uploaded`;
      if (failed) text += `, ${failed} failed`;
      if (waiting) text += ` · ${formatBytes(current.reduce((s, u) => s + (finished(u) ? u.file.size : (u.loaded / u.max) * u.file.size), 0))} of ${formatBytes(current.reduce((s, u) => s + u.file.size, 0))}`;
      $("upload-overall-text").textContent = text;
      $("uploads").dataset.state = waiting ? "busy" : "idle";
      $("clear-uploads").hidden = waiting === uploads.length;
    }

    $("clear-uploads").addEventListener("click", function () {
      for (const u of uploads.filter((u) => !PENDING.has(u.state))) u.li.remove();
      uploads.splice(0, uploads.length, ...pending());
      if (!uploads.length) $("uploads").hidden = true;
      updateOverall();
    });

    const picker = $("upload-input");
    $("choose-files").addEventListener("click", () => picker.click());
    picker.addEventListener("change", function () {
      addFiles(Array.from(picker.files || []));
      picker.value = "";
    });

    // Drag and drop anywhere on the page; only files (folders are skipped with a message).
    const dropZone = $("drop-zone");
    let dragDepth = 0;
    const hasFiles = (event) => event.dataTransfer && Array.from(event.dataTransfer.types || []).includes("Files");
    document.addEventListener("dragenter", function (event) {
      if (!hasFiles(event)) return;
      dragDepth += 1;
      dropZone.classList.add("dragging");
    });
    document.addEventListener("dragleave", function (event) {
      if (!hasFiles(event)) return;
      dragDepth = Math.max(0, dragDepth - 1);
      if (!dragDepth) dropZone.classList.remove("dragging");
    });
    document.addEventListener("dragover", function (event) {
      if (!hasFiles(event)) return;
      event.preventDefault(); // else the browser opens the file instead of dropping it here
      event.dataTransfer.dropEffect = "copy";
    });
    document.addEventListener("drop", function (event) {
      if (!hasFiles(event)) return; // text dropped into an input stays the browser's business
      event.preventDefault();
      dragDepth = 0;
      dropZone.classList.remove("dragging");
      const files = [];
      let skipped = 0;
      const items = Array.from(event.dataTransfer.items || []);
      if (items.length) {
        for (const item of items) {
          if (item.kind !== "file") continue;
          const entry = item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
          if (entry && entry.isDirectory) {
            skipped += 1;
            continue;
          }
          const file = item.getAsFile();
          if (file) files.push(file);
        }
      } else {
        files.push(...Array.from(event.dataTransfer.files || []));
      }
      if (skipped) say(`${skipped === 1 ? "A folder was" : `${skipped} folders were`} skipped: drop the files inside instead.`, "error");
      addFiles(files);
    });

    window.addEventListener("beforeunload", function (event) {
      if (pending().length) {
        event.preventDefault();
        event.returnValue = "";
      }
    });

    // --- the preview pane: images, PDFs, text and code, audio and video -----------------------------

    const previewDialog = $("preview-dialog");
    const preview = { file: null, abort: null, generation: 0 };
    const TEXT_CAP = 1024 * 1024; // the first MiB of a text file is shown
    const INLINE_IMAGE = /^image\/(png|jpeg|gif|webp|avif|bmp)$/;
    const TEXT_TYPES = /^(text\/.+|application\/(json|xml|javascript|x-javascript|ecmascript|x-sh|x-shellscript|sql|toml|yaml|x-yaml|x-python|x-httpd-php|x-tex|x-latex|ld\+json|manifest\+json|xhtml\+xml|rss\+xml|atom\+xml|x-ndjson|graphql|x-ruby|x-perl))$/;
    const TEXT_EXTENSIONS = new Set(
      ("txt md markdown rst csv tsv log json jsonl ndjson xml yaml yml toml ini cfg conf env properties py pyi js mjs cjs ts tsx jsx " +
        "css scss less html htm svg sh bash zsh fish ps1 bat c h cc cpp hpp cs java kt kts go rs rb php pl lua r sql swift m mm " +
        "scala clj ex exs erl hs ml elm dart vue svelte tex bib diff patch gitignore dockerfile makefile gradle lock srt vtt").split(" "),
    );

    function isTextFile(file) {
      if (TEXT_TYPES.test(file.mime_type || "")) return true;
      const name = String(file.name || "").toLowerCase();
      const ext = name.includes(".") ? name.slice(name.lastIndexOf(".") + 1) : name;
      return TEXT_EXTENSIONS.has(ext);
    }

    function previewKind(file) {
      const mime = file.mime_type || "";
      if (INLINE_IMAGE.test(mime)) return "image";
      if (mime === "application/pdf") return "pdf";
      if (mime.startsWith("audio/")) return "audio";
      if (mime.startsWith("video/")) return "video";
      if (isTextFile(file)) return "text";
      if (file.preview_url) return "thumbnail"; // e.g. TIFF or HEIC: the server's thumbnail is all a browser can show
      return "none";
    }

    function previewNote(text, extra) {
      return el("div", { class: "preview-note" }, [el("p", { text }), extra || null]);
    }

    function downloadLink(file, label, extraClass) {
      return el("a", { href: localPath(file.content_url), class: `button${extraClass ? " " + extraClass : ""}`, download: true, text: label || "Download" });
    }

    async function showText(file, body, generation) {
      body.replaceChildren(el("p", { class: "muted", text: "Loading the text…" }));
      const controller = new AbortController();
      preview.abort = controller;
      let bytes;
      let total = file.size;
      try {
        const response = await fetch(localPath(file.content_url), {
          headers: { Range: `bytes=0-${TEXT_CAP - 1}` },
          credentials: "same-origin",
          cache: "no-store",
          signal: controller.signal,
        });
        if (!response.ok) {
          let data = null;
          try {
            data = await response.json();
          } catch (err) {
            data = null;
          }
          throw new ApiError(response.status, data);
        }
        const range = /\/(\d+)$/.exec(response.headers.get("Content-Range") || "");
        if (range) total = Number(range[1]);
        bytes = new Uint8Array(await response.arrayBuffer()).subarray(0, TEXT_CAP);
      } catch (err) {
        if (err.name === "AbortError" || generation !== preview.generation) return;
        body.replaceChildren(previewNote(err instanceof ApiError ? `Could not load the text: ${err.message}` : "Could not load the text.", downloadLink(file)));
        return;
      }
      if (generation !== preview.generation) return;
      if (bytes.subarray(0, 8192).includes(0)) {
        body.replaceChildren(previewNote("This file does not look like text; download it to open it.", downloadLink(file)));
        return;
      }
      // fatal: false turns invalid UTF-8 (or a character cut at the 1 MiB mark) into U+FFFD, never an error
      const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
      const pre = el("pre", { class: "preview-text", tabindex: "0", "aria-label": `Text of ${quoted(file.name)}`, "data-testid": "preview-text" });
      pre.textContent = text; // shown, never parsed or run
      const parts = [pre];
      if (total > bytes.length) parts.unshift(el("p", { class: "muted preview-cut", text: `Showing the first ${formatBytes(bytes.length)} of ${formatBytes(total)}.` }));
      body.replaceChildren(...parts);
    }

    function renderPreviewBody(file) {
      const body = $("preview-body");
      const generation = ++preview.generation;
      if (preview.abort) preview.abort.abort();
      preview.abort = null;
      const kind = previewKind(file);
      body.dataset.kind = kind;
      const src = inlineUrl(file.content_url);
      if (kind === "image") {
        const img = el("img", { src, alt: file.name, class: "preview-image", "data-testid": "preview-image" });
        img.addEventListener("error", function () {
          if (generation !== preview.generation) return;
          const fallback = file.preview_url ? el("img", { src: localPath(file.preview_url), alt: file.name, class: "preview-image" }) : null;
          body.replaceChildren(previewNote("The image could not be shown.", downloadLink(file)), ...(fallback ? [fallback] : []));
        });
        body.replaceChildren(img);
      } else if (kind === "pdf") {
        body.replaceChildren(
          el("p", { class: "preview-open" }, [
            el("a", { href: src, target: "_blank", rel: "noopener", class: "button small", "data-testid": "open-pdf", text: "Open PDF in a new tab" }),
            " ",
            el("span", { class: "muted", text: "(also if your browser does not show it below)" }),
          ]),
          el("iframe", { src, title: `PDF: ${file.name}`, class: "preview-frame", "data-testid": "preview-pdf" }),
        );
      } else if (kind === "audio" || kind === "video") {
        const media = el(kind, { src, controls: true, preload: "metadata", class: `preview-${kind}`, "aria-label": file.name, "data-testid": `preview-${kind}` });
        if (kind === "video") media.setAttribute("playsinline", "");
        media.addEventListener("error", function () {
          if (generation !== preview.generation) return;
          body.replaceChildren(previewNote(`This browser cannot play this ${kind} format.`, downloadLink(file)));
        });
        body.replaceChildren(media);
      } else if (kind === "text") {
        showText(file, body, generation);
      } else if (kind === "thumbnail") {
        body.replaceChildren(
          el("img", { src: localPath(file.preview_url), alt: file.name, class: "preview-image", "data-testid": "preview-image" }),
          el("p", { class: "muted", text: "A reduced preview: download the file for the original." }),
        );
      } else {
        body.replaceChildren(previewNote("There is no preview for this type of file.", downloadLink(file, "Download", "primary")));
      }
    }

    function fileOrder() {
      return sortedItems().files;
    }

    function updatePreviewNav() {
      const files = fileOrder();
      const index = preview.file ? files.findIndex((f) => f.id === preview.file.id) : -1;
      $("preview-prev").disabled = index <= 0;
      $("preview-next").disabled = index < 0 || index >= files.length - 1;
      $("preview-position").textContent = index >= 0 && files.length > 1 ? `${index + 1} of ${files.length}` : "";
    }

    function renderPreviewInfo(file) {
      $("preview-h").textContent = file.name;
      const meta = [file.mime_type || "unknown type", formatBytes(file.size)];
      if (file.version > 1) meta.push(`version ${file.version}`);
      $("preview-meta").replaceChildren(meta.join(" · "), " · ", timeNode(file.modified_at));
      const chips = tagChips(file.tags, `Tags of ${quoted(file.name)}`);
      $("preview-tags").replaceChildren(chips || el("span", { class: "muted", text: "No tags." }));
      $("preview-download").href = localPath(file.content_url);
      $("preview-download").setAttribute("aria-label", `Download ${quoted(file.name)}`);
      $("preview-tags-form").hidden = true;
      $("preview-tags-edit").hidden = false;
      $("preview-tags-error").textContent = "";
    }

    function setPreviewParam(id) {
      const url = new URL(window.location.href);
      if (id) url.searchParams.set("preview", id);
      else url.searchParams.delete("preview");
      history.replaceState(history.state, "", url.pathname + url.search + url.hash);
    }

    async function openPreview(id) {
      let file = state.files.find((f) => f.id === id);
      if (!file) {
        try {
          file = await api("GET", `files/${id}/`);
        } catch (err) {
          setPreviewParam(null);
          if (err.status === 404) say("That file does not exist or is in the trash.", "error");
          else sayError(err, "Could not open the preview.");
          return;
        }
      }
      showPreview(file);
    }

    function showPreview(file) {
      const same = preview.file && preview.file.id === file.id && previewDialog.open;
      preview.file = file;
      renderPreviewInfo(file);
      if (!same) renderPreviewBody(file);
      updatePreviewNav();
      setPreviewParam(file.id);
      if (!previewDialog.open) previewDialog.showModal();
      $("preview-close").focus();
    }

    function stepPreview(step) {
      const files = fileOrder();
      const index = preview.file ? files.findIndex((f) => f.id === preview.file.id) : -1;
      const next = files[index + step];
      if (index >= 0 && next) showPreview(next);
    }

    $("preview-prev").addEventListener("click", () => stepPreview(-1));
    $("preview-next").addEventListener("click", () => stepPreview(1));
    previewDialog.addEventListener("keydown", function (event) {
      if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
      if (event.target.closest("input, textarea, select, audio, video, iframe, pre")) return;
      event.preventDefault();
      stepPreview(event.key === "ArrowLeft" ? -1 : 1);
    });
    // A click on the backdrop (outside the dialog's box) closes it.
    previewDialog.addEventListener("click", function (event) {
      if (event.target === previewDialog) previewDialog.close();
    });
    previewDialog.addEventListener("close", function () {
      preview.generation += 1;
      if (preview.abort) preview.abort.abort();
      preview.abort = null;
      $("preview-body").replaceChildren(); // stops audio and video, frees the image
      const opener = preview.file && document.querySelector(`[data-id="${CSS.escape(preview.file.id)}"] a.item-name`);
      preview.file = null;
      setPreviewParam(null);
      if (opener) opener.focus();
    });

    // Tags of the previewed file: comma-separated, saved with PATCH files/{id}/.
    $("preview-tags-edit").addEventListener("click", function () {
      if (!preview.file) return;
      $("preview-tags-input").value = (preview.file.tags || []).join(", ");
      $("preview-tags-form").hidden = false;
      $("preview-tags-edit").hidden = true;
      $("preview-tags-input").focus();
    });
    $("preview-tags-cancel").addEventListener("click", function () {
      $("preview-tags-form").hidden = true;
      $("preview-tags-edit").hidden = false;
      $("preview-tags-edit").focus();
    });
    $("preview-tags-form").addEventListener("submit", async function (event) {
      event.preventDefault();
      const file = preview.file;
      if (!file) return;
      const submit = event.target.querySelector("button[type=submit]");
      submit.disabled = true;
      $("preview-tags-error").textContent = "";
      try {
        const saved = await api("PATCH", `files/${file.id}/`, { tags: parseTags($("preview-tags-input").value) });
        const index = state.files.findIndex((f) => f.id === saved.id);
        if (index >= 0) state.files[index] = saved;
        if (preview.file && preview.file.id === saved.id) {
          preview.file = saved;
          renderPreviewInfo(saved);
          $("preview-tags-edit").focus();
        }
        renderListing();
      } catch (err) {
        $("preview-tags-error").textContent = err instanceof ApiError ? err.message : "Could not save the tags.";
      } finally {
        submit.disabled = false;
      }
    });

    // --- start ---

    showView();
    renderPath();
    loadPath().catch(function (err) {
      if (err.status !== 404) sayError(err, "Could not load the folder path.");
    });
    const wanted = new URLSearchParams(window.location.search).get("preview");
    loadListing().then(function () {
      if (wanted) openPreview(wanted);
    });
  }

  // === the trash ===================================================================================

  function trashPage() {
    const tbody = $("trash-items");
    let entries = [];

    async function loadTrash() {
      try {
        const data = await api("GET", "trash/");
        entries = data.results;
        render();
      } catch (err) {
        $("items-loading").hidden = true;
        sayError(err, "Could not load the trash.");
      }
    }

    function render() {
      tbody.replaceChildren(
        ...entries.map((entry) =>
          el("tr", { "data-testid": "trash-row", "data-id": entry.id, "data-kind": entry.kind }, [
            el("td", { class: "name" }, [
              el("span", { class: `icon ${entry.kind}`, "aria-hidden": "true" }),
              el("span", { class: "item-name", text: entry.name }),
              el("span", { class: "sr-only", text: ` (${entry.kind})` }),
            ]),
            el("td", { class: "size num", text: entry.kind === "folder" ? "—" : formatBytes(entry.size) }),
            el("td", { class: "modified" }, [timeNode(entry.trashed_at)]),
            el("td", { class: "actions" }, [
              el("div", { class: "action-row" }, [
                el("button", { type: "button", class: "small", "data-action": "restore", "aria-label": `Restore ${quoted(entry.name)}`, text: "Restore" }),
                el("button", {
                  type: "button",
                  class: "small danger-text",
                  "data-action": "purge",
                  "aria-label": `Delete ${quoted(entry.name)} forever`,
                  text: "Delete forever",
                }),
              ]),
            ]),
          ]),
        ),
      );
      $("items-loading").hidden = true;
      $("items-empty").hidden = entries.length > 0;
      $("trash-table").hidden = entries.length === 0;
      $("empty-trash").disabled = entries.length === 0;
    }

    // POST trash/{id}/restore restores a note but then answers 404 "No such file." (it serializes the
    // note as a file): when it does, the note itself says whether it is back.
    async function restoreNote(entry) {
      try {
        await api("POST", `trash/${entry.id}/restore`);
      } catch (err) {
        if (err.status !== 404) throw err;
        try {
          await api("GET", `notes/${entry.id}/`);
        } catch (again) {
          throw err;
        }
      }
    }

    tbody.addEventListener("click", async function (event) {
      const button = event.target.closest("button[data-action]");
      if (!button) return;
      const entry = entries.find((e) => e.id === button.closest("tr").dataset.id);
      if (!entry) return;
      if (button.dataset.action === "restore") {
        button.disabled = true;
        try {
          if (entry.kind === "note") {
            await restoreNote(entry);
            say(`Restored ${quoted(entry.name)}.`, "success", el("a", { href: noteHref(entry.id), text: "Open the note" }));
            loadTrash();
            return;
          }
          const restored = await api("POST", `trash/${entry.id}/restore`);
          const item = restored.kind === "folder" ? restored.folder : restored.file;
          const home = restored.kind === "folder" ? item.parent : item.folder;
          const renamed = item.name !== entry.name ? ` as ${quoted(item.name)}` : "";
          say(`Restored ${quoted(entry.name)}${renamed}.`, "success", el("a", { href: home ? `${FILES_URL}${home}/` : FILES_URL, text: "Open its folder" }));
        } catch (err) {
          sayError(err, `Could not restore ${quoted(entry.name)}.`);
        }
        loadTrash();
      } else if (button.dataset.action === "purge") {
        const what = entry.kind === "folder" ? `the folder ${quoted(entry.name)} and everything in it` : quoted(entry.name);
        if (!window.confirm(`Delete ${what} forever? This cannot be undone.`)) return;
        button.disabled = true;
        try {
          const result = await api("DELETE", `trash/${entry.id}/`);
          say(`Deleted ${quoted(entry.name)} forever; ${formatBytes(result.freed)} freed.`, "success");
        } catch (err) {
          sayError(err, `Could not delete ${quoted(entry.name)}.`);
        }
        loadTrash();
        loadQuota();
      }
    });

    $("empty-trash").addEventListener("click", async function () {
      const count = entries.length;
      if (!window.confirm(`Delete all ${count} item${count === 1 ? "" : "s"} in the trash forever? This cannot be undone.`)) return;
      const button = $("empty-trash");
      button.disabled = true;
      try {
        const result = await api("DELETE", "trash/");
        say(`Emptied the trash; ${formatBytes(result.freed)} freed.`, "success");
      } catch (err) {
        sayError(err, "Could not empty the trash.");
      }
      loadTrash();
      loadQuota();
    });

    loadTrash();
  }

  // === search (files, folders, notes) with filters and tags ==========================================

  // The query's words marked with <mark> in `text` (text nodes only): shared with the header search (search.js).
  function highlighted(text, query) {
    return window.LockerText.highlighted(text, String(query || ""));
  }

  function searchPage() {
    const form = $("search-form");
    const qInput = $("search-q");
    const list = $("results");
    const summary = $("results-summary");
    const KINDS = ["file", "folder", "note"];
    const KIND_LABEL = { file: "File", folder: "Folder", note: "Note" };
    const MIB = 1024 * 1024;
    const state = { generation: 0, controller: null, next: null, query: null, tags: [] };

    // --- the form <-> the URL (/search/?q=...&type=file&type=note&mime_group=image&after=...&tag=...) ---

    function readForm() {
      const checked = [...form.querySelectorAll("input[name=type]:checked")].map((box) => box.value);
      const number = (id) => {
        const value = $(id).value.trim();
        return value !== "" && isFinite(Number(value)) && Number(value) >= 0 ? value : "";
      };
      return {
        q: qInput.value.trim(),
        types: checked.length === KINDS.length ? [] : checked,
        noType: checked.length === 0,
        mime_group: $("f-mime").value,
        after: $("f-after").value,
        before: $("f-before").value,
        min_mb: number("f-min"),
        max_mb: number("f-max"),
        tag: $("f-tag").value.trim(),
      };
    }

    function toSearch(p) {
      const params = new URLSearchParams();
      if (p.q) params.set("q", p.q);
      for (const type of p.types) params.append("type", type);
      for (const key of ["mime_group", "after", "before", "min_mb", "max_mb", "tag"]) if (p[key]) params.set(key, p[key]);
      const text = params.toString();
      return text ? `?${text}` : "";
    }

    function fillForm(params) {
      qInput.value = params.get("q") || "";
      const types = params.getAll("type").flatMap((t) => t.split(",")).filter((t) => KINDS.includes(t));
      for (const box of form.querySelectorAll("input[name=type]")) box.checked = !types.length || types.includes(box.value);
      $("f-mime").value = ["image", "audio", "video", "pdf", "text", "other"].includes(params.get("mime_group")) ? params.get("mime_group") : "";
      const day = (value) => (/^\d{4}-\d{2}-\d{2}$/.test(value || "") ? value : "");
      $("f-after").value = day(params.get("after"));
      $("f-before").value = day(params.get("before"));
      $("f-min").value = params.get("min_mb") || "";
      $("f-max").value = params.get("max_mb") || "";
      $("f-tag").value = params.get("tag") || "";
    }

    // Local days to UTC instants: "after" from its midnight, "before" up to the end of that day.
    function startOfDay(day) {
      const [y, m, d] = day.split("-").map(Number);
      return new Date(y, m - 1, d);
    }
    function isoOf(date) {
      return date.toISOString().replace(/\.\d{3}Z$/, "Z");
    }
    function dateRange(p) {
      const after = p.after ? startOfDay(p.after) : null;
      let before = null;
      if (p.before) {
        before = startOfDay(p.before);
        before.setDate(before.getDate() + 1);
      }
      return { after, before };
    }
    function inRange(iso, range) {
      const time = Date.parse(iso);
      if (range.after && !(time >= range.after.getTime())) return false;
      if (range.before && !(time < range.before.getTime())) return false;
      return true;
    }

    // --- the three sources ---

    function fromSearchResult(r) {
      return { kind: r.kind, id: r.id, name: r.name, parent: r.parent, size: r.size, mime_type: r.mime_type, modified_at: r.modified_at, snippet: r.snippet };
    }

    function fromFile(f) {
      return { kind: "file", id: f.id, name: f.name, parent: f.folder, size: f.size, mime_type: f.mime_type, modified_at: f.modified_at, tags: f.tags, preview_url: f.preview_url };
    }

    async function filesMatching(p, signal) {
      const params = new URLSearchParams({ all: "1", ordering: "-modified", page_size: "100" });
      if (p.q) params.set("q", p.q);
      if (p.tag) params.set("tag", p.tag);
      if (p.mime_group) params.set("mime_group", p.mime_group);
      if (p.min_mb) params.set("min_size", String(Math.ceil(Number(p.min_mb) * MIB)));
      if (p.max_mb) params.set("max_size", String(Math.floor(Number(p.max_mb) * MIB)));
      const range = dateRange(p);
      if (range.after) params.set("modified_after", isoOf(range.after));
      if (range.before) params.set("modified_before", isoOf(range.before));
      const page = await api("GET", `files/?${params}`, undefined, { signal });
      const notes = page.count > page.results.length ? [`Showing the ${page.results.length} most recently changed of ${page.count} files: narrow the filters to see the others.`] : [];
      return { items: page.results.map(fromFile), notes };
    }

    async function notesMatching(p, signal) {
      const [all, found] = await Promise.all([
        fetchAll("notes/?all=1&page_size=200", { signal }),
        p.q ? api("GET", `search?q=${encodeURIComponent(p.q)}&kind=note&page_size=200`, undefined, { signal }) : null,
      ]);
      const snippets = found ? new Map(found.results.map((r) => [r.id, r.snippet])) : null;
      const tag = p.tag ? foldTag(p.tag) : null;
      const range = dateRange(p);
      const items = all
        .filter((n) => (!snippets || snippets.has(n.id)) && (!tag || (n.tags || []).some((t) => foldTag(t) === tag)) && inRange(n.modified_at, range))
        .map((n) => ({ kind: "note", id: n.id, name: n.title || "Untitled note", parent: n.folder, modified_at: n.modified_at, tags: n.tags, snippet: (snippets && snippets.get(n.id)) || n.excerpt }));
      return { items, notes: [] };
    }

    async function foldersMatching(p, signal) {
      if (!p.q && !p.tag) return { items: [], notes: ["Folders are found by their name or tags: type words or choose a tag."] };
      const words = [p.q, p.tag].filter(Boolean).join(" ");
      const page = await api("GET", `search?q=${encodeURIComponent(words)}&kind=folder&page_size=100`, undefined, { signal });
      const range = dateRange(p);
      let folders = page.results.filter((r) => inRange(r.modified_at, range)).map(fromSearchResult);
      if (p.tag) {
        // the words may match a name: keep the folders that really carry the tag
        const tag = foldTag(p.tag);
        const details = await Promise.all(folders.slice(0, 50).map((f) => api("GET", `folders/${f.id}/`, undefined, { signal }).catch(() => null)));
        folders = details.filter((d) => d && (d.tags || []).some((t) => foldTag(t) === tag)).map((d) => ({ kind: "folder", id: d.id, name: d.name, parent: d.parent, modified_at: d.modified_at, tags: d.tags }));
      }
      return { items: folders, notes: [] };
    }

    // --- results ---

    function resultHref(item) {
      if (item.kind === "folder") return folderHref(item.id);
      if (item.kind === "note") return noteHref(item.id);
      return filePreviewHref(item.id, item.parent);
    }

    function resultNode(item, query) {
      const kind = KIND_LABEL[item.kind] ? item.kind : "file";
      const visual = item.preview_url
        ? el("img", { class: "result-thumb", src: localPath(item.preview_url), alt: "", loading: "lazy" })
        : el("span", { class: `result-icon icon ${kind === "file" ? fileIconClass(item) : kind}`, "aria-hidden": "true" });
      if (item.preview_url) visual.addEventListener("error", () => visual.replaceWith(el("span", { class: `result-icon icon ${fileIconClass(item)}`, "aria-hidden": "true" })), { once: true });
      const meta = [];
      if (kind === "file") meta.push(`${item.mime_type || "file"} · ${formatBytes(item.size)} · `);
      else if (kind === "folder") meta.push("Folder · ");
      meta.push("changed ", timeNode(item.modified_at));
      meta.push(" · in ", el("a", { href: folderHref(item.parent), text: item.parent ? "its folder" : "Files" }));
      return el("li", { class: "result", "data-testid": "search-result", "data-kind": kind, "data-id": item.id }, [
        visual,
        el("div", { class: "result-main" }, [
          el("p", { class: "result-line" }, [
            el("span", { class: "result-kind", text: KIND_LABEL[kind] }),
            el("a", { class: "result-name", href: resultHref(item) }, [highlighted(item.name, query)]),
          ]),
          item.snippet ? el("p", { class: "result-snippet" }, [highlighted(item.snippet, query)]) : null,
          el("p", { class: "result-meta" }, meta),
          tagChips(item.tags, `Tags of ${quoted(item.name)}`),
        ]),
      ]);
    }

    function showResults(items, p, count, notes) {
      list.replaceChildren(...items.map((item) => resultNode(item, p.q)));
      const total = typeof count === "number" ? count : items.length;
      const what = [p.q ? `for ${quoted(p.q)}` : null, p.tag ? `tagged ${quoted(p.tag)}` : null].filter(Boolean).join(" ");
      summary.textContent = total ? `${total} result${total === 1 ? "" : "s"}${what ? " " + what : ""}.` : `Nothing found${what ? " " + what : ""}.`;
      $("results-notes").replaceChildren(...(notes || []).map((text) => el("li", { text })));
      $("results-empty").hidden = items.length > 0;
      $("results-more").hidden = !state.next;
    }

    function prompt() {
      list.replaceChildren();
      summary.textContent = "Type words to search for, or choose a tag.";
      $("results-notes").replaceChildren();
      $("results-empty").hidden = true;
      $("results-more").hidden = true;
    }

    async function run() {
      const p = readForm();
      const generation = ++state.generation;
      if (state.controller) state.controller.abort();
      const controller = (state.controller = new AbortController());
      const signal = controller.signal;
      const url = `${window.location.pathname}${toSearch(p)}`;
      if (url !== window.location.pathname + window.location.search) history.replaceState(history.state, "", url);
      document.title = p.q ? `${p.q} · Search · Locker` : "Search · Locker";
      markTags(p.tag);
      const fileOnly = Boolean(p.mime_group || p.min_mb || p.max_mb);
      let kinds = p.noType ? [] : p.types.length ? p.types : KINDS;
      if (fileOnly) kinds = kinds.filter((k) => k === "file");
      $("file-only-hint").classList.toggle("active", fileOnly);
      state.next = null;
      if (!p.q && !p.tag && !fileOnly && !p.after && !p.before) {
        prompt();
        return;
      }
      if (!kinds.length) {
        list.replaceChildren();
        showResults([], p, 0, [p.noType ? "Choose at least one type." : "Kind of file and size find files only: tick “Files”."]);
        return;
      }
      summary.textContent = "Searching…";
      $("results").setAttribute("aria-busy", "true");
      try {
        if (p.q && !p.tag && !fileOnly && !p.after && !p.before) {
          // words only: the server's ranking (best match first) across the chosen kinds
          const page = await api("GET", `search?q=${encodeURIComponent(p.q)}${kinds.length < KINDS.length ? `&kind=${kinds.join(",")}` : ""}&page_size=50`, undefined, { signal });
          if (generation !== state.generation) return;
          state.next = page.next ? localPath(page.next) : null;
          state.query = p;
          showResults(page.results.map(fromSearchResult), p, page.count, []);
        } else {
          const sources = { file: filesMatching, note: notesMatching, folder: foldersMatching };
          const parts = await Promise.all(kinds.map((k) => sources[k](p, signal)));
          if (generation !== state.generation) return;
          const items = parts.flatMap((part) => part.items).sort((a, b) => Date.parse(b.modified_at) - Date.parse(a.modified_at));
          showResults(items, p, items.length, parts.flatMap((part) => part.notes));
        }
      } catch (err) {
        if (err.name === "AbortError" || generation !== state.generation) return;
        list.replaceChildren();
        summary.textContent = "";
        $("results-empty").hidden = true;
        sayError(err, "Could not search.");
      } finally {
        if (generation === state.generation) $("results").removeAttribute("aria-busy");
      }
    }

    $("results-more").addEventListener("click", async function () {
      if (!state.next) return;
      const button = $("results-more");
      const generation = state.generation;
      button.disabled = true;
      try {
        const page = await api("GET", state.next);
        if (generation !== state.generation) return;
        state.next = page.next ? localPath(page.next) : null;
        const known = new Set([...list.querySelectorAll("[data-id]")].map((n) => n.dataset.id));
        list.append(...page.results.filter((r) => !known.has(r.id)).map((r) => resultNode(fromSearchResult(r), state.query && state.query.q)));
        button.hidden = !state.next;
      } catch (err) {
        sayError(err, "Could not load more results.");
      } finally {
        button.disabled = false;
      }
    });

    // --- tags with counts: a chip filters by its tag (a second click removes the filter) ---

    function tagLink(tag, count) {
      const params = new URLSearchParams(window.location.search);
      params.set("tag", tag);
      return el("a", { class: "chip", href: `${window.location.pathname}?${params}`, "data-tag": tag, "data-testid": "tag-filter" }, [
        tag,
        el("span", { class: "chip-count" }, [el("span", { class: "sr-only", text: ": " }), String(count), el("span", { class: "sr-only", text: count === 1 ? " item" : " items" })]),
      ]);
    }

    function markTags(active) {
      const folded = active ? foldTag(active) : null;
      for (const chip of $("tag-cloud").querySelectorAll("a[data-tag]")) {
        const on = folded !== null && foldTag(chip.dataset.tag) === folded;
        chip.classList.toggle("active", on);
        if (on) chip.setAttribute("aria-current", "true");
        else chip.removeAttribute("aria-current");
      }
    }

    async function loadTags() {
      try {
        const data = await api("GET", "tags/");
        state.tags = data.results || [];
        $("tag-cloud").replaceChildren(...state.tags.map((t) => el("li", {}, [tagLink(t.tag, t.count)])));
        $("tags-empty").hidden = state.tags.length > 0;
        $("tag-options").replaceChildren(...state.tags.map((t) => el("option", { value: t.tag })));
        markTags(readForm().tag);
      } catch (err) {
        $("tags-empty").hidden = false;
        $("tags-empty").textContent = err instanceof ApiError ? `Could not load the tags: ${err.message}` : "Could not load the tags.";
      }
    }

    $("tag-cloud").addEventListener("click", function (event) {
      const chip = event.target.closest("a[data-tag]");
      if (!chip || event.ctrlKey || event.metaKey || event.shiftKey || event.button) return;
      event.preventDefault();
      const same = foldTag($("f-tag").value) === foldTag(chip.dataset.tag);
      $("f-tag").value = same ? "" : chip.dataset.tag;
      run();
    });

    // --- live: words as you type (debounced), filters on change ---

    let typing = null;
    qInput.addEventListener("input", function () {
      clearTimeout(typing);
      typing = setTimeout(run, 300);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearTimeout(typing);
      run();
    });
    form.addEventListener("change", function (event) {
      if (event.target === qInput) return;
      clearTimeout(typing);
      run();
    });
    $("clear-filters").addEventListener("click", function () {
      fillForm(new URLSearchParams(qInput.value.trim() ? { q: qInput.value.trim() } : {}));
      run();
    });

    // Wide screens show the filters; phones fold them under their heading (open if any is set).
    const params = new URLSearchParams(window.location.search);
    fillForm(params);
    const filtered = ["type", "mime_group", "after", "before", "min_mb", "max_mb", "tag"].some((k) => params.get(k));
    $("filters").open = filtered || window.matchMedia("(min-width: 761px)").matches;
    loadTags();
    run();
    if (!qInput.value) qInput.focus();
  }

  // === the notes list ===========================================================================

  function notesPage() {
    const list = $("notes-list");
    let next = null;

    function noteItem(note) {
      return el("li", { class: "note-item", "data-testid": "note-item", "data-id": note.id }, [
        el("span", { class: "icon note", "aria-hidden": "true" }),
        el("div", { class: "note-item-main" }, [
          el("a", { class: "note-item-title item-name", href: noteHref(note.id), text: note.title || "Untitled note" }),
          note.excerpt ? el("p", { class: "note-excerpt", text: note.excerpt }) : null,
          el("p", { class: "note-meta" }, ["Changed ", timeNode(note.modified_at), note.version > 1 ? ` · version ${note.version}` : ""]),
          tagChips(note.tags, `Tags of ${quoted(note.title || "Untitled note")}`),
        ]),
      ]);
    }

    async function load(path, append) {
      const button = $("load-more");
      button.disabled = true;
      try {
        const page = await api("GET", path);
        next = page.next ? localPath(page.next) : null;
        if (append) list.append(...page.results.map(noteItem));
        else list.replaceChildren(...page.results.map(noteItem));
        $("items-empty").hidden = list.children.length > 0;
        list.hidden = list.children.length === 0;
        $("notes-count").textContent = page.count ? `${page.count} note${page.count === 1 ? "" : "s"}` : "";
      } catch (err) {
        sayError(err, "Could not load the notes.");
      } finally {
        $("items-loading").hidden = true;
        button.disabled = false;
        $("more-row").hidden = !next;
      }
    }

    $("load-more").addEventListener("click", () => next && load(next, true));
    load("notes/?all=1&page_size=50", false);
  }

  // === the note editor: autosave with the version last seen, preview, versions ===================

  function notePage() {
    const AUTOSAVE_MS = 1000; // after a pause in typing (each saved change of text keeps a version)
    const RETRY_MS = 10000;
    const titleInput = $("note-title");
    const tagsInput = $("note-tags");
    const bodyInput = $("note-body");
    const stateLine = $("save-state");
    const note = {
      id: root.dataset.note || null,
      version: null,
      saved: { title: "", body: "", tags: "" }, // what the server has, as this page last sent or read it
      inFlight: false,
      again: false, // another save was asked for while one was in flight
      timer: null,
      conflict: false,
      loaded: !root.dataset.note,
    };

    function current() {
      return { title: titleInput.value, body: bodyInput.value, tags: parseTags(tagsInput.value).join("\n") };
    }

    function unsaved() {
      if (!note.loaded) return false;
      const now = current();
      return now.title !== note.saved.title || now.body !== note.saved.body || now.tags !== note.saved.tags;
    }

    function show(stateName, text) {
      stateLine.dataset.state = stateName;
      stateLine.textContent = text;
    }

    function showTags(tags) {
      $("note-tag-chips").replaceChildren(...(tagChips(tags, "Saved tags") ? [tagChips(tags, "Saved tags")] : []));
    }

    function showPreview(html) {
      // The server's sanitized rendering (no raw HTML, only http(s) and mailto links): safe as HTML.
      $("note-preview").innerHTML = html || "";
      $("preview-empty").hidden = Boolean(html && html.trim());
    }

    function setTitle() {
      const title = titleInput.value.trim() || "Untitled note";
      $("crumb-title").textContent = title;
      document.title = `${title} · Notes · Locker`;
    }

    function fill(data) {
      note.id = data.id;
      note.version = data.version;
      titleInput.value = data.title;
      bodyInput.value = data.body;
      tagsInput.value = (data.tags || []).join(", ");
      note.saved = current();
      note.loaded = true;
      showTags(data.tags);
      showPreview(data.html);
      setTitle();
      enableExisting();
    }

    function enableExisting() {
      $("versions-button").disabled = !note.id;
      $("delete-note").disabled = !note.id;
      $("note-version").textContent = note.version ? `Version ${note.version}` : "";
    }

    function schedule(delay) {
      clearTimeout(note.timer);
      note.timer = setTimeout(save, delay === undefined ? AUTOSAVE_MS : delay);
    }

    function edited() {
      setTitle();
      if (note.conflict || !note.loaded) return;
      if (unsaved()) {
        if (!note.inFlight) show("dirty", "Unsaved changes");
        schedule();
      } else if (!note.inFlight) {
        clearTimeout(note.timer);
        show("saved", note.id ? "Saved" : "New note: type to start");
      }
    }

    async function save() {
      clearTimeout(note.timer);
      if (note.conflict || !note.loaded) return;
      if (note.inFlight) {
        note.again = true;
        return;
      }
      if (!unsaved()) {
        show("saved", note.id ? "Saved" : "New note: type to start");
        return;
      }
      const sent = current();
      const body = { title: sent.title, body: sent.body, tags: parseTags(tagsInput.value) };
      note.inFlight = true;
      show("saving", "Saving…");
      try {
        let data;
        if (note.id) {
          data = await api("PATCH", `notes/${note.id}/`, { ...body, version: note.version });
        } else {
          data = await api("POST", "notes/", body);
          note.id = data.id;
          history.replaceState(history.state, "", noteHref(data.id)); // a reload now opens this note
          root.dataset.note = data.id;
        }
        note.version = data.version;
        note.saved = sent;
        showTags(data.tags);
        showPreview(data.html);
        enableExisting();
        if (unsaved()) {
          show("dirty", "Unsaved changes");
          schedule();
        } else {
          show("saved", "Saved");
        }
      } catch (err) {
        if (err.status === 412) {
          note.conflict = true;
          show("conflict", "Not saved: this note changed elsewhere");
          $("conflict").hidden = false;
          $("conflict-reload").focus();
        } else {
          const reason = err instanceof ApiError ? err.message : "something went wrong in this page.";
          show("error", `Could not save: ${reason}`);
          // network trouble and server hiccups retry by themselves; a refusal waits for the next edit
          if (err.status === 0 || err.status >= 500) schedule(RETRY_MS);
          if ([401, 403, 423].includes(err.status)) sayError(err, "Could not save.");
        }
      } finally {
        note.inFlight = false;
        if (note.again) {
          note.again = false;
          if (!note.conflict) schedule(0);
        }
      }
    }

    for (const input of [titleInput, tagsInput, bodyInput]) input.addEventListener("input", edited);
    $("note-form").addEventListener("submit", function (event) {
      event.preventDefault();
      save();
    });
    document.addEventListener("keydown", function (event) {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "s") {
        event.preventDefault(); // Ctrl+S saves now instead of saving the page
        save();
      }
    });

    // Leaving with text the server does not have yet: the browser asks first.
    window.addEventListener("beforeunload", function (event) {
      if (unsaved() || note.inFlight || note.conflict) {
        event.preventDefault();
        event.returnValue = "";
      }
    });

    // --- a change made elsewhere (412): reload theirs, or save mine over it ---

    async function fetchNote() {
      return api("GET", `notes/${note.id}/`);
    }

    $("conflict-reload").addEventListener("click", async function () {
      try {
        const data = await fetchNote();
        note.conflict = false;
        $("conflict").hidden = true;
        fill(data);
        show("saved", "Saved");
        say("Reloaded the saved note; your unsaved edits were discarded.", "success");
      } catch (err) {
        sayError(err, "Could not reload the note.");
      }
    });

    $("conflict-overwrite").addEventListener("click", async function () {
      try {
        const data = await fetchNote();
        note.version = data.version; // I have seen theirs: mine becomes the next version (theirs stays in Versions)
        note.conflict = false;
        $("conflict").hidden = true;
        await save();
      } catch (err) {
        sayError(err, "Could not save the note.");
      }
    });

    // --- versions: view one, restore one ---

    const versionsDialog = $("note-versions-dialog");

    async function openVersions() {
      if (!note.id) return;
      $("note-versions-error").textContent = "";
      $("note-version-view").hidden = true;
      $("note-versions-list").replaceChildren(el("li", { class: "muted", text: "Loading…" }));
      versionsDialog.showModal();
      try {
        const data = await api("GET", `notes/${note.id}/versions/`);
        const rows = [
          el("li", { class: "version-item current", "data-testid": "note-version-row" }, [
            el("span", { class: "version-label" }, [`Version ${note.version}`, el("span", { class: "tag", text: "current" })]),
          ]),
          ...data.results.map((v) =>
            el("li", { class: "version-item", "data-testid": "note-version-row", "data-number": v.number }, [
              el("span", { class: "version-label" }, [`Version ${v.number} · `, timeNode(v.created_at)]),
              el("span", { class: "action-row" }, [
                el("button", { type: "button", class: "small", "data-view": v.number, "aria-label": `View version ${v.number}`, text: "View" }),
                el("button", { type: "button", class: "small", "data-restore": v.number, "aria-label": `Restore version ${v.number}`, text: "Restore" }),
              ]),
            ]),
          ),
        ];
        $("note-versions-list").replaceChildren(...rows);
        if (!data.results.length) $("note-versions-list").append(el("li", { class: "muted", text: "No earlier versions yet: each saved change of title or text keeps the previous one here." }));
      } catch (err) {
        $("note-versions-list").replaceChildren();
        $("note-versions-error").textContent = err instanceof ApiError ? err.message : "Could not list the versions.";
      }
    }

    $("versions-button").addEventListener("click", openVersions);

    $("note-versions-list").addEventListener("click", async function (event) {
      const view = event.target.closest("button[data-view]");
      const restore = event.target.closest("button[data-restore]");
      $("note-versions-error").textContent = "";
      if (view) {
        try {
          const version = await api("GET", `notes/${note.id}/versions/${view.dataset.view}/`);
          $("note-version-view-h").textContent = `Version ${version.number}: ${version.title || "Untitled note"}`;
          $("note-version-body").textContent = version.body; // plain text, never rendered
          $("note-version-view").hidden = false;
        } catch (err) {
          $("note-versions-error").textContent = err instanceof ApiError ? err.message : "Could not load that version.";
        }
      } else if (restore) {
        const number = restore.dataset.restore;
        if (unsaved() && !window.confirm(`Restore version ${number}? Your unsaved changes will be replaced.`)) return;
        restore.disabled = true;
        try {
          const data = await api("POST", `notes/${note.id}/versions/${number}/restore`);
          clearTimeout(note.timer);
          note.conflict = false;
          $("conflict").hidden = true;
          fill(data);
          show("saved", "Saved");
          versionsDialog.close();
          say(`Restored version ${number} as version ${data.version}.`, "success");
        } catch (err) {
          restore.disabled = false;
          $("note-versions-error").textContent = err instanceof ApiError ? err.message : "Could not restore.";
        }
      }
    });

    // --- delete (to the trash) ---

    $("delete-note").addEventListener("click", async function () {
      if (!note.id) return;
      const title = titleInput.value.trim() || "Untitled note";
      if (!window.confirm(`Move the note ${quoted(title)} to the trash?`)) return;
      const button = $("delete-note");
      button.disabled = true;
      clearTimeout(note.timer);
      try {
        await api("DELETE", `notes/${note.id}/`);
        note.loaded = false; // nothing left to lose: no beforeunload question
        note.conflict = false;
        flashNext(`Moved the note ${quoted(title)} to the trash.`, "success", { href: TRASH_URL, text: "Open the trash" });
        window.location.assign(NOTES_URL);
      } catch (err) {
        button.disabled = false;
        sayError(err, "Could not delete the note.");
      }
    });

    // --- start ---

    enableExisting();
    if (!note.id) {
      show("saved", "New note: type to start");
      showPreview("");
      titleInput.focus();
      return;
    }
    show("loading", "Loading…");
    for (const input of [titleInput, tagsInput, bodyInput]) input.readOnly = true;
    fetchNote()
      .then(function (data) {
        fill(data);
        show("saved", "Saved");
        for (const input of [titleInput, tagsInput, bodyInput]) input.readOnly = false;
      })
      .catch(function (err) {
        show("error", "Could not load this note");
        if (err.status === 404) say("This note does not exist or is in the trash.", "error", el("a", { href: NOTES_URL, text: "All notes" }));
        else sayError(err, "Could not load the note.");
      });
  }
})();
