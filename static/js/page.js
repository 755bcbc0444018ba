// What every page has (base.html loads this entry module on every page, signed in or not).
// No inline script anywhere (CSP): markup asks for a behaviour with data-* attributes.

function textOf(selector) {
  const node = document.querySelector(selector);
  return node ? node.textContent.trim() : "";
}

function flash(button, label) {
  const original = button.textContent;
  button.textContent = label;
  setTimeout(function () {
    button.textContent = original;
  }, 1500);
}

function selectText(selector) {
  const node = document.querySelector(selector);
  if (!node) return;
  const range = document.createRange();
  range.selectNodeContents(node);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

document.addEventListener("click", function (event) {
  // <button data-copy="#id">: copy the element's text to the clipboard.
  const copy = event.target.closest("[data-copy]");
  if (copy) {
    const text = textOf(copy.dataset.copy);
    const done = function () {
      flash(copy, "Copied");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {
        selectText(copy.dataset.copy);
        flash(copy, "Selected: press Ctrl+C");
      });
    } else {
      selectText(copy.dataset.copy);
      flash(copy, "Selected: press Ctrl+C");
    }
  }
  // <button data-download="#id" data-filename="x.txt">: save the element's text as a file.
  const download = event.target.closest("[data-download]");
  if (download) {
    const blob = new Blob([textOf(download.dataset.download) + "\n"], { type: "text/plain" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = download.dataset.filename || "locker.txt";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () {
      URL.revokeObjectURL(link.href);
    }, 1000);
  }
  // Dialogs: <button data-close> closes its <dialog>.
  const close = event.target.closest("dialog [data-close]");
  if (close) close.closest("dialog").close();
});

// <input type="checkbox" data-enables="#button">: the button works only when checked.
document.addEventListener("change", function (event) {
  const box = event.target.closest("[data-enables]");
  if (box) {
    const target = document.querySelector(box.dataset.enables);
    if (target) target.disabled = !box.checked;
  }
});

// <form data-confirm="question">: ask before destroying anything.
document.addEventListener("submit", function (event) {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});

// The phone header (templates/base.html; CSS "Phone header"): below 700px the main navigation is a panel opened
// by the menu button, and the search box a row opened by the search button. Escape or a click outside closes
// what is open and gives the focus back to its button. Without this script the links and the box stay in view.
document.documentElement.classList.add("js");

function headerToggle(buttonId, openClass, panelId) {
  const button = document.getElementById(buttonId);
  const topbar = document.getElementById("topbar");
  const panel = document.getElementById(panelId);
  if (!button || !topbar || !panel) return null;
  const isOpen = () => button.getAttribute("aria-expanded") === "true";
  function set(open, { focus = false } = {}) {
    button.setAttribute("aria-expanded", String(open));
    topbar.classList.toggle(openClass, open);
    if (focus) button.focus();
  }
  button.addEventListener("click", function () {
    const open = !isOpen();
    set(open);
    if (open) {
      const first = panel.querySelector("input, a[href], button");
      if (first && buttonId === "search-toggle") first.focus();
    }
  });
  return { button, panel, isOpen, set };
}

const toggles = [headerToggle("menu-toggle", "menu-open", "main-nav"), headerToggle("search-toggle", "search-open", "site-search")].filter(Boolean);

document.addEventListener("keydown", function (event) {
  if (event.key !== "Escape") return;
  for (const toggle of toggles) {
    if (!toggle.isOpen()) continue;
    if (toggle.panel.id === "site-search") {
      // Escape in the search box first closes its list of suggestions (search.js), then clears the box; then it
      // closes the box.
      const input = document.activeElement;
      if (event.defaultPrevented || (toggle.panel.contains(input) && input.value)) continue;
      toggle.set(false, { focus: toggle.panel.contains(input) || input === toggle.button });
    } else {
      toggle.set(false, { focus: true });
    }
  }
});

document.addEventListener("click", function (event) {
  for (const toggle of toggles) {
    if (!toggle.isOpen() || toggle.button.contains(event.target) || toggle.panel.contains(event.target)) continue;
    const focusInside = toggle.panel.contains(document.activeElement);
    toggle.set(false);
    // The click landed on nothing that takes the focus: it goes back to the button, not to the top of the page.
    if (focusInside || document.activeElement === document.body) toggle.button.focus();
  }
});

// Tabbing out of the open menu closes it: the panel would otherwise cover what the focus moved to.
document.addEventListener("focusin", function (event) {
  for (const toggle of toggles) {
    if (toggle.panel.id !== "main-nav" || !toggle.isOpen()) continue;
    if (!toggle.button.contains(event.target) && !toggle.panel.contains(event.target)) toggle.set(false);
  }
});

// Back to a wide window: nothing stays open out of sight.
const wide = window.matchMedia("(min-width: 701px)");
wide.addEventListener("change", function () {
  if (wide.matches) for (const toggle of toggles) toggle.set(false);
});

// Modal dialogs keep the keyboard inside while open: Tab from the last control goes to the first, Shift+Tab from
// the first to the last (the browser would otherwise leave the page for its own toolbar). Closing gives the focus
// back to the control that opened it (the browser's own dialog behaviour, kept as is).
const FOCUSABLE = "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";
document.addEventListener("keydown", function (event) {
  if (event.key !== "Tab") return;
  const dialog = document.querySelector("dialog[open]:modal");
  if (!dialog) return;
  const controls = Array.from(dialog.querySelectorAll(FOCUSABLE)).filter((node) => node.offsetParent !== null || node === document.activeElement);
  if (!controls.length) return;
  const first = controls[0];
  const last = controls[controls.length - 1];
  if (!dialog.contains(document.activeElement)) {
    event.preventDefault();
    first.focus();
  } else if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
});
