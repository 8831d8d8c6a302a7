// Endpoints and models (templates/admin_endpoints.html): their health and latency, adding
// one (a vLLM server, say) with the organisation's assessment, testing the connection, and
// removing one added here. Those from mamori.toml and the embedded engine are shown but not
// changed here.

import { actionButton, enableControls, statusLines } from "./admin_common.js";
import { api } from "./api.js";
import { labelText } from "./classification.js";
import { $, confirmDialog, el } from "./dom.js";
import { pageStrings, t } from "./strings.js";

const s = pageStrings();
const form = $("#endpoint-form");
const table = $("#endpoint-table tbody");
const result = $("#endpoint-test-result");
const dialog = $("#confirm-dialog");
const { say, fail } = statusLines($("#admin-status"), $("#admin-error"));
const path = (name) => `/api/admin/endpoints/${encodeURIComponent(name)}`;
function healthText(h) {
  if (h.reachable === null) return s("admin.endpoints.unknown");
  if (!h.reachable) return `${s("admin.endpoints.down")}${h.error ? ` (${h.error})` : ""}`;
  if (h.missing && h.missing.length) return s("admin.endpoints.missing", { models: h.missing.join(", ") });
  return s("admin.endpoints.up");
}

function trustText(e) {
  const parts = [s("admin.endpoints.up_to", { label: labelText(e.max_classification) })];
  if (!e.assessed) parts.push(s("admin.endpoints.assumed"));
  if (e.trains_on_inputs) parts.push(s("admin.endpoints.trains"));
  return parts.join(" / ");
}

function row(e) {
  const tr = el("tr", "endpoint-row");
  tr.dataset.name = e.name;
  const actions = el("td", "row-actions");
  actions.append(actionButton("endpoint-test", s("admin.endpoints.test"), e.name, () => test(e)));
  if (e.editable) actions.append(actionButton("endpoint-remove", s("admin.endpoints.remove"), e.name, () => remove(e)));
  const latency = e.health.latency_ms === null ? "" : s("admin.endpoints.ms", { ms: Math.round(e.health.latency_ms) });
  tr.append(
    el("td", "", e.name),
    el("td", "endpoint-url", e.url),
    el("td", "", t(`chat.residency.${e.residency}`)),
    el("td", "endpoint-trust", trustText(e)),
    el("td", "", e.models.join("、")),
    el("td", "endpoint-health", healthText(e.health)),
    el("td", "endpoint-latency", latency),
    actions,
  );
  return tr;
}

async function load() {
  const data = await api("GET", "/api/admin/endpoints");
  table.replaceChildren(...(data.endpoints || []).map(row));
}

const tri = (value) => (value === "" ? null : value === "true");

async function save(event) {
  event.preventDefault();
  const models = $("#ep-models").value.split(/[\n,]/).map((m) => m.trim()).filter(Boolean);
  for (const [id, ok] of [["#ep-name", $("#ep-name").value.trim()], ["#ep-url", $("#ep-url").value.trim()], ["#ep-models", models.length]]) {
    if (!ok) {
      $(id).focus();
      return;
    }
  }
  const level = $("#ep-max-class").value;
  const body = {
    name: $("#ep-name").value.trim(),
    url: $("#ep-url").value.trim(),
    dialect: $("#ep-dialect").value,
    residency: $("#ep-residency").value,
    models,
    api_key_env: $("#ep-key-env").value.trim() || null,
    max_classification: level === "" ? null : Number(level),
    trains_on_inputs: tri($("#ep-training").value),
    terms_of_service: tri($("#ep-tos").value),
    approved_for_masked: $("#ep-masked").checked,
  };
  try {
    const saved = await api("POST", "/api/admin/endpoints", body);
    form.reset();
    await load();
    say(s("admin.endpoints.saved", { name: saved.name, health: healthText(saved.health) }));
  } catch (err) {
    fail(err);
  }
}

async function test(e) {
  result.hidden = false;
  result.textContent = s("admin.endpoints.testing", { name: e.name });
  try {
    const r = await api("POST", `${path(e.name)}/test`);
    const chat = r.chat;
    result.textContent = chat.ok
      ? s("admin.endpoints.test_ok", {
          name: e.name,
          ttft: chat.first_token_ms === null ? "-" : Math.round(chat.first_token_ms),
          total: Math.round(chat.total_ms),
          models: (r.models || []).join(", "),
        })
      : s("admin.endpoints.test_failed", { name: e.name, code: chat.error_code || r.error || "" });
    await load();
  } catch (err) {
    result.hidden = true;
    fail(err);
  }
}

async function remove(e) {
  const ok = await confirmDialog(dialog, s("admin.endpoints.remove"),
    s("admin.endpoints.remove_confirm", { name: e.name }), s("admin.endpoints.remove"));
  if (!ok) return;
  try {
    await api("DELETE", path(e.name));
    await load();
    say(`${e.name}: ${s("admin.endpoints.removed")}`);
  } catch (err) {
    fail(err);
  }
}

form.addEventListener("submit", save);
enableControls();
load().catch(fail);
