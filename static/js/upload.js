// Uploading a selection: files dropped or picked (folders too), sent in batches that respect the
// server's limits, all batches of one selection forming one job.

import { upload } from "./api.js";
import { $, el, setProgress } from "./dom.js";
import * as format from "./format.js";

// Room left in each request for the multipart headers around every file.
const OVERHEAD_PER_FILE = 1024;
const OVERHEAD_PER_REQUEST = 64 * 1024;

// --- collecting what was dropped or picked ------------------------------------------------------

// Each item is { file, folder }: folder is the path of folders the file was found in, if any.
export function fromInput(input) {
  return [...input.files]
    .map((file) => ({ file, folder: parentOf(file.webkitRelativePath || "") }))
    .filter(({ file, folder }) => !(folder && file.name.startsWith("."))); // litter of a picked folder
}

function parentOf(relativePath) {
  return relativePath.split("/").slice(0, -1).join("/");
}

// Entries must be taken from the DataTransfer during the drop event itself (it is emptied once
// the handler returns); walking the folders can then take its time.
export async function fromDrop(dataTransfer) {
  const roots = [];
  for (const item of dataTransfer.items || []) {
    if (item.kind !== "file") continue;
    const entry = item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
    roots.push(entry || item.getAsFile());
  }
  if (!roots.length) roots.push(...dataTransfer.files);
  const found = [];
  for (const root of roots) {
    if (root instanceof File) found.push({ file: root, folder: "" });
    else if (root) await walk(root, "", found);
  }
  return found;
}

async function walk(entry, folder, found) {
  if (entry.isFile) {
    const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
    found.push({ file, folder });
    return;
  }
  const inner = folder ? `${folder}/${entry.name}` : entry.name;
  const reader = entry.createReader();
  // readEntries hands out a folder's entries a hundred or so at a time, until an empty batch.
  for (;;) {
    const entries = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (!entries.length) break;
    for (const child of entries) {
      // Hidden files (.DS_Store, ._IMG_1.JPG) are system litter, not something the person chose.
      if (!child.name.startsWith(".")) await walk(child, inner, found);
    }
  }
}

// --- planning the batches ---------------------------------------------------------------------

// A selection goes up in requests far smaller than the server's limits (uploadRequestFiles,
// uploadRequestBytes): a request is stored whole or not at all, so Stop or a dropped connection
// loses at most the one on its way, and what arrived before it stays imported. A file larger than
// a request's share goes alone, up to the server's limit.
export function plan(items, { uploadMaxBytes, uploadRequestFiles, uploadRequestBytes, extensions }) {
  const accepted = [];
  const refused = [];
  const room = uploadMaxBytes - OVERHEAD_PER_REQUEST;
  const share = Math.min(room, uploadRequestBytes - OVERHEAD_PER_REQUEST);
  for (const item of items) {
    const name = item.file.name;
    const dot = name.lastIndexOf(".");
    const extension = dot >= 0 ? name.slice(dot).toLowerCase() : "";
    if (!extensions.includes(extension)) {
      const accepted = extensions.map((e) => e.slice(1)).join(", ");
      refused.push({ item, reason: `Not a photo or video type that can be imported (accepted: ${accepted}).` });
    } else if (item.file.size + OVERHEAD_PER_FILE > room) {
      refused.push({ item, reason: `Larger than the server accepts in one upload (${format.bytes(uploadMaxBytes)}).` });
    } else {
      accepted.push(item);
    }
  }
  const batches = [];
  let batch = null;
  for (const item of accepted) {
    const size = item.file.size + OVERHEAD_PER_FILE;
    if (!batch || batch.items.length >= uploadRequestFiles || (batch.items.length && batch.bytes + size > share)) {
      batch = { items: [], bytes: 0, size: 0 }; // bytes: of the request; size: of its files
      batches.push(batch);
    }
    batch.items.push(item);
    batch.bytes += size;
    batch.size += item.file.size;
  }
  return { batches, refused };
}

// --- sending them -----------------------------------------------------------------------------

