// The home page (templates/accounts/home.html): recent files with thumbnails, starred items and the storage chart,
// filled from the JSON API; the header card (lock state, quota, quick actions) and the activity table are the
// server's. Read-only: the page only GETs. Loaded again when the tab comes back into view (a file uploaded in
// another tab shows without a reload).
import { $, el, jsonApi, pageUrls, SIGNED_OUT } from "./locker.js";
import { emptyRecent, emptyStarred, recentTile, starredRow } from "./home/items.js";
import { donut, legend, slices } from "./home/storage-chart.js";

const root = $("home");
const RECENT_LIMIT = 8;
const STARRED_LIMIT = 8;
const REFRESH_AFTER_MS = 30_000; // at most this often when the tab is shown again

function sectionError(err, what, ApiError, loginUrl) {
  const text = err instanceof ApiError ? err.message : "Something went wrong in this page; reload it and try again.";
  if (!(err instanceof ApiError)) console.warn(err);
  const parts = [`Could not load ${what}: ${text}`];
  if (err && SIGNED_OUT.includes(err.status)) parts.push(" ", el("a", { href: loginUrl, text: "Sign in again" }));
  return parts;
}

// Show `list` with `children`, or the status line with `message` when there are none.
function fill(status, list, children, message, failed) {
  status.classList.toggle("error", Boolean(failed));
  if (children && children.length) {
    list.replaceChildren(...children);
    list.hidden = false;
    status.hidden = true;
  } else {
    list.replaceChildren();
    list.hidden = true;
    status.replaceChildren(...message);
    status.hidden = false;
  }
}

function startHome() {
  const data = root.dataset;
  const urls = pageUrls(data);
  const loginUrl = data.loginUrl || "/login";
  const unlocked = data.unlocked === "1";
  const { api, ApiError } = jsonApi({ base: data.api || "/api/v1/", fields: ["limit", "non_field_errors"] });

  async function loadRecent() {
    const status = $("recent-status");
    const list = $("recent-files");
    try {
      const page = await api("GET", `recent/?limit=${RECENT_LIMIT}`);
      const tiles = (page.results || []).filter((entry) => entry.file).map((entry) => recentTile(entry, urls));
      fill(status, list, tiles, emptyRecent(urls));
    } catch (err) {
      fill(status, list, [], sectionError(err, "your recent files", ApiError, loginUrl), true);
    }
  }

  async function loadStarred() {
    const status = $("starred-status");
    const list = $("starred-list");
    try {
      const page = await api("GET", "starred/");
      const rows = (page.results || []).filter((entry) => entry[entry.kind]).slice(0, STARRED_LIMIT).map((entry) => starredRow(entry, urls));
      fill(status, list, rows, emptyStarred());
    } catch (err) {
      fill(status, list, [], sectionError(err, "your starred items", ApiError, loginUrl), true);
    }
  }

  async function loadStorage() {
    const status = $("storage-status");
    const body = $("storage-body");
    try {
      const storage = await api("GET", "me/storage");
      const rows = slices(storage);
      $("storage-chart").replaceChildren(donut(storage, rows));
      $("storage-legend").replaceChildren(...legend(storage, rows));
      body.hidden = false;
      status.hidden = true;
    } catch (err) {
      body.hidden = true;
      status.classList.add("error");
      status.replaceChildren(...sectionError(err, "your storage", ApiError, loginUrl));
      status.hidden = false;
    }
  }

  let loadedAt = 0;
  function load() {
    loadedAt = Date.now();
    const jobs = [loadStorage()];
    if (unlocked) jobs.push(loadRecent(), loadStarred());
    return Promise.all(jobs).then(() => root.setAttribute("data-loaded", String(loadedAt)));
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && Date.now() - loadedAt > REFRESH_AFTER_MS) load();
  });
  load();
}

if (root) startHome();
