// Resumable uploads for large files (tus 1.0 at /api/v1/uploads/, docs/uploads.md). A file of RESUMABLE_FROM
// bytes or more is sent in pieces of PIECE bytes, each a PATCH from the offset the server has; the upload's
// address is kept in localStorage under the file's name, size, date and target, so that after a dropped
// connection (retried at once, a few times) or a page reload (when the same file is chosen again for the same
// folder) it goes on from the bytes already stored instead of sending them again. Cancel terminates the upload:
// the server deletes its bytes.
import { formatBytes, parseJson } from "../locker.js";
import { api, xhrTo } from "./common.js";

export const RESUMABLE_FROM = 8 * 1024 * 1024;
const PIECE = 4 * 1024 * 1024;
const KEY = "locker.upload:";
const RETRY_DELAYS_MS = [1000, 3000, 10000]; // after a network error, before asking the server for its offset
const TUS = { "Tus-Resumable": "1.0.0" };

function base64(text) {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function remembered(file, target) {
  return KEY + JSON.stringify([file.name, file.size, file.lastModified, target.folder || "", target.onConflict]);
}

function forget(key) {
  try {
    localStorage.removeItem(key);
  } catch (_) {
    // storage refused (private mode): the upload simply cannot be resumed after a reload
  }
}

function remember(key, path) {
  try {
    localStorage.setItem(key, path);
  } catch (_) {
    // as above
  }
}

function recalled(key) {
  try {
    return localStorage.getItem(key);
  } catch (_) {
    return null;
  }
}

// sendResumable(file, {folder, onConflict}, hooks) -> {abort()}. hooks: resumed(offset), progress(bytes),
// saving(), done(status, body, retryAfter) with the body of POST /files/ on success, failed(text), aborted().
export function sendResumable(file, target, hooks) {
  const key = remembered(file, target);
  let current = null;
  let stopped = false;
  let path = null;

  function call(method, url, headers, body, onProgress) {
    return new Promise(function (resolve, reject) {
      const xhr = xhrTo(method, url);
      current = xhr;
      for (const [name, value] of Object.entries({ ...TUS, ...headers })) xhr.setRequestHeader(name, value);
      if (onProgress) {
        xhr.upload.addEventListener("progress", (e) => e.lengthComputable && onProgress(e.loaded, e.total));
      }
      xhr.addEventListener("load", () => resolve(xhr));
      xhr.addEventListener("error", () => reject(new Error("network")));
      xhr.addEventListener("abort", () => reject(new Error("aborted")));
      xhr.send(body === undefined ? null : body);
    });
  }

  async function offsetNow() {
    const xhr = await call("HEAD", path);
    if (xhr.status !== 200 || Number(xhr.getResponseHeader("Upload-Length")) !== file.size) return null;
    return { offset: Number(xhr.getResponseHeader("Upload-Offset")), fileId: xhr.getResponseHeader("Locker-File-Id") };
  }

  async function create() {
    const meta = [["name", file.name], ["on_conflict", target.onConflict]];
    if (target.folder) meta.push(["folder", target.folder]);
    const xhr = await call("POST", "uploads/", {
      "Upload-Length": String(file.size),
      "Upload-Metadata": meta.map(([name, value]) => `${name} ${base64(value)}`).join(","),
    });
    if (xhr.status !== 201) return xhr;
    path = new URL(xhr.getResponseHeader("Location"), window.location.href).pathname;
    remember(key, path);
    return null;
  }

  async function finished(fileId, created) {
    forget(key);
    const stored = await api(`files/${fileId}/`).catch(() => ({ id: fileId, name: file.name }));
    hooks.done(201, [{ ok: true, created, file: stored }]);
  }

  function refused(xhr) {
    const body = parseJson(xhr.responseText);
    if ([404, 409, 410, 413].includes(xhr.status)) forget(key); // the upload is gone or cannot go on
    hooks.done(xhr.status, body, xhr.getResponseHeader("Retry-After"));
  }

  async function send() {
    let offset = 0;
    path = recalled(key);
    const known = path ? await offsetNow() : null;
    if (known && known.fileId) return finished(known.fileId, false);
    if (known) {
      offset = known.offset;
      if (offset) hooks.resumed(offset);
    } else {
      forget(key);
      const refusal = await create();
      if (refusal) return refused(refusal);
    }
    let retries = 0;
    while (!stopped) {
      const end = Math.min(file.size, offset + PIECE);
      let xhr;
      try {
        xhr = await call(
          "PATCH",
          path,
          { "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" },
          file.slice(offset, end),
          function (loaded, total) {
            hooks.progress(offset + loaded);
            if (end === file.size && loaded === total) hooks.saving();
          },
        );
      } catch (err) {
        if (stopped || err.message === "aborted") return;
        if (retries >= RETRY_DELAYS_MS.length) {
          const stored = await offsetNow().catch(() => null);
          const kept = stored ? ` ${formatBytes(stored.offset)} of ${formatBytes(file.size)} are stored:` : "";
          return hooks.failed(`Network error:${kept} choose the file again to go on from there.`);
        }
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAYS_MS[retries]));
        retries += 1;
        const stored = await offsetNow().catch(() => null);
        if (stored) offset = stored.offset;
        continue;
      }
      if (xhr.status === 204) {
        retries = 0;
        offset = Number(xhr.getResponseHeader("Upload-Offset"));
        hooks.progress(offset);
        const fileId = xhr.getResponseHeader("Locker-File-Id");
        if (fileId) return finished(fileId, xhr.getResponseHeader("Locker-File-Created") === "1");
        continue;
      }
      const code = (parseJson(xhr.responseText) || {}).code;
      if (xhr.status === 409 && code === "offset_mismatch") {
        const stored = await offsetNow();
        if (stored) {
          offset = stored.offset;
          continue;
        }
      }
      return refused(xhr);
    }
  }

  send().catch(function (err) {
    if (stopped) return;
    hooks.failed(err && err.message === "network" ? "Network error: the upload could not start." : "The upload failed.");
  });

  return {
    abort() {
      stopped = true;
      if (current) current.abort();
      forget(key);
      if (path) {
        const xhr = xhrTo("DELETE", path);
        xhr.setRequestHeader("Tus-Resumable", "1.0.0");
        xhr.send();
      }
      hooks.aborted();
    },
  };
}

// The file browser's side (uploads.js): one upload row sent resumably, reporting like a plain upload.
export function startResumable(u, page) {
  u.loaded = 0;
  page.setState(u, "uploading", "Uploading…");
  function progress(bytes) {
    if (u.state !== "uploading") return;
    u.loaded = Math.min(u.max, bytes);
    u.bar.value = u.loaded;
    page.updateOverall();
  }
  u.xhr = sendResumable(u.file, { folder: u.folder, onConflict: u.onConflict }, {
    resumed(offset) {
      page.setState(u, "uploading", `Resuming: ${formatBytes(offset)} already stored…`);
      progress(offset);
    },
    progress,
    saving() {
      page.setState(u, "saving", "Saving…");
      page.updateOverall();
    },
    done(status, body, retryAfter) {
      u.xhr = null;
      page.finished(u, status, body, retryAfter);
      page.pump();
    },
    failed(text) {
      u.xhr = null;
      page.fail(u, text);
      page.pump();
    },
    aborted() {
      page.setState(u, "cancelled", "Cancelled");
      u.bar.value = 0;
      page.pump();
    },
  });
}
