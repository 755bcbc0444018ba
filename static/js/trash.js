// The trash page (templates/vault/trash.html).
import { startVault } from "./vault/common.js";
import { trashPage } from "./vault/trash.js";

startVault(trashPage);
