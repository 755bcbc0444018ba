// The details panel of the file browser: what the selected (or focused) item is: its thumbnail, kind, size, type,
// dates, version, tags, star, who it is shared with, and its recent activity, with buttons for the dialogs
// (versions, share, rename, move). Toggled by "Details" or the "i" key, remembered in this browser.
import { $, el, formatBytes, quoted } from "../locker.js";
import { api, fetchAll, tagChips, timeNode } from "./common.js";
import { keyOf } from "./listing.js";

const OPEN_KEY = "locker.files.details";

export function setupDetails(browser) {
  const panel = $("details");
  const toggle = $("details-toggle");
  let shown = null; // key of the item shown
  let generation = 0;

  function stored() {
    try {
      return localStorage.getItem(OPEN_KEY) === "1";
    } catch (err) {
      return false;
    }
  }

  function setOpen(open, focus) {
    panel.hidden = !open;
    toggle.setAttribute("aria-pressed", String(open));
    document.getElementById("vault").classList.toggle("with-details", open);
    try {
      localStorage.setItem(OPEN_KEY, open ? "1" : "0");
    } catch (err) {
      /* the choice lasts for this page */
    }
    if (open) show(current(), true);
    if (open && focus) $("details-h").focus();
  }

  toggle.addEventListener("click", () => setOpen(panel.hidden, true));
  $("details-close").addEventListener("click", function () {
    setOpen(false);
    toggle.focus();
  });

  // The item the panel is about: the one the keyboard is on, else the one selected alone.
  function current() {
    const active = document.activeElement;
    const holder = active && browser.container().contains(active) ? active.closest("[data-key]") : null;
    if (holder) return browser.itemOf(holder.dataset.key);
    const chosen = browser.selected();
    return chosen.length === 1 ? chosen[0] : null;
  }

  function fact(label, value) {
    return [el("dt", { text: label }), el("dd", {}, [value])];
  }

  // A file's text recognition (images and PDFs): {state, reason} in words; the reason is the server's own sentence.
  function recognition(r) {
    if (r.state === "pending") return "Being read…";
    if (r.state === "done") return r.reason ? "Read: no text was found." : "Read: the words on it are searchable.";
    return `${r.state === "failed" ? "Could not be read" : "Not read"}: ${r.reason}`;
  }

  async function show(found, force) {
    if (panel.hidden) return;
    const body = $("details-body");
    if (!found) {
      shown = null;
      const many = browser.selected().length;
      body.replaceChildren(el("p", { class: "muted", text: many > 1 ? `${many} items selected.` : "Select a file or folder to see its details." }));
      return;
    }
    if (!force && shown === found.key) return;
    shown = found.key;
    const run = ++generation;
    const { item, kind } = found;
    const isFolder = kind === "folder";
    const facts = [
      ...fact("Kind", isFolder ? "Folder" : item.mime_type || "File"),
      ...(isFolder ? [] : fact("Size", formatBytes(item.size))),
      ...fact("Modified", timeNode(item.modified_at)),
      ...fact("Created", timeNode(item.created_at)),
      ...(isFolder ? [] : fact("Version", String(item.version || 1))),
      ...(isFolder || !item.text_recognition ? [] : fact("Text", recognition(item.text_recognition))),
      ...fact("Owner", item.owned === false ? "Shared with you" : "You"),
    ];
    const buttons = [
      isFolder ? null : el("button", { type: "button", class: "small", "data-details": "versions", text: "Versions…" }),
      browser.allowed(item, "share") ? el("button", { type: "button", class: "small", "data-details": "share", text: "Share…" }) : null,
      browser.allowed(item, "rename") ? el("button", { type: "button", class: "small", "data-details": "rename", text: "Rename…" }) : null,
      browser.allowed(item, "move") ? el("button", { type: "button", class: "small", "data-details": "move", text: "Move…" }) : null,
    ];
    const thumb =
      !isFolder && item.preview_url
        ? el("img", { class: "details-thumb", src: new URL(item.preview_url, location.href).pathname, alt: `Preview of ${quoted(item.name)}` })
        : el("span", { class: `details-icon icon ${isFolder ? "folder" : "file"}`, "aria-hidden": "true" });
    body.replaceChildren(
      thumb,
      el("p", { class: "details-name", "data-testid": "details-name", text: item.name }),
      el("p", { class: "details-star", text: item.starred ? "★ Starred" : "" }),
      el("dl", { class: "facts" }, facts),
      el("div", { class: "details-tags" }, [el("h3", { text: "Tags" }), tagChips(item.tags, `Tags of ${quoted(item.name)}`) || el("p", { class: "muted", text: "No tags." })]),
      el("div", { class: "row" }, buttons),
      el("h3", { text: "Shared with" }),
      el("ul", { class: "details-list", id: "details-shares" }, [el("li", { class: "muted", text: "…" })]),
      el("h3", { text: "Recent activity" }),
      el("ul", { class: "details-list", id: "details-activity", "data-testid": "details-activity" }, [el("li", { class: "muted", text: "…" })]),
    );
    const shares = item.owned === false ? null : fetchAll("shares/?page_size=200").catch(() => null);
    const events = api("GET", `activity/?object=${encodeURIComponent(item.id)}&page_size=5`).catch(() => null);
    const [shareRows, eventPage] = await Promise.all([shares, events]);
    if (run !== generation) return;
    const shareList = $("details-shares");
    const mine = (shareRows || []).filter((s) => s.item && s.item.id === item.id);
    shareList.replaceChildren(
      ...(item.owned === false
        ? [el("li", { class: "muted", text: "Only its owner sees who has access." })]
        : mine.length
          ? mine.map((s) => el("li", { text: `${s.recipient || s.username} (${s.permission})` }))
          : [el("li", { class: "muted", text: "Nobody: only you." })]),
    );
    const rows = eventPage && eventPage.results ? eventPage.results : [];
    $("details-activity").replaceChildren(
      ...(rows.length
        ? rows.map((e) => el("li", { title: e.action }, [timeNode(e.created_at), " ", e.summary || e.action]))
        : [el("li", { class: "muted", text: eventPage ? "Nothing recorded yet." : "Could not load the activity." })]),
    );
  }

  $("details-body").addEventListener("click", function (event) {
    const button = event.target.closest("[data-details]");
    const found = shown && browser.itemOf(shown);
    if (!button || !found) return;
    const action = browser.actions[button.dataset.details];
    if (action) action(found.item, found.kind);
  });

  // Follow the selection and the keyboard.
  let timer = null;
  function follow() {
    clearTimeout(timer);
    timer = setTimeout(() => show(current()), 60);
  }
  browser.afterRender.push(() => show(current(), true));
  $("items").addEventListener("focusin", follow);
  $("items-grid").addEventListener("focusin", follow);
  $("items").addEventListener("click", follow);
  $("items-grid").addEventListener("click", follow);
  $("select-all").addEventListener("change", follow);

  browser.actions.details = function (item, kind) {
    browser.selectOnly(keyOf(kind, item.id));
    if (panel.hidden) setOpen(true, true);
    else {
      show({ item, kind, key: keyOf(kind, item.id) }, true);
      $("details-h").focus();
    }
  };

  if (stored() && window.matchMedia("(min-width: 1100px)").matches) setOpen(true);
}
