// The trash page (templates/vault/trash.html): restore an item where it was, or delete it forever.
import { $, el, formatBytes, quoted } from "../locker.js";
import { api, folderHref, loadQuota, noteHref, say, sayError, timeNode } from "./common.js";

export function trashPage() {
  const tbody = $("trash-items");
  let entries = [];

  async function loadTrash() {
    try {
      const data = await api("GET", "trash/");
      entries = data.results;
      render();
    } catch (err) {
      $("items-loading").hidden = true;
      sayError(err, "Could not load the trash.");
    }
  }

  function render() {
    tbody.replaceChildren(
      ...entries.map((entry) =>
        el("tr", { "data-testid": "trash-row", "data-id": entry.id, "data-kind": entry.kind }, [
          el("td", { class: "name" }, [
            el("span", { class: `icon ${entry.kind}`, "aria-hidden": "true" }),
            el("span", { class: "item-name", text: entry.name }),
            el("span", { class: "sr-only", text: ` (${entry.kind})` }),
          ]),
          el("td", { class: "size num", text: entry.kind === "folder" ? "—" : formatBytes(entry.size) }),
          el("td", { class: "modified" }, [timeNode(entry.trashed_at)]),
          el("td", { class: "actions" }, [
            el("div", { class: "action-row" }, [
              el("button", { type: "button", class: "small", "data-action": "restore", "aria-label": `Restore ${quoted(entry.name)}`, text: "Restore" }),
              el("button", {
                type: "button",
                class: "small danger-text",
                "data-action": "purge",
                "aria-label": `Delete ${quoted(entry.name)} forever`,
                text: "Delete forever",
              }),
            ]),
          ]),
        ]),
      ),
    );
    $("items-loading").hidden = true;
    $("items-empty").hidden = entries.length > 0;
    $("trash-table").hidden = entries.length === 0;
    $("empty-trash").disabled = entries.length === 0;
  }

  // POST trash/{id}/restore restores a note but then answers 404 "No such file." (it serializes the
  // note as a file): when it does, the note itself says whether it is back.
  async function restoreNote(entry) {
    try {
      await api("POST", `trash/${entry.id}/restore`);
    } catch (err) {
      if (err.status !== 404) throw err;
      try {
        await api("GET", `notes/${entry.id}/`);
      } catch (again) {
        throw err;
      }
    }
  }

  // The storage a purge gave back, as the quota bar counts it: the encrypted size of every version purged (the
  // server's `freed`, exactly what GET me's usage went down by). It is a little more than the sizes listed above
  // (a 26 B file takes 67 B encrypted), so the sentence says "of storage" and the page explains it.
  function freedText(result) {
    const freed = typeof result.freed === "number" ? result.freed : 0;
    return freed ? `${formatBytes(freed)} of storage freed` : "no storage was in use";
  }

  tbody.addEventListener("click", async function (event) {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const entry = entries.find((e) => e.id === button.closest("tr").dataset.id);
    if (!entry) return;
    if (button.dataset.action === "restore") {
      button.disabled = true;
      try {
        if (entry.kind === "note") {
          await restoreNote(entry);
          say(`Restored ${quoted(entry.name)}.`, "success", el("a", { href: noteHref(entry.id), text: "Open the note" }));
          loadTrash();
          return;
        }
        const restored = await api("POST", `trash/${entry.id}/restore`);
        const item = restored.kind === "folder" ? restored.folder : restored.file;
        const home = restored.kind === "folder" ? item.parent : item.folder;
        const renamed = item.name !== entry.name ? ` as ${quoted(item.name)}` : "";
        say(`Restored ${quoted(entry.name)}${renamed}.`, "success", el("a", { href: folderHref(home), text: "Open its folder" }));
      } catch (err) {
        sayError(err, `Could not restore ${quoted(entry.name)}.`);
      }
      loadTrash();
    } else if (button.dataset.action === "purge") {
      const what = entry.kind === "folder" ? `the folder ${quoted(entry.name)} and everything in it` : quoted(entry.name);
      if (!window.confirm(`Delete ${what} forever? This cannot be undone.`)) return;
      button.disabled = true;
      try {
        const result = await api("DELETE", `trash/${entry.id}/`);
        say(`Deleted ${quoted(entry.name)} for good: ${freedText(result)}.`, "success");
      } catch (err) {
        sayError(err, `Could not delete ${quoted(entry.name)}.`);
      }
      loadTrash();
      loadQuota();
    }
  });

  $("empty-trash").addEventListener("click", async function () {
    const count = entries.length;
    if (!window.confirm(`Delete all ${count} item${count === 1 ? "" : "s"} in the trash forever? This cannot be undone.`)) return;
    const button = $("empty-trash");
    button.disabled = true;
    try {
      const result = await api("DELETE", "trash/");
      say(`Emptied the trash: ${freedText(result)}.`, "success");
    } catch (err) {
      sayError(err, "Could not empty the trash.");
    }
    loadTrash();
    loadQuota();
  });

  loadTrash();
}
