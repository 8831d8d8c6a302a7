// What the sovereignty policy did with a turn, as a notice in the message flow: a reroute or a
// pseudonymisation above the answer it concerns, a refusal in place of the answer. Each names
// its rule, so the person (and the help desk) can find it on the policy page.

import { el } from "./dom.js";
import { t } from "./strings.js";

function titleFor(action) {
  if (action === "deny") return t("policy.ui.denied_title");
  if (action === "reroute") return t("policy.ui.rerouted_title");
  return t("policy.ui.masked_title");
}

/**
 * div.policy-notice.policy-{reroute|mask_then_allow|deny}[data-rule] for `policy`
 * ({action, rule_id, message}; the message comes localised from the server). A refusal is
 * announced at once (role=alert) and says where the typed text went.
 */
export function policyNotice(policy) {
  const action = ["reroute", "mask_then_allow", "deny"].includes(policy.action) ? policy.action : "deny";
  const box = el("div", `policy-notice policy-${action}`);
  box.dataset.action = action;
  box.dataset.rule = policy.rule_id || "";
  if (action === "deny") box.setAttribute("role", "alert");
  box.appendChild(el("p", "policy-notice-title", titleFor(action)));
  if (policy.message) box.appendChild(el("p", "policy-notice-text", policy.message));
  if (policy.rule_id) {
    box.appendChild(el("p", "policy-notice-rule", t("policy.ui.rule", { rule: policy.rule_id })));
  }
  if (action === "deny") box.appendChild(el("p", "policy-notice-kept", t("policy.ui.text_kept")));
  return box;
}
