// A file's versions (the file browser's "Versions" dialog): list, download, restore one, and upload a
// new version (PUT with If-Match: a change made elsewhere is refused, not overwritten).
import { $, el, formatBytes, parseJson, quoted } from "../locker.js";
import { API, api, ApiError, messageOf, timeNode, xhrTo } from "./common.js";

export function setupVersions(browser) {
  const versionsDialog = $("versions-dialog");
  let versionsOf = null; // the file (with its current etag)

  async function openVersions(file) {
    versionsOf = file;
    $("versions-h").textContent = `Versions of ${quoted(file.name)}`;
    $("versions-error").textContent = "";
    $("version-status").textContent = "";
    $("version-progress").hidden = true;
    $("version-input").value = "";
    $("versions-list").replaceChildren();
    versionsDialog.showModal();
    await loadVersions();
  }

  function versionRow(file, v) {
    return el("tr", { "data-testid": "version-row", "data-number": v.number, class: v.current ? "current" : null }, [
      el("td", {}, [
        `Version ${v.number}`,
        v.current ? el("span", { class: "tag", text: "current" }) : null,
        v.author ? el("span", { class: "version-author", "data-testid": "version-author", text: `by ${v.author}` }) : null,
      ]),
      el("td", { class: "num", text: formatBytes(v.size) }),
      el("td", {}, [timeNode(v.created_at)]),
      el("td", { class: "actions" }, [
        el("div", { class: "action-row" }, [
          el("a", {
            href: `${API}files/${file.id}/versions/${v.number}/content`,
            class: "button small",
            download: true,
            "aria-label": `Download version ${v.number}`,
            text: "Download",
          }),
          v.current
            ? null
            : el("button", { type: "button", class: "small", "data-restore": v.number, "aria-label": `Restore version ${v.number}`, text: "Restore" }),
        ]),
      ]),
    ]);
  }

  async function loadVersions() {
    const file = versionsOf;
    if (!file) return;
    try {
      const [fresh, versions] = await Promise.all([api("GET", `files/${file.id}/`), api("GET", `files/${file.id}/versions/`)]);
      if (versionsOf !== file) return;
      versionsOf = fresh;
      $("versions-list").replaceChildren(...versions.results.map((v) => versionRow(fresh, v)));
    } catch (err) {
      $("versions-error").textContent = err instanceof ApiError ? err.message : "Could not list the versions.";
    }
  }

  $("versions-list").addEventListener("click", async function (event) {
    const button = event.target.closest("button[data-restore]");
    if (!button || !versionsOf) return;
    const number = Number(button.dataset.restore);
    button.disabled = true;
    $("versions-error").textContent = "";
    try {
      const version = await api("POST", `files/${versionsOf.id}/versions/${number}/restore`);
      $("version-progress").hidden = true;
      $("version-status").textContent = `Restored version ${number} as version ${version.number}.`;
      await loadVersions();
      browser.refreshSoon();
    } catch (err) {
      $("versions-error").textContent = err instanceof ApiError ? err.message : "Could not restore.";
      button.disabled = false;
    }
  });

  $("version-input").addEventListener("change", function (event) {
    const input = event.target;
    const chosen = input.files && input.files[0];
    if (!chosen || !versionsOf) return;
    const file = versionsOf;
    const bar = $("version-progress");
    const status = $("version-status");
    $("versions-error").textContent = "";
    bar.max = Math.max(chosen.size, 1);
    bar.value = 0;
    bar.hidden = false;
    status.textContent = `Uploading ${quoted(chosen.name)}…`;
    input.disabled = true;
    const xhr = xhrTo("PUT", `files/${file.id}/content`);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    if (file.etag) xhr.setRequestHeader("If-Match", file.etag); // refuse to overwrite a change made elsewhere
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable && e.total) bar.value = (e.loaded / e.total) * bar.max;
    });
    const finish = function () {
      input.disabled = false;
      input.value = "";
    };
    xhr.addEventListener("load", async function () {
      finish();
      const body = parseJson(xhr.responseText);
      if (xhr.status === 200 && body && body.id) {
        bar.value = bar.max;
        status.textContent = `Saved as version ${body.version}.`;
        if (versionsOf && versionsOf.id === file.id) await loadVersions();
        browser.refreshSoon();
      } else {
        bar.hidden = true;
        status.textContent = "";
        $("versions-error").textContent = messageOf(xhr.status, body);
      }
    });
    xhr.addEventListener("error", function () {
      finish();
      bar.hidden = true;
      status.textContent = "";
      $("versions-error").textContent = messageOf(0, null);
    });
    xhr.send(chosen);
  });

  versionsDialog.addEventListener("close", function () {
    versionsOf = null;
  });

  browser.actions.versions = openVersions;
}
