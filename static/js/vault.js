// The vault pages (file browser and trash) over the v1 JSON API. Loaded with `defer`; no inline
// script or style anywhere (CSP). Every user-controlled string (names, error details) goes into the
// page as text (textContent, Text nodes, attributes), never as HTML.
"use strict";

(function () {
  const root = document.getElementById("vault");
  if (!root) return;

  const API = root.dataset.api || "/api/v1/";
  const CSRF = root.dataset.csrf || "";
  const FILES_URL = root.dataset.filesUrl || "/files/";
  const LOGIN_URL = root.dataset.loginUrl || "/login";
  const TRASH_URL = root.dataset.trashUrl || "/trash/";
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

  // --- small helpers ---------------------------------------------------------------------------

  // el("a", {href: "/x", class: "y", text: "label"}, [children]): attributes and text only, never HTML.
  function el(tag, props, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of [].concat(children === undefined ? [] : children)) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  function $(id) {
    return document.getElementById(id);
  }

  function formatBytes(value) {
    if (typeof value !== "number" || !isFinite(value)) return "—";
    let size = value;
    for (const unit of ["B", "KiB", "MiB", "GiB", "TiB"]) {
      if (Math.abs(size) < 1024 || unit === "TiB") return unit === "B" ? `${Math.round(size)} B` : `${size.toFixed(1)} ${unit}`;
      size /= 1024;
    }
    return `${size.toFixed(1)} TiB`;
  }

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

  // --- the API ---------------------------------------------------------------------------------

  const HUMAN_FIELDS = ["name", "parent", "folder", "tags", "file", "on_conflict", "non_field_errors"];

  function messageOf(status, body) {
    if (status === 0) return "Network error: check your connection and try again.";
    if (body && typeof body === "object" && !Array.isArray(body) && body.detail) {
      const parts = [String(body.detail)];
      // 400s carry the reasons per field ("Names cannot contain / or \\."); other statuses say it all in detail
      if (status === 400 && body.errors && typeof body.errors === "object") {
        for (const field of HUMAN_FIELDS) {
          for (const msg of [].concat(body.errors[field] || [])) {
            if (!parts.includes(String(msg))) parts.push(String(msg));
          }
        }
      }
      return parts.join(" ");
    }
    if (status === 413) return "Too large for the server.";
    return `The server answered ${status}; nothing was changed.`;
  }

  class ApiError extends Error {
    constructor(status, body) {
      super(messageOf(status, body));
      this.status = status;
      this.body = body && typeof body === "object" ? body : {};
      this.code = this.body.code || "";
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    const init = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (method !== "GET") headers["X-CSRFToken"] = CSRF;
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path.startsWith("/") ? path : API + path, init);
    } catch (err) {
      throw new ApiError(0, null);
    }
    let data = null;
    if (response.status !== 204 && (response.headers.get("Content-Type") || "").includes("json")) {
      try {
        data = await response.json();
      } catch (err) {
        data = null;
      }
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  // Every page of a paginated listing.
  async function fetchAll(path) {
    const items = [];
    let next = path;
    for (let guard = 0; next && guard < 100; guard++) {
      const page = await api("GET", next);
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

  if (root.dataset.page === "browser") browserPage();
  else if (root.dataset.page === "trash") trashPage();
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

    function row(item, kind) {
      const isFolder = kind === "folder";
      const link = isFolder
        ? el("a", { href: folderUrl(item.id), class: "item-name", text: item.name })
        : el("a", { href: localPath(item.content_url), class: "item-name", download: true, title: "Download", text: item.name });
      const actions = isFolder
        ? [actionButton("Rename", "rename", item.name), actionButton("Move", "move", item.name), actionButton("Delete", "delete", item.name, "danger-text")]
        : [
            el("a", { href: localPath(item.content_url), class: "button small", download: true, "aria-label": `Download ${quoted(item.name)}`, text: "Download" }),
            actionButton("Versions", "versions", item.name),
            actionButton("Rename", "rename", item.name),
            actionButton("Move", "move", item.name),
            actionButton("Delete", "delete", item.name, "danger-text"),
          ];
      return el("tr", { "data-testid": "item-row", "data-kind": kind, "data-id": item.id }, [
        el("td", { class: "name" }, [
          el("span", { class: `icon ${kind}`, "aria-hidden": "true" }),
          link,
          isFolder ? el("span", { class: "sr-only", text: " (folder)" }) : null,
          !isFolder && item.version > 1 ? el("span", { class: "tag", text: `v${item.version}` }) : null,
        ]),
        el("td", { class: "size num", text: isFolder ? "—" : formatBytes(item.size) }),
        el("td", { class: "modified" }, [timeNode(item.modified_at)]),
        el("td", { class: "actions" }, [el("div", { class: "action-row" }, actions)]),
      ]);
    }

    function renderListing() {
      const folders = [...state.folders];
      const files = [...state.files].sort(compare);
      // Folders have no size: "size" orders them by name.
      folders.sort(state.sort.key === "size" ? (a, b) => collator.compare(a.name, b.name) * state.sort.dir : compare);
      // Keep the keyboard focus on the same control of the same item across a re-render.
      const active = document.activeElement;
      const focused = active && tbody.contains(active) ? { id: active.closest("tr").dataset.id, action: active.dataset.action } : null;
      tbody.replaceChildren(...folders.map((f) => row(f, "folder")), ...files.map((f) => row(f, "file")));
      if (focused) {
        const tr = tbody.querySelector(`tr[data-id="${CSS.escape(focused.id)}"]`);
        const target = tr && (focused.action ? tr.querySelector(`[data-action="${CSS.escape(focused.action)}"]`) : tr.querySelector("a"));
        if (target) target.focus();
        else $("folder-title").focus();
      }
      $("items-loading").hidden = true;
      $("items-empty").hidden = folders.length + files.length > 0;
      $("items-table").hidden = folders.length + files.length === 0;
      $("more-row").hidden = !state.filesNext;
      for (const th of document.querySelectorAll("#items-table th[data-sort]")) {
        if (th.dataset.sort === state.sort.key) th.setAttribute("aria-sort", state.sort.dir > 0 ? "ascending" : "descending");
        else th.removeAttribute("aria-sort");
      }
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

    tbody.addEventListener("click", function (event) {
      const button = event.target.closest("button[data-action]");
      if (!button) return;
      const tr = button.closest("tr");
      const item = find(tr.dataset.kind, tr.dataset.id);
      if (!item) return;
      const kind = tr.dataset.kind;
      if (button.dataset.action === "rename") openRename(item, kind);
      else if (button.dataset.action === "move") openMove(item, kind);
      else if (button.dataset.action === "delete") trashItem(item, kind);
      else if (button.dataset.action === "versions") openVersions(item);
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

    // --- start ---

    renderPath();
    loadPath().catch(function (err) {
      if (err.status !== 404) sayError(err, "Could not load the folder path.");
    });
    loadListing();
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
              el("span", { class: "sr-only", text: entry.kind === "folder" ? " (folder)" : " (file)" }),
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

    tbody.addEventListener("click", async function (event) {
      const button = event.target.closest("button[data-action]");
      if (!button) return;
      const entry = entries.find((e) => e.id === button.closest("tr").dataset.id);
      if (!entry) return;
      if (button.dataset.action === "restore") {
        button.disabled = true;
        try {
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
})();
