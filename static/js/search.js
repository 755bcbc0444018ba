// The header's search box (templates/base.html), on every page of a signed-in user: live results as
// you type in an ARIA 1.2 combobox with a listbox popup. An ES module (base.html); no inline script or
// style (CSP). Names and snippets are user data: they go into the page as text only (Text nodes, textContent).
//
// Keys: ArrowDown/ArrowUp move through the results (aria-activedescendant), Enter opens the chosen
// one (or, with none chosen, submits the form: the full search page /search/?q=...), Escape closes the
// list (a second Escape clears the box), Tab leaves. "/" anywhere else on the page focuses the box.
import { el, highlighted, KIND_LABEL, markedText, pageUrls, resultHref, resultKind, SIGNED_OUT } from "./locker.js";

const form = document.getElementById("site-search");
const input = document.getElementById("site-search-input");
const pop = document.getElementById("site-search-pop");
const list = document.getElementById("site-search-results");
const status = document.getElementById("site-search-status");
const live = document.getElementById("site-search-live");
const API = (form && form.dataset.api) || "/api/v1/";
const URLS = pageUrls(form ? form.dataset : {});
const DEBOUNCE_MS = 250;
const LIMIT = 8;

let timer = null;
let controller = null; // the request in flight, aborted when a newer query starts
let options = []; // [{href, node}]
let active = -1;
let shownQuery = null; // the query whose results are in the list

function searchPageHref(query) {
  return `${URLS.search}?q=${encodeURIComponent(query)}`;
}

function setActive(index) {
  if (active >= 0 && options[active]) options[active].node.setAttribute("aria-selected", "false");
  active = index;
  if (active >= 0 && options[active]) {
    const node = options[active].node;
    node.setAttribute("aria-selected", "true");
    input.setAttribute("aria-activedescendant", node.id);
    node.scrollIntoView({ block: "nearest" });
  } else {
    input.removeAttribute("aria-activedescendant");
  }
}

function open() {
  pop.hidden = false;
  input.setAttribute("aria-expanded", options.length ? "true" : "false");
}

function close() {
  pop.hidden = true;
  input.setAttribute("aria-expanded", "false");
  setActive(-1);
}

function isOpen() {
  return !pop.hidden;
}

function say(text, link) {
  status.replaceChildren(text);
  if (link) status.append(" ", link);
  status.hidden = !text;
}

function render(query, data) {
  const results = data.results || [];
  options = [];
  list.replaceChildren();
  results.forEach(function (result, index) {
    const kind = resultKind(result);
    const name = result.name || (kind === "note" ? "Untitled note" : "(no name)");
    const node = el("li", { id: `site-search-opt-${index}`, role: "option", "aria-selected": "false", class: "ss-option", "data-kind": kind }, [
      el("span", { class: `icon ${kind}`, "aria-hidden": "true" }),
      el("span", { class: "ss-main" }, [
        el("span", { class: "ss-line" }, [
          el("span", { class: "ss-kind", text: KIND_LABEL[kind] }),
          " ",
          el("span", { class: "ss-name" }, [highlighted(name, query)]),
          // where it is (a message: its chat's title is its name already); text only inside an option
          kind !== "message" ? el("span", { class: "ss-where", "data-testid": "site-search-where", text: ` in ${result.parent_name || "Files"}` }) : null,
        ]),
        result.snippet ? el("span", { class: "ss-snippet" }, [markedText(result.snippet, result.snippet_marks, query)]) : null,
      ]),
    ]);
    options.push({ href: resultHref(result, URLS), node });
    list.append(node);
  });
  if (results.length) {
    const count = typeof data.count === "number" ? data.count : results.length;
    const all = el("li", { id: "site-search-opt-all", role: "option", "aria-selected": "false", class: "ss-option ss-all" }, [
      el("span", { text: count > results.length ? `See all ${count} results for “${query}”` : `Open the search page for “${query}”` }),
    ]);
    options.push({ href: searchPageHref(query), node: all });
    list.append(all);
    say("");
    live.textContent = `${count} result${count === 1 ? "" : "s"}.`;
  } else {
    say(`Nothing found for “${query}”.`);
    live.textContent = "No results.";
  }
  shownQuery = query;
  active = -1;
  input.removeAttribute("aria-activedescendant");
  if (document.activeElement === input) open();
}

