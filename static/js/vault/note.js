// The note editor (templates/vault/note.html): autosave with the version last seen (a change made
// elsewhere answers 412: reload theirs or keep mine), the server's rendering of the Markdown, versions
// (view one, restore one), and delete. The rendering is the one HTML this page inserts: the server renders
// the Markdown without raw HTML and sanitizes it (markdown-it-py + nh3 allowlist).
import { $, el, quoted } from "../locker.js";
import { api, ApiError, flashNext, noteHref, NOTES_URL, parseTags, root, say, sayError, tagChips, timeNode, TRASH_URL } from "./common.js";

export function notePage() {
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
    if (note.conflict || !note.loaded || root.dataset.readonly === "1") return;
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
      show("saved", root.dataset.readonly === "1" ? "Read only: shared with you to view" : "Saved");
      for (const input of [titleInput, tagsInput, bodyInput]) input.readOnly = root.dataset.readonly === "1";
    })
    .catch(function (err) {
      show("error", "Could not load this note");
      if (err.status === 404) say("This note does not exist or is in the trash.", "error", el("a", { href: NOTES_URL, text: "All notes" }));
      else sayError(err, "Could not load the note.");
    });
}
