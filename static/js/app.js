// The import page: wires the upload, the server-folder form, the current job, its results and
// the history together. The page's server-side facts come in the #page-config JSON.

import { api } from "./api.js";
import { $, $$, tablist } from "./dom.js";
import { ExportPanel } from "./export.js";
import { JobView, isFinished, updateHistory } from "./job.js";
import { setUpPreview } from "./preview.js";
import { Results } from "./results.js";
import { Review } from "./review.js";
import { Uploader, fromDrop, fromInput } from "./upload.js";

const config = JSON.parse($("#page-config").textContent);
const review = new Review({
  // A correction moves files between tabs and counts: the results shown are read again.
  onChanged() {
    if (results.jobId) api.job(results.jobId).then((job) => results.show(job), () => {});
  },
});
const results = new Results({ onReview: (jobId) => review.open(jobId) });
setUpPreview();
$("#library-review").addEventListener("click", () => review.open(null));
const jobView = new JobView(config, {
  onChange(job, previous) {
    updateHistory(job);
    document.title = `Job ${job.id} · ${job.status} · mediaimport`;
    // Results are (re)loaded when there is something stable to show: the job ended or paused.
    const settled = isFinished(job) || job.status === "paused";
    // An export's results are its manifest, offered for download on the job's card.
    if (job.job_type === "export") results.hide();
    else if (settled && (!previous || previous.status !== job.status)) results.show(job);
  },
});

function openJob(id, { push = true } = {}) {
  if (push && location.pathname !== `/jobs/${id}/`) history.pushState({ job: id }, "", `/jobs/${id}/`);
  if (results.jobId !== id) results.hide(); // until the new job has results of its own
  if (review.jobId && review.jobId !== id) review.close(); // a job's review goes with its job
  jobView.open(id);
}

window.addEventListener("popstate", () => {
  const match = /^\/jobs\/(\d+)\/$/.exec(location.pathname);
  if (match) openJob(Number(match[1]), { push: false });
});

// --- upload -------------------------------------------------------------------------------------

const uploader = new Uploader(config, { onJob: (id) => openJob(id) });
const dropzone = $("#dropzone");

// Browsers that cannot pick folders get no button for it (folders can still be dropped).
if (!("webkitdirectory" in $("#folder-input"))) $('[data-pick="folder-input"]').hidden = true;
for (const button of $$("[data-pick]")) {
  button.addEventListener("click", () => $(`#${button.dataset.pick}`).click());
}
for (const input of [$("#file-input"), $("#folder-input")]) {
  input.addEventListener("change", () => {
    const items = fromInput(input);
    input.value = "";
    uploader.send(items);
  });
}

// A drop anywhere on the page is taken as a drop on the zone: a missed aim must not make the
// browser leave the page to show the photo.
let dragDepth = 0;
const hasFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");
document.addEventListener("dragenter", (event) => {
  if (!hasFiles(event)) return;
  dragDepth += 1;
  dropzone.classList.add("is-dragging");
});
document.addEventListener("dragleave", () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (!dragDepth) dropzone.classList.remove("is-dragging");
});
document.addEventListener("dragover", (event) => {
  if (!hasFiles(event)) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = "copy";
});
document.addEventListener("drop", (event) => {
  if (!hasFiles(event)) return;
  event.preventDefault();
  dragDepth = 0;
  dropzone.classList.remove("is-dragging");
  fromDrop(event.dataTransfer).then((items) => uploader.send(items));
});

// --- server folder ------------------------------------------------------------------------------

const importTabs = $('[aria-label="Import from"]');
if (importTabs) {
  tablist(importTabs, (tab) => {
    for (const other of $$('[role="tab"]', importTabs)) $(`#${other.getAttribute("aria-controls")}`).hidden = other !== tab;
  });
  const form = $("#folder-form");
  const field = $("#folder-path");
  const error = $("#folder-error");
  for (const chip of $$("[data-root]", form)) {
    chip.addEventListener("click", () => {
      field.value = chip.dataset.root.replace(/\/?$/, "/");
      field.focus();
    });
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    field.removeAttribute("aria-invalid");
    const path = field.value.trim();
    if (!path) {
      error.textContent = "Enter the folder's full path on the server.";
      error.hidden = false;
      field.setAttribute("aria-invalid", "true");
      return;
    }
    const submit = $('button[type="submit"]', form);
    submit.disabled = true;
    try {
      const answer = await api.importPath(path, { skipKnown: $("#folder-skip-known", form).checked });
      openJob(answer.job_id);
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
      field.setAttribute("aria-invalid", "true");
    } finally {
      submit.disabled = false;
    }
  });
}

// --- export -------------------------------------------------------------------------------------

if ($("#export")) new ExportPanel({ onJob: (id) => openJob(id) });

// --- the job the page opened with ---------------------------------------------------------------

if (config.jobId) openJob(config.jobId, { push: false });

// Every handler is attached: scripts (and the browser tests) may act on the page from here on.
document.body.dataset.ready = "true";
