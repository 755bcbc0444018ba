// The note editor (templates/vault/note.html).
import { startVault } from "./vault/common.js";
import { notePage } from "./vault/note.js";

startVault(notePage);
