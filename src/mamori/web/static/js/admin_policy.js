// The policy page's simulator (templates/admin_policy.html): asks POST /api/admin/policy/explain
// what the policy would decide for a model, a label and (optionally) an endpoint or a user, and
// shows the decision. Everything from the server goes into the page as text.

import { api } from "./api.js";
import { $, el } from "./dom.js";
import { t } from "./strings.js";

function actionText(action) {
  const names = {
    allow: t("admin.action.allow"),
    reroute: t("admin.action.reroute"),
    mask_then_allow: t("admin.action.mask_then_allow"),
    deny: t("admin.action.deny"),
  };
  return names[action] || action;
}

/** One row of the decision's <dl>. `value` is a string or a node. */
function row(list, term, value) {
  const dd = el("dd");
  if (value instanceof Node) dd.appendChild(value);
  else dd.textContent = value || t("admin.sim.none");
  list.append(el("dt", null, term), dd);
  return dd;
}

function refusedTable(refused) {
  const table = el("table", "admin-table sim-refused");
  const head = el("tr");
  for (const name of [t("admin.sim.endpoint_used"), t("admin.sim.rule"), t("admin.sim.reason")]) {
    const th = el("th", null, name);
    th.scope = "col";
    head.appendChild(th);
  }
  table.appendChild(el("thead")).appendChild(head);
  const body = table.appendChild(el("tbody"));
  for (const r of refused) {
    const tr = body.appendChild(el("tr"));
    tr.dataset.endpoint = r.endpoint || "";
    tr.append(el("td", null, r.endpoint), el("td", null, r.rule_id), el("td", null, r.reason));
  }
  return table;
}

function render(result, decision) {
  const heading = el("h3", null, t("admin.sim.result"));
  const list = el("dl", "sim-decision");
  const action = el("span", `badge effect action-${decision.action}`, actionText(decision.action));
  action.id = "sim-action";
  action.dataset.action = decision.action || "";
  row(list, t("admin.sim.action"), action);
  const rule = el("span", "sim-rule");
  rule.appendChild(el("code", "sim-rule-id", decision.rule_id || ""));
  if (decision.rule && decision.rule.description) rule.append(" ", decision.rule.description);
  row(list, t("admin.sim.rule"), rule);
  row(list, t("admin.sim.data"), decision.data);
  row(list, t("admin.sim.endpoint_used"), decision.endpoint);
  const allowed = Array.isArray(decision.allowed) ? decision.allowed : [];
  row(list, t("admin.sim.allowed"), allowed.join(", "));
  const refused = Array.isArray(decision.refused) ? decision.refused : [];
  row(list, t("admin.sim.refused"), refused.length ? refusedTable(refused) : "");
  if (decision.message) row(list, t("admin.sim.message"), decision.message).classList.add("sim-message");
  result.replaceChildren(heading, list);
}

async function simulate(form, result) {
  const body = { model: $("#sim-model", form).value };
  const level = $("#sim-classification", form).value;
  if (level !== "") body.classification = Number(level);
  body.special_personal = $("#sim-special", form).checked;
  const endpoint = $("#sim-endpoint", form).value;
  if (endpoint) body.endpoint = endpoint;
  const user = $("#sim-user", form).value.trim();
  if (user) body.user = user;
  const submit = $("#sim-submit", form);
  submit.disabled = true;
  try {
    render(result, await api("POST", "/api/admin/policy/explain", body));
  } catch (err) {
    const box = el("p", "alert", err.message);
    box.setAttribute("role", "alert");
    result.replaceChildren(box);
  } finally {
    submit.disabled = false;
  }
}

const form = $("#simulator");
const result = $("#sim-result");
if (form && result) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    simulate(form, result);
  });
}
