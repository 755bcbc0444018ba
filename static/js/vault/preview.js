// The file browser's preview pane: images, PDFs, text and code (the first MiB, shown as text, never run),
// audio and video, or the server's thumbnail; previous/next through the listing's files (buttons and the
// arrow keys), and the file's tags. Its address is ?preview=<id>, so a preview can be linked and reloaded.
import { $, el, formatBytes, inlineUrl, localPath, quoted } from "../locker.js";
import { api, ApiError, parseTags, say, sayError, tagChips, timeNode } from "./common.js";

const TEXT_CAP = 1024 * 1024; // the first MiB of a text file is shown
const INLINE_IMAGE = /^image\/(png|jpeg|gif|webp|avif|bmp)$/;
const TEXT_TYPES = /^(text\/.+|application\/(json|xml|javascript|x-javascript|ecmascript|x-sh|x-shellscript|sql|toml|yaml|x-yaml|x-python|x-httpd-php|x-tex|x-latex|ld\+json|manifest\+json|xhtml\+xml|rss\+xml|atom\+xml|x-ndjson|graphql|x-ruby|x-perl))$/;
const TEXT_EXTENSIONS = new Set(
  ("txt md markdown rst csv tsv log json jsonl ndjson xml yaml yml toml ini cfg conf env properties py pyi js mjs cjs ts tsx jsx " +
    "css scss less html htm svg sh bash zsh fish ps1 bat c h cc cpp hpp cs java kt kts go rs rb php pl lua r sql swift m mm " +
    "scala clj ex exs erl hs ml elm dart vue svelte tex bib diff patch gitignore dockerfile makefile gradle lock srt vtt").split(" "),
);

function isTextFile(file) {
  if (TEXT_TYPES.test(file.mime_type || "")) return true;
  const name = String(file.name || "").toLowerCase();
  const ext = name.includes(".") ? name.slice(name.lastIndexOf(".") + 1) : name;
  return TEXT_EXTENSIONS.has(ext);
}

function previewKind(file) {
  const mime = file.mime_type || "";
  if (INLINE_IMAGE.test(mime)) return "image";
  if (mime === "application/pdf") return "pdf";
  if (mime.startsWith("audio/")) return "audio";
  if (mime.startsWith("video/")) return "video";
  if (isTextFile(file)) return "text";
  if (file.preview_url) return "thumbnail"; // e.g. TIFF or HEIC: the server's thumbnail is all a browser can show
  return "none";
}

function previewNote(text, extra) {
  return el("div", { class: "preview-note" }, [el("p", { text }), extra || null]);
}

function downloadLink(file, label, extraClass) {
  return el("a", { href: localPath(file.content_url), class: `button${extraClass ? " " + extraClass : ""}`, download: true, text: label || "Download" });
}

