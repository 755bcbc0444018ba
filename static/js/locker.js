// Locker's small page helpers. Loaded with `defer`; no inline script anywhere (CSP).
"use strict";

(function () {
  // Shared by the page scripts (vault.js, search.js, chat.js), which load after this one.
  // el("a", {href: "/x", class: "y", text: "label"}, [children]): attributes and text only, never HTML.
  function el(tag, props, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of [].concat(children === undefined ? [] : children)) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }
  window.Locker = Object.assign(window.Locker || {}, { el });
  function textOf(selector) {
    const el = document.querySelector(selector);
    return el ? el.textContent.trim() : "";
  }

  function flash(button, label) {
    const original = button.textContent;
    button.textContent = label;
    setTimeout(function () { button.textContent = original; }, 1500);
  }

  // <button data-copy="#id">: copy the element's text to the clipboard.
  document.addEventListener("click", function (event) {
    const copy = event.target.closest("[data-copy]");
    if (copy) {
      const text = textOf(copy.dataset.copy);
      const done = function () { flash(copy, "Copied"); };
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
      setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
    }
  });

  function selectText(selector) {
    const el = document.querySelector(selector);
    if (!el) return;
    const range = document.createRange();
    range.selectNodeContents(el);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

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
})();
