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
