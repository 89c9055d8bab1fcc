// The Export panel: destination, template with a live preview on the user's own files, the plan
// (a dry run: counts, space, the first files before → after) and the start of the real export,
// which the page then follows like any job.

import { api } from "./api.js";
import { $, $$, el } from "./dom.js";
import * as format from "./format.js";

const PREVIEW_DELAY_MS = 250;
const PLAN_SHOWN = 10;

export class ExportPanel {
  constructor({ onJob }) {
    this.onJob = onJob;
    this.form = $("#export-form");
    this.destination = $("#export-destination");
    this.template = $("#export-template");
    this.error = $("#export-error");
    this.previewRound = 0;
    for (const chip of $$("[data-export-root]", this.form)) {
      chip.addEventListener("click", () => {
        this.destination.value = chip.dataset.exportRoot.replace(/\/?$/, "/");
        this.destination.focus();
      });
    }
    this.template.addEventListener("input", () => {
      clearTimeout(this.previewTimer);
      this.previewTimer = setTimeout(() => this.preview(), PREVIEW_DELAY_MS);
    });
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.run({ dryRun: true });
    });
    $("#export-start").addEventListener("click", () => this.run({ dryRun: false }));
    this.preview();
  }

  options(dryRun) {
    return {
      destination: this.destination.value.trim(),
      template: this.template.value.trim(),
      write_metadata: $("#export-write").checked,
      dry_run: dryRun,
    };
  }

  async preview() {
    const round = ++this.previewRound;
    const list = $("#export-preview");
    try {
      const answer = await api.exportPreview(this.template.value.trim());
      if (round !== this.previewRound) return;
      this.template.removeAttribute("aria-invalid");
      list.replaceChildren(...answer.entries.map((e) => pathRow(e.source, e.destination)));
      if (!answer.entries.length) list.replaceChildren(el("li", { class: "muted small", text: "No imported files yet." }));
    } catch (failure) {
      if (round !== this.previewRound) return;
      this.template.setAttribute("aria-invalid", "true");
      list.replaceChildren(el("li", { class: "bad small", text: failure.message }));
    }
  }

  async run({ dryRun }) {
    this.error.hidden = true;
    this.destination.removeAttribute("aria-invalid");
    const options = this.options(dryRun);
    if (!options.destination) {
      this.say("Enter the destination folder's full path on the server.");
      this.destination.setAttribute("aria-invalid", "true");
      return;
    }
    const buttons = [$("#export-plan"), $("#export-start")];
    for (const button of buttons) button.disabled = true;
    try {
      const answer = await api.startExport(options);
      if (dryRun) await this.showPlan(answer.job_id);
      else this.onJob(answer.job_id);
    } catch (failure) {
      this.say(failure.message);
    } finally {
      for (const button of buttons) button.disabled = false;
    }
  }

  async showPlan(jobId) {
    const plan = await api.manifest(jobId, { per_page: PLAN_SHOWN });
    const s = plan.summary;
    $("#export-plan-job").textContent = `(dry run, job ${jobId})`;
    $('[data-count="exported"]').textContent = s.exported.toLocaleString();
    $('[data-count="duplicates"]').textContent = s.duplicates.toLocaleString();
    $('[data-count="undated"]').textContent = s.undated.toLocaleString();
    $('[data-count="space"]').textContent = `${format.bytes(s.bytes_needed)} / ${format.bytes(s.bytes_free)}`;
    const space = $("#export-space");
    space.hidden = s.bytes_needed <= s.bytes_free;
    space.textContent = "The copies do not fit in the destination's free space: free some space or choose another folder.";
    const rows = plan.entries.map((e) =>
      e.action === "duplicate"
        ? pathRow(e.source, `left out: a duplicate of file ${e.duplicate_of}`, "muted")
        : pathRow(e.source, e.destination),
    );
    if (plan.total > plan.entries.length) {
      rows.push(el("li", { class: "muted small", text: `… and ${(plan.total - plan.entries.length).toLocaleString()} more` }));
    }
    $("#export-entries").replaceChildren(...rows);
    $("#export-plan-csv").href = `/api/jobs/${jobId}/manifest?format=csv`;
    $("#export-plan-view").hidden = false;
  }

  say(message) {
    this.error.textContent = message;
    this.error.hidden = false;
  }
}

function pathRow(before, after, afterClass = "") {
  return el("li", { class: "path-row" },
    el("span", { class: "before", text: before }),
    el("span", { class: "arrow", "aria-label": "becomes", text: " → " }),
    el("span", { class: `after ${afterClass}`.trim(), text: after }));
}
