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

  // jsonApi({base, csrf, fields}) -> {api, ApiError, messageOf}: the JSON API as the page scripts call it.
  // api("GET", "files/?all=1", undefined, {signal}) resolves to the parsed body, or rejects with an ApiError
  // whose message is the server's `detail` plus the per-field reasons of a 400 (for `fields`, in that order);
  // an aborted request rejects with the AbortError itself.
  function jsonApi(options) {
    const base = options.base || "/api/v1/";
    const fields = options.fields || ["non_field_errors"];

    function messageOf(status, body) {
      if (status === 0) return "Network error: check your connection and try again.";
      if (body && typeof body === "object" && !Array.isArray(body) && body.detail) {
        const parts = [String(body.detail)];
        if (status === 400 && body.errors && typeof body.errors === "object") {
          for (const field of fields) {
            for (const msg of [].concat(body.errors[field] || [])) {
              const text = typeof msg === "string" ? msg : JSON.stringify(msg);
              if (!parts.includes(text)) parts.push(text);
            }
          }
        }
        return parts.join(" ");
      }
      if (status === 413) return "Too large for the server.";
      return `The server answered ${status}; nothing was changed.`;
    }

    class ApiError extends Error {
      constructor(status, body) {
        super(messageOf(status, body));
        this.status = status;
        this.body = body && typeof body === "object" ? body : {};
        this.code = this.body.code || "";
      }
    }

    async function api(method, path, body, opts) {
      const headers = { Accept: "application/json" };
      const init = { method, headers, credentials: "same-origin", cache: "no-store" };
      if (opts && opts.signal) init.signal = opts.signal;
      if (method !== "GET") headers["X-CSRFToken"] = options.csrf || "";
      if (body !== undefined) {
        headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      let response;
      try {
        response = await fetch(path.startsWith("/") ? path : base + path, init);
      } catch (err) {
        if (err && err.name === "AbortError") throw err;
        throw new ApiError(0, null);
      }
      let data = null;
      if (response.status !== 204 && (response.headers.get("Content-Type") || "").includes("json")) {
        try {
          data = await response.json();
        } catch (err) {
          data = null;
        }
      }
      if (!response.ok) throw new ApiError(response.status, data);
      return data;
    }

    return { api, ApiError, messageOf };
  }
  function $(id) {
    return document.getElementById(id);
  }

  // 1536 -> "1.5 KiB"; anything that is not a number -> "—".
  function formatBytes(value) {
    if (typeof value !== "number" || !isFinite(value)) return "—";
    let size = value;
    for (const unit of ["B", "KiB", "MiB", "GiB", "TiB"]) {
      if (Math.abs(size) < 1024 || unit === "TiB") return unit === "B" ? `${Math.round(size)} B` : `${size.toFixed(1)} ${unit}`;
      size /= 1024;
    }
    return `${size.toFixed(1)} TiB`;
  }

  window.Locker = Object.assign(window.Locker || {}, { el, jsonApi, $, formatBytes });

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
