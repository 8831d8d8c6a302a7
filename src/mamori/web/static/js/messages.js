// The message log (#messages): user messages as text, answers as sanitised Markdown with their
// reasoning folded away, status badges and error banners.

import { showCitations } from "./citations.js";
import { el } from "./dom.js";
import { renderMarkdownInto } from "./markdown.js";
import { policyNotice } from "./policy.js";
import { errorText, t } from "./strings.js";

export function residencyBadge(residency) {
  const badge = el("span", `badge residency residency-${residency}`, t(`chat.residency.${residency}`));
  badge.title = t(`chat.residency_help.${residency}`);
  return badge;
}

async function copyText(text, button) {
  let ok = false;
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      ok = true;
    }
  } catch {
    ok = false;
  }
  if (!ok) {
    // Intranet pages are often plain http, where the Clipboard API is unavailable.
    const area = el("textarea", "visually-hidden");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    area.remove();
    button.focus();
  }
  if (ok) {
    button.textContent = t("chat.copied");
    setTimeout(() => {
      button.textContent = t("chat.copy");
    }, 1500);
  }
}

/** Shows on an answer's article who confirmed it was reviewed, and retires its button. */
export function showReviewed(article, by, at) {
  const badge = article.querySelector(".reviewed-by");
  badge.hidden = !by;
  if (!by) return;
  const when = at ? new Date(at).toLocaleString() : "";
  badge.textContent = t("chat.reviewed_by", { name: by, when });
  article.querySelector(".review-answer").hidden = true;
}

/** One answer (.message.assistant) and the ways to update it. */
export class AssistantView {
  constructor() {
    this.el = el("article", "message assistant");
    const meta = el("div", "message-meta");
    meta.appendChild(el("span", "message-role", t("chat.assistant")));
    this.model = el("span", "message-model");
    this.residency = el("span", "message-residency");
    this.badges = el("span", "message-badges");
    meta.append(this.model, this.residency, this.badges);

    this.details = el("details", "reasoning");
    this.details.hidden = true;
    const summary = el("summary");
    this.count = el("span", "reasoning-count");
    summary.append(el("span", "reasoning-label", t("chat.reasoning")), " ", this.count);
    this.reasoningBody = el("div", "reasoning-body");
    this.details.append(summary, this.reasoningBody);
    // Shown instead of the text when policy hides the reasoning: how long and how much.
    this.thinking = el("p", "reasoning-status muted");
    this.thinking.hidden = true;
    this.thought = null; // the last {ms, tokens, done} shown there

    this.pending = el("p", "message-pending", t("chat.generating"));
    this.pending.hidden = true;
    this.answer = el("div", "answer markdown");

    this.actions = el("div", "message-actions");
    this.copy = el("button", "btn btn-quiet btn-small copy-answer", t("chat.copy"));
    this.copy.type = "button";
    this.copy.hidden = true;
    this.copy.title = t("chat.copy_help");
    // Copied text carries its provenance: whoever pastes it elsewhere sees it was AI-written.
    this.copy.addEventListener("click", () => copyText(this.labelled(), this.copy));
    this.regenerate = el("button", "btn btn-quiet btn-small regenerate-answer", t("chat.regenerate"));
    this.regenerate.type = "button";
    this.regenerate.hidden = true;
    this.review = el("button", "btn btn-quiet btn-small review-answer", t("chat.review"));
    this.review.type = "button";
    this.review.hidden = true;
    this.reviewed = el("span", "badge reviewed-by");
    this.reviewed.hidden = true;
    this.usage = el("span", "usage muted");
    this.actions.append(this.copy, this.regenerate, this.review, this.reviewed, this.usage);

    this.el.append(meta, this.thinking, this.details, this.pending, this.answer, this.actions);
  }

  setStatus(status) {
    this.el.dataset.status = status;
  }

  /** The answer as text, with the AI生成 label and where it came from. */
  labelled() {
    const date = new Date().toLocaleDateString(document.documentElement.lang || undefined);
    const label = t("chat.ai_label", { model: this.model.textContent || "AI", date });
    return `${this.answer.innerText.trim()}\n\n${label}`;
  }

  /** Who confirmed that this answer was reviewed (null: nobody yet). */
  setReviewed(by, at) {
    showReviewed(this.el, by, at);
  }

  setPending(on) {
    this.pending.hidden = !on;
  }

  setMeta(modelName, residency) {
    this.model.textContent = modelName || "";
    this.residency.replaceChildren();
    if (residency) this.residency.appendChild(residencyBadge(residency));
  }

  /** The policy rerouted or pseudonymised this turn: said above the answer, once. */
  showPolicy(policy) {
    if (!policy || this.el.querySelector(".policy-notice")) return;
    this.el.insertBefore(policyNotice(policy), this.thinking);
  }

