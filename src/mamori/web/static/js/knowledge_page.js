// The knowledge-base page (templates/knowledge.html). Everything from the server goes into
// the page as text. Uploads use XMLHttpRequest for its upload progress events (fetch has
// none); each file is its own request, so one bad file never stops the others. While a
// document is pending or indexing, the list is asked again every second.

import { api, errorFromResponse } from "./api.js";
import { $, confirmDialog, el } from "./dom.js";
import { errorText } from "./strings.js";

const STRINGS = JSON.parse(($("#page-strings") || {}).textContent || "{}");
const s = (key, params) =>
  String(STRINGS[key] || key).replace(/\{(\w+)\}/g, (whole, name) =>
    params && name in params ? String(params[name]) : whole,
  );
const CSRF = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
const CAN_MANAGE = $(".kb-page").dataset.canManage === "true";
const kbPath = (id) => `/api/kbs/${encodeURIComponent(id)}`;

const els = {
  list: $("#kb-list"),
  empty: $("#kb-empty"),
  error: $("#kb-error"),
  detail: $("#kb-detail"),
  title: $("#kb-title"),
  badge: $("#kb-class-badge"),
  description: $("#kb-description-text"),
  documents: $("#kb-documents tbody"),
  access: $("#kb-access tbody"),
  uploadForm: $("#kb-upload-form"),
  files: $("#kb-files"),
  results: $("#kb-upload-results"),
  searchForm: $("#kb-search-form"),
  searchResults: $("#kb-search-results"),
  dialog: $("#confirm-dialog"),
};
const state = { bases: [], current: null, poll: 0 };

function showError(message) {
  els.error.textContent = message;
  els.error.hidden = false;
}

function clearError() {
  els.error.hidden = true;
  els.error.textContent = "";
}

const classLabel = (c) => s(c === 0 ? "classification.public" : `classification.c${c}`);

async function loadList(selectId) {
  const data = await api("GET", "/api/kbs");
  state.bases = data.knowledge_bases || [];
  els.list.replaceChildren();
  for (const kb of state.bases) {
    const link = el("a", "kb-link", kb.name);
    link.href = `?kb=${encodeURIComponent(kb.id)}`;
    link.dataset.id = kb.id;
    link.addEventListener("click", (event) => {
      event.preventDefault();
      openKb(kb.id, true);
    });
    const item = el("li");
    item.appendChild(link);
    els.list.appendChild(item);
  }
  els.empty.hidden = state.bases.length > 0;
  const wanted = selectId || new URL(window.location.href).searchParams.get("kb");
  if (wanted && state.bases.some((kb) => kb.id === wanted)) await openKb(wanted, false);
}

async function openKb(id, push) {
  clearError();
  if (push) window.history.pushState({ kb: id }, "", `?kb=${encodeURIComponent(id)}`);
  for (const link of els.list.querySelectorAll("a.kb-link")) {
    if (link.dataset.id === id) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  els.results.replaceChildren();
  els.searchResults.replaceChildren();
  await refresh(id);
}

async function refresh(id) {
  let kb;
  try {
    kb = await api("GET", kbPath(id));
  } catch (err) {
    showError(err.message);
    return;
  }
  state.current = kb;
  els.detail.hidden = false;
  els.detail.dataset.id = kb.id;
  els.title.textContent = kb.name;
  els.badge.className = `badge classification classification-${kb.classification}`;
  els.badge.textContent = classLabel(kb.classification);
  els.description.textContent = kb.description || "";
  els.uploadForm.hidden = !kb.can_write;
  $("#kb-reindex").hidden = !kb.can_write;
  els.searchForm.hidden = !kb.can_read;
  renderDocuments(kb);
  renderAccess(kb);
  clearTimeout(state.poll);
  if (kb.documents.some((d) => d.status === "pending" || d.status === "indexing")) {
    state.poll = setTimeout(() => {
      if (state.current && state.current.id === id) refresh(id);
    }, 1000);
  }
}

function renderDocuments(kb) {
  els.documents.replaceChildren();
  for (const doc of kb.documents) {
    const row = el("tr", "doc-row");
    row.dataset.id = doc.id;
    row.dataset.status = doc.status;
    const status = el("td", `doc-status doc-status-${doc.status}`, s(`kb.status.${doc.status}`));
    if (doc.status === "failed" && doc.error) status.append(": ", errorText(doc.error, doc.error));
    const actions = el("td");
    if (kb.can_write) {
      const remove = el("button", "btn btn-quiet btn-small doc-delete", s("kb.remove"));
      remove.type = "button";
      remove.setAttribute("aria-label", s("kb.remove_named", { name: doc.filename }));
      remove.addEventListener("click", () => removeDocument(kb, doc));
      actions.appendChild(remove);
    }
    row.append(
      el("td", "doc-name", doc.filename),
      status,
      el("td", "", doc.status === "ready" ? String(doc.pages) : ""),
      el("td", "", doc.status === "ready" ? String(doc.chunks) : ""),
      el("td", "", doc.held_back ? String(doc.held_back) : ""),
      actions,
    );
    els.documents.appendChild(row);
  }
}

function renderAccess(kb) {
  els.access.replaceChildren();
  for (const entry of kb.access || []) {
    const row = el("tr");
    row.dataset.group = entry.group;
    const actions = el("td");
    if (CAN_MANAGE && !entry.owner) {
      const revoke = el("button", "btn btn-quiet btn-small access-revoke", s("kb.revoke"));
      revoke.type = "button";
      revoke.setAttribute("aria-label", s("kb.revoke_named", { name: entry.group }));
      revoke.addEventListener("click", () => revokeAccess(kb, entry));
      actions.appendChild(revoke);
    } else if (entry.owner) {
      actions.textContent = s("kb.owner");
    }
    row.append(el("td", "", entry.group), el("td", "", entry.can_write ? s("kb.yes") : s("kb.no")), actions);
    els.access.appendChild(row);
  }
}

function uploadOne(kb, file) {
  const item = el("li", "upload-result");
  item.dataset.file = file.name;
  const progress = el("progress", "upload-progress");
  progress.max = 100;
  progress.value = 0;
  progress.setAttribute("aria-label", s("kb.uploading", { name: file.name }));
  const status = el("span", "upload-status", s("kb.uploading", { name: file.name }));
  item.append(el("span", "upload-name", file.name), " ", progress, " ", status);
  els.results.appendChild(item);
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", `${kbPath(kb.id)}/documents?filename=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader("X-CSRF-Token", CSRF);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) progress.value = Math.round((event.loaded / event.total) * 100);
    });
    xhr.addEventListener("load", async () => {
      progress.value = 100;
      if (xhr.status >= 200 && xhr.status < 300) {
        item.dataset.outcome = "accepted";
        status.textContent = s("kb.accepted");
      } else {
        const err = await errorFromResponse(new Response(xhr.responseText, { status: xhr.status }));
        item.dataset.outcome = "failed";
        status.textContent = s("kb.upload_failed", { message: err.message });
      }
      resolve();
    });
    xhr.addEventListener("error", () => {
      item.dataset.outcome = "failed";
      status.textContent = s("kb.upload_failed", { message: errorText("network", "") });
      resolve();
    });
    xhr.send(file);
  });
}

