// Where the file browser's uploads come from (uploads.js does the sending): "Upload files" (#upload-input),
// "Upload folder" (#folder-input, webkitRelativePath), and files or folders dropped anywhere on the page (folders
// read with webkitGetAsEntry; #drop-overlay names where they go, or why they cannot). Also the pure helpers:
// the server's name comparison, and a folder tree from paths.
import { $, quoted } from "../locker.js";
import { say } from "./common.js";

// Names compare as the server's name index does (clean_name, then locker/crypto/blind.py normalize):
// trimmed, NFC, then compatibility forms, accents dropped, case folded, runs of spaces as one.
export function nameKey(name) {
  return String(name)
    .trim()
    .normalize("NFC")
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toUpperCase()
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .join(" ");
}

// A tree from paths: [{path: "Trip/day 1/a.jpg", file}] -> the root's folder nodes, parents first.
export function treeOf(entries, emptyDirs) {
  const top = { children: new Map() };
  function nodeAt(parts) {
    let here = top;
    let path = "";
    for (const part of parts) {
      path = path ? `${path}/${part}` : part;
      if (!here.children.has(part)) here.children.set(part, { name: part, path, parent: here === top ? null : here, children: new Map(), files: [], rows: [] });
      here = here.children.get(part);
    }
    return here;
  }
  for (const parts of emptyDirs || []) nodeAt(parts);
  for (const { path, file } of entries) {
    const parts = path.split("/").filter(Boolean);
    nodeAt(parts.slice(0, -1)).files.push({ file, path: parts.join("/") });
  }
  return top;
}

export function flatten(top) {
  const out = [];
  const walk = (node) => {
    for (const child of node.children.values()) {
      out.push(child);
      walk(child);
    }
  };
  walk(top);
  for (const node of out) node.fileCount = count(node);
  return out;
}

function count(node) {
  let n = node.files.length;
  for (const child of node.children.values()) n += count(child);
  return n;
}


// setupUploadSources({addUpload(looseFiles, tree), refusal() -> why not or null, currentName() -> folder name})
export function setupUploadSources({ addUpload, refusal, currentName }) {
  // --- the pickers ---

  const picker = $("upload-input");
  $("choose-files").addEventListener("click", () => picker.click());
  picker.addEventListener("change", function () {
    addUpload(Array.from(picker.files || []), null);
    picker.value = "";
  });

  const folderPicker = $("folder-input");
  $("choose-folder").addEventListener("click", () => folderPicker.click());
  folderPicker.addEventListener("change", function () {
    const chosen = Array.from(folderPicker.files || []);
    folderPicker.value = "";
    const loose = chosen.filter((f) => !(f.webkitRelativePath || "").includes("/"));
    const inFolders = chosen.filter((f) => (f.webkitRelativePath || "").includes("/"));
    addUpload(loose, inFolders.length ? treeOf(inFolders.map((file) => ({ path: file.webkitRelativePath, file }))) : null);
  });

  // --- drag and drop anywhere on the page ---

  const overlay = $("drop-overlay");
  const overlayText = overlay.querySelector("p") || overlay;
  const overlayWords = Array.from(overlayText.childNodes);
  let dragDepth = 0;
  let dragWatch = null;
  // Files from outside the page carry "Files"; rows dragged within the page (moves) do not.
  const hasFiles = (event) => event.dataTransfer && Array.from(event.dataTransfer.types || []).includes("Files");

  function showOverlay() {
    const why = refusal();
    overlay.classList.toggle("refused", Boolean(why));
    if (why) overlayText.replaceChildren(why);
    else {
      overlayText.replaceChildren(...overlayWords);
      $("drop-target-name").textContent = currentName();
    }
    overlay.hidden = false;
  }

  function hideOverlay() {
    dragDepth = 0;
    clearTimeout(dragWatch);
    overlay.hidden = true;
  }

  document.addEventListener("dragenter", function (event) {
    if (!hasFiles(event)) return;
    dragDepth += 1;
    if (overlay.hidden) showOverlay();
  });
  document.addEventListener("dragleave", function (event) {
    if (!hasFiles(event)) return;
    dragDepth = Math.max(0, dragDepth - 1);
    if (!dragDepth) hideOverlay();
  });
  document.addEventListener("dragover", function (event) {
    if (!hasFiles(event)) return;
    event.preventDefault(); // else the browser opens the file instead of dropping it here
    event.dataTransfer.dropEffect = "copy"; // also where uploads are refused: the drop then says why
    if (overlay.hidden) showOverlay();
    // dragover repeats while files are over the page: if it stops (left the window unnoticed), hide
    clearTimeout(dragWatch);
    dragWatch = setTimeout(hideOverlay, 1500);
  });
  // The overlay goes whatever handles the drop (a view-only share's own handler stops it on the way).
  window.addEventListener("drop", hideOverlay, true);
  window.addEventListener("dragend", hideOverlay, true);
  document.addEventListener("drop", function (event) {
    if (!hasFiles(event)) return; // text dropped into an input stays the browser's business
    event.preventDefault();
    hideOverlay();
    const loose = [];
    const folders = [];
    const transfer = event.dataTransfer;
    const dropped = Array.from(transfer.items || []);
    if (dropped.length) {
      // entries must be taken now: the items are emptied once this handler returns
      for (const item of dropped) {
        if (item.kind !== "file") continue;
        const entry = item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
        if (entry && entry.isDirectory) folders.push(entry);
        else {
          const file = item.getAsFile();
          if (file) loose.push(file);
        }
      }
    } else {
      loose.push(...Array.from(transfer.files || []));
    }
    if (!folders.length) {
      addUpload(loose, null);
      return;
    }
    if (refusal()) {
      addUpload([], null); // says why
      return;
    }
    readFolders(folders).then(
      ({ entries, emptyDirs, unread }) => {
        if (unread.length) say(`Could not read ${unread.map(quoted).join(", ")} from your computer; the rest is being uploaded.`, "error");
        addUpload(loose, treeOf(entries, emptyDirs));
      },
      () => say("Could not read the dropped folders from your computer; nothing was uploaded.", "error"),
    );
  });

  // Every file under the dropped folders, with its path from the dropped folder on, and the folders that
  // hold none (created too). readEntries answers in chunks: it is called until it returns nothing.
  async function readFolders(roots) {
    const entries = [];
    const emptyDirs = [];
    const unread = [];
    async function walk(dir, parts) {
      let children = [];
      try {
        const reader = dir.createReader();
        for (;;) {
          const chunk = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
          if (!chunk.length) break;
          children = children.concat(Array.from(chunk));
        }
      } catch (err) {
        unread.push(parts.join("/"));
        return;
      }
      if (!children.length) emptyDirs.push(parts);
      for (const child of children) {
        if (child.isDirectory) await walk(child, [...parts, child.name]);
        else if (child.isFile) {
          try {
            const file = await new Promise((resolve, reject) => child.file(resolve, reject));
            entries.push({ path: [...parts, child.name].join("/"), file });
          } catch (err) {
            unread.push([...parts, child.name].join("/"));
          }
        }
      }
    }
    for (const dir of roots) await walk(dir, [dir.name]);
    return { entries, emptyDirs, unread };
  }
}
