// The conversation sidebar: list, inline rename, delete with confirmation, and the overlay
// mode on narrow screens.

import { api, conversationPath } from "./api.js";
import { classificationBadge, toLevel } from "./classification.js";
import { confirmDialog, el } from "./dom.js";
import { t } from "./strings.js";

const ITEM_PARTS = [".conversation-rename", ".conversation-delete", ".conversation-link"];

function timeOf(conversation) {
  const value = Date.parse(conversation.updated_at || "");
  return Number.isNaN(value) ? 0 : value;
}

export class ConversationList {
  /**
   * hooks: onOpen(id) — a conversation link was activated; onDeleted(id) — it is gone;
   * onError(message) / onOk() — show / clear the page-level alert.
   */
  constructor({ list, empty, noMatch, dialog }, hooks) {
    this.list = list;
    this.empty = empty;
    this.noMatch = noMatch;
    this.dialog = dialog;
    this.hooks = hooks;
    this.conversations = [];
    this.matches = null; // the search's results while one is active, else null
    this.query = "";
    this.currentId = null;
    list.addEventListener("click", (event) => this.onClick(event));
  }

  /** Searches as the person types into `input` (after a short pause); Escape clears it. */
  bindSearch(input) {
    let timer = 0;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.search(input.value).catch((err) => this.hooks.onError(err.message)), 250);
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && input.value) {
        event.preventDefault();
        input.value = "";
        this.search("").catch((err) => this.hooks.onError(err.message));
      }
    });
  }

  /** Shows the conversations whose title or messages contain `text` ("" shows them all).
   *  A slower answer to an older query is dropped. */
  async search(text) {
    const query = text.trim();
    this.query = query;
    if (!query) {
      this.matches = null;
      this.render();
      return;
    }
    const data = await api("GET", `/api/conversations?q=${encodeURIComponent(query)}`);
    if (this.query !== query) return;
    this.matches = Array.isArray(data && data.conversations) ? data.conversations : [];
    this.render();
  }

  async load() {
    const data = await api("GET", "/api/conversations");
    this.conversations = Array.isArray(data && data.conversations) ? data.conversations : [];
    this.sort();
    this.render();
  }

  find(id) {
    return this.conversations.find((c) => c.id === id) || null;
  }

  mostRecent() {
    return this.conversations[0] || null;
  }

  setCurrent(id) {
    this.currentId = id;
    this.render();
  }

  add(conversation) {
    if (!conversation.updated_at) conversation.updated_at = new Date().toISOString();
    this.conversations = this.conversations.filter((c) => c.id !== conversation.id);
    this.conversations.unshift(conversation);
    this.render();
  }

  /** Takes in the server's copy of a conversation (e.g. after its label changed). */
  update(conversation) {
    const known = this.find(conversation.id);
    if (!known) return;
    Object.assign(known, conversation);
    this.render();
  }

  /** The label the server keeps after a turn: never lower than it was. */
  raiseLabel(id, level) {
    const known = this.find(id);
    if (!known || !(level > toLevel(known.classification, 0))) return;
    known.classification = level;
    this.render();
  }

  /** Moves a conversation to the top after a new message. */
  touch(id) {
    const conversation = this.find(id);
    if (!conversation) return;
    conversation.updated_at = new Date().toISOString();
    this.sort();
    this.render();
  }

  sort() {
    this.conversations.sort((a, b) => timeOf(b) - timeOf(a));
  }

  render() {
    // Keep keyboard users where they were: remember which item and which control had focus.
    const active = document.activeElement;
    const focusedItem = active && this.list.contains(active) ? active.closest(".conversation-item") : null;
    const focusedPart = focusedItem ? ITEM_PARTS.find((part) => active.matches(part)) : null;
    const shown = this.matches
      ? this.matches.map((m) => this.find(m.id) || m)
      : this.conversations;
    this.list.replaceChildren(...shown.map((c) => this.item(c)));
    if (this.empty) this.empty.hidden = this.matches !== null || this.conversations.length > 0;
    if (this.noMatch) this.noMatch.hidden = !(this.matches && this.matches.length === 0);
    if (focusedItem && focusedPart) {
      const target = this.itemElement(focusedItem.dataset.id)?.querySelector(focusedPart);
      if (target) target.focus();
    }
  }

  itemElement(id) {
    return this.list.querySelector(`.conversation-item[data-id="${CSS.escape(id)}"]`);
  }

  item(conversation) {
    const item = el("li", "conversation-item");
    item.dataset.id = conversation.id;
    const link = el("a", "conversation-link");
    link.href = `?c=${encodeURIComponent(conversation.id)}`;
    if (conversation.id === this.currentId) {
      item.classList.add("active");
      link.setAttribute("aria-current", "page");
    }
    const actions = el("span", "conversation-actions");
    for (const [cls, icon, label] of [
      ["conversation-rename", "icon-edit", t("chat.rename")],
      ["conversation-delete", "icon-delete", t("chat.delete")],
    ]) {
      const button = el("button", `btn-icon ${cls}`);
      button.type = "button";
      button.title = label;
      button.appendChild(el("span", icon));
      actions.appendChild(button);
    }
    item.append(link, actions);
    this.showTitle(item, conversation);
    return item;
  }

  showTitle(item, conversation) {
    const title = conversation.title || t("chat.untitled");
    const link = item.querySelector(".conversation-link");
    // The label's name is part of the link's text, so it is read out with the title.
    const badge = classificationBadge(toLevel(conversation.classification, 0));
    link.replaceChildren(el("span", "conversation-title", title), badge);
    link.title = `${title} (${badge.textContent})`;
    item.querySelector(".conversation-rename").setAttribute("aria-label", `${t("chat.rename")}: ${title}`);
    item.querySelector(".conversation-delete").setAttribute("aria-label", `${t("chat.delete")}: ${title}`);
  }

  onClick(event) {
    const item = event.target.closest(".conversation-item");
    if (!item) return;
    if (event.target.closest(".conversation-rename")) {
      this.startRename(item);
    } else if (event.target.closest(".conversation-delete")) {
      this.delete(item.dataset.id);
    } else if (event.target.closest(".conversation-link")) {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      this.hooks.onOpen(item.dataset.id);
    }
  }

  startRename(item) {
    const id = item.dataset.id;
    const conversation = this.find(id);
    const link = item.querySelector(".conversation-link");
    if (!conversation || !link || item.querySelector(".conversation-rename-input")) return;
    const input = el("input", "conversation-rename-input");
    input.type = "text";
    input.value = conversation.title || "";
    input.maxLength = 200;
    input.setAttribute("aria-label", t("chat.rename_label"));
    link.hidden = true;
    item.insertBefore(input, link);
    input.focus();
    input.select();

    // The item is updated in place, not re-rendered: a click that caused the blur must still
    // land on the element it was aimed at.
    let finished = false;
    const finish = async (save, refocus) => {
      if (finished) return;
      finished = true;
      const title = input.value.trim();
      if (save && title && title !== conversation.title) {
        input.disabled = true;
        try {
          const updated = await api("PATCH", conversationPath(id), { title });
          Object.assign(conversation, updated && updated.title ? updated : { title });
          this.hooks.onOk();
        } catch (err) {
          this.hooks.onError(err.message);
        }
      }
      const hadFocus = document.activeElement === input;
      this.showTitle(item, conversation);
      input.remove();
      link.hidden = false;
      if (refocus || hadFocus) item.querySelector(".conversation-rename").focus();
    };
    input.addEventListener("keydown", (event) => {
      if (event.isComposing || event.keyCode === 229) return; // IME conversion in progress
      if (event.key === "Enter") {
        event.preventDefault();
        finish(true, true);
      } else if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        finish(false, true);
      }
    });
    input.addEventListener("blur", () => finish(true, false));
  }

  async delete(id) {
    const conversation = this.find(id);
    const title = (conversation && conversation.title) || t("chat.untitled");
    const ok = await confirmDialog(
      this.dialog,
      t("chat.delete_title"),
      t("chat.delete_confirm", { title }),
      t("chat.delete"),
    );
    if (!ok) return;
    try {
      await api("DELETE", conversationPath(id));
    } catch (err) {
      if (err.code !== "not_found") {
        this.hooks.onError(err.message);
        return;
      }
    }
    this.hooks.onOk();
    this.conversations = this.conversations.filter((c) => c.id !== id);
    this.hooks.onDeleted(id);
    this.render();
  }
}