async function upload(event) {
  event.preventDefault();
  const kb = state.current;
  const files = Array.from(els.files.files || []);
  if (!kb || files.length === 0) return;
  clearError();
  for (const file of files) await uploadOne(kb, file);
  els.files.value = "";
  await refresh(kb.id);
}

async function removeDocument(kb, doc) {
  const ok = await confirmDialog(els.dialog, s("kb.remove"), s("kb.remove_confirm", { name: doc.filename }), s("kb.remove"));
  if (!ok) return;
  try {
    await api("DELETE", `${kbPath(kb.id)}/documents/${encodeURIComponent(doc.id)}`);
  } catch (err) {
    showError(err.message);
  }
  await refresh(kb.id);
}

async function revokeAccess(kb, entry) {
  try {
    await api("DELETE", `${kbPath(kb.id)}/access/${encodeURIComponent(entry.group_id)}`);
  } catch (err) {
    showError(err.message);
  }
  await refresh(kb.id);
}

async function search(event) {
  event.preventDefault();
  const kb = state.current;
  const q = $("#kb-search-q").value.trim();
  if (!kb || !q) return;
  els.searchResults.replaceChildren();
  try {
    const data = await api("GET", `${kbPath(kb.id)}/search?q=${encodeURIComponent(q)}&top_k=10`);
    for (const hit of data.hits || []) {
      const item = el("li", "search-hit");
      const where = [hit.title, hit.page ? s("kb.page", { page: hit.page }) : "", hit.headings]
        .filter(Boolean)
        .join(" · ");
      item.append(el("p", "search-hit-where", where), el("blockquote", "citation-snippet", hit.text));
      els.searchResults.appendChild(item);
    }
    if (!data.hits || data.hits.length === 0) els.searchResults.appendChild(el("li", "muted", s("kb.no_hits")));
  } catch (err) {
    showError(err.message);
  }
}

function bind() {
  els.uploadForm.addEventListener("submit", upload);
  els.searchForm.addEventListener("submit", search);
  $("#kb-reindex").addEventListener("click", async () => {
    try {
      await api("POST", `${kbPath(state.current.id)}/reindex`);
    } catch (err) {
      showError(err.message);
    }
    await refresh(state.current.id);
  });
  const create = $("#kb-create-form");
  if (create) {
    create.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearError();
      const body = {
        name: $("#kb-name").value.trim(),
        group: $("#kb-group").value,
        classification: Number($("#kb-classification").value),
        description: $("#kb-description").value.trim(),
      };
      if (!body.name) {
        $("#kb-name").focus();
        return;
      }
      try {
        const kb = await api("POST", "/api/kbs", body);
        create.reset();
        window.history.pushState({ kb: kb.id }, "", `?kb=${encodeURIComponent(kb.id)}`);
        await loadList(kb.id);
      } catch (err) {
        showError(err.message);
      }
    });
  }
  const grant = $("#kb-grant-form");
  if (grant) {
    grant.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api("PUT", `${kbPath(state.current.id)}/access`, {
          group: $("#kb-grant-group").value,
          can_write: $("#kb-grant-write").checked,
        });
      } catch (err) {
        showError(err.message);
      }
      await refresh(state.current.id);
    });
  }
  const remove = $("#kb-delete");
  if (remove) {
    remove.addEventListener("click", async () => {
      const kb = state.current;
      const ok = await confirmDialog(els.dialog, s("kb.delete"), s("kb.delete_confirm", { name: kb.name }), s("kb.delete"));
      if (!ok) return;
      try {
        await api("DELETE", kbPath(kb.id));
        els.detail.hidden = true;
        state.current = null;
        window.history.pushState({}, "", "/knowledge");
        await loadList(null);
      } catch (err) {
        showError(err.message);
      }
    });
  }
  window.addEventListener("popstate", () => {
    const id = new URL(window.location.href).searchParams.get("kb");
    if (id) openKb(id, false);
  });
}

bind();
loadList(null).catch((err) => showError(err.message));
