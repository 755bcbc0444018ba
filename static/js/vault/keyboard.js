// The file browser from the keyboard. In the listing: ↑/↓ (or ←/→ in the grid) move between items, Shift
// extends the selection, Space selects, Enter opens (the name is a link), F2 renames, Delete trashes, Shift+F10
// or the menu key opens the item's menu, Ctrl/⌘+A selects everything, Escape clears the selection. Anywhere on the
// page (outside fields and dialogs): "/" search, "?" the list of shortcuts, "n" new folder, "u" upload, "i" details.
import { $ } from "../locker.js";

function typing(target) {
  return target.closest("input, textarea, select, [contenteditable=true], dialog[open]") !== null;
}

export function setupKeyboard(browser) {
  const { state } = browser;

  function currentKey() {
    const active = document.activeElement;
    const holder = active && browser.container().contains(active) ? active.closest("[data-key]") : null;
    return holder ? holder.dataset.key : null;
  }

  function step(key, by) {
    const keys = browser.ordered().map((o) => o.key);
    if (!keys.length) return null;
    const index = keys.indexOf(key);
    if (index < 0) return keys[by > 0 ? 0 : keys.length - 1];
    return keys[Math.max(0, Math.min(keys.length - 1, index + by))];
  }

  // What an action key acts on: the selection when the focused item is in it, else the focused item.
  function targets(key) {
    if (key && browser.selection.has(key)) return browser.selected();
    const found = key && browser.itemOf(key);
    return found ? [found] : browser.selected();
  }

  function onListingKey(event) {
    if (event.target.matches("[data-pick]") && event.key === " ") return; // the checkbox toggles itself
    const key = currentKey();
    const vertical = event.key === "ArrowDown" || event.key === "ArrowUp";
    const horizontal = state.view === "grid" && (event.key === "ArrowRight" || event.key === "ArrowLeft");
    if ((vertical || horizontal) && !event.altKey) {
      event.preventDefault();
      let by = event.key === "ArrowDown" || event.key === "ArrowRight" ? 1 : -1;
      if (state.view === "grid" && vertical) by *= Math.max(1, columns());
      const next = step(key, by);
      if (!next) return;
      if (event.shiftKey) {
        if (key && !browser.selection.has(key)) browser.toggle(key);
        browser.toggle(next, true);
      }
      browser.focusItem(next);
      return;
    }
    if (!key) return;
    if (event.key === " " && !event.target.matches("button")) {
      event.preventDefault();
      browser.toggle(key, event.shiftKey);
    } else if (event.key === "F2") {
      event.preventDefault();
      const found = browser.itemOf(key);
      if (found && browser.allowed(found.item, "rename")) browser.actions.rename(found.item, found.kind);
    } else if (event.key === "Delete" || (event.key === "Backspace" && (event.metaKey || event.ctrlKey))) {
      event.preventDefault();
      const chosen = targets(key).filter((o) => browser.allowed(o.item, "delete"));
      if (chosen.length) browser.actions.trashMany(chosen);
    } else if (event.key === "ContextMenu" || (event.key === "F10" && event.shiftKey)) {
      event.preventDefault();
      browser.openMenuFor(key, document.activeElement);
    }
  }

  // How many tiles a grid row holds (for ↑/↓ in the grid).
  function columns() {
    const tiles = Array.from($("items-grid").children);
    if (tiles.length < 2) return 1;
    const top = tiles[0].offsetTop;
    const n = tiles.findIndex((t) => t.offsetTop !== top);
    return n < 0 ? tiles.length : n;
  }

  $("items").addEventListener("keydown", onListingKey);
  $("items-grid").addEventListener("keydown", onListingKey);

  const shortcuts = $("shortcuts-dialog");
  $("shortcuts-open").addEventListener("click", () => shortcuts.showModal());

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || typing(event.target)) return;
    const inListing = browser.container().contains(event.target);
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "a" && (inListing || event.target === document.body)) {
      event.preventDefault();
      browser.selectAll();
      return;
    }
    if (event.ctrlKey || event.metaKey) return;
    if (event.key === "Escape") {
      if (browser.selection.size) {
        const key = currentKey();
        browser.clearSelection();
        if (key) browser.focusItem(key);
      }
      return;
    }
    if (event.target.closest("#item-menu")) return;
    const search = document.getElementById("site-search-input");
    if (event.key === "/" && search) {
      event.preventDefault();
      search.focus();
    } else if (event.key === "?") {
      event.preventDefault();
      shortcuts.showModal();
    } else if (event.key === "n" && !$("new-folder").hidden) {
      event.preventDefault();
      browser.openNewFolder();
    } else if (event.key === "u" && !$("choose-files").hidden) {
      event.preventDefault();
      $("choose-files").click();
    } else if (event.key === "i") {
      event.preventDefault();
      $("details-toggle").click();
    }
  });
}
