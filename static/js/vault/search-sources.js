// Where the search page's results come from when filters are set (search-page.js): files from the
// files listing (its filters), notes from the notes listing narrowed by the search's matches, folders
// from the search (by name or tag), chat messages from the search (by their words). Each source answers {items, notes}: results in one shape, and
// sentences for the reader about what could not be shown.
import { api, fetchAll, foldTag } from "./common.js";

const MIB = 1024 * 1024;

// Local days to UTC instants: "after" from its midnight, "before" up to the end of that day.
function startOfDay(day) {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y, m - 1, d);
}

function isoOf(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function dateRange(p) {
  const after = p.after ? startOfDay(p.after) : null;
  let before = null;
  if (p.before) {
    before = startOfDay(p.before);
    before.setDate(before.getDate() + 1);
  }
  return { after, before };
}

// The API's date filters (modified_after, modified_before) for the form's days.
function withDates(params, p) {
  const range = dateRange(p);
  if (range.after) params.set("modified_after", isoOf(range.after));
  if (range.before) params.set("modified_before", isoOf(range.before));
}

function inRange(iso, range) {
  const time = Date.parse(iso);
  if (range.after && !(time >= range.after.getTime())) return false;
  if (range.before && !(time < range.before.getTime())) return false;
  return true;
}

// --- one shape for every result ---

export function fromSearchResult(r) {
  return {
    kind: r.kind,
    id: r.id,
    name: r.name,
    parent: r.parent,
    parent_name: r.parent_name,
    parent_url: r.parent_url,
    size: r.size,
    mime_type: r.mime_type,
    modified_at: r.modified_at,
    snippet: r.snippet,
    snippet_marks: r.snippet_marks,
  };
}

function fromFile(f) {
  return { kind: "file", id: f.id, name: f.name, parent: f.folder, size: f.size, mime_type: f.mime_type, modified_at: f.modified_at, tags: f.tags, preview_url: f.preview_url };
}

// --- the sources ---

async function filesMatching(p, signal) {
  const params = new URLSearchParams({ all: "1", ordering: "-modified", page_size: "100" });
  if (p.q) params.set("q", p.q);
  if (p.tag) params.set("tag", p.tag);
  if (p.mime_group) params.set("mime_group", p.mime_group);
  if (p.min_mb) params.set("min_size", String(Math.ceil(Number(p.min_mb) * MIB)));
  if (p.max_mb) params.set("max_size", String(Math.floor(Number(p.max_mb) * MIB)));
  withDates(params, p);
  const page = await api("GET", `files/?${params}`, undefined, { signal });
  const notes = page.count > page.results.length ? [`Showing the ${page.results.length} most recently changed of ${page.count} files: narrow the filters to see the others.`] : [];
  return { items: page.results.map(fromFile), notes };
}

async function notesMatching(p, signal) {
  const [all, found] = await Promise.all([
    fetchAll("notes/?all=1&page_size=200", { signal }),
    p.q ? api("GET", `search?q=${encodeURIComponent(p.q)}&kind=note&page_size=200`, undefined, { signal }) : null,
  ]);
  const matched = found ? new Map(found.results.map((r) => [r.id, r])) : null;
  const tag = p.tag ? foldTag(p.tag) : null;
  const range = dateRange(p);
  const items = all
    .filter((n) => (!matched || matched.has(n.id)) && (!tag || (n.tags || []).some((t) => foldTag(t) === tag)) && inRange(n.modified_at, range))
    .map((n) => {
      const hit = matched && matched.get(n.id); // the search's plain snippet, marks and folder name
      return {
        kind: "note",
        id: n.id,
        name: n.title || "Untitled note",
        parent: n.folder,
        parent_name: hit ? hit.parent_name : undefined,
        parent_url: hit ? hit.parent_url : undefined,
        modified_at: n.modified_at,
        tags: n.tags,
        snippet: hit ? hit.snippet : n.excerpt,
        snippet_marks: hit ? hit.snippet_marks : undefined,
      };
    });
  return { items, notes: [] };
}

async function foldersMatching(p, signal) {
  if (!p.q && !p.tag) return { items: [], notes: ["Folders are found by their name or tags: type words or choose a tag."] };
  const words = [p.q, p.tag].filter(Boolean).join(" ");
  const page = await api("GET", `search?q=${encodeURIComponent(words)}&kind=folder&page_size=100`, undefined, { signal });
  const range = dateRange(p);
  let folders = page.results.filter((r) => inRange(r.modified_at, range)).map(fromSearchResult);
  if (p.tag) {
    // the words may match a name: keep the folders that really carry the tag
    const tag = foldTag(p.tag);
    const details = await Promise.all(folders.slice(0, 50).map((f) => api("GET", `folders/${f.id}/`, undefined, { signal }).catch(() => null)));
    folders = details.filter((d) => d && (d.tags || []).some((t) => foldTag(t) === tag)).map((d) => ({ kind: "folder", id: d.id, name: d.name, parent: d.parent, modified_at: d.modified_at, tags: d.tags }));
  }
  return { items: folders, notes: [] };
}

// Chat messages are found by their words (they carry no tags), sent within the dates if any are set.
async function messagesMatching(p, signal) {
  if (!p.q) return { items: [], notes: p.tag ? [] : ["Chat messages are found by their words: type words."] };
  if (p.tag) return { items: [], notes: [] };
  const params = new URLSearchParams({ q: p.q, kind: "message", page_size: "100" });
  withDates(params, p);
  const page = await api("GET", `search?${params}`, undefined, { signal });
  const notes = page.count > page.results.length ? [`Showing the ${page.results.length} best matching of ${page.count} chat messages: add words or narrow the dates.`] : [];
  return { items: page.results.map(fromSearchResult), notes };
}

// kind -> (the form's values, an AbortSignal) -> Promise<{items, notes}>
export const SOURCES = { file: filesMatching, note: notesMatching, folder: foldersMatching, message: messagesMatching };
