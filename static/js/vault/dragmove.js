// Moving by drag and drop: drag an item (or the selection it belongs to) onto a folder in the listing, a folder of
// the breadcrumbs, or a top folder in the side bar; "Trash" in the side bar takes it to the trash. The drag
// carries our own type only (no "Files"), so the upload drop overlay ignores it. Items a share does not let you
// move are not draggable.
import { el } from "../locker.js";

const TYPE = "application/x-locker-items";

export function setupDragMove(browser) {
  let dragged = null; // [{kind, item, key}]

  function onDragStart(event) {
    const holder = event.target.closest && event.target.closest("[data-key][draggable=true]");
    if (!holder) return;
    const key = holder.dataset.key;
    // The selection when the item is part of it, else the item alone (the selection stays: no layout shift
    // under the pointer while it drags).
    const chosen = browser.selection.has(key) ? browser.selected() : [browser.itemOf(key)].filter(Boolean);
    dragged = chosen.filter((o) => browser.allowed(o.item, "move"));
    if (!dragged.length) {
      event.preventDefault();
      return;
    }
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData(TYPE, JSON.stringify(dragged.map((o) => o.key)));
    event.dataTransfer.setData("text/plain", dragged.map((o) => o.item.name).join("\n"));
    const ghost = el("div", { class: "drag-ghost", text: dragged.length === 1 ? dragged[0].item.name : `${dragged.length} items` });
    document.body.append(ghost);
    event.dataTransfer.setDragImage(ghost, 12, 12);
    setTimeout(() => ghost.remove(), 0);
    document.body.classList.add("moving-items");
  }

  // A drop target: a folder row or tile (not one being dragged), a breadcrumb or side-bar folder, or the trash.
  function targetOf(node) {
    if (!node || !node.closest) return null;
    const trash = node.closest("[data-drop-trash]");
    if (trash) return { trash: true, node: trash };
    const crumb = node.closest("[data-drop-folder]");
    if (crumb) return { id: crumb.dataset.dropFolder || null, name: crumb.textContent.trim(), node: crumb };
    const holder = node.closest("[data-kind=folder][data-key]");
    if (holder && !dragged.some((o) => o.key === holder.dataset.key)) {
      const found = browser.itemOf(holder.dataset.key);
      if (found && browser.allowed(found.item, "move")) return { id: found.item.id, name: found.item.name, node: holder };
    }
    return null;
  }

  let over = null;
  function mark(target) {
    if (over && (!target || over !== target.node)) over.classList.remove("drop-here");
    over = target ? target.node : null;
    if (over) over.classList.add("drop-here");
  }

  document.addEventListener("dragstart", onDragStart);
  document.addEventListener("dragover", function (event) {
    if (!dragged) return;
    const target = targetOf(event.target);
    mark(target);
    if (target) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
    }
  });
  document.addEventListener("dragleave", function (event) {
    if (dragged && over && !over.contains(event.relatedTarget)) mark(null);
  });
  document.addEventListener("drop", function (event) {
    if (!dragged) return;
    const target = targetOf(event.target);
    mark(null);
    if (!target) return;
    event.preventDefault();
    event.stopPropagation();
    const items = dragged;
    dragged = null;
    if (target.trash) browser.actions.trashMany(items);
    else browser.moveTo(items, target);
  });
  document.addEventListener("dragend", function () {
    dragged = null;
    mark(null);
    document.body.classList.remove("moving-items");
  });
}
