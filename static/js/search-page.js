// The search page (templates/vault/search.html).
import { startVault } from "./vault/common.js";
import { searchPage } from "./vault/search-page.js";

startVault(searchPage);
