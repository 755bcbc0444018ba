// The words of the file browser's upload list: the live line a screen reader hears while a batch runs (at most
// every few seconds, so that it is not drowned) and the one sentence that ends a batch.

export function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

// "5 uploaded, 1 skipped, 1 failed, 1 folder not created" of a batch's files and folders.
export function summary(current, folders) {
  const tally = (state) => current.filter((u) => u.state === state).length;
  const parts = [`${tally("done")} uploaded`];
  if (tally("skipped")) parts.push(`${tally("skipped")} skipped`);
  if (tally("error")) parts.push(`${tally("error")} failed`);
  if (tally("cancelled")) parts.push(`${tally("cancelled")} cancelled`);
  const made = folders.filter((f) => f.state === "done").length;
  const broken = folders.filter((f) => f.state === "error").length;
  if (!current.length && made) parts[0] = `${plural(made, "folder", "folders")} created`;
  if (broken) parts.push(`${plural(broken, "folder", "folders")} not created`);
  return parts.join(", ");
}

// liveLine(node, everyMs).set(text, now): the text of an aria-live node, changed at most every everyMs unless
// now; .waiting() tells whether a change is still due.
export function liveLine(node, everyMs) {
  let last = 0;
  let timer = null;
  function set(text, now) {
    clearTimeout(timer);
    timer = null;
    const due = last + everyMs - Date.now();
    if (now || due <= 0) {
      if (node.textContent !== text) node.textContent = text;
      last = Date.now();
    } else {
      timer = setTimeout(() => set(text, true), due);
    }
  }
  return { set, waiting: () => timer !== null };
}