/**
 * On narrow screens the sidebar is a modal overlay: the toggle opens it, Escape / the backdrop /
 * opening a conversation close it, and the rest of the page is inert meanwhile.
 */
export class SidebarOverlay {
  constructor({ toggle, backdrop, main, first }) {
    this.toggle = toggle;
    this.backdrop = backdrop;
    this.main = main;
    this.first = first;
    // Must match the breakpoint in style.css where the sidebar becomes an overlay.
    const narrow = window.matchMedia("(max-width: 50rem)");
    narrow.addEventListener("change", () => {
      if (!narrow.matches) this.close();
    });
    if (toggle) toggle.addEventListener("click", () => (this.isOpen() ? this.close() : this.open()));
    if (backdrop) backdrop.addEventListener("click", () => this.close());
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.isOpen()) {
        this.close();
        if (toggle) toggle.focus();
      }
    });
  }

  isOpen() {
    return document.body.classList.contains("sidebar-open");
  }

  open() {
    document.body.classList.add("sidebar-open");
    if (this.toggle) this.toggle.setAttribute("aria-expanded", "true");
    if (this.backdrop) this.backdrop.hidden = false;
    if (this.main) this.main.inert = true;
    if (this.first) this.first.focus();
  }

  close() {
    if (!this.isOpen()) return;
    document.body.classList.remove("sidebar-open");
    if (this.toggle) this.toggle.setAttribute("aria-expanded", "false");
    if (this.backdrop) this.backdrop.hidden = true;
    if (this.main) this.main.inert = false;
  }
}