  setReasoning(text) {
    if (!text) return;
    this.details.hidden = false;
    this.reasoningBody.textContent = text;
    this.count.textContent = `(${t("chat.reasoning_count", { count: Array.from(text).length })})`;
  }

  setThinking(ms, tokens, done) {
    if (typeof ms !== "number") return;
    this.thought = { ms, tokens: tokens || 0, done };
    const params = { seconds: (ms / 1000).toFixed(1), tokens: this.thought.tokens };
    this.thinking.hidden = false;
    this.thinking.textContent = done ? t("chat.thought", params) : t("chat.thinking", params);
  }

  /** A turn that ended while the model was still thinking (stopped, connection lost) gets no
   *  final progress from the server: past tense, from the last figures, not "thinking…" forever. */
  endThinking() {
    const last = this.thought;
    if (last && !last.done) this.setThinking(last.ms, last.tokens, true);
  }

  setReasoningSummary(text) {
    if (!text) return;
    this.details.hidden = false;
    this.details.querySelector(".reasoning-label").textContent = t("chat.reasoning_summary");
    this.count.textContent = "";
    this.reasoningBody.textContent = text;
  }

  setAnswer(markdown) {
    renderMarkdownInto(this.answer, markdown);
    this.copy.hidden = !markdown;
  }

  addBadge(kind, text) {
    if (this.badges.querySelector(`.status-${kind}`)) return;
    this.badges.appendChild(el("span", `badge status-${kind}`, text));
  }

  /** An error banner; `live` ones are announced (role=alert), stored ones are not. */
  showError(message, live) {
    const box = el("div", "message-error", message);
    if (live) box.setAttribute("role", "alert");
    this.el.insertBefore(box, this.actions);
  }

  setUsage(usage) {
    if (usage && typeof usage.prompt_tokens === "number" && typeof usage.completion_tokens === "number") {
      this.usage.textContent = t("chat.tokens", {
        prompt: usage.prompt_tokens,
        completion: usage.completion_tokens,
      });
    }
  }
}

export class MessageLog {
  constructor(container, emptyState) {
    this.container = container;
    this.emptyState = emptyState;
  }

  showEmpty(show) {
    if (this.emptyState) this.emptyState.hidden = !show;
  }

  clear() {
    for (const node of Array.from(this.container.children)) {
      if (node !== this.emptyState) node.remove();
    }
  }

  append(node) {
    this.showEmpty(false);
    this.container.appendChild(node);
    return node;
  }

  hasMessages() {
    return this.container.querySelector(".message") !== null;
  }

  nearBottom() {
    const c = this.container;
    return c.scrollHeight - c.scrollTop - c.clientHeight < 80;
  }

  scrollToBottom() {
    this.container.scrollTop = this.container.scrollHeight;
  }

  setBusy(on) {
    if (on) this.container.setAttribute("aria-busy", "true");
    else this.container.removeAttribute("aria-busy");
  }

  /** `files`: the names of the files attached to the question. */
  addUser(text, id, files = []) {
    const article = el("article", "message user");
    if (id) article.dataset.id = id;
    const meta = el("div", "message-meta");
    meta.appendChild(el("span", "message-role", t("chat.you")));
    article.append(meta, el("div", "message-body", text));
    if (files.length) {
      const list = el("ul", "message-attachments");
      list.setAttribute("aria-label", t("chat.attachments"));
      for (const name of files) list.appendChild(el("li", "attachment-chip", name));
      article.appendChild(list);
    }
    return this.append(article);
  }

  addAssistant() {
    const view = new AssistantView();
    this.append(view.el);
    return view;
  }

  /** A message from GET /api/conversations/{id}/messages. */
  addStored(message) {
    if (message.role === "user") {
      const files = Array.isArray(message.attachments) ? message.attachments.map((a) => a.filename) : [];
      this.addUser(message.content || "", message.id, files);
      return;
    }
    if (message.role !== "assistant") return;
    const view = this.addAssistant();
    if (message.id) view.el.dataset.id = message.id;
    if (message.turn_id) view.el.dataset.turn = message.turn_id;
    view.setReviewed(message.reviewed_by, message.reviewed_at);
    view.setStatus(message.status || "complete");
    view.setMeta(message.model, null);
    if (message.reasoning) view.setReasoning(message.reasoning);
    else if (message.reasoning_summary) view.setReasoningSummary(message.reasoning_summary);
    if (!message.reasoning && message.reasoning_ms != null) {
      view.setThinking(message.reasoning_ms, message.reasoning_tokens, true);
    }
    view.setAnswer(message.content || "");
    showCitations(view, message.citations);
    if (message.status === "incomplete") view.addBadge("incomplete", t("chat.status.incomplete"));
    if (message.status === "error") {
      view.addBadge("error", t("chat.status.error"));
      view.showError(errorText(message.error_code || "internal_error", ""), false);
    }
  }
}
