// The file browser (templates/vault/browser.html): the listing and what plugs into it.
import { startVault } from "./vault/common.js";
import { setupDetails } from "./vault/details.js";
import { setupDialogs } from "./vault/dialogs.js";
import { setupDragMove } from "./vault/dragmove.js";
import { setupKeyboard } from "./vault/keyboard.js";
import { createBrowser } from "./vault/listing.js";
import { setupLive } from "./vault/live.js";
import { setupMenu } from "./vault/menu.js";
import { setupPreview } from "./vault/preview.js";
import { setupSelection } from "./vault/selection.js";
import { setupSharing } from "./vault/sharing.js";
import { setupSidebar } from "./vault/sidebar.js";
import { setupUploads } from "./vault/uploads.js";
import { setupVersions } from "./vault/versions.js";

startVault(function () {
  const browser = createBrowser();
  setupSelection(browser);
  setupDialogs(browser);
  setupMenu(browser);
  setupKeyboard(browser);
  setupDragMove(browser);
  setupDetails(browser);
  setupSidebar(browser);
  setupVersions(browser);
  setupUploads(browser);
  setupPreview(browser);
  setupSharing(browser);
  setupLive(browser);
  browser.start();
});
