// Sharing in the file browser: the "Share" dialog of an item of yours (people, with what each may do, and
// public links), the "Shared with me" and "Shared by me" sections of the top level, and, in a folder someone
// shares with you, who shared it and what you may do there (listing.js hides the buttons you may not use).
import { $, el, localDay, quoted } from "../locker.js";
import { API, api, ApiError, explainNotFound, fetchAll, folderHref, noteHref, say, sayError, timeNode } from "./common.js";

// What each permission lets the other person do, in plain words.
export const PERMISSIONS = {
  view: { choice: "Can view", help: "They can see and download it.", short: "can view", sentence: "see and download what is here" },
  edit: { choice: "Can edit", help: "They can also add, rename and move things, and save new versions.", short: "can edit", sentence: "see, download, add, rename and move things here" },
  delete: { choice: "Can edit and delete", help: "They can also move things to the trash.", short: "can edit and delete", sentence: "see, download, add, change and delete things here" },
};

const KIND_WORD = { folder: "folder", file: "file", note: "note" };
const DAY_MS = 24 * 60 * 60 * 1000;

export function permissionSelect(value, label, testid) {
  return el(
    "select",
    { "aria-label": label, "data-testid": testid },
    Object.entries(PERMISSIONS).map(([key, p]) => el("option", { value: key, selected: key === value, text: p.choice })),
  );
}

function itemName(item) {
  return item && item.name ? item.name : "(an item that cannot be opened)";
}

function itemIcon(kind) {
  return el("span", { class: `icon ${kind === "note" ? "note" : kind === "folder" ? "folder" : "file"}`, "aria-hidden": "true" });
}

// Where a shared item opens: a folder in the file browser, a file's download, a note in the editor.
function itemHref(item) {
  if (item.kind === "folder") return folderHref(item.id);
  if (item.kind === "note") return noteHref(item.id);
  return `${API}files/${encodeURIComponent(item.id)}/content`;
}

