// The note editor (templates/vault/note.html).
import { startVault } from "./vault/common.js";
import { notePage } from "./vault/note.js";
import { setupNoteSharing } from "./vault/note-sharing.js";

// Whether the note is someone else's (and what they let this user do) is known before the editor starts.
startVault(async function () {
  await setupNoteSharing();
  notePage();
});
