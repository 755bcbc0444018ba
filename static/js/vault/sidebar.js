// The file browser's side bar: the places (Files, Recent, Starred, Shared with me, Trash) are links in the
// template; this fills in the top folders under "Files" (each a drop target for moving items onto it) and marks
// the one the page is in, or holds.
import { $, el } from "../locker.js";
import { collator, fetchAll, folderHref } from "./common.js";

export function setupSidebar(browser) {
  const list = $("side-folders");

  async function load() {
    try {
      const folders = (await fetchAll("folders/?page_size=200")).sort((a, b) => collator.compare(a.name, b.name));
      const inside = browser.state.path.length ? browser.state.path[0].id : browser.state.folderId;
      list.replaceChildren(
        ...folders.map((f) =>
          el("li", {}, [
            el("a", { href: folderHref(f.id), "data-drop-folder": f.id, "aria-current": f.id === inside ? (f.id === browser.state.folderId ? "page" : "true") : null }, [
              el("span", { class: "icon folder", "aria-hidden": "true" }),
              f.name,
            ]),
          ]),
        ),
      );
    } catch (err) {
      list.replaceChildren(); // the side bar is a shortcut; the listing shows real errors
    }
  }

  browser.reloadSideFolders = load;
  browser.afterPath.push(load);
}
