// A job's results: thumbnails by capture-time confidence, the files that failed, and the
// duplicate groups. Pages load as the person scrolls, and each card is cheap (a lazy image at a
// fixed size, content-visibility), so a job of 10,000 files stays quick to browse.

import { api } from "./api.js";
import { $, el, tablist } from "./dom.js";
import * as format from "./format.js";
import { openPreview } from "./preview.js";

const PER_PAGE = 100;
const MAX_PER_PAGE = 200;
const GROUPS_PER_PAGE = 20;
const ERRORS_PER_SCREEN = 30;
const CONFIDENCES = ["high", "medium", "low", "none"];
const CONFIDENCE_LABELS = { high: "High confidence", medium: "Medium confidence", low: "Low confidence", none: "No date" };
// Files of a paused or cancelled job that no worker reached: counted apart, never as "No date".
const GRIDS = [...CONFIDENCES, "pending"];
const VIEWS = [...GRIDS, "errors", "duplicates"];

export class Results {
  constructor({ onReview } = {}) {
    this.card = $("#results");
    this.grid = $("#results-grid");
    this.errors = $("#results-errors");
    this.duplicates = $("#results-duplicates");
    this.empty = $("#results-empty");
    this.loading = $("#results-loading");
    this.panel = $("#results-panel");
    this.jobId = null;
    this.state = null;
    // The files on the grid by id, for the larger preview a click on a card opens.
    this.shown = new Map();
    // A pair's tile holds a stand-in for the half not listed yet, by that half's id: the half
    // takes its place when a later page brings it.
    this.standIns = new Map();
    this.sort = $("#results-sort");
    this.sort.addEventListener("change", () => this.view(this.tabs.selected().dataset.view));
    this.reviewButton = $("#results-review");
    this.reviewButton.addEventListener("click", () => onReview?.(this.jobId));
    this.grid.addEventListener("click", (event) => {
      const opener = event.target.closest(".tile-open");
      if (opener) openPreview(this.shown.get(Number(opener.closest("[data-file-id]").dataset.fileId)));
    });
    this.tabs = tablist($("#results-tabs"), (tab) => {
      this.panel.setAttribute("aria-labelledby", tab.id);
      this.view(tab.dataset.view);
    });
    // Loads the next page when the end of the list comes within a screen of view.
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) this.more();
    }, { rootMargin: "0px 0px 800px 0px" });
    this.observer.observe($("#results-more"));
  }

  // Shows the job's results, keeping the chosen tab when it is the same job.
  async show(job) {
    const first = this.jobId !== job.id;
    this.jobId = job.id;
    this.card.hidden = false;
    this.reviewButton.hidden = !job.needs_review_count;
    $(".count", this.reviewButton).textContent = (job.needs_review_count || 0).toLocaleString();
    const counts = await this.counts(job);
    if (first) {
      // Open on the first tab that has something in it.
      const view = VIEWS.find((v) => counts[v]) || "high";
      this.tabs.select($(`[data-view="${view}"]`, this.card));
    } else {
      this.view(this.tabs.selected().dataset.view);
    }
  }

  async counts(job) {
    const counts = { errors: job.error_count };
    await Promise.all([
      api.files(this.jobId, { group_by: "confidence", per_page: 1 }).then(
        (answer) => Object.assign(counts, answer.counts),
        () => {},
      ),
      api.duplicates(this.jobId, { kind: "all", per_page: 1 }).then(
        (answer) => { counts.duplicates = answer.total; },
        () => {},
      ),
    ]);
    for (const view of VIEWS) {
      const n = counts[view];
      $(`[data-view="${view}"] .count`, this.card).textContent = n === undefined ? "" : n.toLocaleString();
    }
    $('[data-view="pending"]', this.card).hidden = !counts.pending;
    return counts;
  }

  hide() {
    this.card.hidden = true;
    this.jobId = null;
    this.state = null;
  }

  view(view) {
    this.state = { view, page: 0, pages: 1, loading: false };
    this.shown.clear();
    this.standIns.clear();
    this.grid.replaceChildren();
    this.errors.replaceChildren();
    this.grid.hidden = !GRIDS.includes(view);
    this.errors.hidden = view !== "errors";
    this.duplicates.hidden = view !== "duplicates";
    this.empty.hidden = true;
    $("#dup-exact").replaceChildren();
    $("#dup-near").replaceChildren();
    this.more();
  }

  async more() {
    const state = this.state;
    if (!state || !this.jobId || state.loading || state.page >= state.pages) return;
    state.loading = true;
    this.loading.hidden = false;
    try {
      if (state.view === "errors") await this.moreErrors(state);
      else if (state.view === "duplicates") await this.moreDuplicates(state);
      else await this.moreFiles(state);
    } catch (error) {
      if (state === this.state) this.say(error.message);
      state.pages = state.page; // stop asking until the tab is chosen again
    } finally {
      state.loading = false;
      this.loading.hidden = true;
    }
    // A short page may not reach the sentinel: keep filling while it is in view.
    if (state === this.state && state.page < state.pages && isInView($("#results-more"))) this.more();
  }

  async moreFiles(state) {
    const only = state.view === "pending" ? { status: "pending" } : { confidence: state.view };
    const query = { ...only, page: state.page + 1, per_page: PER_PAGE, sort: this.sort.value };
    const answer = await api.files(this.jobId, query);
    if (state !== this.state) return; // another tab was chosen meanwhile
    state.page = answer.page;
    state.pages = answer.pages;
    for (const file of answer.files) this.place(file);
    if (!answer.total) {
      this.say(state.view === "pending" ? "No file is waiting." : `No files with ${CONFIDENCE_LABELS[state.view].toLowerCase()}.`);
    }
  }

  // The API has no filter for failed files, so the job's files are read a large page at a time
  // and those with an error kept, until a screenful is found or the files run out. (`status` is
  // sent so that an API that learns to filter by it answers with failed files only.)
  async moreErrors(state) {
    let found = 0;
    while (found < ERRORS_PER_SCREEN && state.page < state.pages) {
      const answer = await api.files(this.jobId, { status: "failed", page: state.page + 1, per_page: MAX_PER_PAGE });
      if (state !== this.state) return;
      state.page = answer.page;
      state.pages = answer.pages;
      const failed = answer.files.filter((file) => file.error);
      this.errors.append(...failed.map(errorItem));
      found += failed.length;
    }
    if (!this.errors.childElementCount && state.page >= state.pages) this.say("No file failed.");
  }

  // Groups a page at a time, exact copies first, then look-alikes (the API pages them together).
  async moreDuplicates(state) {
    const answer = await api.duplicates(this.jobId, { kind: "all", page: state.page + 1, per_page: GROUPS_PER_PAGE });
    if (state !== this.state) return;
    state.page = answer.page;
    state.pages = answer.pages;
    for (const kind of ["exact", "near"]) {
      const groups = answer.groups.filter((g) => g.kind === kind);
      $(`#dup-${kind}`).append(...groups.map(group));
    }
    if (state.page >= state.pages) {
      for (const [kind, note] of [["exact", "No exact copies."], ["near", "No look-alikes."]]) {
        const section = $(`#dup-${kind}`);
        if (!section.childElementCount) section.append(el("p", { class: "muted empty", text: note }));
      }
    }
  }

  // The two halves of one shot share a tile, side by side: the first half listed opens it with a
  // stand-in for the other, which the other replaces when it comes (on this page or a later one).
  place(file) {
    this.shown.set(file.id, file);
    const standIn = this.standIns.get(file.id);
    if (standIn) {
      this.standIns.delete(file.id);
      standIn.replaceWith(half(file));
    } else if (file.companion_id && !WAITING.has(file.status)) {
      const tile = pairCard(file);
      this.standIns.set(file.companion_id, $(".stand-in", tile));
      this.grid.append(tile);
    } else {
      this.grid.append(card(file));
    }
  }

  say(message) {
    this.empty.textContent = message;
    this.empty.hidden = false;
  }
}

