// Toasts: a short message for each notification that arrives live (live.js), in the polite live region
// #toasts of base.html. At most MAX_TOASTS at once (the oldest goes first); each one leaves by itself after
// TOAST_MS, but not while the pointer or the keyboard focus is on it, and has a dismiss button.
import { el } from "../locker.js";

const MAX_TOASTS = 3;
const TOAST_MS = 8000;

export function createToasts(region) {
  function dismiss(toast) {
    clearTimeout(toast.timer);
    if (toast.contains(document.activeElement)) {
      // The focus would be lost with the toast: give it to the bell, which leads to every notification.
      const bell = document.getElementById("bell");
      if (bell) bell.focus();
    }
    toast.remove();
  }

  function arm(toast) {
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () {
      dismiss(toast);
    }, TOAST_MS);
  }

  // show({text, link}, id): a toast with the sentence, its link (if any) and a dismiss button.
  function show(notice, id) {
    if (!region) return null;
    const toast = el("div", { class: "toast", "data-testid": "toast", "data-id": id }, [
      el("p", { class: "toast-text", text: notice.text }),
      notice.link ? el("a", { class: "toast-link", href: notice.link.href, text: notice.link.text }) : null,
      el("button", { type: "button", class: "toast-close small", "aria-label": "Dismiss this notification", title: "Dismiss" }, [
        el("span", { "aria-hidden": "true", text: "✕" }),
      ]),
    ]);
    toast.querySelector(".toast-close").addEventListener("click", function () {
      dismiss(toast);
    });
    for (const [pause, resume] of [
      ["mouseenter", "mouseleave"],
      ["focusin", "focusout"],
    ]) {
      toast.addEventListener(pause, function () {
        clearTimeout(toast.timer);
      });
      toast.addEventListener(resume, function (event) {
        if (resume === "focusout" && toast.contains(event.relatedTarget)) return;
        if (!toast.matches(":hover") && !toast.contains(document.activeElement)) arm(toast);
      });
    }
    const shown = region.querySelectorAll(".toast");
    for (let i = 0; i <= shown.length - MAX_TOASTS; i++) dismiss(shown[i]);
    region.append(toast);
    arm(toast);
    return toast;
  }

  // retext(id, text): the toast of notification `id`, if still shown, says `text` instead (its names opened).
  function retext(id, text) {
    const line = region ? region.querySelector(`.toast[data-id="${Number(id)}"] .toast-text`) : null;
    if (line && text) line.textContent = text;
  }

  return { show, dismiss, retext };
}
