// "Your data" on the settings page (templates/vault/your_data.html; docs/export.md): the personal export and import.
//
// Export: a real form post to /api/v1/me/export (session cookie + CSRF token), so the browser's download manager
// saves the zip as it streams, with its own progress; the page never holds the zip. Here the passphrase is only
// checked first (8 characters at least, typed the same twice) and cleared once the download has been asked for.
//
// Import: the zip, its passphrase and the mode go to /api/v1/me/import with an XMLHttpRequest, for its upload
// progress; then the server checks the whole archive and writes (or, for "Check only", reports what it would write).
// Its report is shown in words; its errors (`detail`) in the section's alert region.
import { $, el, formatBytes, jsonApi, quoted, SIGNED_OUT } from "../locker.js";
import { exportJobs } from "./export-jobs.js";

const MIN_PASSPHRASE = 8;
const MAX_PASSPHRASE = 1024;
const FIELDS = ["archive", "passphrase", "mode", "dry_run", "non_field_errors"];

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

// ["a", "b", "c"] -> "a, b and c"
function joined(parts) {
  if (parts.length < 2) return parts.join("");
  return `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}`;
}

function count(counts, key) {
  const n = counts && Number(counts[key]);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

// {files: 5, versions: 3, folders: 3, notes: 1, chats: 1} -> "5 files (3 older versions), 3 folders, 1 note and
// 1 chat"; "" when every count is 0.
export function countsPhrase(counts) {
  const parts = [];
  const files = count(counts, "files");
  const versions = count(counts, "versions");
  const older = plural(versions, "older version", "older versions");
  if (files) parts.push(versions ? `${plural(files, "file", "files")} (${older})` : plural(files, "file", "files"));
  else if (versions) parts.push(older);
  if (count(counts, "folders")) parts.push(plural(count(counts, "folders"), "folder", "folders"));
  if (count(counts, "notes")) parts.push(plural(count(counts, "notes"), "note", "notes"));
  if (count(counts, "chats")) parts.push(plural(count(counts, "chats"), "chat", "chats"));
  return joined(parts);
}

// The server's report as sentences: what was (or would be) created, what was skipped as already here.
export function reportSentences(report) {
  const made = countsPhrase(report.created);
  const kept = countsPhrase(report.skipped);
  const size = made && report.bytes > 0 ? ` (${formatBytes(report.bytes)})` : "";
  const sentences = [];
  const kinds = ["files", "folders", "notes", "chats"].map((key) => count(report.skipped, key)).filter(Boolean);
  const already = kept ? `: ${kept} ${kinds.length === 1 && kinds[0] === 1 ? "is" : "are"} already here` : "";
  if (report.dry_run) {
    const where = report.folder ? ` in ${quoted(report.folder)}` : " in your folders";
    sentences.push("Nothing was written.");
    sentences.push(made ? `An import would create ${made}${where}${size}.` : `An import would create nothing new${already}.`);
    if (made && kept) sentences.push(`It would skip ${kept} already here.`);
  } else {
    const where = report.folder ? ` into ${quoted(report.folder)}` : " into your folders";
    sentences.push(made ? `Imported ${made}${where}${size}.` : `Nothing new was imported${already}.`);
    if (made && kept) sentences.push(`Skipped ${kept} already here.`);
  }
  return sentences;
}

// [...value].length: characters as the server counts them (code points), not UTF-16 units.
function length(value) {
  return [...value].length;
}

function setInvalid(input, invalid) {
  if (invalid) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

function exportPart(root) {
  const form = $("export-form");
  const passphrase = $("export-passphrase");
  const confirm = $("export-confirm");
  const error = $("export-error");
  const status = $("export-status");
  if (!form || !passphrase || !confirm) return;
  const { api } = jsonApi({ base: "/api/v1/", csrf: root.dataset.csrf || "", fields: ["passphrase", "non_field_errors"] });
  const jobs = exportJobs({
    api,
    say: function (text, bad) {
      status.textContent = bad ? "" : text;
      if (bad) error.replaceChildren(el("p", { class: "msg error", text }));
    },
  });

  function problem() {
    if (length(passphrase.value) < MIN_PASSPHRASE) {
      return [passphrase, `Choose a passphrase of at least ${MIN_PASSPHRASE} characters (this one has ${length(passphrase.value)}).`];
    }
    if (length(passphrase.value) > MAX_PASSPHRASE) return [passphrase, `A passphrase may have at most ${MAX_PASSPHRASE.toLocaleString("en-US")} characters.`];
    if (confirm.value !== passphrase.value) return [confirm, "The two passphrases are not the same: type it again in both fields."];
    return null;
  }

  for (const input of [passphrase, confirm]) {
    input.addEventListener("input", function () {
      setInvalid(input, false);
      if (error.textContent && !problem()) error.replaceChildren();
    });
  }

  form.addEventListener("submit", function (event) {
    const found = problem();
    setInvalid(passphrase, false);
    setInvalid(confirm, false);
    if (found) {
      event.preventDefault();
      const [input, text] = found;
      setInvalid(input, true);
      status.textContent = "";
      error.replaceChildren(el("p", { class: "msg error", text }));
      input.focus();
      return;
    }
    error.replaceChildren();
    if ($("export-background") && $("export-background").checked) {
      event.preventDefault(); // the server builds it; the list below the form follows it
      const submit = $("export-submit");
      submit.disabled = true;
      jobs
        .start(passphrase.value, $("export-versions").checked)
        .then(
          function () {
            status.textContent = "Locker is preparing your export: it shows below, and you are told when it is ready.";
            passphrase.value = "";
            confirm.value = "";
          },
          function (err) {
            error.replaceChildren(el("p", { class: "msg error", text: err.message || "Could not start the export." }));
          },
        )
        .finally(function () {
          submit.disabled = false;
        });
      return;
    }
    // The post goes ahead (the token is the page's own, in the form); the browser saves the answer as a download.
    status.textContent = "Your download starts in a moment; your browser shows its progress. The zip is built while it downloads, so its size is not known in advance.";
    // Cleared once the browser has read the form (after this event): the passphrase does not stay in the page.
    setTimeout(function () {
      passphrase.value = "";
      confirm.value = "";
    }, 0);
  });
}

function importPart(root) {
  const form = $("import-form");
  const archive = $("import-archive");
  const passphrase = $("import-passphrase");
  const buttons = [$("import-check"), $("import-run")];
  const box = $("import-progress-box");
  const bar = $("import-progress");
  const label = $("import-progress-label");
  const error = $("import-error");
  const out = $("import-report");
  if (!form || !archive || !passphrase) return;
  const { xhrTo, messageOf } = jsonApi({ base: "/api/v1/", csrf: root.dataset.csrf || "", fields: FIELDS });
  let busy = false;

  function showError(text, status) {
    const line = el("p", { class: "msg error" }, [text]);
    if (SIGNED_OUT.includes(status) && root.dataset.loginUrl) line.append(" ", el("a", { href: root.dataset.loginUrl, text: "Sign in again" }));
    error.replaceChildren(line);
  }

  function working(on) {
    busy = on;
    for (const button of buttons) button.disabled = on;
    form.setAttribute("aria-busy", on ? "true" : "false");
    if (on) {
      box.hidden = false;
      bar.max = 1;
      bar.value = 0;
    } else {
      box.hidden = true;
    }
  }

  // Where the keyboard focus goes at the end: the answer, unless the user has moved on to something else.
  function focusAnswer(target) {
    const active = document.activeElement;
    if (!active || active === document.body || buttons.includes(active)) target.focus();
  }

  function showReport(report) {
    const nodes = [el("p", { text: reportSentences(report).join(" ") })];
    const failed = Array.isArray(report.failed) ? report.failed : [];
    if (failed.length) {
      nodes.push(el("p", { text: `${plural(failed.length, "item", "items")} could not be ${report.dry_run ? "checked" : "imported"}:` }));
      nodes.push(
        el(
          "ul",
          { class: "data-failed", "data-testid": "import-failed" },
          failed.map((f) => el("li", {}, [el("span", { class: "data-path", text: String((f && f.path) || "") }), `: ${String((f && f.reason) || "failed")}`])),
        ),
      );
    }
    if (!report.dry_run && countsPhrase(report.created) && root.dataset.filesUrl) {
      nodes.push(el("p", {}, [el("a", { href: root.dataset.filesUrl, text: "Open your files" })]));
    }
    out.replaceChildren(el("div", { class: `msg ${failed.length ? "warning" : "success"}` }, nodes));
  }

  function send(dryRun) {
    const file = archive.files && archive.files[0];
    const data = new FormData();
    data.append("archive", file, file.name);
    data.append("passphrase", passphrase.value);
    data.append("mode", (form.querySelector("input[name=mode]:checked") || { value: "new_folder" }).value);
    data.append("dry_run", dryRun ? "true" : "false");
    const total = file.size;
    const xhr = xhrTo("POST", "me/import");
    working(true);
    label.textContent = `Uploading 0 B of ${formatBytes(total)}`;
    xhr.upload.addEventListener("progress", function (e) {
      const size = e.lengthComputable && e.total ? e.total : total;
      bar.max = size || 1;
      bar.value = Math.min(e.loaded, size);
      label.textContent = `Uploading ${formatBytes(Math.min(e.loaded, size))} of ${formatBytes(size)}`;
    });
    xhr.upload.addEventListener("load", function () {
      bar.removeAttribute("value"); // the server's part has no measure: an indeterminate bar
      label.textContent = dryRun ? "Checking…" : "Checking and importing…";
    });
    xhr.addEventListener("load", function () {
      working(false);
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch (err) {
        body = null;
      }
      if ((xhr.status === 200 || xhr.status === 201) && body && body.created) {
        showReport(body);
        focusAnswer(out);
      } else {
        showError(messageOf(xhr.status, body), xhr.status);
        focusAnswer(error);
      }
    });
    xhr.addEventListener("error", function () {
      working(false);
      showError(messageOf(0, null), 0);
      focusAnswer(error);
    });
    xhr.send(data);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) return;
    const dryRun = !(event.submitter && event.submitter.value === "false");
    error.replaceChildren();
    out.replaceChildren();
    setInvalid(archive, false);
    setInvalid(passphrase, false);
    if (!archive.files || !archive.files.length) {
      setInvalid(archive, true);
      showError("Choose the exported zip to import.");
      archive.focus();
      return;
    }
    if (!passphrase.value) {
      setInvalid(passphrase, true);
      showError("Type the passphrase the zip was exported with.");
      passphrase.focus();
      return;
    }
    send(dryRun);
  });

  archive.addEventListener("change", function () {
    setInvalid(archive, false);
    out.replaceChildren();
    error.replaceChildren();
  });
}

export function yourData(root) {
  exportPart(root);
  importPart(root);
}