async function run(query) {
  if (controller) controller.abort();
  controller = new AbortController();
  const mine = controller;
  say("Searching…");
  open();
  let response;
  try {
    response = await fetch(`${API}search?q=${encodeURIComponent(query)}&page_size=${LIMIT}`, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
      signal: mine.signal,
    });
  } catch (err) {
    if (err.name === "AbortError" || mine !== controller) return;
    say("Network error: could not search.");
    return;
  }
  let data = null;
  try {
    data = await response.json();
  } catch (err) {
    data = null;
  }
  if (mine !== controller) return; // a newer query owns the list now
  controller = null;
  if (response.ok && data && Array.isArray(data.results)) {
    render(query, data);
    return;
  }
  options = [];
  list.replaceChildren();
  if (SIGNED_OUT.includes(response.status)) {
    say("Your vault is locked:", el("a", { href: `/login?next=${encodeURIComponent(location.pathname + location.search)}`, text: "sign in again" }));
  } else {
    say(`Could not search: ${(data && data.detail) || `the server answered ${response.status}`}.`);
  }
  input.setAttribute("aria-expanded", "false");
}

function schedule() {
  clearTimeout(timer);
  const query = input.value.trim();
  if (!query) {
    if (controller) controller.abort();
    controller = null;
    options = [];
    list.replaceChildren();
    shownQuery = null;
    live.textContent = "";
    close();
    return;
  }
  timer = setTimeout(() => run(query), DEBOUNCE_MS);
}

function go(index) {
  const option = options[index];
  if (!option) return;
  close();
  window.location.assign(option.href);
}

// The box is there for a signed-in user only.
function listen() {
  input.addEventListener("input", schedule);

  input.addEventListener("focus", function () {
    if (shownQuery !== null && shownQuery === input.value.trim()) open();
  });

  input.addEventListener("keydown", function (event) {
    if (event.isComposing) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const query = input.value.trim();
      if (!query) return;
      if (shownQuery !== query) {
        clearTimeout(timer);
        run(query);
        return;
      }
      open();
      if (!options.length) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive(active < 0 ? (step > 0 ? 0 : options.length - 1) : (active + step + options.length) % options.length);
    } else if (event.key === "Enter") {
      if (isOpen() && active >= 0) {
        event.preventDefault();
        go(active);
      } else if (!input.value.trim()) {
        event.preventDefault(); // nothing to search for
      }
      // else: the form submits to the full search page
    } else if (event.key === "Escape") {
      if (isOpen()) {
        event.preventDefault(); // the first Escape closes the list; type=search clears the box on the next
        close();
      }
    } else if (event.key === "Tab") {
      close();
    }
  });

  // Pointer: hovering picks an option, a click opens it; mousedown keeps the focus in the box.
  list.addEventListener("mousedown", (event) => event.preventDefault());
  list.addEventListener("mousemove", function (event) {
    const node = event.target.closest("[role=option]");
    const index = options.findIndex((o) => o.node === node);
    if (index >= 0 && index !== active) setActive(index);
  });
  list.addEventListener("click", function (event) {
    const node = event.target.closest("[role=option]");
    const index = options.findIndex((o) => o.node === node);
    if (index >= 0) go(index);
  });

  form.addEventListener("focusout", function (event) {
    if (!form.contains(event.relatedTarget)) close();
  });
  document.addEventListener("mousedown", function (event) {
    if (!form.contains(event.target)) close();
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    const target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable=''], [contenteditable=true], dialog[open]")) return;
    event.preventDefault();
    input.focus();
    input.select();
  });

  // Coming back (bfcache) must not show a stale open list.
  window.addEventListener("pageshow", close);
}

if (form) listen();
