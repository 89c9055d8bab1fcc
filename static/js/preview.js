// A file seen larger: the photo itself (a video plays), its name, folder, camera, size and why it
// has its date, in a modal dialog. Formats a browser cannot show (HEIC, RAW) show their thumbnail.

import { api } from "./api.js";
import { $, el } from "./dom.js";
import * as format from "./format.js";

const SHOWN_IMAGES = new Set(["image/jpeg", "image/png", "image/gif", "image/webp", "image/avif"]);

export function openPreview(file) {
  const dialog = $("#file-dialog");
  $("#file-dialog-title").textContent = file.filename;
  $("#file-dialog-media").replaceChildren(media(file));
  const facts = [
    ["Folder", folderOf(file) || "–"],
    ["Camera", file.camera || "Not recorded"],
    ["Size", [format.bytes(file.size), format.dimensions(file)].filter(Boolean).join(" · ")],
    ["Taken", format.fileWhen(file)],
    ["Confidence", file.confidence],
  ];
  $("#file-dialog-facts").replaceChildren(...facts.flatMap(([name, value]) => [el("dt", { text: name }), el("dd", { text: value })]));
  $("#file-dialog-evidence").textContent = format.evidence(file);
  if (!dialog.open) dialog.showModal();
}

function media(file) {
  const mime = file.mime_type || "";
  if (mime.startsWith("video/")) {
    return el("video", { src: api.contentUrl(file.id), controls: true, autoplay: true, muted: true, playsinline: true, poster: file.thumbnail_url, "aria-label": file.filename });
  }
  if (SHOWN_IMAGES.has(mime)) return el("img", { src: api.contentUrl(file.id), alt: file.filename });
  if (file.thumbnail_url) return el("img", { src: file.thumbnail_url, alt: file.filename });
  return el("div", { class: "no-thumb", role: "img", "aria-label": `${file.filename}: no preview` }, el("span", { text: "No preview" }));
}

function folderOf(file) {
  if (file.folder) return file.folder;
  const path = file.path || "";
  return path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
}

// Wired once: the close button, a click on the backdrop, and stopping a video as the dialog closes.
export function setUpPreview() {
  const dialog = $("#file-dialog");
  $("#file-dialog-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
  dialog.addEventListener("close", () => $("#file-dialog-media").replaceChildren());
}
