// What the notifications page and the activity page share: the page's settings (data-* of its root element), the
// JSON API with the CSRF token, the message line and dates. Strings go into the page as text only.
import { $, el, jsonApi, localClock, localDay, pageMessages } from "../locker.js";
import { noticeUrls } from "./notices.js";

// pageKit(root) -> {api, ApiError, say, sayError, urls} for the page whose root element is `root`.
export function pageKit(root) {
  const data = root.dataset;
  const { api, ApiError } = jsonApi({ base: data.api || "/api/v1/", csrf: data.csrf || "" });
  const { say, unsay, sayError } = pageMessages({ box: $("page-message"), loginUrl: data.loginUrl || "/login", ApiError, testid: "page-message" });
  return { api, ApiError, say, unsay, sayError, urls: noticeUrls(data) };
}

// <time datetime="..."><span>2025-01-31</span> <span>14:05</span></time>, the full local date and time as its title.
export function timeNode(iso) {
  const date = new Date(iso);
  if (!iso || isNaN(date)) return document.createTextNode("—");
  return el("time", { datetime: iso, title: date.toLocaleString() }, [el("span", { text: localDay(date) }), " ", el("span", { text: localClock(date) })]);
}

// "3 unread" and the like.
export function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}
