// The notes list (templates/vault/notes.html), newest first, a page at a time.
import { $, el, localPath, quoted } from "../locker.js";
import { api, noteHref, sayError, tagChips, timeNode } from "./common.js";

export function notesPage() {
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
