// Conversation labels (機密性): their names and badges, and the selector in the chat toolbar.
// A label guards what the conversation holds, so the server refuses a lowering until the
// person confirms it (HTTP 409 label_lowering_unconfirmed); raising needs no confirmation.

import { api, conversationPath } from "./api.js";
import { confirmDialog, el } from "./dom.js";
import { t } from "./strings.js";

export const LEVELS = [0, 1, 2, 3];

/** The label's name: 公開 / 機密性1-3 (Public / Confidentiality 1-3 in English). */
export function labelText(level) {
  // Literal keys: tests/web/test_i18n.py finds the scripts' keys by reading t("...") calls.
  const names = [
    t("classification.public"),
    t("classification.c1"),
    t("classification.c2"),
    t("classification.c3"),
  ];
  return names[level] || "";
}

/** A label from the API as one of LEVELS, or `fallback` when it is missing or unknown. */
export function toLevel(value, fallback) {
  if (value === null || value === undefined || value === "") return fallback; // Number("") is 0
  const level = Number(value);
  return LEVELS.includes(level) ? level : fallback;
}

/** span.badge.classification.classification-N; the name is in the text, colour only repeats it. */
export function classificationBadge(level) {
  const badge = el("span", `badge classification classification-${level}`, labelText(level));
  badge.title = t("chat.classification_badge", { label: labelText(level) });
  return badge;
}

export class LabelControl {
  /**
   * els: select (#classification-select), badge (#conversation-classification), dialog.
   * hooks: onChange(level, conversation|null) — the shown label changed (conversation is the
   * server's updated copy, or null for a conversation not created yet); onError(message);
   * onOk().
   */
  constructor({ select, badge, dialog }, hooks) {
    this.select = select;
    this.badge = badge;
    this.dialog = dialog;
    this.hooks = hooks;
    this.defaultLevel = toLevel(select && select.dataset.default, 1);
    this.level = this.defaultLevel;
    this.conversationId = null;
    if (select) select.addEventListener("change", () => this.choose(toLevel(select.value, this.level)));
  }

  /** Shows the label of `conversation`, or the default for a conversation not created yet. */
  show(conversation) {
    this.conversationId = conversation ? conversation.id : null;
    this.set(conversation ? toLevel(conversation.classification, this.defaultLevel) : this.defaultLevel);
  }

  /** After a turn the server keeps the higher of the label and what detection found. */
  raiseTo(level) {
    const raised = toLevel(level, this.level);
    if (raised > this.level) this.set(raised);
  }

  /** Shows `level` and tells the hooks once (with the server's copy, when there is one). */
  set(level, conversation = null) {
    this.level = level;
    if (this.select) this.select.value = String(level);
    if (this.badge) {
      this.badge.className = `badge classification classification-${level}`;
      this.badge.textContent = labelText(level);
      this.badge.title = t("chat.classification_badge", { label: labelText(level) });
    }
    this.hooks.onChange(level, conversation);
  }

  async choose(wanted) {
    if (wanted === this.level) return;
    if (!this.conversationId) {
      // Nothing is stored yet: the label goes with the conversation when it is created.
      this.set(wanted);
      return;
    }
    const id = this.conversationId;
    this.select.disabled = true;
    try {
      let updated = await this.put(id, wanted, false);
      if (updated === "confirm") {
        const ok = await confirmDialog(
          this.dialog,
          t("chat.label_lower_title"),
          t("chat.label_lower_confirm", { from: labelText(this.level), to: labelText(wanted) }),
          t("chat.label_lower_ok"),
        );
        updated = ok ? await this.put(id, wanted, true) : null;
      }
      if (updated && id === this.conversationId) {
        this.hooks.onOk();
        this.set(toLevel(updated.classification, wanted), updated);
        return;
      }
    } catch (err) {
      this.hooks.onError(err.message);
    } finally {
      this.select.disabled = false;
    }
    // Cancelled or failed: the selector goes back to the label the conversation still has.
    if (id === this.conversationId) this.select.value = String(this.level);
  }

  /** The updated conversation, or "confirm" when the server wants the lowering confirmed. */
  async put(id, level, confirmLower) {
    try {
      return await api("PUT", `${conversationPath(id)}/classification`, {
        classification: level,
        confirm_lower: confirmLower,
      });
    } catch (err) {
      if (err.code === "label_lowering_unconfirmed" && !confirmLower) return "confirm";
      throw err;
    }
  }
}
