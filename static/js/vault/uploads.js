// The file browser's uploads: one request per file (at most MAX_PARALLEL at once), each with its own
// progress bar and Cancel, an overall bar for the batch; files come from the picker or are dropped
// anywhere on the page (folders are skipped with a message). Leaving with an upload running asks first.
import { $, el, formatBytes, parseJson, quoted } from "../locker.js";
import { messageOf, say, xhrTo } from "./common.js";

const MAX_PARALLEL = 3;
const PENDING = new Set(["queued", "uploading", "saving"]);

export function setupUploads(browser) {
  const uploads = [];
  let batch = 0;
  const uploadList = $("upload-list");

  function pending() {
    return uploads.filter((u) => PENDING.has(u.state));
  }

  function addFiles(files) {
    if (!files.length) return;
    if (!pending().length) {
      batch += 1;
      // a new batch: forget finished successes (failures stay until "Clear finished")
      for (const u of uploads.filter((u) => u.state === "done")) u.li.remove();
      uploads.splice(0, uploads.length, ...uploads.filter((u) => u.state !== "done"));
    }
    for (const file of files) {
      const u = { file, batch, folder: browser.state.folderId, state: "queued", loaded: 0, xhr: null, max: Math.max(file.size, 1) };
      u.bar = el("progress", { max: u.max, value: 0, "aria-label": `Upload of ${quoted(file.name)}` });
      u.status = el("span", { class: "upload-status", text: "Waiting…" });
      u.cancel = el("button", { type: "button", class: "small", "aria-label": `Cancel upload of ${quoted(file.name)}`, text: "Cancel" });
      u.cancel.addEventListener("click", () => cancel(u));
      u.li = el("li", { class: "upload", "data-testid": "upload-item", "data-state": "queued" }, [
        el("span", { class: "upload-name", text: file.name }),
        el("span", { class: "upload-size muted", text: formatBytes(file.size) }),
        u.bar,
        u.status,
        u.cancel,
      ]);
      uploads.push(u);
      uploadList.append(u.li);
    }
    $("uploads").hidden = false;
    pump();
    updateOverall();
  }

  function setState(u, next, text) {
    u.state = next;
    u.li.dataset.state = next;
    u.li.classList.toggle("failed", next === "error");
    if (text !== undefined) u.status.textContent = text;
    if (!PENDING.has(next)) {
      u.cancel.remove();
      u.xhr = null;
    }
  }

  function pump() {
    while (uploads.filter((u) => u.state === "uploading" || u.state === "saving").length < MAX_PARALLEL) {
      const next = uploads.find((u) => u.state === "queued");
      if (!next) break;
      start(next);
    }
    updateOverall();
  }

  function start(u) {
    const xhr = xhrTo("POST", "files/");
    u.xhr = xhr;
    setState(u, "uploading", "Uploading…");
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable || !e.total) return;
      u.loaded = Math.min(u.max, (e.loaded / e.total) * u.max);
      u.bar.value = u.loaded;
      updateOverall();
    });
    xhr.upload.addEventListener("load", function () {
      if (u.state !== "uploading") return;
      u.loaded = u.max;
      u.bar.value = u.max;
      setState(u, "saving", "Saving…");
      updateOverall();
    });
    xhr.addEventListener("load", function () {
      const body = parseJson(xhr.responseText);
      const result = Array.isArray(body) ? body[0] : body && Array.isArray(body.results) ? body.results[0] : null;
      if (xhr.status === 201 && result && result.ok) {
        u.loaded = u.max;
        u.bar.value = u.max;
        const name = result.file ? result.file.name : u.file.name;
        let text = "Uploaded";
        if (result.created === false) text = `Saved as version ${result.file ? result.file.version : "new"} of ${quoted(name)}`;
        else if (name !== u.file.name.normalize("NFC").trim()) text = `Uploaded as ${quoted(name)}`;
        setState(u, "done", text);
        browser.refreshSoon();
      } else {
        // a 404 is a folder that went away or a share that no longer lets one add: the page's own wording says which
        fail(u, xhr.status !== 404 && result && result.detail ? result.detail : messageOf(xhr.status, body));
      }
      pump();
    });
    xhr.addEventListener("error", function () {
      fail(u, "Network error: the upload did not finish; nothing was stored.");
      pump();
    });
    xhr.addEventListener("abort", function () {
      setState(u, "cancelled", "Cancelled");
      u.bar.value = 0;
      pump();
    });
    const form = new FormData();
    if (u.folder) form.append("folder", u.folder);
    form.append("file", u.file, u.file.name);
    xhr.send(form);
  }

  function fail(u, text) {
    setState(u, "error", text);
    u.status.setAttribute("role", "alert");
  }

  function cancel(u) {
    if (u.state === "queued") {
      setState(u, "cancelled", "Cancelled");
      updateOverall();
    } else if (u.xhr) {
      u.xhr.abort();
    }
  }

  function updateOverall() {
    const current = uploads.filter((u) => u.batch === batch && u.state !== "cancelled");
    const finished = (u) => u.state === "done" || u.state === "error";
    const total = current.reduce((sum, u) => sum + u.max, 0);
    const loaded = current.reduce((sum, u) => sum + (finished(u) ? u.max : u.loaded), 0);
    const overall = $("upload-overall");
    overall.max = Math.max(total, 1);
    overall.value = Math.min(loaded, overall.max);
    const done = current.filter((u) => u.state === "done").length;
    const failed = current.filter((u) => u.state === "error").length;
    const waiting = pending().length;
    let text = `${done} of ${current.length} uploaded`;
    if (failed) text += `, ${failed} failed`;
    if (waiting) text += ` · ${formatBytes(current.reduce((s, u) => s + (finished(u) ? u.file.size : (u.loaded / u.max) * u.file.size), 0))} of ${formatBytes(current.reduce((s, u) => s + u.file.size, 0))}`;
    $("upload-overall-text").textContent = text;
    $("uploads").dataset.state = waiting ? "busy" : "idle";
    $("clear-uploads").hidden = waiting === uploads.length;
  }

  $("clear-uploads").addEventListener("click", function () {
    for (const u of uploads.filter((u) => !PENDING.has(u.state))) u.li.remove();
    uploads.splice(0, uploads.length, ...pending());
    if (!uploads.length) $("uploads").hidden = true;
    updateOverall();
  });

  const picker = $("upload-input");
  $("choose-files").addEventListener("click", () => picker.click());
  picker.addEventListener("change", function () {
    addFiles(Array.from(picker.files || []));
    picker.value = "";
  });

  // Drag and drop anywhere on the page; only files (folders are skipped with a message).
  const dropZone = $("drop-zone");
  let dragDepth = 0;
  const hasFiles = (event) => event.dataTransfer && Array.from(event.dataTransfer.types || []).includes("Files");
  document.addEventListener("dragenter", function (event) {
    if (!hasFiles(event)) return;
    dragDepth += 1;
    dropZone.classList.add("dragging");
  });
  document.addEventListener("dragleave", function (event) {
    if (!hasFiles(event)) return;
    dragDepth = Math.max(0, dragDepth - 1);
    if (!dragDepth) dropZone.classList.remove("dragging");
  });
  document.addEventListener("dragover", function (event) {
    if (!hasFiles(event)) return;
    event.preventDefault(); // else the browser opens the file instead of dropping it here
    event.dataTransfer.dropEffect = "copy";
  });
  document.addEventListener("drop", function (event) {
    if (!hasFiles(event)) return; // text dropped into an input stays the browser's business
    event.preventDefault();
    dragDepth = 0;
    dropZone.classList.remove("dragging");
    const files = [];
    let skipped = 0;
    const items = Array.from(event.dataTransfer.items || []);
    if (items.length) {
      for (const item of items) {
        if (item.kind !== "file") continue;
        const entry = item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
        if (entry && entry.isDirectory) {
          skipped += 1;
          continue;
        }
        const file = item.getAsFile();
        if (file) files.push(file);
      }
    } else {
      files.push(...Array.from(event.dataTransfer.files || []));
    }
    if (skipped) say(`${skipped === 1 ? "A folder was" : `${skipped} folders were`} skipped: drop the files inside instead.`, "error");
    addFiles(files);
  });

  window.addEventListener("beforeunload", function (event) {
    if (pending().length) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
}
