// The activity page (templates/activity/activity.html): the user's events from /api/v1/activity/, newest first, a
// page at a time, in plain words (the server's `summary` of each event). The filter form is a plain GET form on the page itself (?type=&outcome=&since=
// &until=, days in the browser's time zone); the script reads it back, asks the API with `after` and `before`, and
// points the CSV link at the same filters.
import { $, el, localPath } from "../locker.js";
import { ACTION_GROUPS, actionDetails, actionLabel, deviceOf } from "./actions.js";
import { pageKit, plural, timeNode } from "./common.js";

const PAGE_SIZE = 50;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const OUTCOMES = { success: "Succeeded", failure: "Failed" };

// "2025-01-31" -> that day's local midnight as an ISO instant (plus `days`); "" for anything else.
function localMidnight(day, days) {
  if (!DAY.test(day || "")) return "";
  const [y, m, d] = day.split("-").map(Number);
  const date = new Date(y, m - 1, d + (days || 0));
  return isNaN(date) ? "" : date.toISOString();
}

// The page's filters (its query string) as the API's.
export function apiFilters(search) {
  const page = new URLSearchParams(search);
  const api = new URLSearchParams();
  const type = (page.get("type") || "").trim();
  if (type) api.set("type", type);
  if (OUTCOMES[page.get("outcome")]) api.set("outcome", page.get("outcome"));
  const after = localMidnight(page.get("since"));
  if (after) api.set("after", after);
  const before = localMidnight(page.get("until"), 1); // "until" a day includes that day
  if (before) api.set("before", before);
  return api;
}

export function activityPage(root) {
  const { api, sayError } = pageKit(root);
  const rows = $("activity-rows");
  const query = new URLSearchParams(window.location.search);
  const filters = apiFilters(window.location.search);
  let next = null;
  let shown = 0;

  // The form shows the filters in use; the type list is grouped as actions.js groups it.
  function fillForm() {
    const select = $("filter-type");
    for (const group of ACTION_GROUPS) {
      select.append(el("optgroup", { label: group.label }, Object.entries(group.actions).map(([code, label]) => el("option", { value: code, text: label }))));
    }
    const type = filters.get("type");
    if (type && ![...select.options].some((o) => o.value === type)) select.append(el("option", { value: type, text: type }));
    select.value = type || "";
    $("filter-outcome").value = filters.get("outcome") || "";
    for (const name of ["since", "until"]) if (DAY.test(query.get(name) || "")) $(`filter-${name}`).value = query.get(name);
    const csv = new URLSearchParams(filters);
    csv.set("format", "csv");
    $("activity-csv").href = `${root.dataset.api || "/api/v1/"}activity/?${csv}`;
    $("filters-clear").hidden = ![...filters.keys()].length;
  }

  // What happened: the server's sentence (`summary`: the names, who, where and how are in it), or, from a server
  // that sends none, this page's own label with the item's name and the details under it.
  function what(event) {
    const summary = typeof event.summary === "string" && event.summary ? event.summary : "";
    const details = summary ? "" : actionDetails(event);
    const name = summary ? "" : event.object_name;
    return [
      el("span", { class: "what-label", "data-testid": "activity-summary-text", title: event.action, text: summary || actionLabel(event) }),
      summary ? el("span", { class: "sr-only", text: ` (code ${event.action})` }) : null,
      name ? el("span", { class: "what-object", "data-testid": "activity-object", text: name }) : null,
      details ? el("span", { class: "what-details muted", text: details }) : null,
    ];
  }

  function row(event) {
    const device = deviceOf(event.user_agent);
    return el("tr", { "data-testid": "activity-row", "data-action": event.action, "data-outcome": event.outcome }, [
      el("td", {}, [timeNode(event.created_at)]),
      el("td", { class: "what" }, what(event)),
      el("td", { class: event.outcome === "failure" ? "failure" : "success", text: OUTCOMES[event.outcome] || event.outcome }),
      el("td", { class: "from" }, [
        el("span", { class: "from-ip", text: event.ip || "—" }),
        device ? el("span", { class: "from-device muted", title: event.user_agent, text: device }) : null,
      ]),
    ]);
  }

  async function load(path) {
    try {
      const page = await api("GET", path);
      next = page.next ? localPath(page.next) : null;
      rows.append(...page.results.map(row));
      shown += page.results.length;
      $("activity-summary").textContent = page.count ? `${shown < page.count ? `${shown} of ` : ""}${plural(page.count, "event", "events")}` : "";
      $("activity-table").hidden = shown === 0;
      $("activity-empty").hidden = shown > 0;
      $("activity-more-row").hidden = !next;
    } catch (err) {
      sayError(err, "Could not load your activity.");
    } finally {
      $("activity-loading").hidden = true;
    }
  }

  $("activity-more").addEventListener("click", async function (event) {
    const button = event.currentTarget;
    if (!next) return;
    button.disabled = true;
    await load(next);
    button.disabled = false;
  });

  fillForm();
  const params = new URLSearchParams(filters);
  params.set("page_size", String(PAGE_SIZE));
  load(`activity/?${params}`);
}
