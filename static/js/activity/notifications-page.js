// The notifications page (templates/activity/notifications.html): newest first, a page at a time ("Show older"
// follows the API's `next`), the unread ones marked, "Mark read" on each and "Mark all read". New ones arrive at
// the top as they happen (live.js dispatches "locker:notification"); marking tells live.js to count the bell again.
import { $, el, localPath } from "../locker.js";
import { pageKit, plural, timeNode } from "./common.js";
import { describe } from "./notices.js";

const PAGE_SIZE = 20;

export function notificationsPage(root) {
  const { api, sayError, unsay, urls } = pageKit(root);
  const list = $("notices");
  const known = new Map(); // id -> {notification, node}
  let next = null;
  let unreadCount = null; // from the bell (live.js), once known

  function item(n) {
    const { text, link } = describe(n, urls);
    const unread = !n.read;
    const node = el("li", { class: `notif${unread ? " unread" : ""}`, "data-testid": "notice", "data-id": n.id, "data-kind": n.kind, "data-unread": String(unread) }, [
      el("span", { class: "notif-dot", "aria-hidden": "true" }),
      el("div", { class: "notif-main" }, [
        el("p", { class: "notif-text" }, [unread ? el("span", { class: "notif-new", "data-testid": "notice-unread", text: "Unread" }) : null, unread ? " " : null, text]),
        el("p", { class: "notif-meta" }, [timeNode(n.created_at), link ? " · " : null, link ? el("a", { href: link.href, text: link.text }) : null]),
      ]),
      unread ? el("button", { type: "button", class: "small", "data-read": n.id, "aria-label": `Mark as read: ${text}`, text: "Mark read" }) : null,
    ]);
    return node;
  }

  function add(notifications, where) {
    const nodes = [];
    for (const n of notifications) {
      if (known.has(n.id)) continue;
      const node = item(n);
      known.set(n.id, { notification: n, node });
      nodes.push(node);
    }
    if (where === "top") list.prepend(...nodes);
    else list.append(...nodes);
    showState();
  }

  function markedRead(id) {
    const entry = known.get(id);
    if (!entry || entry.notification.read) return;
    entry.notification.read = true;
    const node = item(entry.notification);
    entry.node.replaceWith(node);
    entry.node = node;
  }

  function showState() {
    $("notices-loading").hidden = true;
    $("notices-empty").hidden = known.size > 0;
    list.hidden = known.size === 0;
    $("notices-more-row").hidden = !next;
    const unreadShown = [...known.values()].some((entry) => !entry.notification.read);
    $("read-all").disabled = !(unreadShown || unreadCount > 0);
    if (unreadCount !== null) $("notices-summary").textContent = unreadCount ? `${plural(unreadCount, "notification", "notifications")} not read yet.` : "All read.";
  }

  async function load(path) {
    try {
      const page = await api("GET", path);
      next = page.next ? localPath(page.next) : null;
      add(page.results, "bottom");
    } catch (err) {
      $("notices-loading").hidden = true;
      sayError(err, "Could not load your notifications.");
    }
  }

  $("notices-more").addEventListener("click", async function (event) {
    const button = event.currentTarget;
    if (!next) return;
    button.disabled = true;
    await load(next);
    button.disabled = false;
  });

  list.addEventListener("click", async function (event) {
    const button = event.target.closest("button[data-read]");
    if (!button) return;
    const id = Number(button.dataset.read);
    button.disabled = true;
    try {
      await api("POST", `notifications/${id}/read`);
      unsay();
      const following = [...list.querySelectorAll("button[data-read]")].find((b) => b !== button && b.compareDocumentPosition(button) & Node.DOCUMENT_POSITION_PRECEDING);
      markedRead(id);
      (following || $("notices-h")).focus(); // the button is gone: the focus goes to the next one
      document.dispatchEvent(new CustomEvent("locker:notifications-read"));
    } catch (err) {
      button.disabled = false;
      sayError(err, "Could not mark it read.");
    }
    showState();
  });

  $("read-all").addEventListener("click", async function (event) {
    const button = event.currentTarget;
    button.disabled = true;
    try {
      await api("POST", "notifications/read");
      unsay();
      for (const id of known.keys()) markedRead(id);
      unreadCount = 0;
      document.dispatchEvent(new CustomEvent("locker:notifications-read"));
    } catch (err) {
      sayError(err, "Could not mark them read.");
    }
    showState();
  });

  document.addEventListener("locker:notification", function (event) {
    if (event.detail && typeof event.detail.id === "number") add([{ ...event.detail, read: false }], "top");
  });
  // A notification that came live says "a file"; once live.js has it from the API it names it (not while the focus
  // is in it: the node is replaced, and its button would lose the focus).
  document.addEventListener("locker:notification-named", function (event) {
    const n = event.detail || {};
    const entry = known.get(n.id);
    if (!entry || !n.summary || entry.notification.summary === n.summary || entry.node.contains(document.activeElement)) return;
    entry.notification.summary = n.summary;
    const node = item(entry.notification);
    entry.node.replaceWith(node);
    entry.node = node;
  });
  document.addEventListener("locker:unread-count", function (event) {
    unreadCount = event.detail.count;
    showState();
  });

  const bell = document.getElementById("bell");
  if (bell && bell.dataset.unread) unreadCount = Number(bell.dataset.unread);
  load(`notifications/?page_size=${PAGE_SIZE}`);
}
