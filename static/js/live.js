// Live notifications on every page of a signed-in user (templates/base.html loads this entry module): the bell's
// unread count, the stream of /api/v1/notifications/stream (Server-Sent Events), and a toast for each notification
// that arrives.
//
// Other page modules listen on document, never open a stream of their own:
//   "locker:notification"   detail: the notification ({id, kind, object_type, object_id, data, created_at}),
//                           dispatched once for each one that arrives while the page is open
//   "locker:unread-count"   detail: {count}, each time the bell's count is known anew
//   "locker:notification-named"  detail: a notification with its sentence naming its items (see named())
// and a page that marks notifications read dispatches "locker:notifications-read" (the bells count again).
//
// The stream starts after the newest notification that exists when the page loads (?after=), so nothing older is
// shown as new; the server ends each stream after a while and the browser reconnects by itself with the last id
// it saw (Last-Event-ID). A refused stream (signed out, server busy) is tried again later, from the last id seen.
//
// One stream for all of a user's tabs: a browser keeps at most 6 connections to a server over HTTP/1.1, and each
// stream holds one. The tab holding the Web Lock "locker-live-<user>" opens it and passes every notification on to
// the others (BroadcastChannel); when that tab goes, another one takes the lock and opens it from the last id seen.
import { jsonApi, SIGNED_OUT } from "./locker.js";
import { describe, noticeUrls } from "./activity/notices.js";
import { createToasts } from "./activity/toasts.js";

const bell = document.getElementById("bell");
const badge = document.getElementById("bell-count");
const API = (bell && bell.dataset.api) || "/api/v1/";
const URLS = noticeUrls(bell ? bell.dataset : {});
const USER = (bell && bell.dataset.user) || "";
const { api } = jsonApi({ base: API });
const toasts = createToasts(document.getElementById("toasts"));
const RECOUNT_MS = 250;
const RETRY_MS = [15000, 60000, 300000]; // after a refused stream; then every 5 minutes
const channel = USER && window.BroadcastChannel && navigator.locks ? new BroadcastChannel(`locker-live-${USER}`) : null;

let source = null;
let lastId = 0; // the newest notification id this page knows
let retries = 0;
let retryTimer = null;
let recountTimer = null;
let stopped = false; // signed out: no more requests from here
let started = false; // the newest id and the count are known
let waitingForLock = null; // an AbortController while this tab waits for the stream's lock
let releaseLock = null; // while this tab holds the stream for all of them

function showCount(count) {
  const label = count > 0 ? `Notifications, ${count} unread` : "Notifications, none unread";
  bell.setAttribute("aria-label", label);
  bell.title = label;
  bell.dataset.unread = String(count);
  badge.textContent = count > 99 ? "99+" : String(count);
  badge.hidden = count <= 0;
  document.dispatchEvent(new CustomEvent("locker:unread-count", { detail: { count } }));
}

async function recount() {
  try {
    const page = await api("GET", "notifications/?unread=1&page_size=1");
    showCount(page.count);
    named(page.results);
  } catch (err) {
    if (SIGNED_OUT.includes(err.status)) stop();
  }
}

// A stream holds no keys, so its sentences say "a file"; the API names what this browser can open. The recount
// after each notification brings the newest unread one back: its toast and the notifications page take that
// sentence ("locker:notification-named", detail: the notification as the API gives it).
function named(results) {
  for (const notification of results || []) {
    if (!notification || typeof notification.summary !== "string" || !notification.summary) continue;
    toasts.retext(notification.id, notification.summary);
    document.dispatchEvent(new CustomEvent("locker:notification-named", { detail: notification }));
  }
}

function recountSoon() {
  clearTimeout(recountTimer);
  recountTimer = setTimeout(recount, RECOUNT_MS);
}

// A notification from this tab's stream or from the tab that holds it: news once, whichever way it came.
function heard(notification) {
  if (!notification || typeof notification.id !== "number" || notification.id <= lastId) return false; // seen
  lastId = notification.id;
  toasts.show(describe(notification, URLS), notification.id);
  document.dispatchEvent(new CustomEvent("locker:notification", { detail: notification }));
  recountSoon();
  return true;
}

function received(event) {
  let notification;
  try {
    notification = JSON.parse(event.data);
  } catch (err) {
    return;
  }
  retries = 0;
  if (heard(notification) && channel) channel.postMessage({ type: "notification", notification });
}

function open() {
  if (stopped || source || !window.EventSource) return;
  source = new EventSource(`${API}notifications/stream?after=${encodeURIComponent(lastId)}`);
  source.addEventListener("notification", received);
  source.addEventListener("error", function () {
    // CONNECTING: the stream ended and the browser reconnects by itself. CLOSED: it was refused (not 200).
    if (!source || source.readyState !== EventSource.CLOSED) return;
    close();
    if (stopped) return;
    retryTimer = setTimeout(retry, RETRY_MS[Math.min(retries, RETRY_MS.length - 1)]);
    retries += 1;
  });
}

function close() {
  if (source) source.close();
  source = null;
}

// After a refused stream: are we still signed in? Then open it again (and catch up on the count).
async function retry() {
  try {
    const page = await api("GET", "notifications/?unread=1&page_size=1");
    showCount(page.count);
    open();
  } catch (err) {
    if (SIGNED_OUT.includes(err.status)) stop();
    else retryTimer = setTimeout(retry, RETRY_MS[Math.min(retries++, RETRY_MS.length - 1)]);
  }
}

// The stream for every tab: opened once this tab holds the lock, until it lets go.
function lead() {
  if (!channel) return open();
  if (waitingForLock || releaseLock) return;
  waitingForLock = new AbortController();
  navigator.locks
    .request(`locker-live-${USER}`, { signal: waitingForLock.signal }, function () {
      waitingForLock = null;
      if (stopped) return null;
      open();
      return new Promise(function (resolve) {
        releaseLock = resolve;
      });
    })
    .catch(function () {
      /* no longer waiting: this page was left */
    });
}

function letGo() {
  clearTimeout(retryTimer);
  close();
  if (waitingForLock) waitingForLock.abort();
  waitingForLock = null;
  if (releaseLock) releaseLock();
  releaseLock = null;
}

// Signed out: this tab stops, and lets another one (perhaps signed in again) take the stream.
function stop() {
  stopped = true;
  letGo();
}

async function start() {
  try {
    // The newest id first (the stream starts after it), and the unread count.
    const [newest, unread] = await Promise.all([api("GET", "notifications/?page_size=1"), api("GET", "notifications/?unread=1&page_size=1")]);
    lastId = Math.max(lastId, newest.results.length ? newest.results[0].id : 0);
    showCount(unread.count);
  } catch (err) {
    if (SIGNED_OUT.includes(err.status)) return stop();
    retryTimer = setTimeout(start, RETRY_MS[Math.min(retries++, RETRY_MS.length - 1)]); // not without the newest id
    return;
  }
  started = true;
  lead();
}

if (bell && badge) {
  if (channel) {
    channel.addEventListener("message", function (event) {
      const message = event.data || {};
      if (message.type === "notification") heard(message.notification);
      else if (message.type === "read") recountSoon();
    });
  }
  document.addEventListener("locker:notifications-read", function () {
    recountSoon();
    if (channel) channel.postMessage({ type: "read" });
  });
  // Leaving the page closes the stream at once (the server's thread or slot is free again, another tab may take
  // it over); coming back to it from the back-forward cache opens it again from the last id seen.
  window.addEventListener("pagehide", letGo);
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted || stopped) return;
    if (!started) return start();
    recount();
    lead();
  });
  start();
}
