// The model picker: residency badges, demo label and notices, and the reasoning-effort field
// (shown only for models that support it). Model facts come from data-* on each <option>.

import { residencyBadge } from "./messages.js";
import { storageGet, storageSet } from "./dom.js";

const STORAGE_MODEL = "mamori.model";

export class ModelPicker {
  constructor(els) {
    this.els = els;
    const select = els.modelSelect;
    if (!select) return;
    select.addEventListener("change", () => {
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

  /** Selects a model by name if it is offered (e.g. the model of an opened conversation). */
  select(name) {
    const select = this.els.modelSelect;
    if (!select || select.value === name) return;
    if (Array.from(select.options).some((o) => o.value === name)) {
      select.value = name;
      this.update();
    }
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