// Speed is averaged over the last few seconds, so that it follows the connection without jumping.
class Speed {
  constructor(window = 5000) {
    this.window = window;
    this.samples = [];
  }
  add(done, at = performance.now()) {
    this.samples.push([at, done]);
    while (this.samples.length > 2 && at - this.samples[0][0] > this.window) this.samples.shift();
  }
  perSecond() {
    if (this.samples.length < 2) return 0;
    const [t0, d0] = this.samples[0];
    const [t1, d1] = this.samples[this.samples.length - 1];
    return t1 > t0 ? ((d1 - d0) * 1000) / (t1 - t0) : 0;
  }
}

export class Uploader {
  constructor(config, { onJob }) {
    this.config = config;
    this.onJob = onJob;
    this.panel = $("#upload");
    this.list = $("#upload-files");
    this.bar = $("#upload-bar");
    this.stats = $("#upload-stats");
    this.title = $("#upload-title");
    this.rejected = $("#rejected");
    this.rejectedList = $("#rejected-list");
    this.stopButton = $("#upload-stop");
    this.stopHint = $("#upload-stop-hint");
    this.stopButton.addEventListener("click", () => this.stopper?.abort());
    this.busy = false;
    // Leaving the page would cut the upload off: the browser asks first.
    window.addEventListener("beforeunload", (event) => {
      if (this.busy) event.preventDefault();
    });
  }

  // Sends a selection batch by batch, one batch at a time; the first batch's answer names the
  // job, and every later batch joins it.
  async send(items) {
    if (this.busy) {
      this.title.textContent = "Wait for this upload to finish before adding more.";
      return;
    }
    if (!items.length) return;
    this.busy = true;
    const { batches, refused } = plan(items, this.config);
    this.start(items, batches);
    for (const { item, reason } of refused) this.reject(item, reason);
    let jobId = null;
    let sent = 0;
    for (const [index, batch] of batches.entries()) {
      if (this.stopper.signal.aborted) {
        for (const item of batch.items) this.stop(item);
        continue;
      }
      this.title.textContent = `Uploading ${format.count(items.length - refused.length, "file")}` +
        (batches.length > 1 ? ` · batch ${index + 1} of ${batches.length}` : "");
      const answer = await this.sendBatch(batch, jobId, (batchSent) => this.show(sent + batchSent));
      if (answer && jobId === null) {
        jobId = answer.job_id;
        this.onJob(jobId);
      }
      if (answer || !this.stopper.signal.aborted) sent += batch.size; // a stopped request kept nothing
      this.show(sent);
    }
    this.finish(sent);
    return jobId;
  }

  // Sends one batch and marks its files by the answer. Returns the answer, or null when the
  // batch failed as a whole.
  async sendBatch(batch, jobId, onProgress) {
    const form = new FormData();
    if (jobId !== null) form.append("job_id", String(jobId));
    for (const { file, folder } of batch.items) {
      form.append("files", file, file.name);
      // Parallel lists, one entry per file in the same order: the browser's modified time
      // (milliseconds since 1970) helps the capture-time engine, and the path the file was
      // dropped under keeps its folders (a folder name can tell a date too).
      form.append("last_modified", String(file.lastModified));
      form.append("relative_path", folder ? `${folder}/${file.name}` : file.name);
    }
    for (const item of batch.items) this.rows.get(item).dataset.state = "sending";
    try {
      const answer = await upload(form, (loaded, requestBytes) => {
        // The request also carries multipart headers; the files' share of it is spread over
        // the files by their byte offsets within the batch.
        const filesSent = requestBytes ? (loaded / requestBytes) * batch.size : 0;
        this.attribute(batch.items, filesSent);
        onProgress(filesSent);
      }, this.stopper.signal);
      this.settle(batch.items, answer.rejected || []);
      return answer;
    } catch (error) {
      if (this.stopper.signal.aborted) {
        for (const item of batch.items) this.stop(item);
      } else {
        // A batch with nothing acceptable in it is answered 400 with each file's own reason.
        this.settle(batch.items, error.body?.rejected || [], error.message);
      }
      return null;
    }
  }

  // Marks each file uploaded, or not imported with the server's reason for it; `fallback` is the
  // reason for the files of a batch refused as a whole.
  settle(items, rejected, fallback = "") {
    const reasons = new Map();
    for (const { filename, reason } of rejected) reasons.set(filename, [...(reasons.get(filename) || []), reason]);
    for (const item of items) {
      const reason = reasons.get(item.file.name)?.shift() || fallback;
      if (reason) this.reject(item, reason);
      else this.done(item);
    }
  }

