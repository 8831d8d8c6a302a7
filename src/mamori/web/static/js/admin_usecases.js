// Administrators' use cases (templates/admin_usecases.html): list, add, edit (as JSON), hide,
// show, reset a built-in one, delete one's own, import and export. The server validates every
// definition and keeps an audit record of every change; what it sends goes in as text.

import { actionButton, enableControls, statusLines } from "./admin_common.js";
import { api } from "./api.js";
import { $, confirmDialog, el } from "./dom.js";
import { pageStrings } from "./strings.js";

const s = pageStrings();
const els = {
  table: $("#usecase-table tbody"),
  status: $("#usecase-status"),
  error: $("#usecase-error"),
  editor: $("#usecase-editor"),
  editorTitle: $("#usecase-editor-title"),
  definition: $("#usecase-definition"),
  editorError: $("#usecase-editor-error"),
  save: $("#usecase-save"),
  cancel: $("#usecase-cancel"),
  create: $("#usecase-new"),
  importInput: $("#usecase-import"),
  dialog: $("#confirm-dialog"),
};
const state = { editing: null, entries: [] }; // editing: null (closed) | "" (new) | id

const TEMPLATE = {
  id: "my_use_case",
  title_ja: "新しいユースケース",
  title_en: "New use case",
  description_ja: "",
  description_en: "",
  category: "other",
  order: 100,
  fields: [
    { name: "text", kind: "textarea", label_ja: "文章", label_en: "Text", required: true, max_chars: 20000 },
  ],
  prompt: "次の文章について答えてください。\n\n{{ text }}",
  model: null,
  reasoning_effort: null,
  knowledge: "none",
  knowledge_bases: [],
  outside_use: false,
  hidden: false,
};

const { say, fail } = statusLines(els.status, els.error);

function kindText(entry) {
  if (!entry.builtin) return s("usecase.admin.custom");
  return entry.customised ? s("usecase.admin.customised") : s("usecase.admin.builtin");
}

function row(entry) {
  const tr = el("tr", "usecase-row");
  tr.dataset.id = entry.id;
  const title = el("td", "usecase-title");
  const link = el("a", "", entry.title);
  link.href = `/use-cases/${encodeURIComponent(entry.id)}`;
  title.appendChild(link);
  const updated = entry.updated_by
    ? s("usecase.admin.updated", { who: entry.updated_by, when: new Date(entry.updated_at).toLocaleString() })
    : "";
  const actions = el("td", "usecase-actions");
  const name = entry.title;
  actions.append(actionButton("usecase-edit", s("usecase.admin.edit"), name, () => openEditor(entry)));
  if (entry.hidden) {
    actions.append(actionButton("usecase-show", s("usecase.admin.show"), name, () => setHidden(entry, false)));
  } else {
    actions.append(actionButton("usecase-hide", s("usecase.admin.hide"), name, () => setHidden(entry, true)));
  }
  if (entry.builtin && entry.customised) {
    actions.append(actionButton("usecase-reset", s("usecase.admin.reset"), name, () => remove(entry)));
  } else if (!entry.builtin) {
    actions.append(actionButton("usecase-delete", s("usecase.admin.delete"), name, () => remove(entry)));
  }
  tr.append(
    title,
    el("td", "usecase-id", entry.id),
    el("td", "usecase-kind", kindText(entry)),
    el("td", "usecase-state", entry.hidden ? s("usecase.admin.hidden") : s("usecase.admin.shown")),
    el("td", "usecase-updated", updated),
    actions,
  );
  return tr;
}

async function load() {
  const data = await api("GET", "/api/admin/use-cases");
  state.entries = data.use_cases || [];
  els.table.replaceChildren(...state.entries.map(row));
}

function openEditor(entry) {
  state.editing = entry ? entry.id : "";
  els.editorTitle.textContent = entry
    ? s("usecase.admin.edit_title", { title: entry.title })
    : s("usecase.admin.new_title");
  els.definition.value = JSON.stringify(entry ? entry.definition : TEMPLATE, null, 2);
  els.editorError.hidden = true;
  els.editor.hidden = false;
  els.definition.focus();
}

function closeEditor() {
  state.editing = null;
  els.editor.hidden = true;
  els.create.focus();
}

async function save() {
  let definition;
  try {
    definition = JSON.parse(els.definition.value);
  } catch (err) {
    els.editorError.textContent = `${s("usecase.admin.import_bad_file")} ${err.message}`;
    els.editorError.hidden = false;
    els.definition.focus();
    return;
  }
  try {
    const saved = state.editing
      ? await api("PUT", `/api/admin/use-cases/${encodeURIComponent(state.editing)}`, { definition })
      : await api("POST", "/api/admin/use-cases", { definition });
    closeEditor();
    await load();
    say(s("usecase.admin.saved", { title: saved.title }));
  } catch (err) {
    els.editorError.textContent = err.detail ? `${err.message} ${err.detail}` : err.message;
    els.editorError.hidden = false;
    els.definition.focus();
  }
}

async function setHidden(entry, hidden) {
  try {
    await api("PUT", `/api/admin/use-cases/${encodeURIComponent(entry.id)}/hidden`, { hidden });
    await load();
    say(`${entry.title}: ${hidden ? s("usecase.admin.hidden") : s("usecase.admin.shown")}`);
  } catch (err) {
    fail(err);
  }
}

async function remove(entry) {
  const reset = entry.builtin;
  const key = reset ? "usecase.admin.reset" : "usecase.admin.delete";
  const ok = await confirmDialog(
    els.dialog,
    s(key),
    s(reset ? "usecase.admin.reset_confirm" : "usecase.admin.delete_confirm", { title: entry.title }),
    s(key),
  );
  if (!ok) return;
  try {
    await api("DELETE", `/api/admin/use-cases/${encodeURIComponent(entry.id)}`);
    await load();
    say(`${entry.title}: ${s(key)}`);
  } catch (err) {
    fail(err);
  }
}

async function importFile() {
  const file = els.importInput.files && els.importInput.files[0];
  if (!file) return;
  let items;
  try {
    const data = JSON.parse(await file.text());
    items = Array.isArray(data) ? data : data.use_cases;
    if (!Array.isArray(items)) throw new Error("");
  } catch {
    fail({ message: s("usecase.admin.import_bad_file") });
    els.importInput.value = "";
    return;
  }
  try {
    const result = await api("POST", "/api/admin/use-cases/import", { use_cases: items });
    await load();
    say(s("usecase.admin.imported", { count: (result.use_cases || []).length }));
  } catch (err) {
    fail(err);
  } finally {
    els.importInput.value = "";
  }
}

els.create.addEventListener("click", () => openEditor(null));
els.save.addEventListener("click", save);
els.cancel.addEventListener("click", closeEditor);
els.importInput.addEventListener("change", importFile);
els.editor.addEventListener("keydown", (event) => {
  if (event.key === "Escape") closeEditor();
});
enableControls();
load().catch(fail);
