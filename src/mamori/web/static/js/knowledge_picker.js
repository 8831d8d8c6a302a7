// The knowledge bases a conversation answers from: a folded list of checkboxes in the chat
// toolbar, filled from GET /api/kbs (those the person may read). A change on an open
// conversation is saved at once (PUT .../knowledge_bases); a new conversation takes the
// choice when it is created.
//
//   details#kb-picker                    summary #kb-picker-summary ("ナレッジ: 2件")
//     fieldset#kb-options                input.kb-option[type=checkbox][value=ID] per base,
//                                        each in a label with its name and class badge
//     p#kb-none                          "no knowledge bases available"

import { api, conversationPath } from "./api.js";
import { $, el } from "./dom.js";
import { t } from "./strings.js";

export class KnowledgePicker {
  constructor({ root, onError, onOk }) {
    this.root = root;
    this.summary = $("#kb-picker-summary", root);
    this.options = $("#kb-options", root);
    this.none = $("#kb-none", root);
    this.onError = onError;
    this.onOk = onOk;
    this.conversationId = null;
    this.bases = [];
    this.options.addEventListener("change", () => this.changed());
  }

  async load() {
    const data = await api("GET", "/api/kbs");
    this.bases = (data.knowledge_bases || []).filter((kb) => kb.can_read);
    for (const old of this.options.querySelectorAll("label.kb-option-label")) old.remove();
    for (const kb of this.bases) {
      const label = el("label", "kb-option-label");
      const box = el("input", "kb-option");
      box.type = "checkbox";
      box.value = kb.id;
      box.name = "knowledge_bases";
      const badge = el("span", `badge classification classification-${kb.classification}`,
        t(kb.classification === 0 ? "classification.public" : `classification.c${kb.classification}`));
      label.append(box, " ", el("span", "kb-option-name", kb.name), " ", badge);
      this.options.appendChild(label);
    }
    this.none.hidden = this.bases.length > 0;
    this.options.hidden = this.bases.length === 0;
    this.render();
  }

  get selected() {
    return Array.from(this.options.querySelectorAll("input.kb-option:checked"), (box) => box.value);
  }

  /** Shows a conversation's choice (null: a new conversation, nothing chosen). */
  show(conversation) {
    this.conversationId = conversation && conversation.id ? conversation.id : null;
    const chosen = new Set((conversation && conversation.knowledge_bases) || []);
    for (const box of this.options.querySelectorAll("input.kb-option")) box.checked = chosen.has(box.value);
    this.render();
  }

  /** Ticks the bases named in `names` that the person may read (a use case's defaults). */
  selectNames(names) {
    const wanted = new Set(names);
    const ids = new Set(this.bases.filter((kb) => wanted.has(kb.name) || wanted.has(kb.id)).map((kb) => kb.id));
    for (const box of this.options.querySelectorAll("input.kb-option")) if (ids.has(box.value)) box.checked = true;
    this.render();
  }

  render() {
    const count = this.selected.length;
    this.summary.textContent = count ? t("chat.kb_selected", { count }) : t("chat.kb_none_selected");
  }

  async changed() {
    this.render();
    if (!this.conversationId) return;
    try {
      await api("PUT", `${conversationPath(this.conversationId)}/knowledge_bases`, {
        knowledge_bases: this.selected,
      });
      this.onOk();
    } catch (err) {
      this.onError(err.message);
    }
  }
}
