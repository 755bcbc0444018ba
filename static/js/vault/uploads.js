// The file browser's uploads: files from "Upload files" (#upload-input), folders from "Upload folder"
// (#folder-input, webkitRelativePath) and anything dropped anywhere on the page (folders read with
// webkitGetAsEntry). One request per file (large ones resumable: resumable.js), at most MAX_PARALLEL at once, each with its own progress bar,
// status and Cancel; folders are created first (a same-name folder already there is reused, empty ones too),
// each shown on its own row. A name already taken asks first (#conflict-dialog: Replace, Keep both, Skip,
// optionally for the rest of that upload) while the other uploads go on; files with no known conflict are
// sent with on_conflict=error, and a 409 asks the same question and sends again. The overall line
// (#upload-overall-text, aria-live) counts files and ends a batch with one sentence ("5 uploaded, 1 skipped");
// the bytes are beside it, not announced. Leaving with an upload running asks first.
import { $, el, formatBytes, parseJson, quoted } from "../locker.js";
import { api, fetchAll, messageOf, say, xhrTo } from "./common.js";
import { RESUMABLE_FROM, startResumable } from "./resumable.js";
import { flatten, nameKey, setupUploadSources } from "./upload-sources.js";
import { liveLine, plural, summary } from "./upload-status.js";

const MAX_PARALLEL = 3;
const PENDING = new Set(["queued", "waiting", "asking", "creating", "uploading", "saving"]);
const SENDING = new Set(["uploading", "saving"]);
const LIVE_EVERY_MS = 3000; // the live line says how far along at most this often while a batch runs
const MAX_RETRIES = 3; // of a 429 (too many requests), after its Retry-After

