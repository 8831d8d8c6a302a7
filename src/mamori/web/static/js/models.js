// The model picker: residency badges, demo label and notices, the reasoning-effort field
// (shown only for models that support it), and which models the conversation's label allows.
// Model facts come from data-* on each <option>; data-policy holds, per label "0".."3", the
// policy's {action, rule_id, usable, message} for that model (GET /api/models says the same).

import { labelText } from "./classification.js";
import { residencyBadge } from "./messages.js";
import { $, storageGet, storageSet } from "./dom.js";
import { t } from "./strings.js";

function parsePolicy(option) {
  try {
    const policy = JSON.parse(option.dataset.policy || "{}");
    return policy && typeof policy === "object" ? policy : {};
  } catch {
    return {};
  }
}

const STORAGE_MODEL = "mamori.model";

/** The picker's elements, by the ids _turn_controls.html gives them (chat and use-case pages). */
export function pickerElements() {
  return {
    modelSelect: $("#model-select"),
    effortField: $("#effort-field"),
    effortSelect: $("#effort-select"),
    residency: $("#model-residency"),
    demoBadge: $("#model-demo"),
    notice: $("#model-notice"),
    demoNotice: $("#model-demo-notice"),
    foreignNotice: $("#model-foreign-notice"),
    description: $("#model-description"),
    policyNotice: $("#model-policy-notice"),
  };
}

export class ModelPicker {
  constructor(els) {
    this.els = els;
    this.level = null; // the label models are checked against; null: not checked yet
    this.blocked = ""; // why nothing may be sent, when no model is usable at this label
    this.policies = new Map(); // model name -> {"0".."3": decision}
    const select = els.modelSelect;
    if (!select) return;
    for (const option of select.options) {
      option.dataset.name = option.textContent.trim(); // the text without a verdict appended
      this.policies.set(option.value, parsePolicy(option));
    }
    select.addEventListener("change", () => {
      this.showNotice("");
      this.update();
      storageSet(window.localStorage, STORAGE_MODEL, select.value);
    });
    const remembered = storageGet(window.localStorage, STORAGE_MODEL);
    if (remembered) this.select(remembered);
    this.update();
  }

  get value() {
    return this.els.modelSelect ? this.els.modelSelect.value : "";
  }

  /** The effort to send, or undefined when the selected model does not take one. */
  get effort() {
    const { effortField, effortSelect } = this.els;
    return effortField && !effortField.hidden && effortSelect ? effortSelect.value : undefined;
  }

  /** Selects a model by name if it is offered and the label allows it (e.g. the model of an
   *  opened conversation). */
  select(name) {
    const select = this.els.modelSelect;
    if (!select || select.value === name) return;
    if (Array.from(select.options).some((o) => o.value === name && !o.disabled)) {
      select.value = name;
      this.update();
    }
  }

  /** The policy's verdict on `name` at the current label: {usable, message}. */
  verdict(name) {
    const entry = this.policies.get(name);
    const decision = entry && this.level !== null ? entry[String(this.level)] : null;
    if (!decision) return { usable: true, message: "" };
    return { usable: decision.usable !== false, message: decision.message || "" };
  }

  /**
   * Greys out the models the label forbids, with the policy's message as their tooltip and in
   * their text (colour is not the only signal). If the selected model is one of them, the first
   * usable one is chosen and the person is told; with none usable, sending is blocked.
   */
  setLevel(level) {
    const select = this.els.modelSelect;
    const same = level === this.level;
    this.level = level;
    if (!select) return;
    const label = labelText(level);
    for (const option of select.options) {
      const { usable, message } = this.verdict(option.value);
      option.disabled = !usable;
      option.title = usable ? "" : message;
      const suffix = usable ? "" : ` — ${t("chat.model_unusable", { label })}`;
      option.textContent = `${option.dataset.name}${suffix}`;
    }
    const current = select.selectedIndex >= 0 ? select.options[select.selectedIndex] : null;
    this.blocked = "";
    let notice = "";
    if (current && current.disabled) {
      const first = Array.from(select.options).find((o) => !o.disabled);
      if (first) {
        select.value = first.value;
        this.update();
        notice = t("chat.model_switched", { from: current.dataset.name, to: first.dataset.name, label });
      } else {
        this.blocked = t("chat.no_usable_model", { label, reason: this.verdict(current.value).message });
        notice = this.blocked;
      }
    }
    // The same label again (another conversation, say) keeps what was said about a switch.
    if (notice || !same) this.showNotice(notice);
  }

  showNotice(text) {
    const box = this.els.policyNotice;
    if (!box) return;
    // Only replaced when there is something new to say: a live region re-reads what it gets.
    if (text) box.textContent = text;
    box.hidden = !text;
  }

  update() {
    const select = this.els.modelSelect;
    const option = select && select.selectedIndex >= 0 ? select.options[select.selectedIndex] : null;
    if (!option) return;
    const e = this.els;
    const d = option.dataset;
    const residencies = (d.residencies || d.residency || "").split(/\s+/).filter(Boolean);
    const demo = d.demo === "true";
    const foreign = residencies.includes("foreign");
    const description = d.description || "";
    if (e.residency) e.residency.replaceChildren(...residencies.map(residencyBadge));
    if (e.demoBadge) e.demoBadge.hidden = !demo;
    if (e.demoNotice) e.demoNotice.hidden = !demo;
    if (e.foreignNotice) e.foreignNotice.hidden = !foreign;
    if (e.description) {
      e.description.textContent = description;
      e.description.hidden = !description;
    }
    if (e.notice) e.notice.hidden = !(demo || foreign || description);
    const supportsEffort = d.supportsEffort === "true";
    if (e.effortField) e.effortField.hidden = !supportsEffort;
    if (supportsEffort && e.effortSelect && d.defaultEffort) {
      if (Array.from(e.effortSelect.options).some((o) => o.value === d.defaultEffort)) {
        e.effortSelect.value = d.defaultEffort;
      }
    }
  }
}
