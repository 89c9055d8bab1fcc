// The JSON API, the page's only way to the server after it loads. Every failure becomes an
// ApiError whose message a person can act on: the server's own `error` when it sent one.

export class ApiError extends Error {
  constructor(message, status, body = {}) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export function errorFor(status, body) {
  if (body && typeof body.error === "string" && body.error) return new ApiError(body.error, status, body);
  if (status === 401 || status === 403) return new ApiError("Your session has ended. Reload the page and log in again.", status, body);
  if (status === 413) return new ApiError("The server refused the upload as too large.", status, body);
  if (status === 0) return new ApiError("The server could not be reached. Check your connection and try again.", status, body);
  return new ApiError(`The server answered with an error (${status}). Try again in a moment.`, status, body);
}

export async function request(method, url, data) {
  const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method !== "GET") {
    options.headers["X-CSRFToken"] = csrfToken();
    if (data !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(data);
    }
  }
  let response;
  try {
    response = await fetch(url, options);
  } catch {
    throw errorFor(0, null);
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) throw errorFor(response.status, body);
  return body;
}

export const api = {
  job: (id) => request("GET", `/api/jobs/${id}`),
  control: (id, action) => request("POST", `/api/jobs/${id}/control`, { action }),
  files: (id, query) => request("GET", `/api/jobs/${id}/files?${new URLSearchParams(query)}`),
  duplicates: (id, query) => request("GET", `/api/jobs/${id}/duplicates?${new URLSearchParams(query)}`),
  importPath: (path, { skipKnown = false } = {}) => request("POST", "/api/import-path", { path, skip_known: skipKnown }),
  startExport: (options) => request("POST", "/api/exports", options),
  exportPreview: (template) => request("GET", `/api/exports/preview?${new URLSearchParams({ template })}`),
  manifest: (id, query) => request("GET", `/api/jobs/${id}/manifest?${new URLSearchParams(query)}`),
  review: (jobId) => request("GET", jobId ? `/api/jobs/${jobId}/review` : "/api/review"),
  correct: (body) => request("POST", "/api/files/capture-time", body),
  undo: (changeId) => request("POST", `/api/changes/${changeId}/undo`),
  contentUrl: (fileId) => `/api/files/${fileId}/content`,
};

// An upload with progress events, which fetch() cannot give. Resolves with the answer's JSON;
// rejects with an ApiError (also when `signal` aborts it). A request whose body has all gone out
// is not aborted: the server may be storing it, and its answer says what it kept.
export function upload(formData, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    let bodySent = false;
    xhr.upload.addEventListener("load", () => { bodySent = true; });
    signal?.addEventListener("abort", () => { if (!bodySent) xhr.abort(); });
    xhr.addEventListener("abort", () => reject(new ApiError("Stopped before it was sent.", 0)));
    xhr.open("POST", "/api/upload");
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.response);
      else reject(errorFor(xhr.status, xhr.response));
    });
    xhr.addEventListener("error", () => reject(errorFor(0, null)));
    xhr.send(formData);
  });
}