export function setupUploads(browser) {
  const { state } = browser;
  const items = []; // rows of the list: files ({kind: "file"}) and folders ({kind: "folder"})
  let round = 0; // the overall bar's batch: everything added since the list was last idle
  const uploadList = $("upload-list");
  const liveText = $("upload-overall-text");
  const bytesText = el("span", { id: "upload-overall-bytes", class: "muted upload-bytes", "data-testid": "upload-overall-bytes" });
  liveText.after(bytesText);

  const pending = () => items.filter((i) => PENDING.has(i.state));
  const files = () => items.filter((i) => i.kind === "file");

  // Where uploads may go from here, or why not.
  function refusal() {
    if (state.place && state.place !== "folder") return "Uploads go into a folder: open Files or one of your folders, then add the files there.";
    const access = state.access;
    if (access && access.permission === "view") {
      return `This folder is shared with you to view only, so files cannot be added here. Ask ${access.owner} for edit permission.`;
    }
    return null;
  }

  function currentName() {
    if (state.path && state.path.length) return state.path[state.path.length - 1].name;
    return state.folderId ? "this folder" : "Files";
  }

  // --- rows ---

  // An error is announced (role=alert) unless `quiet`: the files of a folder that failed are not, one by one.
  function setState(item, next, text, quiet) {
    item.state = next;
    item.li.dataset.state = next;
    item.li.classList.toggle("failed", next === "error");
    if (text !== undefined) item.status.textContent = text;
    if (next === "error" && !quiet) item.status.setAttribute("role", "alert");
    else item.status.removeAttribute("role");
    if (!PENDING.has(next) && item.cancel) {
      item.cancel.remove();
      item.cancel = null;
      item.xhr = null;
    }
  }

  function fileRow(file, group, node, label) {
    const u = {
      kind: "file",
      file,
      name: file.name,
      group,
      round,
      node, // the folder node it goes into (a folder upload), or null: the folder the upload started in
      folder: node ? undefined : group.folderId,
      onConflict: "error",
      replaceRefused: false, // a folder holds the name: "Replace" cannot work
      retries: 0,
      state: "queued",
      loaded: 0,
      xhr: null,
      max: Math.max(file.size, 1),
    };
    u.bar = el("progress", { max: u.max, value: 0, "aria-label": `Upload of ${quoted(label)}` });
    u.status = el("span", { class: "upload-status", text: "Waiting…" });
    u.cancel = el("button", { type: "button", class: "small", "aria-label": `Cancel upload of ${quoted(label)}`, text: "Cancel" });
    u.cancel.addEventListener("click", () => cancel(u));
    u.li = el("li", { class: "upload", "data-testid": "upload-item", "data-kind": "file", "data-state": "queued" }, [
      el("span", { class: "upload-name", title: label, text: file.name }),
      el("span", { class: "upload-size muted", text: formatBytes(file.size) }),
      u.bar,
      u.status,
      u.cancel,
    ]);
    if (label !== file.name) u.li.firstChild.prepend(el("span", { class: "upload-path muted", text: label.slice(0, -file.name.length) }));
    return u;
  }

  function folderRow(node) {
    node.status = el("span", { class: "upload-status", text: "Waiting…" });
    node.li = el("li", { class: "upload upload-folder", "data-testid": "upload-item", "data-kind": "folder", "data-state": "waiting" }, [
      el("span", { class: "upload-name" }, [el("span", { class: "icon folder", "aria-hidden": "true" }), el("span", { class: "sr-only", text: "Folder " }), node.path]),
      el("span", { class: "upload-size muted", text: plural(node.fileCount, "file", "files") }),
      node.status,
    ]);
  }

  // --- adding ---

  // One user action (a pick, a drop): its files, and for a folder upload its tree of folder nodes
  // ({name, path, parent, children, files}). The conflict choice "for the other files of this upload" is per group.
  function addUpload(looseFiles, tree) {
    const why = refusal();
    if (why) {
      say(why, "error");
      return;
    }
    const nodes = tree ? flatten(tree) : [];
    if (!looseFiles.length && !nodes.length) return;
    if (!pending().length) {
      round += 1;
      // a new batch: forget finished rows except failures (those stay until "Clear finished")
      for (const item of items.filter((i) => !PENDING.has(i.state) && i.state !== "error")) item.li.remove();
      items.splice(0, items.length, ...items.filter((i) => i.state === "error"));
    }
    const group = { folderId: state.folderId || null, folderName: currentName(), choice: null, listings: new Map(), size: looseFiles.length };
    const root = { id: group.folderId, resolved: true, failed: false, path: group.folderName };
    const taken = new Map(); // names in the listing shown now (the folder we upload into)
    for (const folder of state.folders || []) taken.set(nameKey(folder.name), { kind: "folder", name: folder.name });
    for (const file of state.files || []) taken.set(nameKey(file.name), { kind: "file", name: file.name });
    for (const file of looseFiles) {
      const u = fileRow(file, group, null, file.name);
      items.push(u);
      uploadList.append(u.li);
      const clash = taken.get(nameKey(file.name));
      if (clash) {
        u.takenBy = clash.name;
        askAbout(u, clash.kind === "folder");
      }
    }
    for (const node of nodes) {
      node.kind = "folder";
      node.group = group;
      node.round = round;
      node.parent = node.parent || root;
      node.state = "waiting";
      folderRow(node);
      items.push(node);
      uploadList.append(node.li);
      for (const { file, path } of node.files) {
        const u = fileRow(file, group, node, path);
        setState(u, "waiting", "Waiting for its folder…");
        node.rows.push(u);
        items.push(u);
        uploadList.append(u.li);
        group.size += 1;
      }
      folderQueue.push(node);
    }
    $("uploads").hidden = false;
    runFolders();
    pump();
    updateOverall();
  }

  // --- folders: created one at a time, parents first; files wait for theirs ---

  const folderQueue = [];
  let creating = false;

  async function runFolders() {
    if (creating) return;
    creating = true;
    try {
      while (folderQueue.length) await ensureFolder(folderQueue.shift());
    } finally {
      creating = false;
    }
  }

  function errorText(err) {
    if (err && err.status === 404) return messageOf(404, err.body);
    return err && err.message ? err.message : "Something went wrong in this page; reload it and try again.";
  }

  async function ensureFolder(node) {
    const parent = node.parent;
    if (parent.failed) {
      folderFailed(node, `Not created: the folder ${quoted(parent.path)} could not be created.`);
      return;
    }
    setState(node, "creating", "Creating…");
    updateOverall();
    try {
      let folder = await existingFolder(node.group, parent.id, node.name, false);
      let text = "Added to the folder already there";
      if (!folder) {
        try {
          folder = await api("POST", "folders/", { name: node.name, parent: parent.id, on_conflict: "error" });
          text = "Created";
        } catch (err) {
          if (err.status !== 409) throw err;
          // made meanwhile, or a file holds the name: reuse the folder, or create one with a free name
          folder = await existingFolder(node.group, parent.id, node.name, true);
          if (!folder) {
            folder = await api("POST", "folders/", { name: node.name, parent: parent.id, on_conflict: "rename" });
            text = `Created as ${quoted(folder.name)}: a file has the name ${quoted(node.name)}`;
          }
        }
      }
      node.id = folder.id;
      node.resolved = true;
      setState(node, "done", text);
      for (const u of node.rows) {
        if (u.state !== "waiting") continue;
        u.folder = folder.id;
        setState(u, "queued", "Waiting…");
      }
      browser.refreshSoon();
    } catch (err) {
      folderFailed(node, errorText(err));
    }
    pump();
  }

  function folderFailed(node, text) {
    node.failed = true;
    setState(node, "error", text);
    for (const u of node.rows) if (u.state === "waiting") setState(u, "error", `Not uploaded: its folder ${quoted(node.path)} could not be created.`, true);
    updateOverall();
  }

  // The folder named `name` in `parentId` (null: the top level), from the listing read once per upload.
  async function existingFolder(group, parentId, name, fresh) {
    const key = parentId || "";
    if (fresh || !group.listings.has(key)) {
      const listing = fetchAll(`folders/?${parentId ? `parent=${encodeURIComponent(parentId)}&` : ""}page_size=200`);
      group.listings.set(key, listing);
      listing.catch(() => group.listings.delete(key));
    }
    const wanted = nameKey(name);
    return (await group.listings.get(key)).find((f) => nameKey(f.name) === wanted) || null;
  }

  // --- the same name already there: ask, once for the rest of the upload if so chosen ---

  const questions = []; // [{u, canReplace}] waiting for the dialog, the first one shown
  const dialog = $("conflict-dialog");
  let returnFocus = null;

  function askAbout(u, folderHasName) {
    if (folderHasName) u.replaceRefused = true;
    const remembered = u.group.choice;
    if (remembered && !(remembered === "version" && u.replaceRefused)) {
      answer(u, remembered);
      return;
    }
    setState(u, "asking", "The name is taken: waiting for your answer…");
    questions.push(u);
    if (questions.length === 1) showQuestion();
    else showWaiting();
    updateOverall();
  }

  function showQuestion() {
    const u = questions[0];
    const where = u.node ? u.node.path : u.group.folderName;
    const folderHas = u.replaceRefused;
    $("conflict-h").textContent = folderHas ? "A folder with this name is already here" : "A file with this name is already here";
    const there = u.takenBy || u.name;
    const same = there !== u.name ? `, the same name as ${quoted(u.name)} to Locker (case and accents do not count)` : "";
    $("conflict-text").textContent = folderHas
      ? `${quoted(where)} has a folder named ${quoted(there)}${same}. Keep both to upload the file with a free name, or skip it.`
      : `${quoted(where)} already has a file named ${quoted(there)}${same}.`;
    $("conflict-replace").hidden = folderHas;
    $("conflict-replace-help").hidden = folderHas;
    const others = u.group.size > 1;
    $("conflict-all-row").hidden = !others;
    $("conflict-all").checked = false;
    showWaiting();
    if (!dialog.open) {
      const active = document.activeElement;
      returnFocus = active && active !== document.body && !dialog.contains(active) ? active : null;
      dialog.showModal();
    }
    $("conflict-keep").focus(); // the answer that changes nothing already there
  }

  // How many more questions wait behind this one (the checkbox answers those of the same upload).
  function showWaiting() {
    const waiting = questions.length - 1;
    $("conflict-more").textContent = waiting > 0 ? `${plural(waiting, "more file has", "more files have")} the same question.` : "";
  }

  function answered(choice) {
    const u = questions.shift();
    if (!u) return;
    if (choice && $("conflict-all").checked && !$("conflict-all-row").hidden) {
      u.group.choice = choice;
      // the questions of this upload that the choice answers go without asking
      for (const other of questions.filter((q) => q.group === u.group && !(choice === "version" && q.replaceRefused))) {
        questions.splice(questions.indexOf(other), 1);
        answer(other, choice);
      }
    }
    answer(u, choice || "skip");
    nextQuestion();
  }

  function nextQuestion() {
    if (questions.length) {
      showQuestion();
      return;
    }
    if (dialog.open) dialog.close();
    const target = returnFocus && returnFocus.isConnected && !returnFocus.closest("[hidden]") ? returnFocus : $("folder-title");
    returnFocus = null;
    if (target) target.focus();
  }

  function answer(u, choice) {
    if (u.state === "cancelled") return;
    if (choice === "skip") {
      setState(u, "skipped", "Skipped: the name is taken");
      u.bar.value = 0;
    } else {
      u.onConflict = choice;
      setState(u, "queued", choice === "version" ? "Waiting… (will replace)" : "Waiting… (will keep both)");
    }
    pump();
  }

  $("conflict-form").addEventListener("submit", function (event) {
    event.preventDefault(); // the dialog stays open while there are more questions
    answered(event.submitter ? event.submitter.value : "skip");
  });
  dialog.addEventListener("cancel", function (event) {
    event.preventDefault(); // Escape: this file is skipped, the next question (if any) is shown
    answered("skip");
  });

  // --- sending ---

  function pump() {
    while (items.filter((i) => SENDING.has(i.state)).length < MAX_PARALLEL) {
      const next = items.find((i) => i.kind === "file" && i.state === "queued");
      if (!next) break;
      start(next);
    }
    updateOverall();
  }

  function start(u) {
    if (u.file.size >= RESUMABLE_FROM) return startResumable(u, { setState, updateOverall, finished, fail, pump });
    const xhr = xhrTo("POST", "files/");
    u.xhr = xhr;
    u.loaded = 0;
    setState(u, "uploading", "Uploading…");
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable || !e.total || u.xhr !== xhr) return;
      u.loaded = Math.min(u.max, (e.loaded / e.total) * u.max);
      u.bar.value = u.loaded;
      updateOverall();
    });
    xhr.upload.addEventListener("load", function () {
      if (u.state !== "uploading" || u.xhr !== xhr) return;
      u.loaded = u.max;
      u.bar.value = u.max;
      setState(u, "saving", "Saving…");
      updateOverall();
    });
    xhr.addEventListener("load", function () {
      if (u.xhr !== xhr) return;
      u.xhr = null;
      finished(u, xhr.status, parseJson(xhr.responseText), xhr.getResponseHeader("Retry-After"));
      pump();
    });
    xhr.addEventListener("error", function () {
      if (u.xhr !== xhr) return;
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
    form.append("on_conflict", u.onConflict);
    form.append("file", u.file, u.file.name);
    xhr.send(form);
  }

  function finished(u, status, body, retryAfter) {
    const result = Array.isArray(body) ? body[0] : body && Array.isArray(body.results) ? body.results[0] : null;
    if (status === 201 && result && result.ok) {
      u.loaded = u.max;
      u.bar.value = u.max;
      const name = result.file ? result.file.name : u.file.name;
      let text = "Uploaded";
      if (result.created === false) text = `Replaced: now version ${result.file ? result.file.version : "new"} of ${quoted(name)}`;
      else if (name !== u.file.name.normalize("NFC").trim()) text = `Uploaded as ${quoted(name)}`;
      setState(u, "done", text);
      browser.refreshSoon();
      return;
    }
    const code = (result && result.code) || (body && body.code) || "";
    if (status === 409 && code === "name_conflict") {
      u.bar.value = 0;
      u.loaded = 0;
      // "Replace" answered and still refused: a folder holds the name
      askAbout(u, u.onConflict === "version");
      return;
    }
    if (status === 429 && u.retries < MAX_RETRIES) {
      u.retries += 1;
      u.bar.value = 0;
      u.loaded = 0;
      const seconds = Math.min(Math.max(Number(retryAfter) || 5, 1), 60);
      setState(u, "waiting", `Too many uploads at once: trying again in ${seconds} s…`);
      setTimeout(function () {
        if (u.state !== "waiting") return;
        setState(u, "queued", "Waiting…");
        pump();
      }, seconds * 1000);
      return;
    }
    // a 404 is a folder that went away or a share that no longer lets one add: the page's own wording says which
    fail(u, status !== 404 && result && result.detail ? result.detail : messageOf(status, body));
  }

  const fail = (u, text) => setState(u, "error", text);

  function cancel(u) {
    if (u.xhr) {
      u.xhr.abort();
      return;
    }
    const wasAsked = questions[0] === u;
    const at = questions.indexOf(u);
    if (at >= 0) questions.splice(at, 1);
    setState(u, "cancelled", "Cancelled");
    u.bar.value = 0;
    if (wasAsked) nextQuestion();
    else showWaiting();
    pump();
  }

  // --- the overall line: a bar, the bytes, and a live sentence ---

  let announcedRound = 0;
  const live = liveLine(liveText, LIVE_EVERY_MS);

  function updateOverall() {
    const current = files().filter((u) => u.round === round);
    const folders = items.filter((i) => i.kind === "folder" && i.round === round);
    const counted = current.filter((u) => u.state !== "cancelled");
    const finishedState = (u) => u.state === "done" || u.state === "error" || u.state === "skipped";
    const total = counted.reduce((sum, u) => sum + u.max, 0);
    const loaded = counted.reduce((sum, u) => sum + (finishedState(u) ? u.max : u.loaded), 0);
    const overall = $("upload-overall");
    overall.max = Math.max(total, 1);
    overall.value = Math.min(loaded, overall.max);
    const busy = pending().length > 0;
    if (busy) {
      const bytesDone = counted.reduce((s, u) => s + (finishedState(u) ? u.file.size : (u.loaded / u.max) * u.file.size), 0);
      const bytesAll = counted.reduce((s, u) => s + u.file.size, 0);
      bytesText.textContent = `${formatBytes(bytesDone)} of ${formatBytes(bytesAll)}`;
      overall.setAttribute("aria-valuetext", bytesText.textContent);
      const done = counted.filter((u) => u.state === "done").length;
      const asking = counted.filter((u) => u.state === "asking").length;
      let text = `${done} of ${counted.length} uploaded`;
      if (asking) text += `, ${asking} waiting for your answer`;
      live.set(text, false);
    } else {
      bytesText.textContent = "";
      overall.removeAttribute("aria-valuetext");
      if (announcedRound !== round || live.waiting()) live.set(summary(current, folders), true);
      announcedRound = round;
    }
    $("uploads").dataset.state = busy ? "busy" : "idle";
    $("clear-uploads").hidden = pending().length === items.length;
  }

  $("clear-uploads").addEventListener("click", function () {
    for (const item of items.filter((i) => !PENDING.has(i.state))) item.li.remove();
    items.splice(0, items.length, ...pending());
    if (!items.length) $("uploads").hidden = true;
    updateOverall();
  });

  setupUploadSources({ addUpload, refusal, currentName });

  window.addEventListener("beforeunload", function (event) {
    if (pending().length) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
}
