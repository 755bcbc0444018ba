// Selecting items in the file browser and acting on all of them at once. A checkbox on every row and tile, "Select
// all" in the table's head (mixed when some are), Shift+click for a range, Ctrl/⌘+click on a row to add or
// remove it, a click on a row's empty part to select just it. With anything selected, the selection bar offers:
// download as one zip (a form post, so the browser streams it to disk), move, add tags, move to the trash.
// browser.selection holds "kind:id" keys; browser.selected() gives the items.
import { $, el } from "../locker.js";
import { API, root } from "./common.js";

export function setupSelection(browser) {
  const { state, selection } = browser;
  let anchor = null; // the key a Shift range starts from

  browser.selected = function () {
    return browser.ordered().filter((o) => selection.has(o.key));
  };

  function apply() {
    for (const holder of browser.container().querySelectorAll("[data-key]")) {
      const on = selection.has(holder.dataset.key);
      holder.classList.toggle("selected", on);
      if (holder.tagName === "TR") holder.setAttribute("aria-selected", String(on));
      const box = holder.querySelector("[data-pick]");
      if (box) box.checked = on;
    }
    const total = browser.ordered().length;
    const all = $("select-all");
    all.checked = total > 0 && selection.size === total;
    all.indeterminate = selection.size > 0 && selection.size < total;
    showBar();
  }
  browser.applySelection = apply;

  function showBar() {
    const chosen = browser.selected();
    const bar = $("selection-bar");
    bar.hidden = chosen.length === 0;
    root.classList.toggle("has-selection", chosen.length > 0);
    if (!chosen.length) return;
    const folders = chosen.filter((o) => o.kind === "folder").length;
    const files = chosen.length - folders;
    const parts = [];
    if (folders) parts.push(`${folders} folder${folders === 1 ? "" : "s"}`);
    if (files) parts.push(`${files} file${files === 1 ? "" : "s"}`);
    $("selection-count").textContent = `${parts.join(" and ")} selected`;
    for (const button of bar.querySelectorAll("[data-needs]")) {
      button.hidden = !chosen.every((o) => browser.allowed(o.item, button.dataset.needs === "edit" ? "move" : "delete"));
    }
  }

  function set(keys, on) {
    for (const key of keys) on ? selection.add(key) : selection.delete(key);
    apply();
  }

  function range(toKey) {
    const keys = browser.ordered().map((o) => o.key);
    const from = keys.indexOf(anchor);
    const to = keys.indexOf(toKey);
    if (from < 0 || to < 0) return [toKey];
    return keys.slice(Math.min(from, to), Math.max(from, to) + 1);
  }

  browser.selectOnly = function (key) {
    selection.clear();
    if (key) selection.add(key);
    anchor = key;
    apply();
  };

  browser.toggle = function (key, extend) {
    if (extend && anchor) set(range(key), true);
    else {
      set([key], !selection.has(key));
      anchor = key;
    }
  };

  browser.selectAll = function () {
    set(browser.ordered().map((o) => o.key), true);
  };

  browser.clearSelection = function () {
    selection.clear();
    anchor = null;
    apply();
  };

  // Clicks: a checkbox toggles (Shift: the range from the last one); a row's empty part selects it alone,
  // Ctrl/⌘ adds or removes it, Shift selects the range. Links and buttons keep their own meaning.
  function onClick(event) {
    const holder = event.target.closest("[data-key]");
    if (!holder) return;
    const key = holder.dataset.key;
    const box = event.target.closest("[data-pick]");
    if (box) {
      event.stopPropagation();
      if (event.shiftKey && anchor) {
        set(range(key), true);
        box.checked = true;
      } else {
        set([key], box.checked);
        anchor = key;
      }
      return;
    }
    if (event.target.closest("a, button, input, select, summary, label")) return;
    if (event.shiftKey && anchor) set(range(key), true);
    else if (event.ctrlKey || event.metaKey) browser.toggle(key);
    else browser.selectOnly(key);
  }
  $("items").addEventListener("click", onClick);
  $("items-grid").addEventListener("click", onClick);

  $("select-all").addEventListener("change", function (event) {
    if (event.target.checked) browser.selectAll();
    else browser.clearSelection();
  });

  browser.afterRender.push(apply);

  // --- what the bar does ---

  // A zip of the selection: a real form post (session cookie + CSRF token), so the browser saves the stream to
  // disk as it comes, whatever its size, with its own download progress.
  browser.downloadZip = function (items, name) {
    const form = el("form", { method: "post", action: `${API}archive`, hidden: true }, [
      el("input", { type: "hidden", name: "csrfmiddlewaretoken", value: root.dataset.csrf || "" }),
      ...items.map((o) => el("input", { type: "hidden", name: o.kind === "folder" ? "folders" : "files", value: o.item.id })),
    ]);
    if (name) form.append(el("input", { type: "hidden", name: "name", value: name }));
    document.body.append(form);
    form.submit();
    form.remove();
  };

  function zipName(items) {
    if (items.length === 1 && items[0].kind === "folder") return items[0].item.name;
    const here = state.path.length ? state.path[state.path.length - 1].name : state.place === "folder" ? "Files" : state.place === "recent" ? "Recent" : "Starred";
    return `${here} (${items.length} item${items.length === 1 ? "" : "s"})`;
  }

  $("selection-bar").addEventListener("click", function (event) {
    const button = event.target.closest("button[data-bulk]");
    if (!button) return;
    const items = browser.selected();
    const what = button.dataset.bulk;
    if (what === "clear") {
      browser.clearSelection();
      browser.focusItem(items[0] && items[0].key);
    } else if (!items.length) return;
    else if (what === "download") browser.downloadZip(items, zipName(items));
    else if (what === "move") browser.actions.moveMany(items);
    else if (what === "tag") browser.actions.tagMany(items);
    else if (what === "trash") browser.actions.trashMany(items);
  });
}
