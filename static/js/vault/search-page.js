// The search page (templates/vault/search.html): words and filters, kept in the address
// (/search/?q=...&type=file&type=note&mime_group=image&after=...&tag=...), results as you type, and the
// tags with their counts. Words alone use the server's ranking across the chosen kinds; with filters the
// results come from each kind's source (search-sources.js), newest first.
import { $, chatHref, el, formatBytes, highlighted, KIND_LABEL, localPath, markedText, quoted, resultHref, resultKind } from "../locker.js";
import { api, ApiError, fileIconClass, folderHref, foldTag, sayError, tagChips, timeNode, URLS } from "./common.js";
import { fromSearchResult, SOURCES } from "./search-sources.js";

export function searchPage() {
  const form = $("search-form");
  const qInput = $("search-q");
  const list = $("results");
  const summary = $("results-summary");
  const KINDS = ["file", "folder", "note", "message"];
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
      folder: $("f-folder").value,
    };
  }

  function toSearch(p) {
    const params = new URLSearchParams();
    if (p.q) params.set("q", p.q);
    for (const type of p.types) params.append("type", type);
    for (const key of ["mime_group", "after", "before", "min_mb", "max_mb", "tag", "folder"]) if (p[key]) params.set(key, p[key]);
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
    const folder = params.get("folder") || "";
    $("f-folder").value = /^[0-9a-f-]{36}$/i.test(folder) ? folder : "";
    showScope();
  }

  // --- a search inside one folder and the folders below it (?folder=<id>: its own or one shared with the reader) ---

  function showScope() {
    const id = $("f-folder").value;
    $("search-scope").hidden = !id;
    if (!id) return;
    $("scope-folder").href = folderHref(id);
    $("scope-folder").textContent = "this folder";
    api("GET", `folders/${id}/`).then(
      (folder) => {
        if ($("f-folder").value === id) $("scope-folder").textContent = quoted(folder.name);
      },
      () => {},
    );
  }

  $("scope-clear").addEventListener("click", function () {
    $("f-folder").value = "";
    showScope();
    run();
    qInput.focus();
  });

  // The search API's parameters for words in a folder, with the form's filters.
  function inFolderParams(p, kinds) {
    const params = new URLSearchParams({ q: p.q, folder: p.folder, recursive: "1", page_size: "50", kind: kinds.join(",") });
    if (p.mime_group) params.set("mime_group", p.mime_group);
    if (p.min_mb) params.set("min_size", String(Math.ceil(Number(p.min_mb) * 1024 * 1024)));
    if (p.max_mb) params.set("max_size", String(Math.floor(Number(p.max_mb) * 1024 * 1024)));
    if (p.after) params.set("modified_after", new Date(`${p.after}T00:00:00`).toISOString());
    if (p.before) {
      const end = new Date(`${p.before}T00:00:00`);
      end.setDate(end.getDate() + 1);
      params.set("modified_before", end.toISOString());
    }
    if (p.tag) params.set("tag", p.tag);
    return params;
  }

  // --- results ---

  // The folder a result is in, by name (the server opens it with the reader's keys: `parent_name`, null at the
  // top of their files, "Shared with me" for an item shared on its own), linking to it. Results from a listing
  // (filters set) carry no name: "its folder" then.
  function placeLink(item) {
    const known = item.parent_name !== undefined;
    const text = item.parent_name || (item.parent && !known ? "its folder" : "Files");
    const href = item.parent_url ? localPath(item.parent_url) : folderHref(item.parent);
    const pending = item.parent && !known ? item.parent : null; // named once its folder is read (nameFolders)
    return el("a", { class: "result-folder", href, "data-testid": "result-folder", "data-folder-pending": pending }, [text]);
  }

  // Results from a listing name their folders by reading each folder once (at most 30 per page of results).
  const folderNames = new Map(); // folder id -> Promise<name or null>
  function nameFolders() {
    const links = [...list.querySelectorAll("a[data-folder-pending]")];
    const ids = [...new Set(links.map((link) => link.dataset.folderPending))].slice(0, 30);
    for (const id of ids) {
      if (!folderNames.has(id)) folderNames.set(id, api("GET", `folders/${id}/`).then((f) => f.name || null, () => null));
    }
    for (const link of links) {
      const name = folderNames.get(link.dataset.folderPending);
      if (!name) continue;
      name.then((text) => {
        if (text) link.textContent = text;
        link.removeAttribute("data-folder-pending");
      });
    }
  }

  function resultNode(item, query) {
    const kind = resultKind(item);
    const visual = item.preview_url
      ? el("img", { class: "result-thumb", src: localPath(item.preview_url), alt: "", loading: "lazy" })
      : el("span", { class: `result-icon icon ${kind === "file" ? fileIconClass(item) : kind}`, "aria-hidden": "true" });
    if (item.preview_url) visual.addEventListener("error", () => visual.replaceWith(el("span", { class: `result-icon icon ${fileIconClass(item)}`, "aria-hidden": "true" })), { once: true });
    const meta = [];
    if (kind === "file") meta.push(`${item.mime_type || "file"} · ${formatBytes(item.size)} · `);
    else if (kind === "folder") meta.push("Folder · ");
    if (kind === "message") {
      // a message's name is its chat's title; it opens in the chat, scrolled to it
      meta.push("sent ", timeNode(item.modified_at), " · in ", el("a", { href: chatHref(URLS, item.parent), text: "its chat" }));
    } else {
      meta.push("changed ", timeNode(item.modified_at));
      meta.push(" · in ", placeLink(item));
    }
    return el("li", { class: "result", "data-testid": "search-result", "data-kind": kind, "data-id": item.id }, [
      visual,
      el("div", { class: "result-main" }, [
        el("p", { class: "result-line" }, [
          el("span", { class: "result-kind", text: KIND_LABEL[kind] }),
          el("a", { class: "result-name", href: resultHref(item, URLS) }, [highlighted(item.name, query)]),
        ]),
        item.snippet ? el("p", { class: "result-snippet", "data-testid": "result-snippet" }, [markedText(item.snippet, item.snippet_marks, query)]) : null,
        el("p", { class: "result-meta" }, meta),
        tagChips(item.tags, `Tags of ${quoted(item.name)}`),
      ]),
    ]);
  }

  function showResults(items, p, count, notes) {
    list.replaceChildren(...items.map((item) => resultNode(item, p.q)));
    nameFolders();
    const total = typeof count === "number" ? count : items.length;
    const what = [p.q ? `for ${quoted(p.q)}` : null, p.tag ? `tagged ${quoted(p.tag)}` : null].filter(Boolean).join(" ");
    summary.textContent = total ? `${total} result${total === 1 ? "" : "s"}${what ? " " + what : ""}.` : `Nothing found${what ? " " + what : ""}.`;
    $("results-notes").replaceChildren(...(notes || []).map((text) => el("li", { text })));
    $("results-empty").hidden = items.length > 0;
    $("results-more").hidden = !state.next;
  }

  function prompt(text) {
    list.replaceChildren();
    summary.textContent = text || "Type words to search for, or choose a tag.";
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
    if (p.folder) kinds = kinds.filter((k) => k !== "message"); // chat messages live in no folder
    $("file-only-hint").classList.toggle("active", fileOnly);
    state.next = null;
    if (!p.q && (p.folder || (!p.tag && !fileOnly && !p.after && !p.before))) {
      prompt(p.folder ? "Type words to search for in this folder." : undefined);
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
      if (p.folder) {
        // inside a folder: the server's search narrowed to it (for a shared folder, through the share's keys)
        const page = await api("GET", `search?${inFolderParams(p, kinds)}`, undefined, { signal });
        if (generation !== state.generation) return;
        state.next = page.next ? localPath(page.next) : null;
        state.query = p;
        showResults(page.results.map(fromSearchResult), p, page.count, []);
      } else if (p.q && !p.tag && !fileOnly && !p.after && !p.before) {
        // words only: the server's ranking (best match first) across the chosen kinds
        const page = await api("GET", `search?q=${encodeURIComponent(p.q)}${kinds.length < KINDS.length ? `&kind=${kinds.join(",")}` : ""}&page_size=50`, undefined, { signal });
        if (generation !== state.generation) return;
        state.next = page.next ? localPath(page.next) : null;
        state.query = p;
        showResults(page.results.map(fromSearchResult), p, page.count, []);
      } else {
        const parts = await Promise.all(kinds.map((k) => SOURCES[k](p, signal)));
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