  start(items, batches) {
    this.rows = new Map(items.map((item) => [item, this.row(item)]));
    this.list.replaceChildren(...this.rows.values());
    this.total = batches.reduce((sum, batch) => sum + batch.size, 0);
    this.speed = new Speed();
    this.stopper = new AbortController();
    this.stopButton.hidden = false;
    this.stopHint.hidden = false;
    this.panel.hidden = false;
    this.rejected.hidden = true;
    this.rejectedList.replaceChildren();
    setProgress(this.bar, 0);
    this.stats.textContent = "";
  }

  show(sent) {
    this.speed.add(sent);
    const rate = this.speed.perSecond();
    setProgress(this.bar, this.total ? sent / this.total : 1);
    this.stats.textContent = [
      `${format.bytes(sent)} of ${format.bytes(this.total)}`,
      rate ? `${format.bytes(rate)}/s` : null,
      rate ? `${format.duration((this.total - sent) / rate)} left` : null,
    ].filter(Boolean).join(" · ");
  }

  finish(sent) {
    const count = (state) => this.list.querySelectorAll(`[data-state="${state}"]`).length;
    const stored = count("done");
    const notSent = count("stopped");
    const rejected = count("rejected") ? `${count("rejected")} not imported` : null;
    if (this.stopper.signal.aborted) {
      // Stopped: the requests answered before Stop are imported, the one on its way kept
      // nothing (the server stores no request that did not arrive whole), the rest never left.
      this.title.textContent = [`${stored.toLocaleString()} of ${this.rows.size.toLocaleString()} sent and imported`,
        rejected, notSent ? `${notSent.toLocaleString()} not sent` : null].filter(Boolean).join("; ");
    } else {
      this.title.textContent = [stored ? `Uploaded ${format.count(stored, "file")}` : "Nothing was imported", rejected,
        notSent ? `${notSent} not sent` : null].filter(Boolean).join(", ");
    }
    this.stats.textContent = `${format.bytes(sent)} sent`;
    this.stopButton.hidden = true;
    this.stopHint.hidden = true;
    this.busy = false;
  }

  row({ file, folder }) {
    return el(
      "li",
      { class: "upload-file", dataset: { state: "waiting" } },
      el("span", { class: "name", text: folder ? `${folder}/${file.name}` : file.name, title: file.name }),
      el("span", { class: "size muted", text: format.bytes(file.size) }),
      el("span", { class: "state muted", text: "Waiting" }),
      el("span", { class: "progress thin", "aria-hidden": "true" }, el("span")),
    );
  }

  attribute(items, filesSent) {
    let offset = 0;
    for (const item of items) {
      const size = item.file.size;
      const fraction = size ? Math.max(0, Math.min(1, (filesSent - offset) / size)) : filesSent > offset ? 1 : 0;
      offset += size;
      // Only the file being sent changes; the rows of the others are left alone.
      const row = this.rows.get(item);
      if (row.dataset.fraction === String(fraction)) continue;
      row.dataset.fraction = String(fraction);
      this.mark(item, "sending", fraction >= 1 ? "Sent" : fraction > 0 ? `${Math.floor(fraction * 100)}%` : "Waiting", fraction);
    }
  }

  done(item) {
    this.mark(item, "done", "Uploaded", 1);
  }

  stop(item) {
    this.mark(item, "stopped", "Not sent");
  }

  reject(item, reason) {
    this.mark(item, "rejected", "Not imported");
    this.rejectedList.append(el("li", {}, el("strong", { text: item.file.name }), el("span", { class: "reason", text: reason })));
    this.rejected.hidden = false;
    $("#rejected-title").textContent = `Not imported (${this.rejectedList.childElementCount})`;
  }

  mark(item, state, text, fraction = null) {
    const row = this.rows.get(item);
    row.dataset.state = state;
    row.querySelector(".state").textContent = text;
    if (fraction !== null) row.lastElementChild.firstElementChild.style.width = `${fraction * 100}%`;
  }
}
