// Exports prepared in the background (docs/export.md, "Large accounts"): started from the export form with
// "Prepare it in the background", listed under it with their progress while they are built (polled every two
// seconds), then a download link and a Delete button. The server keeps a ready one for a day.
import { $, el, formatBytes } from "../locker.js";

const POLL_MS = 2000;

function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function exportJobs({ api, say }) {
  const box = $("export-jobs");
  const list = $("export-jobs-list");
  let timer = null;

  function item(job) {
    const made = `made ${when(job.created_at)}`;
    const remove = el("button", { type: "button", class: "small", "data-job": job.id, "data-testid": "export-job-delete", text: "Delete" });
    remove.setAttribute("aria-label", `Delete the export ${made}`);
    if (job.status === "running") {
      const done = Math.min(job.done_bytes, job.total_bytes);
      const share = job.total_bytes ? Math.floor((done * 100) / job.total_bytes) : 0;
      const bar = el("progress", { max: String(job.total_bytes || 1), value: String(done) });
      bar.setAttribute("aria-label", `Export ${made}: ${share}%`);
      return el("li", { class: "export-job", "data-status": "running", "data-testid": "export-job" }, [
        el("span", { text: `Being built (${made}): ${share}%, ${formatBytes(done)} of ${formatBytes(job.total_bytes)} of files. ` }),
        bar,
      ]);
    }
    if (job.status === "ready") {
      const link = el("a", { href: job.content_url, class: "button small primary", download: "", "data-testid": "export-job-download", text: "Download" });
      link.setAttribute("aria-label", `Download the export ${made} (${formatBytes(job.size)})`);
      return el("li", { class: "export-job", "data-status": "ready", "data-testid": "export-job" }, [
        el("span", { text: `Ready: ${formatBytes(job.size)}, ${made}, kept until ${when(job.expires_at)}. ` }),
        link,
        " ",
        remove,
      ]);
    }
    return el("li", { class: "export-job", "data-status": "failed", "data-testid": "export-job" }, [
      el("span", { text: `${job.error || "The export failed."} (${made}) ` }),
      remove,
    ]);
  }

  async function refresh() {
    clearTimeout(timer);
    let jobs = [];
    try {
      jobs = (await api("GET", "me/exports/")).results || [];
    } catch (err) {
      return; // the section still works without the list; the next action says what is wrong
    }
    box.hidden = !jobs.length;
    list.replaceChildren(...jobs.map(item));
    if (jobs.some((job) => job.status === "running")) timer = setTimeout(refresh, POLL_MS);
  }

  list.addEventListener("click", async function (event) {
    const button = event.target.closest("button[data-job]");
    if (!button) return;
    button.disabled = true;
    try {
      await api("DELETE", `me/exports/${button.dataset.job}/`);
      say("The export was deleted.");
    } catch (err) {
      say(err.message || "Could not delete the export.", true);
    }
    await refresh();
    const next = list.querySelector("a, button");
    (next || $("export-submit")).focus();
  });

  // Start one: the form's fields as JSON (the page stays; the list shows it being built).
  async function start(passphrase, allVersions) {
    const job = await api("POST", "me/export", { passphrase, all_versions: allVersions, background: true });
    await refresh();
    return job;
  }

  refresh();
  return { start, refresh };
}
