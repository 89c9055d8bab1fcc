// The current job: its live progress, rate and time left, and the buttons its state allows.

import { api } from "./api.js";
import { $, $$, el, setProgress } from "./dom.js";
import * as format from "./format.js";

const FINISHED = new Set(["completed", "failed", "cancelled"]);
const POLL_MS = 1000;
// The rate is measured over this much recent time: long enough to smooth batch-sized steps.
const RATE_WINDOW_MS = 20000;

const KINDS = { upload: "Upload", path: "Server folder", export: "Export" };

// What the job was: a dry run is listed with the exports, named as what it is (nothing written).
function kindLabel(job) {
  const kind = KINDS[job.job_type] || "";
  return job.dry_run ? `${kind} (dry run)` : kind;
}

// Files per second over the whole run, for a job that is over.
function averageRate(job) {
  if (!job.completed_at || !job.started_at) return 0;
  const seconds = (Date.parse(job.completed_at) - Date.parse(job.started_at)) / 1000;
  return seconds > 0 && job.progress_current ? job.progress_current / seconds : 0;
}

export class JobView {
  constructor(config, { onChange }) {
    this.actions = config.actions;
    this.onChange = onChange;
    this.card = $("#job");
    this.bar = $("#job-bar");
    this.message = $("#job-message");
    this.job = null;
    this.timer = null;
    this.samples = [];
    for (const button of $$("[data-action]", this.card)) {
      button.addEventListener("click", () => this.control(button.dataset.action));
    }
  }

  // Shows the job and follows it until it ends. Opening again (another job, or after resume)
  // replaces the earlier round of polling: `round` tells a stale answer from the current one.
  async open(id) {
    if (this.job?.id !== id) {
      this.job = null;
      this.samples = [];
      this.message.hidden = true;
    }
    clearTimeout(this.timer);
    this.round = (this.round || 0) + 1;
    this.card.hidden = false;
    await this.poll(id, this.round);
  }

  async poll(id, round) {
    let job = null;
    try {
      job = await api.job(id);
    } catch (error) {
      if (round === this.round) this.say(error.message);
    }
    if (round !== this.round) return;
    if (job) this.render(job);
    if (!this.job || !FINISHED.has(this.job.status)) {
      // A paused job changes only when someone resumes it (perhaps in another tab): look less often.
      const wait = this.job?.status === "paused" ? 5 * POLL_MS : POLL_MS;
      this.timer = setTimeout(() => this.poll(id, round), wait);
    }
  }

  render(job) {
    const previous = this.job;
    this.job = job;
    const now = performance.now();
    if (job.status === "running") {
      this.samples.push([now, job.progress_current]);
      while (this.samples.length > 2 && now - this.samples[0][0] > RATE_WINDOW_MS) this.samples.shift();
    } else {
      this.samples = [];
    }
    if (previous?.id !== job.id && $("#job-title").textContent !== `Job ${job.id}`) {
      $("#job-title").textContent = `Job ${job.id}`;
      $("#job-subtitle").textContent = kindLabel(job);
    }
    const badge = $("#job-status");
    badge.dataset.status = job.status;
    badge.textContent = format.STATUS_LABELS[job.status] || job.status;
    const fraction = job.progress_total ? job.progress_current / job.progress_total : job.status === "completed" ? 1 : 0;
    setProgress(this.bar, fraction);
    $("#job-files").textContent = `${job.progress_current.toLocaleString()} / ${job.progress_total.toLocaleString()}`;
    $("#job-errors").textContent = job.error_count.toLocaleString();
    $("#job-errors").classList.toggle("bad", job.error_count > 0);
    const skipped = $("#job-skipped");
    skipped.hidden = !job.skipped_count;
    skipped.textContent = job.skipped_count
      ? `Skipped ${job.skipped_count.toLocaleString()} files that are not photos or videos we import: ${format.skipped(job.skipped)}`
      : "";
    const known = job.already_imported_count || 0;
    $("#job-library").hidden = !known;
    $("#job-library").textContent = `${known.toLocaleString()} already in your library`;
    const rate = isFinished(job) ? averageRate(job) : this.rate();
    $("#job-rate").textContent = rate ? `${rate < 10 ? rate.toFixed(1) : Math.round(rate)} files/s` : "–";
    const manifest = $("#job-manifest");
    manifest.hidden = job.job_type !== "export";
    manifest.firstElementChild.href = `/api/jobs/${job.id}/manifest?format=csv`;
    const recent = this.rate();
    $("#job-eta").textContent =
      job.status === "completed" ? "Done" : recent ? format.duration((job.progress_total - job.progress_current) / recent) : "–";
    const allowed = job.allowed_actions || Object.keys(this.actions).filter((a) => this.actions[a].includes(job.status));
    for (const button of $$("[data-action]", this.card)) button.hidden = !allowed.includes(button.dataset.action);
    if (!previous || previous.status !== job.status || previous.progress_current !== job.progress_current ||
        previous.progress_total !== job.progress_total) {
      this.onChange(job, previous);
    }
  }

