// The auditors' page (templates/audit.html): searches /api/audit/records, shows one record's
// detail and (on request, itself audited) its content, the chain's state, and runs a
// verification. Everything from the server goes into the page as text, never as HTML.
// The page's own strings come from <script id="page-strings"> (routers/audit_pages.py).

import { api } from "./api.js";
import { $, el } from "./dom.js";

const STRINGS = JSON.parse(($("#page-strings") || {}).textContent || "{}");
const s = (key, params) =>
  String(STRINGS[key] || key).replace(/\{(\w+)\}/g, (whole, name) =>
    params && name in params ? String(params[name]) : whole,
  );

const tbody = $("#audit-records tbody");
const detail = $("#audit-detail");
const errorBox = $("#audit-error");
let nextBefore = null;
let currentSeq = null;

function showError(err) {
  if (!errorBox) return;
  errorBox.textContent = err ? err.message : "";
  errorBox.hidden = !err;
}

const CLASSIFICATIONS = ["classification.public", "classification.c1", "classification.c2", "classification.c3"];
const classificationLabel = (level) => (level in CLASSIFICATIONS ? s(CLASSIFICATIONS[level]) : String(level ?? ""));
const decisionLabel = (action) => (action ? s(`admin.action.${action}`) : "");

// Times in the organisation's zone (settings.timezone), whatever the browser's clock says.
const TIME_ZONE = ($(".audit-page") || { dataset: {} }).dataset.timeZone || undefined;
const LANG = document.documentElement.lang || undefined;

function when(value) {
  return value ? new Date(value).toLocaleString(LANG, { timeZone: TIME_ZONE }) : "";
}

function query(before) {
  const params = new URLSearchParams();
  for (const name of ["user", "group", "since", "until", "model", "decision", "classification", "status"]) {
    const value = $(`#audit-${name}`).value.trim();
    if (value) params.set(name, value);
  }
  if (before) params.set("before", String(before));
  return params.toString();
}

function addRow(record) {
  const tr = el("tr", "audit-row");
  tr.dataset.seq = String(record.seq);
  tr.tabIndex = 0;
  const cells = [
    record.seq,
    when(record.created_at),
    record.username,
    record.action,
    record.model,
    classificationLabel(record.classification),
    decisionLabel(record.policy_action),
    s(`audit.status.${record.status}`),
    `${record.prompt_tokens} / ${record.completion_tokens}`,
  ];
  for (const value of cells) tr.appendChild(el("td", null, String(value ?? "")));
  tr.addEventListener("click", () => openRecord(record.seq));
  tr.addEventListener("keydown", (event) => {
    if (event.key === "Enter") openRecord(record.seq);
  });
  tbody.appendChild(tr);
}

async function search(more) {
  showError(null);
  try {
    const found = await api("GET", `/api/audit/records?${query(more ? nextBefore : null)}`);
    if (!more) tbody.replaceChildren();
    for (const record of found.records) addRow(record);
    if (!more && !found.records.length) {
      const tr = el("tr", "audit-empty");
      const td = el("td", null, s("audit.no_records"));
      td.colSpan = 9;
      tr.appendChild(td);
      tbody.appendChild(tr);
    }
    nextBefore = found.next_before;
    $("#audit-more").hidden = !nextBefore;
  } catch (err) {
    showError(err);
  }
}

function field(list, term, value) {
  const dd = el("dd");
  if (value !== null && typeof value === "object") {
    dd.appendChild(el("pre", "audit-json", JSON.stringify(value, null, 2)));
  } else {
    dd.textContent = value === null || value === undefined ? "" : String(value);
  }
  list.append(el("dt", null, term), dd);
}

async function openRecord(seq) {
  showError(null);
  try {
    const record = await api("GET", `/api/audit/records/${encodeURIComponent(seq)}`);
    currentSeq = seq;
    const list = $("#audit-detail-fields");
    list.replaceChildren();
    for (const [name, value] of Object.entries(record)) field(list, name, value);
    $("#audit-content").replaceChildren();
    $("#audit-show-content").disabled = !record.content_kept;
    if (!record.content_kept) {
      const note = record.content_purged_at ? s("audit.content.purged") : s("audit.content.not_kept");
      $("#audit-content").appendChild(el("p", "muted", note));
    }
    for (const row of tbody.querySelectorAll("tr[data-seq]")) {
      row.classList.toggle("selected", row.dataset.seq === String(seq));
    }
    detail.hidden = false;
    detail.dataset.seq = String(seq);
  } catch (err) {
    showError(err);
  }
}

async function showContent() {
  if (currentSeq === null) return;
  try {
    const content = await api("GET", `/api/audit/records/${encodeURIComponent(currentSeq)}/content`);
    const box = $("#audit-content");
    box.replaceChildren();
    const parts = [
      ["prompt", s("audit.content.prompt")],
      ["answer", s("audit.content.answer")],
      ["reasoning", s("audit.content.reasoning")],
    ];
    for (const [name, title] of parts) {
      if (content[name] === null || content[name] === undefined) continue;
      box.append(el("h3", null, title), el("pre", `audit-text audit-${name}`, content[name]));
    }
    if (!content.kept) box.appendChild(el("p", "muted", s("audit.content.purged")));
  } catch (err) {
    showError(err);
  }
}

function renderChain(chain) {
  const box = $("#audit-chain");
  const verification = chain.latest_verification;
  const ok = verification ? (verification.ok ? "true" : "false") : "unknown";
  box.dataset.ok = ok;
  const list = el("dl", "sim-decision");
  const state = ok === "true" ? "audit.chain.ok" : ok === "false" ? "audit.chain.bad" : "audit.chain.unverified";
  list.append(el("dt", null, s("audit.chain.head")), el("dd", null, String(chain.head_seq)));
  const checkpoint = chain.latest_checkpoint;
  const cp = checkpoint ? `#${checkpoint.seq} (${when(checkpoint.created_at)})` : s("audit.chain.none");
  list.append(el("dt", null, s("audit.chain.checkpoint")), el("dd", null, cp));
  if (verification) {
    list.append(el("dt", null, s("audit.chain.verified_at")), el("dd", null, when(verification.at)));
    list.append(el("dt", null, s("audit.chain.checked")), el("dd", null, String(verification.checked)));
    if (verification.problem) {
      list.append(el("dt", null, s("audit.chain.problem")), el("dd", null, verification.problem));
    }
  }
  list.append(el("dt", null, s("audit.chain.key")), el("dd", null, chain.key_id || ""));
  box.replaceChildren(el("p", `audit-chain-state chain-${ok}`, s(state)), list);
}

async function loadChain() {
  try {
    renderChain(await api("GET", "/api/audit/chain"));
  } catch (err) {
    showError(err);
  }
}

async function verifyNow(button) {
  button.disabled = true;
  try {
    await api("POST", "/api/audit/chain/verify");
    await loadChain();
  } catch (err) {
    showError(err);
  } finally {
    button.disabled = false;
  }
}

if (tbody && detail) {
  $("#audit-search").addEventListener("submit", (event) => {
    event.preventDefault();
    search(false);
  });
  $("#audit-more").addEventListener("click", () => search(true));
  $("#audit-show-content").addEventListener("click", showContent);
  const verify = $("#audit-verify");
  verify.addEventListener("click", () => verifyNow(verify));
  loadChain();
  search(false);
}
