// Reviewing capture times, for a job or the whole library: the files that need a look, grouped by
// folder, camera or day with why their times are unsure; a selection (whole groups or single
// files); one of the four corrections, previewed before it is applied (a dry run of the same
// call); undo from the same place; and the server's suggestions, each one click from its preview.

import { api } from "./api.js";
import { $, $$, el } from "./dom.js";
import * as format from "./format.js";
import { openPreview } from "./preview.js";
import { thumbnail } from "./results.js";

const PREVIEW_LINES = 50;

export class Review {
  constructor({ onChanged } = {}) {
    this.card = $("#review");
    this.groupsList = $("#review-groups");
    this.form = $("#review-form");
    this.onChanged = onChanged;
    this.jobId = null;
    this.data = null;
    this.by = "folder";
    this.selected = new Set();
    this.planned = null; // the correction the preview shows, applied as it is
    this.changeId = null;

    for (const button of $$("[data-by]", this.card)) {
      button.addEventListener("click", () => {
        this.by = button.dataset.by;
        for (const other of $$("[data-by]", this.card)) other.setAttribute("aria-pressed", String(other === button));
        this.renderGroups();
      });
    }
    $("#review-close").addEventListener("click", () => this.close());
    $("#review-all").addEventListener("change", (event) => {
      this.selected = new Set(event.target.checked ? this.data.files.map((f) => f.id) : []);
      this.selectionChanged();
    });
    $("#review-action").addEventListener("change", () => this.showFields());
    this.form.addEventListener("input", () => this.discardPreview());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.preview();
    });
    $("#review-apply").addEventListener("click", () => this.apply());
    $("#review-discard").addEventListener("click", () => this.discardPreview());
    $("#review-undo").addEventListener("click", () => this.undo());
    this.groupsList.addEventListener("change", (event) => this.toggle(event.target));
    this.groupsList.addEventListener("click", (event) => {
      const opener = event.target.closest(".tile-open");
      if (opener) openPreview(this.files.get(Number(opener.dataset.fileId)));
    });
    if (Intl.supportedValuesOf) {
      $("#review-zones").replaceChildren(...Intl.supportedValuesOf("timeZone").map((zone) => el("option", { value: zone })));
    }
    this.showFields();
  }

  // jobId: a job's review; null: the whole library's.
  async open(jobId) {
    this.jobId = jobId;
    this.card.hidden = false;
    $("#review-title").textContent = jobId ? `Review job ${jobId}` : "Review the library";
    $("#review-done").hidden = true;
    await this.load();
    this.card.scrollIntoView({ behavior: "smooth", block: "start" });
  }

  close() {
    this.card.hidden = true;
    this.data = null;
  }

  async load() {
    this.discardPreview();
    $("#review-subtitle").textContent = "Loading…";
    try {
      this.data = await api.review(this.jobId);
    } catch (error) {
      $("#review-subtitle").textContent = error.message;
      return;
    }
    this.files = new Map(this.data.files.map((f) => [f.id, f]));
    this.selected = new Set([...this.selected].filter((id) => this.files.has(id)));
    const { total, shown } = this.data;
    const need = `${format.count(total, "file")} ${total === 1 ? "needs" : "need"} a look`;
    $("#review-subtitle").textContent = total > shown
      ? `${need}; the ${shown.toLocaleString()} oldest are shown.`
      : `${need}: a low or missing date, or records that disagree.`;
    const empty = !total;
    $("#review-empty").hidden = !empty;
    $("#review-empty").textContent = "Nothing needs a look: every date is sure.";
    for (const part of [$("#review-tools"), this.groupsList, this.form]) part.hidden = empty;
    this.renderSuggestions();
    this.renderGroups();
  }

  renderSuggestions() {
    const box = $("#review-suggestions");
    const suggestions = this.data.suggestions || [];
    box.hidden = !suggestions.length;
    box.replaceChildren(
      el("h3", { text: "Suggestions" }),
      el("ul", { class: "plain-list" }, suggestions.map((s) => el("li", { class: "suggestion" },
        el("div", {}, el("strong", { text: s.title }), el("span", { class: "muted small", text: ` ${s.detail} (${format.count(s.file_ids.length, "file")})` })),
        el("button", { type: "button", class: "button small", text: "Preview", dataset: { suggestion: suggestions.indexOf(s) } })))),
    );
    for (const button of $$("[data-suggestion]", box)) {
      button.addEventListener("click", () => {
        const suggestion = suggestions[Number(button.dataset.suggestion)];
        this.selected = new Set(suggestion.file_ids.filter((id) => this.files.has(id)));
        this.selectionChanged();
        this.fillForm(suggestion.correction);
        this.preview({ file_ids: suggestion.file_ids, ...suggestion.correction });
      });
    }
  }

  renderGroups() {
    if (!this.data) return;
    this.groupsList.replaceChildren(...this.data.groups[this.by].map((group) => {
      const box = el("input", { type: "checkbox", class: "group-check", "aria-label": `Select ${group.label}`, dataset: { group: group.key } });
      const details = el("details", {},
        el("summary", {}, el("span", { class: "group-label", text: group.label }), el("span", { class: "muted small", text: ` ${group.summary}` })),
      );
      // The files are drawn when the group is opened: a library review may hold a thousand.
      details.addEventListener("toggle", () => {
        if (details.open && details.childElementCount === 1) details.append(el("ul", { class: "review-files plain-list" }, group.file_ids.map((id) => this.fileItem(id))));
        this.syncChecks();
      }, { once: false });
      return el("li", { class: "review-group", dataset: { group: group.key } }, box, details);
    }));
    this.syncChecks();
  }

  fileItem(id) {
    const file = this.files.get(id);
    return el("li", { class: "review-file" },
      el("input", { type: "checkbox", class: "file-check", "aria-label": `Select ${file.filename}`, dataset: { fileId: id } }),
      el("button", { type: "button", class: "tile-open", "aria-label": `Show ${file.filename} larger`, dataset: { fileId: id } }, thumbnail(file, 64)),
      el("span", { class: "review-file-text" },
        el("span", { class: "name", text: file.filename }),
        el("span", { class: "muted small", text: `${format.fileWhen(file)} · ${file.reason}` })));
  }

  toggle(input) {
    const group = this.data.groups[this.by].find((g) => g.key === input.dataset.group);
    const ids = input.classList.contains("group-check") ? group.file_ids : [Number(input.dataset.fileId)];
    for (const id of ids) {
      if (input.checked) this.selected.add(id);
      else this.selected.delete(id);
    }
    this.selectionChanged();
  }

  selectionChanged() {
    this.discardPreview();
    this.syncChecks();
    const n = this.selected.size;
    $("#review-count").textContent = n ? `${format.count(n, "file")} selected` : "None selected";
    $("#review-preview-button").disabled = !n;
    const all = $("#review-all");
    all.checked = n > 0 && n === this.data.files.length;
    all.indeterminate = n > 0 && !all.checked;
    // The reference file is one of the selection.
    const reference = $("#review-reference-file");
    reference.replaceChildren(...[...this.selected].slice(0, 500).map((id) => el("option", { value: id, text: this.files.get(id).filename })));
  }

  syncChecks() {
    for (const box of $$(".group-check", this.groupsList)) {
      const group = this.data.groups[this.by].find((g) => g.key === box.dataset.group);
      const chosen = group.file_ids.filter((id) => this.selected.has(id)).length;
      box.checked = chosen === group.file_ids.length;
      box.indeterminate = chosen > 0 && !box.checked;
    }
    for (const box of $$(".file-check", this.groupsList)) box.checked = this.selected.has(Number(box.dataset.fileId));
  }

  showFields() {
    const action = $("#review-action").value;
    for (const fields of $$(".review-fields", this.form)) fields.hidden = fields.dataset.for !== action;
    this.discardPreview();
  }

  // The form showing a suggestion's correction, so that what is previewed is what is written.
  fillForm(correction) {
    if ("shift_seconds" in correction) {
      const minutes = Math.round(correction.shift_seconds / 60);
      $("#review-action").value = "shift";
      $("#review-shift-hours").value = Math.trunc(minutes / 60);
      $("#review-shift-minutes").value = minutes % 60;
    } else if ("set" in correction) {
      $("#review-action").value = "set";
      $("#review-set").value = correction.set;
    }
    this.showFields();
  }

  // The request the form asks for.
  correction() {
    const file_ids = [...this.selected];
    const action = $("#review-action").value;
    if (action === "shift") {
      const seconds = Math.round((Number($("#review-shift-hours").value) || 0) * 3600 + (Number($("#review-shift-minutes").value) || 0) * 60);
      return { file_ids, shift_seconds: seconds };
    }
    if (action === "set") return { file_ids, set: $("#review-set").value.trim() };
    if (action === "zone") return { file_ids, zone: $("#review-zone").value.trim() };
    return { file_ids, reference: { file_id: Number($("#review-reference-file").value), timestamp: $("#review-reference-time").value.trim() } };
  }

  async preview(body = this.correction()) {
    this.discardPreview();
    this.say("");
    try {
      const answer = await api.correct({ ...body, dry_run: true });
      this.planned = body;
      const lines = answer.files.slice(0, PREVIEW_LINES).map((file) => el("li", {},
        el("strong", { text: `${file.filename}: ` }),
        el("span", { text: `${format.fileWhen(file.previous)} → ${format.fileWhen(file)}` })));
      if (answer.files.length > PREVIEW_LINES) lines.push(el("li", { class: "muted", text: `… and ${format.count(answer.files.length - PREVIEW_LINES, "more file")}` }));
      if (answer.skipped.length) lines.push(el("li", { class: "muted", text: `${format.count(answer.skipped.length, "file")} left as they are (no time to move, or a zone the file recorded)` }));
      $("#review-preview-list").replaceChildren(...lines);
      $("#review-preview-title").textContent = `Preview: ${format.count(answer.updated.length, "file")} will change`;
      $("#review-apply").textContent = `Apply to ${format.count(answer.updated.length, "file")}`;
      $("#review-apply").disabled = !answer.updated.length;
      $("#review-preview").hidden = false;
    } catch (error) {
      this.say(error.message);
    }
  }

  discardPreview() {
    this.planned = null;
    $("#review-preview").hidden = true;
  }

  async apply() {
    if (!this.planned) return;
    const body = this.planned;
    $("#review-apply").disabled = true;
    try {
      const answer = await api.correct(body);
      this.changeId = answer.change_id;
      this.done(`${format.count(answer.updated.length, "file")} corrected.`);
      this.selected.clear();
      await this.changed();
    } catch (error) {
      this.say(error.message);
    } finally {
      $("#review-apply").disabled = false;
    }
  }

  async undo() {
    if (!this.changeId) return;
    try {
      const answer = await api.undo(this.changeId);
      this.changeId = null;
      const kept = answer.kept.length ? `; ${format.count(answer.kept.length, "file")} kept, changed again since` : "";
      this.done(`Undone: ${format.count(answer.restored.length, "file")} restored${kept}.`, false);
      await this.changed();
    } catch (error) {
      this.say(error.message);
    }
  }

  async changed() {
    await this.load();
    this.selectionChanged();
    this.onChanged?.(this.jobId);
  }

  done(text, undoable = true) {
    $("#review-done-text").textContent = text;
    $("#review-undo").hidden = !undoable;
    $("#review-done").hidden = false;
  }

  say(message) {
    $("#review-error").textContent = message;
    $("#review-error").hidden = !message;
  }
}
