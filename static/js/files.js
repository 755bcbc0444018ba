// The file browser (templates/vault/browser.html): the listing and what plugs into it.
import { startVault } from "./vault/common.js";
import { setupDialogs } from "./vault/dialogs.js";
import { createBrowser } from "./vault/listing.js";
import { setupLive } from "./vault/live.js";
import { setupPreview } from "./vault/preview.js";
import { setupSharing } from "./vault/sharing.js";
import { setupUploads } from "./vault/uploads.js";
import { setupVersions } from "./vault/versions.js";

startVault(function () {
  const browser = createBrowser();
  setupDialogs(browser);
  setupVersions(browser);
  setupUploads(browser);
  setupPreview(browser);
  setupSharing(browser);
  setupLive(browser);
  browser.start();
});