  // Files per second over the last RATE_WINDOW_MS while the job runs.
  rate() {
    if (this.samples.length < 2) return 0;
    const [t0, n0] = this.samples[0];
    const [t1, n1] = this.samples[this.samples.length - 1];
    return t1 - t0 > 1500 && n1 > n0 ? ((n1 - n0) * 1000) / (t1 - t0) : 0;
  }

  async control(action) {
    if (action === "cancel" && !window.confirm(cancelQuestion(this.job))) return;
    const buttons = $$("[data-action]", this.card);
    for (const button of buttons) button.disabled = true;
    this.message.hidden = true;
    try {
      const job = await api.control(this.job.id, action);
      this.render(job);
      if (action === "resume") this.open(job.id);
    } catch (error) {
      this.say(error.message);
      if (error.body?.allowed_actions) this.render({ ...this.job, allowed_actions: error.body.allowed_actions });
    } finally {
      for (const button of buttons) button.disabled = false;
    }
  }

  say(message) {
    this.message.textContent = message;
    this.message.hidden = false;
  }
}

// Cancelling cannot be undone: the person is told what stays and what does not before it happens.
function cancelQuestion(job) {
  const done = job.progress_current;
  const left = job.progress_total - done;
  return `Cancel job ${job.id}? ${format.count(done, "file")} processed so far stay imported, with their results; ` +
    `the ${left.toLocaleString()} not processed yet will not be (import the same files again, skipping those already in your library, to finish them). This cannot be undone.`;
}

// Keeps the job's row in the history table in step with what the page learns about it.
export function updateHistory(job) {
  const rows = $("#history-rows");
  let row = $(`tr[data-job-id="${job.id}"]`, rows);
  if (!row) {
    row = el(
      "tr",
      { dataset: { jobId: job.id } },
      el("th", { scope: "row" },
        el("a", { href: `/jobs/${job.id}/`, text: `Job ${job.id}` }), " ",
        el("span", { class: "muted small", text: kindLabel(job) })),
      el("td", { class: "hide-narrow" }, el("time", { datetime: job.created_at, text: format.shortTime(job.created_at) })),
      el("td", {}, el("span", { class: "badge", dataset: { field: "status" } })),
      el("td", { class: "num", dataset: { field: "files" } }),
      el("td", { class: "num", dataset: { field: "errors" } }),
    );
    rows.prepend(row);
    $("#history-table").hidden = false;
    $("#history-empty").hidden = true;
  }
  for (const other of $$("tr[aria-current]", rows)) other.removeAttribute("aria-current");
  row.setAttribute("aria-current", "true");
  const badge = $('[data-field="status"]', row);
  badge.dataset.status = job.status;
  badge.textContent = format.STATUS_LABELS[job.status] || job.status;
  $('[data-field="files"]', row).textContent = `${job.progress_current} / ${job.progress_total}`;
  $('[data-field="errors"]', row).textContent = String(job.error_count);
}

export function isFinished(job) {
  return FINISHED.has(job.status);
}