function isInView(node) {
  const box = node.getBoundingClientRect();
  return box.top < window.innerHeight + 800;
}

export function thumbnail(file, size) {
  if (file.thumbnail_url) {
    return el("img", { src: file.thumbnail_url, alt: file.filename, loading: "lazy", decoding: "async", width: size, height: size });
  }
  const kind = (file.mime_type || "").startsWith("video/") ? "Video" : "No preview";
  return el("div", { class: "no-thumb", role: "img", "aria-label": `${file.filename}: ${kind.toLowerCase()}` }, el("span", { text: kind }));
}

const WAITING = new Set(["pending", "processing"]);

function card(file) {
  if (WAITING.has(file.status)) return waitingCard(file);
  return el("li", { class: "tile", dataset: { fileId: file.id, status: file.status } }, figure(file));
}

function figure(file, attributes = {}) {
  const time = format.fileTime(file);
  return el("figure", attributes,
    el("button", { type: "button", class: "tile-open", "aria-label": `Show ${file.filename} larger` }, thumbnail(file, 320)),
    el("figcaption", {},
      el("span", { class: "name", text: file.filename, title: file.path || file.filename }),
      el("span", { class: "when" },
        el("time", { datetime: time.machine, title: file.timestamp || null, text: time.text }),
        time.offset ? el("span", { class: "muted", text: time.offset }) : null),
      el("span", { class: "meta" },
        el("span", { class: "confidence", dataset: { confidence: file.confidence }, text: file.confidence }),
        el("span", { class: "muted", text: format.source(file.timestamp_source), title: file.timestamp_source || null })),
      file.already_imported ? el("span", { class: "tag library", text: "Already in your library", title: `Imported before (file ${file.already_imported_from})` }) : null,
      file.error ? el("span", { class: "error-text", text: file.error }) : null));
}

