// API keys (templates/admin_keys.html): create one for a person, scoped to some models and
// with an expiry; revoke one. The key is shown here once; the server keeps only its hash.

import { actionButton, enableControls, showSecret, statusLines } from "./admin_common.js";
import { api } from "./api.js";
import { $, confirmDialog, el } from "./dom.js";
import { pageStrings } from "./strings.js";

const s = pageStrings();
const form = $("#key-create-form");
const table = $("#key-table tbody");
const dialog = $("#confirm-dialog");
const { say, fail } = statusLines($("#admin-status"), $("#admin-error"));
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");

function keyState(k) {
  if (k.revoked_at) return s("admin.keys.revoked");
  if (!k.active) return s("admin.keys.expired");
  return s("admin.keys.active");
}

function row(k) {
  const tr = el("tr", "key-row");
  tr.dataset.id = k.id;
  const actions = el("td", "row-actions");
  if (!k.revoked_at) actions.append(actionButton("key-revoke", s("admin.keys.revoke"), k.name, () => revoke(k)));
  tr.append(
    el("td", "", k.name),
    el("td", "", k.username),
    el("td", "key-prefix", `${k.prefix}…`),
    el("td", "key-models", k.models ? k.models.join("、") : s("admin.keys.all_models")),
    el("td", "", k.expires_at ? when(k.expires_at) : s("admin.keys.no_expiry")),
    el("td", "", when(k.last_used_at)),
    el("td", "key-state", keyState(k)),
    actions,
  );
  return tr;
}

async function load() {
  const data = await api("GET", "/api/admin/keys");
  table.replaceChildren(...(data.keys || []).map(row));
}

async function create(event) {
  event.preventDefault();
  const name = $("#key-name").value.trim();
  if (!name) {
    $("#key-name").focus();
    return;
  }
  const body = {
    username: $("#key-user").value,
    name,
    models: Array.from(form.querySelectorAll("input.key-model:checked"), (b) => b.value),
    expires_on: $("#key-expires").value || null,
  };
  try {
    const created = await api("POST", "/api/admin/keys", body);
    form.reset();
    await load();
    say(s("admin.keys.created", { name }));
    showSecret($("#key-secret"), s("admin.keys.key_once"), created.key, s("admin.copy"), s("admin.copied"));
  } catch (err) {
    fail(err);
  }
}

async function revoke(k) {
  const ok = await confirmDialog(dialog, s("admin.keys.revoke"), s("admin.keys.revoke_confirm", { name: k.name }),
    s("admin.keys.revoke"));
  if (!ok) return;
  try {
    await api("DELETE", `/api/admin/keys/${encodeURIComponent(k.id)}`);
    await load();
    say(`${k.name}: ${s("admin.keys.revoked")}`);
  } catch (err) {
    fail(err);
  }
}

form.addEventListener("submit", create);
enableControls();
load().catch(fail);
