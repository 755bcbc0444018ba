// The home page's storage chart: a donut of what the used storage holds (images, videos, audio, documents, other
// files, and the rest: older versions, the trash, notes and chats), drawn here as SVG with attributes only (the CSP
// forbids style attributes; the colours come from classes in locker.css, for the light and the dark theme), with a
// legend in words as a real list. GET /api/v1/me/storage -> {kinds: [{kind, bytes, files}], rest, used, quota}.
import { el, formatBytes } from "../locker.js";

const SVG = "http://www.w3.org/2000/svg";
export const KIND_NAMES = { images: "Images", videos: "Videos", audio: "Audio", documents: "Documents", other: "Other files" };
export const REST_NAME = "Older versions, trash, notes and chats";
const RADIUS = 15.9155; // a circumference of 100: dash lengths are percentages
const GAP = 0.6; // between two segments, so neighbours stay apart whatever their colours

function svg(tag, attrs, children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
  for (const child of children || []) node.append(child);
  return node;
}

function filesWord(count) {
  return `${count} ${count === 1 ? "file" : "files"}`;
}

// The slices in legend order: every kind (even empty ones, so the legend always reads the same), then the rest.
export function slices(storage) {
  const byKind = new Map((storage.kinds || []).map((k) => [k.kind, k]));
  const rows = Object.keys(KIND_NAMES).map((kind) => {
    const found = byKind.get(kind) || { bytes: 0, files: 0 };
    return { key: kind, name: KIND_NAMES[kind], bytes: Number(found.bytes) || 0, files: Number(found.files) || 0 };
  });
  for (const extra of storage.kinds || []) {
    if (!KIND_NAMES[extra.kind]) rows.push({ key: "other", name: String(extra.kind), bytes: Number(extra.bytes) || 0, files: Number(extra.files) || 0 });
  }
  rows.push({ key: "rest", name: REST_NAME, bytes: Number(storage.rest) || 0, files: null });
  return rows;
}

function percent(part, whole) {
  if (!whole || !part) return "0%";
  const value = (part / whole) * 100;
  return value < 1 ? "under 1%" : `${Math.round(value)}%`;
}

// One sentence for screen readers: the total, then each non-empty slice largest first.
export function summary(storage, rows) {
  const used = rows.reduce((sum, row) => sum + row.bytes, 0);
  const head = `Storage used: ${formatBytes(Number(storage.used) || used)} of ${formatBytes(Number(storage.quota) || 0)}.`;
  const parts = rows
    .filter((row) => row.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes)
    .map((row) => `${row.name} ${formatBytes(row.bytes)} (${percent(row.bytes, used)})`);
  return parts.length ? `${head} ${parts.join(", ")}.` : `${head} Nothing stored yet.`;
}

// The donut: one circle per non-empty slice, its dash as long as its share of the used bytes.
export function donut(storage, rows) {
  const total = rows.reduce((sum, row) => sum + row.bytes, 0);
  const label = summary(storage, rows);
  const chart = svg("svg", { viewBox: "0 0 42 42", class: "storage-donut", role: "img", "aria-label": label, focusable: "false", "data-testid": "storage-donut" });
  chart.append(svg("title", {}, [document.createTextNode(label)]));
  chart.append(svg("circle", { cx: 21, cy: 21, r: RADIUS, class: "donut-track", fill: "none", "stroke-width": 6 }));
  const shown = rows.filter((row) => row.bytes > 0);
  let offset = 25; // start at twelve o'clock
  for (const row of shown) {
    const share = (row.bytes / total) * 100;
    const gap = shown.length > 1 ? Math.min(GAP, share / 2) : 0;
    const length = Math.max(share - gap, 0.4);
    chart.append(
      svg("circle", {
        cx: 21,
        cy: 21,
        r: RADIUS,
        fill: "none",
        "stroke-width": 6,
        class: `donut-slice kind-${row.key}`,
        "stroke-dasharray": `${length.toFixed(3)} ${(100 - length).toFixed(3)}`,
        "stroke-dashoffset": offset.toFixed(3),
        "data-kind": row.key,
      }),
    );
    offset -= share;
  }
  const used = Number(storage.used) || total;
  chart.append(
    svg("text", { x: 21, y: 20.2, class: "donut-figure", "text-anchor": "middle", "aria-hidden": "true" }, [document.createTextNode(formatBytes(used))]),
    svg("text", { x: 21, y: 25.5, class: "donut-caption", "text-anchor": "middle", "aria-hidden": "true" }, [document.createTextNode("used")]),
  );
  return chart;
}

// The legend: a list with each slice's name, size, share and count of files; then the free space.
export function legend(storage, rows) {
  const total = rows.reduce((sum, row) => sum + row.bytes, 0);
  const items = rows.map((row) =>
    el("li", { class: `legend-row${row.bytes ? "" : " none"}`, "data-testid": "legend-row", "data-kind": row.key, "data-bytes": row.bytes }, [
      el("span", { class: `swatch kind-${row.key}`, "aria-hidden": "true" }),
      el("span", { class: "legend-name", text: row.name }),
      el("span", { class: "legend-size", "data-testid": "legend-size", text: formatBytes(row.bytes) }),
      el("span", { class: "legend-detail", text: [row.bytes ? percent(row.bytes, total) : null, row.files === null ? null : filesWord(row.files)].filter(Boolean).join(" · ") }),
    ]),
  );
  const quota = Number(storage.quota) || 0;
  const used = Number(storage.used) || 0;
  if (quota > 0) {
    items.push(
      el("li", { class: "legend-row free", "data-testid": "legend-free", "data-bytes": Math.max(quota - used, 0) }, [
        el("span", { class: "swatch kind-free", "aria-hidden": "true" }),
        el("span", { class: "legend-name", text: "Free" }),
        el("span", { class: "legend-size", text: formatBytes(Math.max(quota - used, 0)) }),
        el("span", { class: "legend-detail", text: `of ${formatBytes(quota)}` }),
      ]),
    );
  }
  return items;
}
