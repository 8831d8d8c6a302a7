// One chat turn: POST the message, read the event stream, render the answer as it grows
// (throttled to animation frames), and settle how it ended.

import { conversationPath, errorFromResponse, requestInit } from "./api.js";
import { showCitations } from "./citations.js";
import { readEventStream } from "./sse.js";
import { errorText, t } from "./strings.js";

export class Turn {
  /**
   * Adds the user's message and an empty answer to `log` at once (optimistic bubbles).
   * onMeta(meta), if given, hears the `meta` event (its classification raises the label).
   */
  constructor({ log, conversationId, text, model, effort, onMeta, path, attachments }) {
    this.log = log;
    this.onMeta = onMeta;
    this.conversationId = conversationId;
    // Where the turn is posted: a new message, or (regeneration) the last one answered again.
    this.path = path || `${conversationPath(conversationId)}/messages`;
    this.text = text;
    this.body = { content: text, model };
    if (effort) this.body.reasoning_effort = effort;
    const files = attachments || { ids: [], names: [] };
    if (files.ids.length) this.body.attachments = files.ids;
    this.controller = new AbortController();
    this.content = "";
    this.reasoning = "";
    this.renderedContent = 0;
    this.renderedReasoning = 0;
    this.nextRenderAt = 0;
    this.frame = 0;
    this.timer = 0;
    this.error = null; // the `error` event, or a non-2xx answer
    this.done = null; // the `done` event
    this.failure = null; // "network" | "engine_stream_broken": the connection failed
    this.stopped = false;
    this.responded = false;
    this.citations = []; // the `citations` event: the sources the model was given

    this.userEl = log.addUser(text, null, files.names);
    this.view = log.addAssistant();
    this.view.setStatus("streaming");
    this.view.setPending(true);
    this.view.el.classList.add("streaming");
    log.scrollToBottom();
  }

  stop() {
    this.stopped = true;
    this.controller.abort();
  }

  /**
   * Runs the turn to its end. Resolves to {retracted: false} when the answer stays on screen
   * (complete, stopped, or partial with an error banner), or to {retracted: true, message,
   * policy} when it failed before any answer: the bubbles are then removed and the caller gives
   * the text back. `policy` is set ({action: "deny", rule_id, message}) when the sovereignty
   * policy refused the turn, which is not a failure and is shown as such.
   */
  async run() {
    try {
      const init = requestInit("POST", this.body, this.controller.signal);
      init.headers.Accept = "text/event-stream";
      const response = await fetch(this.path, init);
      this.responded = true;
      if (!response.ok) {
        const err = await errorFromResponse(response);
        this.error = { code: err.code, message: err.message, partial_saved: false };
      } else {
        await readEventStream(response, (type, data) => this.onEvent(type, data));
      }
    } catch {
      if (!this.stopped) this.failure = this.responded ? "engine_stream_broken" : "network";
    }
    this.view.el.classList.remove("streaming");
    return this.settle();
  }

  onEvent(type, raw) {
    let data;
    try {
      data = JSON.parse(raw);
    } catch {
      return;
    }
    if (!data || typeof data !== "object") return;
    switch (type) {
      case "meta":
        if (data.turn_id) this.view.el.dataset.turn = data.turn_id;
        this.view.setMeta(data.model, data.residency);
        if (data.policy && typeof data.policy === "object") this.view.showPolicy(data.policy);
        if (this.onMeta) this.onMeta(data);
        break;
      case "reasoning":
      case "content":
        if (typeof data.t === "string" && data.t) {
          if (type === "content") this.content += data.t;
          else this.reasoning += data.t;
          this.view.setPending(false);
          this.schedule();
        }
        break;
      case "reasoning_status":
        this.view.setThinking(data.ms, data.tokens, data.done === true);
        this.view.setPending(false);
        break;
      case "reasoning_summary":
        if (typeof data.t === "string") this.view.setReasoningSummary(data.t);
        break;
      case "usage":
        this.view.setUsage(data);
        break;
      case "citations":
        if (Array.isArray(data.citations)) this.citations = data.citations;
        break;
      case "error":
        this.error = data;
        break;
      case "done":
        this.done = data;
        break;
      default:
        break;
    }
  }

  schedule() {
    if (this.frame || this.timer) return;
    const frame = () => {
      this.timer = 0;
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.flush();
      });
    };
    const wait = this.nextRenderAt - performance.now();
    if (wait > 0) this.timer = setTimeout(frame, wait);
    else frame();
  }

  flush() {
    if (this.frame) cancelAnimationFrame(this.frame);
    if (this.timer) clearTimeout(this.timer);
    this.frame = 0;
    this.timer = 0;
    const stick = this.log.nearBottom();
    if (this.renderedReasoning !== this.reasoning.length) {
      this.view.setReasoning(this.reasoning);
      this.renderedReasoning = this.reasoning.length;
    }
    if (this.renderedContent !== this.content.length) {
      const started = performance.now();
      this.view.setAnswer(this.content);
      this.renderedContent = this.content.length;
      // Re-parsing a long answer costs more: back off in proportion, so the page stays smooth.
      const cost = performance.now() - started;
      this.nextRenderAt = performance.now() + Math.min(cost * 3, 500);
    }
    if (stick) this.log.scrollToBottom();
  }

  settle() {
    this.flush();
    const view = this.view;
    view.setPending(false);
    view.endThinking();
    const nothingShown = !this.content;
    let status;
    let badge = null;
    let error = null;
    if (this.stopped) {
      status = "stopped";
      badge = ["stopped", t("chat.stopped")];
    } else if (this.error) {
      error = errorText(this.error.code, this.error.message);
      if (nothingShown && !this.error.partial_saved) return this.retract(error, this.refusal());
      status = "error";
      badge = ["error", t("chat.status.error")];
    } else if (this.failure || !this.done) {
      // The connection dropped, or the stream ended without a `done` event.
      error = this.failure === "network" ? t("error.network") : errorText("engine_stream_broken", "");
      if (nothingShown) return this.retract(error);
      status = "incomplete";
      badge = ["incomplete", t("chat.status.incomplete")];
    } else {
      status = this.done.status || "complete";
      if (status === "incomplete") badge = ["incomplete", t("chat.status.incomplete")];
      if (status === "error") {
        badge = ["error", t("chat.status.error")];
        error = errorText("internal_error", "");
      }
    }
    view.setStatus(status);
    showCitations(view, this.citations);
    if (badge) view.addBadge(...badge);
    if (error) view.showError(error, true);
    return { retracted: false };
  }

  /** The policy's refusal of this turn, or null for any other error. */
  refusal() {
    const err = this.error;
    if (!err || err.code !== "policy_denied") return null;
    const policy = err.policy && typeof err.policy === "object" ? err.policy : {};
    // The error's message names the rule and says what to do instead (localised by the server).
    return { action: "deny", rule_id: policy.rule_id || "", message: err.message || policy.message || "" };
  }

  retract(message, policy = null) {
    this.userEl.remove();
    this.view.el.remove();
    if (!this.log.hasMessages()) this.log.showEmpty(true);
    return { retracted: true, message, policy };
  }
}
