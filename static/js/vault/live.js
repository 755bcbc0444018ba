// The file browser hears of changes made elsewhere (live.js dispatches "locker:notification" on document): an
// upload finished on another device, someone changed a folder you share, a share with you began, changed or
// ended. The current folder's listing is then loaded again (browser.refreshSoon: debounced, so a burst of
// notifications is one reload), and at the top level the "Shared with me" and "Shared by me" lists too.
import { LISTING_KINDS, QUOTA_KINDS, SHARE_KINDS } from "../activity/notices.js";
import { loadQuota } from "./common.js";

const SHARES_MS = 300;

export function setupLive(browser) {
  let sharesTimer = null;
  document.addEventListener("locker:notification", function (event) {
    const kind = event.detail && event.detail.kind;
    if (LISTING_KINDS.has(kind)) browser.refreshSoon();
    else if (QUOTA_KINDS.has(kind)) loadQuota();
    if (SHARE_KINDS.has(kind) && browser.reloadShares) {
      clearTimeout(sharesTimer);
      sharesTimer = setTimeout(browser.reloadShares, SHARES_MS);
    }
  });
}
