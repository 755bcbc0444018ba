// One menu for every item of the file browser instead of a wall of buttons: opened by a row's "⋯" button, by a
// right-click or a long press on the item, or by Shift+F10 / the menu key. It lists what the item allows (a share
// may let you only view). Arrow keys move in it, Enter acts, Escape closes it and gives the focus back.
import { $, el, localPath } from "../locker.js";

const ENTRIES = [
  { action: "open", label: (kind) => (kind === "folder" ? "Open" : "Preview") },
  { action: "download", label: (kind) => (kind === "folder" ? "Download as zip" : "Download") },
  { action: "star", label: (kind, item) => (item.starred ? "Remove star" : "Star") },
  { action: "details", label: () => "Details" },
  { action: "share", label: () => "Share…" },
  { action: "rename", label: () => "Rename…" },
  { action: "move", label: () => "Move…" },
  { action: "versions", label: () => "Versions…", files: true },
  { action: "delete", label: () => "Move to trash", danger: true },
];

export function setupMenu(browser) {
  const menu = $("item-menu");
  let opener = null; // the element the focus returns to
  let target = null; // {kind, item, key}

  function entries(found) {
    return ENTRIES.filter((e) => (!e.files || found.kind === "file") && browser.allowed(found.item, e.action === "download" ? "download" : e.action));
  }

  function open(found, at, from) {
    close(false);
    target = found;
    opener = from || document.activeElement;
    menu.replaceChildren(
      ...entries(found).map((e) => {
        const label = e.label(found.kind, found.item);
        if (e.action === "download" && found.kind === "file") {
          return el("a", { role: "menuitem", tabindex: "-1", href: localPath(found.item.content_url), download: "", "data-entry": e.action, text: label });
        }
        return el("button", { type: "button", role: "menuitem", tabindex: "-1", class: e.danger ? "danger-text" : null, "data-entry": e.action, text: label });
      }),
    );
    menu.setAttribute("aria-label", `Actions for “${found.item.name}”`);
    menu.hidden = false;
    place(at);
    const button = from && from.matches("[data-menu]") ? from : null;
    if (button) button.setAttribute("aria-expanded", "true");
    menu.querySelector("[role=menuitem]").focus();
  }

  // Beside the button (or at the pointer), kept inside the window.
  function place(at) {
    const width = menu.offsetWidth;
    const height = menu.offsetHeight;
    const left = Math.max(8, Math.min(at.x, window.innerWidth - width - 8));
    const below = at.y + height + 8 <= window.innerHeight;
    const top = below ? at.y : Math.max(8, (at.top ?? at.y) - height - 2);
    menu.style.left = `${left}px`; // position: fixed (CSS); CSSOM, which the CSP allows
    menu.style.top = `${top}px`;
  }

  function close(restore) {
    if (menu.hidden) return;
    menu.hidden = true;
    for (const button of document.querySelectorAll("[data-menu][aria-expanded=true]")) button.setAttribute("aria-expanded", "false");
    if (restore !== false && opener && document.contains(opener)) opener.focus();
    target = null;
  }
  browser.closeMenu = close;

  browser.openMenuFor = function (key, from) {
    const found = browser.itemOf(key);
    if (!found) return;
    const holder = browser.container().querySelector(`[data-key="${CSS.escape(key)}"]`);
    const anchor = (holder && holder.querySelector("[data-menu]")) || holder || from;
    const rect = anchor.getBoundingClientRect();
    open(found, { x: rect.right - 200, y: rect.bottom + 2, top: rect.top }, from || anchor);
  };

  function act(entry) {
    const found = target;
    if (!found) return;
    const action = entry.dataset.entry;
    if (action === "download") {
      if (found.kind === "folder") browser.downloadZip([found], found.item.name);
      close();
      return; // a file's download is the link itself
    }
    close(); // the focus goes back to the menu's opener first: a dialog opened now gives it back there
    if (action === "open") {
      const link = browser.container().querySelector(`[data-key="${CSS.escape(found.key)}"] a.item-name`);
      if (found.kind === "file") browser.actions.preview(found.item.id);
      else if (link) window.location.href = link.href;
      return;
    }
    const handler = browser.actions[action];
    if (handler) handler(found.item, found.kind);
  }

  menu.addEventListener("click", function (event) {
    const entry = event.target.closest("[data-entry]");
    if (entry) act(entry);
  });

  menu.addEventListener("keydown", function (event) {
    const items = Array.from(menu.querySelectorAll("[role=menuitem]"));
    const index = items.indexOf(document.activeElement);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      items[(index + step + items.length) % items.length].focus();
    } else if (event.key === "Home" || event.key === "End") {
      event.preventDefault();
      items[event.key === "Home" ? 0 : items.length - 1].focus();
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close();
    } else if (event.key === "Tab") {
      close();
    }
  });

  // The "⋯" buttons.
  function onClick(event) {
    const button = event.target.closest("[data-menu]");
    if (!button) return;
    const holder = button.closest("[data-key]");
    if (!menu.hidden && target && target.key === holder.dataset.key) {
      close();
      return;
    }
    const found = browser.itemOf(holder.dataset.key);
    const rect = button.getBoundingClientRect();
    if (found) open(found, { x: rect.right - 200, y: rect.bottom + 2, top: rect.top }, button);
  }
  $("items").addEventListener("click", onClick);
  $("items-grid").addEventListener("click", onClick);

  // Right-click (and a long press on touch screens, which browsers report as a context menu) opens it at the
  // pointer; the item becomes the selection unless it is part of it.
  function onContextMenu(event) {
    const holder = event.target.closest("[data-key]");
    if (!holder || event.target.closest("input, textarea")) return;
    const found = browser.itemOf(holder.dataset.key);
    if (!found) return;
    event.preventDefault();
    if (!browser.selection.has(found.key)) browser.selectOnly(found.key);
    open(found, { x: event.clientX, y: event.clientY }, holder.querySelector("a.item-name") || holder);
  }
  $("items").addEventListener("contextmenu", onContextMenu);
  $("items-grid").addEventListener("contextmenu", onContextMenu);

  document.addEventListener("click", function (event) {
    if (!menu.hidden && !menu.contains(event.target) && !event.target.closest("[data-menu]")) close(false);
  });
  window.addEventListener("resize", () => close(false));
  // A scroll (also the one a click may start to bring its button into view) keeps the menu beside its button.
  window.addEventListener(
    "scroll",
    function () {
      if (menu.hidden || !opener || !opener.matches("[data-menu]")) return;
      const rect = opener.getBoundingClientRect();
      place({ x: rect.right - 200, y: rect.bottom + 2, top: rect.top });
    },
    { passive: true, capture: true },
  );
}