export function setupPreview(browser) {
  const previewDialog = $("preview-dialog");
  const preview = { file: null, abort: null, generation: 0 };

  async function showText(file, body, generation) {
    body.replaceChildren(el("p", { class: "muted", text: "Loading the text…" }));
    const controller = new AbortController();
    preview.abort = controller;
    let bytes;
    let total = file.size;
    try {
      const response = await fetch(localPath(file.content_url), {
        headers: { Range: `bytes=0-${TEXT_CAP - 1}` },
        credentials: "same-origin",
        cache: "no-store",
        signal: controller.signal,
      });
      if (!response.ok) {
        let data = null;
        try {
          data = await response.json();
        } catch (err) {
          data = null;
        }
        throw new ApiError(response.status, data);
      }
      const range = /\/(\d+)$/.exec(response.headers.get("Content-Range") || "");
      if (range) total = Number(range[1]);
      bytes = new Uint8Array(await response.arrayBuffer()).subarray(0, TEXT_CAP);
    } catch (err) {
      if (err.name === "AbortError" || generation !== preview.generation) return;
      body.replaceChildren(previewNote(err instanceof ApiError ? `Could not load the text: ${err.message}` : "Could not load the text.", downloadLink(file)));
      return;
    }
    if (generation !== preview.generation) return;
    if (bytes.subarray(0, 8192).includes(0)) {
      body.replaceChildren(previewNote("This file does not look like text; download it to open it.", downloadLink(file)));
      return;
    }
    // fatal: false turns invalid UTF-8 (or a character cut at the 1 MiB mark) into U+FFFD, never an error
    const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
    const pre = el("pre", { class: "preview-text", tabindex: "0", "aria-label": `Text of ${quoted(file.name)}`, "data-testid": "preview-text" });
    pre.textContent = text; // shown, never parsed or run
    const parts = [pre];
    if (total > bytes.length) parts.unshift(el("p", { class: "muted preview-cut", text: `Showing the first ${formatBytes(bytes.length)} of ${formatBytes(total)}.` }));
    body.replaceChildren(...parts);
  }

  function renderPreviewBody(file) {
    const body = $("preview-body");
    const generation = ++preview.generation;
    if (preview.abort) preview.abort.abort();
    preview.abort = null;
    const kind = previewKind(file);
    body.dataset.kind = kind;
    const src = inlineUrl(file.content_url);
    if (kind === "image") {
      const img = el("img", { src, alt: file.name, class: "preview-image", "data-testid": "preview-image" });
      img.addEventListener("error", function () {
        if (generation !== preview.generation) return;
        const fallback = file.preview_url ? el("img", { src: localPath(file.preview_url), alt: file.name, class: "preview-image" }) : null;
        body.replaceChildren(previewNote("The image could not be shown.", downloadLink(file)), ...(fallback ? [fallback] : []));
      });
      body.replaceChildren(img);
    } else if (kind === "pdf") {
      body.replaceChildren(
        el("p", { class: "preview-open" }, [
          el("a", { href: src, target: "_blank", rel: "noopener", class: "button small", "data-testid": "open-pdf", text: "Open PDF in a new tab" }),
          " ",
          el("span", { class: "muted", text: "(also if your browser does not show it below)" }),
        ]),
        el("iframe", { src, title: `PDF: ${file.name}`, class: "preview-frame", "data-testid": "preview-pdf" }),
      );
    } else if (kind === "audio" || kind === "video") {
      const media = el(kind, { src, controls: true, preload: "metadata", class: `preview-${kind}`, "aria-label": file.name, "data-testid": `preview-${kind}` });
      if (kind === "video") media.setAttribute("playsinline", "");
      media.addEventListener("error", function () {
        if (generation !== preview.generation) return;
        body.replaceChildren(previewNote(`This browser cannot play this ${kind} format.`, downloadLink(file)));
      });
      body.replaceChildren(media);
    } else if (kind === "text") {
      showText(file, body, generation);
    } else if (kind === "thumbnail") {
      body.replaceChildren(
        el("img", { src: localPath(file.preview_url), alt: file.name, class: "preview-image", "data-testid": "preview-image" }),
        el("p", { class: "muted", text: "A reduced preview: download the file for the original." }),
      );
    } else {
      body.replaceChildren(previewNote("There is no preview for this type of file.", downloadLink(file, "Download", "primary")));
    }
  }

  function fileOrder() {
    return browser.sortedItems().files;
  }

  function updatePreviewNav() {
    const files = fileOrder();
    const index = preview.file ? files.findIndex((f) => f.id === preview.file.id) : -1;
    $("preview-prev").disabled = index <= 0;
    $("preview-next").disabled = index < 0 || index >= files.length - 1;
    $("preview-position").textContent = index >= 0 && files.length > 1 ? `${index + 1} of ${files.length}` : "";
  }

  function renderPreviewInfo(file) {
    $("preview-h").textContent = file.name;
    const meta = [file.mime_type || "unknown type", formatBytes(file.size)];
    if (file.version > 1) meta.push(`version ${file.version}`);
    $("preview-meta").replaceChildren(meta.join(" · "), " · ", timeNode(file.modified_at));
    const chips = tagChips(file.tags, `Tags of ${quoted(file.name)}`);
    $("preview-tags").replaceChildren(chips || el("span", { class: "muted", text: "No tags." }));
    $("preview-download").href = localPath(file.content_url);
    $("preview-download").setAttribute("aria-label", `Download ${quoted(file.name)}`);
    $("preview-tags-form").hidden = true;
    $("preview-tags-edit").hidden = false;
    $("preview-tags-error").textContent = "";
  }

  function setPreviewParam(id) {
    const url = new URL(window.location.href);
    if (id) url.searchParams.set("preview", id);
    else url.searchParams.delete("preview");
    history.replaceState(history.state, "", url.pathname + url.search + url.hash);
  }

  async function openPreview(id) {
    let file = browser.state.files.find((f) => f.id === id);
    if (!file) {
      try {
        file = await api("GET", `files/${id}/`);
      } catch (err) {
        setPreviewParam(null);
        if (err.status === 404) say("That file does not exist or is in the trash.", "error");
        else sayError(err, "Could not open the preview.");
        return;
      }
    }
    showPreview(file);
  }

  function showPreview(file) {
    const same = preview.file && preview.file.id === file.id && previewDialog.open;
    preview.file = file;
    renderPreviewInfo(file);
    if (!same) renderPreviewBody(file);
    updatePreviewNav();
    setPreviewParam(file.id);
    if (!previewDialog.open) previewDialog.showModal();
    $("preview-close").focus();
  }

  function stepPreview(step) {
    const files = fileOrder();
    const index = preview.file ? files.findIndex((f) => f.id === preview.file.id) : -1;
    const next = files[index + step];
    if (index >= 0 && next) showPreview(next);
  }

  $("preview-prev").addEventListener("click", () => stepPreview(-1));
  $("preview-next").addEventListener("click", () => stepPreview(1));
  previewDialog.addEventListener("keydown", function (event) {
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    if (event.target.closest("input, textarea, select, audio, video, iframe, pre")) return;
    event.preventDefault();
    stepPreview(event.key === "ArrowLeft" ? -1 : 1);
  });
  // A click on the backdrop (outside the dialog's box) closes it.
  previewDialog.addEventListener("click", function (event) {
    if (event.target === previewDialog) previewDialog.close();
  });
  previewDialog.addEventListener("close", function () {
    preview.generation += 1;
    if (preview.abort) preview.abort.abort();
    preview.abort = null;
    $("preview-body").replaceChildren(); // stops audio and video, frees the image
    const opener = preview.file && document.querySelector(`[data-id="${CSS.escape(preview.file.id)}"] a.item-name`);
    preview.file = null;
    setPreviewParam(null);
    if (opener) opener.focus();
  });

  // Tags of the previewed file: comma-separated, saved with PATCH files/{id}/.
  $("preview-tags-edit").addEventListener("click", function () {
    if (!preview.file) return;
    $("preview-tags-input").value = (preview.file.tags || []).join(", ");
    $("preview-tags-form").hidden = false;
    $("preview-tags-edit").hidden = true;
    $("preview-tags-input").focus();
  });
  $("preview-tags-cancel").addEventListener("click", function () {
    $("preview-tags-form").hidden = true;
    $("preview-tags-edit").hidden = false;
    $("preview-tags-edit").focus();
  });
  $("preview-tags-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    const file = preview.file;
    if (!file) return;
    const submit = event.target.querySelector("button[type=submit]");
    submit.disabled = true;
    $("preview-tags-error").textContent = "";
    try {
      const saved = await api("PATCH", `files/${file.id}/`, { tags: parseTags($("preview-tags-input").value) });
      const index = browser.state.files.findIndex((f) => f.id === saved.id);
      if (index >= 0) browser.state.files[index] = saved;
      if (preview.file && preview.file.id === saved.id) {
        preview.file = saved;
        renderPreviewInfo(saved);
        $("preview-tags-edit").focus();
      }
      browser.renderListing();
    } catch (err) {
      $("preview-tags-error").textContent = err instanceof ApiError ? err.message : "Could not save the tags.";
    } finally {
      submit.disabled = false;
    }
  });

  browser.actions.preview = openPreview;
  browser.afterRender.push(function () {
    if (preview.file) updatePreviewNav();
  });
}