const PAIR_KINDS = { live_photo: "Live Photo", raw_jpeg: "RAW + JPEG" };

// One shot in two files (a Live Photo's picture and video, a RAW and its JPEG): one tile, two
// columns wide, the halves side by side under what they are.
function pairCard(file) {
  const kind = PAIR_KINDS[file.companion_kind] || "Pair";
  return el("li", { class: "tile pair", dataset: { status: file.status, pair: `${file.id} ${file.companion_id}` } },
    el("span", { class: "tag pair", text: kind, title: "One shot in two files, kept together" }),
    el("div", { class: "halves" }, half(file), standIn(file)));
}

function half(file) {
  return figure(file, { class: "half", dataset: { fileId: file.id } });
}

// The other half as far as its companion's listing tells it, until it is listed itself (never,
// when its confidence puts it under another tab).
function standIn(file) {
  const other = { filename: file.companion_name || "The other half", thumbnail_url: file.companion_thumbnail_url };
  return el("figure", { class: "half stand-in", dataset: { fileId: file.companion_id } },
    thumbnail(other, 320),
    el("figcaption", {}, el("span", { class: "name", text: other.filename })));
}

// A file of a paused job that no worker has reached yet: it has no date because nobody looked.
function waitingCard(file) {
  return el("li", { class: "tile", dataset: { fileId: file.id, status: file.status } },
    el("figure", {},
      el("div", { class: "no-thumb", role: "img", "aria-label": `${file.filename}: not processed yet` }, el("span", { text: "Not processed yet" })),
      el("figcaption", {}, el("span", { class: "name", text: file.filename, title: file.path || file.filename }),
        el("span", { class: "muted", text: "Waiting" }))));
}

function errorItem(file) {
  return el("li", {},
    el("strong", { text: file.filename }),
    file.path && file.path !== file.filename ? el("span", { class: "muted small path", text: file.path }) : null,
    el("span", { class: "reason", text: file.error || "Failed" }));
}

// A group shows what a person needs to choose the copy to keep: size and dimensions, with the
// largest marked.
function group(g) {
  const pixels = (f) => (f.width || 0) * (f.height || 0);
  const larger = (a, b) => pixels(b) > pixels(a) || (pixels(b) === pixels(a) && (b.size || 0) > (a.size || 0));
  const biggest = g.files.reduce((a, b) => (larger(a, b) ? b : a));
  // Copies of the same size and dimensions (always so for exact ones) have no largest.
  const best = g.files.some((f) => larger(f, biggest)) ? biggest : null;
  return el("div", { class: "dup-group" },
    el("h4", { class: "dup-name", text: g.name }),
    el("ul", { class: "dup-files" },
      g.files.map((file) => el("li", { class: file === best ? "dup-file best" : "dup-file" },
        thumbnail(file, 160),
        el("span", { class: "name", text: file.filename, title: file.path || file.filename }),
        el("span", { class: "muted small", text: [format.bytes(file.size), format.dimensions(file)].filter(Boolean).join(" · ") }),
        el("span", { class: "muted small", text: format.fileTime(file).text }),
        // Where the copy is, so that copies of one name can be told apart.
        el("span", { class: "muted small path", text: `${file.folder || "(top folder)"} · job ${file.job_id}`, title: file.path || null }),
        file === best ? el("span", { class: "tag", text: "Largest" }) : null))));
}
