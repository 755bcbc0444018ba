// The notes list (templates/vault/notes.html).
import { startVault } from "./vault/common.js";
import { notesPage } from "./vault/notes.js";

startVault(notesPage);