export function setupSharing(browser) {
  const { state } = browser;
  const dialog = $("share-dialog");
  let sharing = null; // {id, kind, name} of the item the dialog is about

  // --- the dialog: people ---

  function openShare(item, kind) {
    sharing = { id: item.id, kind, name: item.name };
    $("share-h").textContent = `Share ${quoted(item.name)}`;
    $("share-intro").textContent =
      kind === "folder"
        ? "Share with someone who has an account here. They get this folder and everything in it, now and later."
        : `Share with someone who has an account here. They can open this ${KIND_WORD[kind] || "item"} from their own files.`;
    $("share-form").reset();
    $("share-permission").value = "view";
    showPermissionHelp();
    for (const id of ["share-username-error", "share-error", "share-list-error", "link-error"]) $(id).textContent = "";
    $("share-username").removeAttribute("aria-invalid");
    $("link-part").hidden = kind === "note"; // public links are for files and folders
    $("link-form").reset();
    $("link-expiry").value = "7";
    $("link-created").hidden = true;
    $("link-url").value = "";
    $("share-list").replaceChildren();
    $("link-list").replaceChildren();
    dialog.showModal();
    $("share-username").focus();
    loadShares();
    if (kind !== "note") loadLinks();
  }

  function showPermissionHelp() {
    $("share-permission-help").textContent = (PERMISSIONS[$("share-permission").value] || PERMISSIONS.view).help;
  }
  $("share-permission").addEventListener("change", showPermissionHelp);

  function shareRow(share) {
    const select = permissionSelect(share.permission, `What ${share.recipient} may do`, "share-permission");
    select.dataset.share = share.id;
    select.dataset.was = share.permission;
    return el("li", { class: "share-row", "data-testid": "share-row", "data-id": share.id }, [
      el("span", { class: "share-who" }, [el("strong", { text: share.recipient }), el("span", { class: "muted", text: ` · since ${localDay(new Date(share.created_at))}` })]),
      el("div", { class: "share-controls" }, [
        select,
        el("button", { type: "button", class: "small danger-text", "data-unshare": share.id, "data-name": share.recipient, "aria-label": `Stop sharing with ${share.recipient}`, text: "Stop sharing" }),
      ]),
    ]);
  }

  async function loadShares() {
    const item = sharing;
    const list = $("share-list");
    list.setAttribute("aria-busy", "true");
    try {
      const shares = (await fetchAll("shares/?page_size=200")).filter((s) => s.item && s.item.id === item.id);
      if (sharing !== item) return;
      list.replaceChildren(...shares.map(shareRow));
      $("share-none").hidden = shares.length > 0;
    } catch (err) {
      if (sharing !== item) return;
      $("share-list-error").textContent = err instanceof ApiError ? err.message : "Could not list who has access.";
    } finally {
      list.removeAttribute("aria-busy");
    }
  }

  $("share-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    if (!sharing) return;
    const input = $("share-username");
    const fieldError = $("share-username-error");
    const username = input.value.trim();
    fieldError.textContent = "";
    $("share-error").textContent = "";
    input.removeAttribute("aria-invalid");
    const invalid = function (text) {
      fieldError.textContent = text;
      input.setAttribute("aria-invalid", "true");
      input.focus();
    };
    if (!username) return invalid("Type the username of the person to share with.");
    const permission = $("share-permission").value;
    const button = event.target.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const share = await api("POST", "shares/", { item: sharing.id, username, permission });
      input.value = "";
      $("share-status").textContent = `Shared with ${share.recipient}: they ${PERMISSIONS[share.permission].short}.`;
      await loadShares();
      loadSections();
      input.focus();
    } catch (err) {
      if (!(err instanceof ApiError)) invalid("Something went wrong in this page; reload it and try again.");
      else if (err.code === "unknown_user") invalid(`Nobody here has the username ${quoted(username)}. Check the spelling.`);
      else if (err.code === "already_shared") invalid(`This is already shared with ${username}: change what they may do in the list below.`);
      else if (err.status === 400 && err.body.errors && err.body.errors.username) invalid(err.body.errors.username.join(" ") === "That is you." ? "That is your own username: you already have this." : err.message);
      else if (err.status === 404) $("share-error").textContent = "This item is no longer in your files (deleted or moved to the trash?).";
      else $("share-error").textContent = err.message;
    } finally {
      button.disabled = false;
    }
  });

  $("share-list").addEventListener("change", async function (event) {
    const select = event.target.closest("select[data-share]");
    if (!select) return;
    $("share-list-error").textContent = "";
    select.disabled = true;
    try {
      const share = await api("PATCH", `shares/${select.dataset.share}/`, { permission: select.value });
      select.dataset.was = share.permission;
      $("share-status").textContent = `${share.recipient} ${PERMISSIONS[share.permission].short} now.`;
      loadSections();
    } catch (err) {
      select.value = select.dataset.was;
      $("share-list-error").textContent = err instanceof ApiError ? err.message : "Could not change the permission.";
    } finally {
      select.disabled = false;
      select.focus();
    }
  });

  $("share-list").addEventListener("click", async function (event) {
    const button = event.target.closest("button[data-unshare]");
    if (!button || !sharing) return;
    const who = button.dataset.name;
    if (!window.confirm(`Stop sharing ${quoted(sharing.name)} with ${who}? They lose access at once.`)) return;
    button.disabled = true;
    try {
      await api("DELETE", `shares/${button.dataset.unshare}/`);
      $("share-status").textContent = `Stopped sharing with ${who}.`;
      await loadShares();
      loadSections();
      $("share-username").focus();
    } catch (err) {
      button.disabled = false;
      $("share-list-error").textContent = err instanceof ApiError ? err.message : "Could not stop sharing.";
    }
  });

  // --- the dialog: public links ---

  function linkRow(link) {
    const now = Date.now();
    const expired = Date.parse(link.expires_at) <= now;
    const usedUp = link.max_downloads !== null && link.downloads >= link.max_downloads;
    const facts = [
      expired ? "Expired " : "Works until ",
      timeNode(link.expires_at),
      ` · ${link.views} ${link.views === 1 ? "view" : "views"}`,
      ` · ${link.downloads}${link.max_downloads ? ` of ${link.max_downloads}` : ""} ${link.downloads === 1 && !link.max_downloads ? "download" : "downloads"}`,
      link.has_password ? " · password" : "",
      usedUp ? " · download limit reached" : "",
    ];
    return el("li", { class: `share-row${expired || usedUp ? " ended" : ""}`, "data-testid": "link-row", "data-id": link.id }, [
      el("span", { class: "share-who" }, [el("strong", { text: "Link" }), " made ", timeNode(link.created_at), el("br"), el("span", { class: "muted" }, facts)]),
      el("div", { class: "share-controls" }, [
        el("button", { type: "button", class: "small danger-text", "data-unlink": link.id, "aria-label": `Turn off the link made ${new Date(link.created_at).toLocaleString()}`, text: expired || usedUp ? "Remove" : "Turn off" }),
      ]),
    ]);
  }

  async function loadLinks() {
    const item = sharing;
    try {
      const links = (await fetchAll("links/?page_size=200")).filter((l) => l.item && l.item.id === item.id);
      if (sharing !== item) return;
      $("link-list").replaceChildren(...links.map(linkRow));
      $("link-none").hidden = links.length > 0;
    } catch (err) {
      if (sharing !== item) return;
      $("link-error").textContent = err instanceof ApiError ? err.message : "Could not list the links.";
    }
  }

  $("link-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    if (!sharing) return;
    const error = $("link-error");
    error.textContent = "";
    const days = Number($("link-expiry").value) || 7;
    // 30 days is the longest a link may last: a few minutes less, so a clock running ahead is no matter.
    const expires = new Date(Date.now() + days * DAY_MS - (days >= 30 ? 5 * 60 * 1000 : 0));
    const body = { item: sharing.id, expires_at: expires.toISOString() };
    const password = $("link-password").value;
    if (password) body.password = password;
    const maxText = $("link-max").value.trim();
    if (maxText) {
      const max = Number(maxText);
      if (!Number.isInteger(max) || max < 1) {
        error.textContent = "The download limit is a whole number, 1 or more (or leave it empty for no limit).";
        $("link-max").focus();
        return;
      }
      body.max_downloads = max;
    }
    const button = event.target.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const link = await api("POST", "links/", body);
      $("link-form").reset();
      $("link-expiry").value = "7";
      $("link-url").value = link.url;
      $("link-created").hidden = false;
      $("link-copied").textContent = "";
      $("link-url").focus();
      $("link-url").select();
      loadLinks();
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.message : "Could not create the link.";
    } finally {
      button.disabled = false;
    }
  });

  $("link-copy").addEventListener("click", function () {
    const input = $("link-url");
    const status = $("link-copied");
    const selectIt = function () {
      input.focus();
      input.select();
      status.textContent = "The link is selected: press Ctrl+C (⌘C on a Mac) to copy it.";
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(() => (status.textContent = "Copied the link."), selectIt);
    } else selectIt();
  });

  $("link-list").addEventListener("click", async function (event) {
    const button = event.target.closest("button[data-unlink]");
    if (!button) return;
    if (button.textContent === "Turn off" && !window.confirm("Turn this link off? Anyone who has it will no longer be able to open it.")) return;
    button.disabled = true;
    try {
      await api("DELETE", `links/${button.dataset.unlink}/`);
      $("share-status").textContent = "The link is off.";
      await loadLinks();
    } catch (err) {
      button.disabled = false;
      $("link-error").textContent = err instanceof ApiError ? err.message : "Could not turn the link off.";
    }
  });

  dialog.addEventListener("close", function () {
    sharing = null;
    $("share-status").textContent = "";
  });

  // --- the top level: shared with me, shared by me ---

  function sharedWithMeRow(share) {
    const item = share.item || {};
    const p = PERMISSIONS[share.permission] || PERMISSIONS.view;
    const link = el("a", { href: itemHref(item), class: "item-name", download: item.kind === "file" ? true : null, text: itemName(item) });
    return el("li", { class: "share-row", "data-testid": "shared-with-me-row", "data-id": share.id, "data-kind": item.kind }, [
      el("span", { class: "share-who" }, [itemIcon(item.kind), link, el("br"), el("span", { class: "muted", text: `From ${share.owner} · you ${p.short}` })]),
      el("div", { class: "share-controls" }, [
        el("button", { type: "button", class: "small", "data-leave": share.id, "data-name": itemName(item), "data-owner": share.owner, "aria-label": `Leave ${quoted(itemName(item))}`, text: "Leave" }),
      ]),
    ]);
  }

  function sharedByMeRow(share) {
    const item = share.item || {};
    const p = PERMISSIONS[share.permission] || PERMISSIONS.view;
    const name = item.kind === "file" ? el("strong", { class: "item-name", text: itemName(item) }) : el("a", { href: itemHref(item), class: "item-name", text: itemName(item) });
    return el("li", { class: "share-row", "data-testid": "shared-by-me-row", "data-id": share.id, "data-kind": item.kind }, [
      el("span", { class: "share-who" }, [itemIcon(item.kind), name, el("br"), el("span", { class: "muted", text: `With ${share.recipient} · they ${p.short}` })]),
      el("div", { class: "share-controls" }, [
        el("button", { type: "button", class: "small", "data-manage": share.id, "aria-label": `Manage the sharing of ${quoted(itemName(item))}`, text: "Manage" }),
      ]),
    ]);
  }

  let byMe = [];
  async function loadSections() {
    if (state.folderId || !$("shared-with-me")) return;
    const fill = async function (section, path, row) {
      try {
        const shares = await fetchAll(path);
        $(`${section}-list`).replaceChildren(...shares.map(row));
        $(`${section}-list`).hidden = !shares.length;
        $(`${section}-empty`).hidden = shares.length > 0;
        $(`${section}-error`).textContent = "";
        return shares;
      } catch (err) {
        $(`${section}-error`).textContent = err instanceof ApiError ? err.message : "Could not load this list.";
        return [];
      } finally {
        $(section).hidden = false;
      }
    };
    const [, mine] = await Promise.all([fill("shared-with-me", "shared-with-me/?page_size=200", sharedWithMeRow), fill("shared-by-me", "shares/?page_size=200", sharedByMeRow)]);
    byMe = mine;
    if (window.location.hash === "#shared-with-me") $("shared-with-me-h").scrollIntoView();
  }

  if ($("shared-with-me")) {
    $("shared-with-me-list").addEventListener("click", async function (event) {
      const button = event.target.closest("button[data-leave]");
      if (!button) return;
      const { name, owner } = button.dataset;
      if (!window.confirm(`Leave ${quoted(name)}? You will no longer see it; ${owner} would have to share it with you again.`)) return;
      button.disabled = true;
      try {
        await api("DELETE", `shares/${button.dataset.leave}/`);
        say(`You left ${quoted(name)}.`, "success");
        await loadSections();
        $("shared-with-me-h").focus();
      } catch (err) {
        button.disabled = false;
        sayError(err, `Could not leave ${quoted(name)}.`);
      }
    });
    $("shared-by-me-list").addEventListener("click", function (event) {
      const button = event.target.closest("button[data-manage]");
      const share = button && byMe.find((s) => s.id === button.dataset.manage);
      if (share) openShare({ id: share.item.id, name: itemName(share.item) }, share.item.kind);
    });
  }

  // --- inside a folder someone shares with you ---

  // After the breadcrumbs: in a shared folder (the top of the path is not ours), find the share it comes
  // from, say who shared it and what we may do, and let listing.js hide the buttons we may not use.
  async function describeAccess() {
    const top = state.path[0];
    const note = $("shared-note");
    if (!top || top.owned !== false) {
      note.hidden = true;
      return;
    }
    explainNotFound("You cannot do that here: this folder is shared with you and what you may do in it does not include it (or it is no longer shared with you).");
    let share = null;
    try {
      const shares = state.sharedWithMe || (await fetchAll("shared-with-me/?page_size=200"));
      const ids = state.path.map((f) => f.id);
      share = shares.find((s) => s.item && s.item.kind === "folder" && ids.includes(s.item.id)) || null;
    } catch (err) {
      return; // the listing shows every button; the server still decides
    }
    if (!share) return;
    const p = PERMISSIONS[share.permission] || PERMISSIONS.view;
    note.replaceChildren(el("strong", { text: `Shared with you by ${share.owner}.` }), ` You can ${p.sentence}.`);
    note.hidden = false;
    state.access = { owner: share.owner, permission: share.permission };
    if (share.permission === "view") {
      explainNotFound(`This folder is shared with you to view only, so nothing can be added or changed here. Ask ${share.owner} for edit permission.`);
    }
    for (const button of document.querySelectorAll("[data-adds]")) button.hidden = share.permission === "view";
    if ($("items-loading").hidden) browser.renderListing(); // else the listing, on its way, will use it
  }

  // Files dropped into a folder we may only view: the server would refuse them; say why instead.
  document.addEventListener(
    "drop",
    function (event) {
      const access = state.access;
      if (!access || access.permission !== "view" || !event.dataTransfer) return;
      if (!Array.from(event.dataTransfer.types || []).includes("Files")) return;
      event.preventDefault();
      event.stopImmediatePropagation(); // not for uploads.js: nothing is sent
      $("drop-overlay").hidden = true;
      say(`This folder is shared with you to view only, so files cannot be added here. Ask ${access.owner} for edit permission.`, "error");
    },
    true,
  );

  browser.afterPath.push(describeAccess);
  browser.actions.share = openShare;
  // A share with us began, changed or ended (vault/live.js): the lists of the top level, or inside a shared
  // folder what we may do there, are read again.
  browser.reloadShares = function () {
    state.sharedWithMe = null;
    if (!state.folderId) return loadSections();
    return browser.loadPath().catch(function () {
      /* the folder is no longer ours to see: the listing's reload says so */
    });
  };
  loadSections();
}
