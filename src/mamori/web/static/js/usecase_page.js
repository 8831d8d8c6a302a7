/*
 * One use case (templates/usecase.html): fill in the form, press 実行, read the answer as it
 * streams. The server checks the form and writes the prompt (POST
 * /api/use-cases/{id}/conversations -> {conversation, prompt, model}); the prompt is then sent
 * as that conversation's first message, exactly as the chat page sends one, so the policy, the
 * guard, the knowledge bases and the audit trail apply unchanged. The conversation stays in the
 * person's list, to be continued in the chat page.
 */

import { api } from "./api.js";
import { LabelControl } from "./classification.js";
import { $, pageAlert } from "./dom.js";
import { KnowledgePicker } from "./knowledge_picker.js";
import { setUpMarkdown } from "./markdown.js";
import { MessageLog } from "./messages.js";
import { ModelPicker, pickerElements } from "./models.js";
import { policyNotice } from "./policy.js";
import { confirmReview, offerReview } from "./review.js";
import { Turn } from "./turn.js";

const form = $("#usecase-form");
const useCaseId = form.dataset.useCase;
const els = {
  run: $("#usecase-run"),
  stop: $("#stop"),
  alert: $("#chat-alert"),
  messages: $("#messages"),
  continue: $("#usecase-continue"),
  continueLink: $("#usecase-continue-link"),
  ...pickerElements(),
  dialog: $("#confirm-dialog"),
};
const state = { turn: null, conversationId: null };
const OUTSIDE_USE = form.dataset.outsideUse === "true";

const { show: showAlert, hide: hideAlert } = pageAlert(els.alert);

const log = new MessageLog(els.messages, $("#empty-state"));
const picker = new ModelPicker(els);
const labels = new LabelControl(
  { select: $("#classification-select"), badge: $("#conversation-classification"), dialog: els.dialog },
  { onChange: (level) => picker.setLevel(level), onError: showAlert, onOk: hideAlert },
);
const kbRoot = $("#kb-picker");
const knowledge = kbRoot ? new KnowledgePicker({ root: kbRoot, onError: showAlert, onOk: hideAlert }) : null;

function controls() {
  return Array.from(form.querySelectorAll("[data-field]"));
}

function values() {
  const result = {};
  for (const control of controls()) {
    result[control.dataset.field] = control.type === "checkbox" ? control.checked : control.value;
  }
  return result;
}

function fieldError(name) {
  return document.getElementById(`uc-${name}-error`);
}

function clearFieldErrors() {
  for (const node of document.querySelectorAll(".field-error")) {
    node.hidden = true;
    node.textContent = "";
  }
  for (const control of controls()) control.removeAttribute("aria-invalid");
}

/** Marks the field the server named and puts the focus there; false if it names none. */
function markField(name, message) {
  const box = fieldError(name);
  if (!box) return false;
  box.textContent = message;
  box.hidden = false;
  const control = name === "knowledge_bases" ? $("#kb-picker-summary") : document.getElementById(`uc-${name}`);
  if (control) {
    if (control.dataset.field) control.setAttribute("aria-invalid", "true");
    if (name === "knowledge_bases" && kbRoot) kbRoot.open = true;
    control.focus();
  }
  return true;
}

/** The browser's own check of required fields, before asking the server. */
function firstMissing() {
  return controls().find((c) => c.required && !c.value.trim());
}

function setStreaming(on) {
  els.run.disabled = on || !picker.value;
  els.stop.hidden = !on;
  log.setBusy(on);
}

async function run() {
  if (state.turn || els.run.disabled) return;
  hideAlert();
  clearFieldErrors();
  const missing = firstMissing();
  if (missing) {
    markField(missing.dataset.field, missing.validationMessage || missing.title || "");
    return;
  }
  const verdict = picker.verdict(picker.value);
  if (picker.blocked || !verdict.usable) {
    showAlert(picker.blocked || verdict.message);
    return;
  }
  setStreaming(true);
  let started;
  try {
    started = await api("POST", `/api/use-cases/${encodeURIComponent(useCaseId)}/conversations`, {
      values: values(),
      model: picker.value,
      classification: labels.level,
      knowledge_bases: knowledge ? knowledge.selected : [],
    });
  } catch (err) {
    setStreaming(false);
    if (!(err.field && markField(err.field, err.detail || err.message))) showAlert(err.message);
    return;
  }
  const conversation = started.conversation;
  log.clear();
  els.continue.hidden = true;
  const turn = new Turn({
    log,
    conversationId: conversation.id,
    text: started.prompt,
    model: picker.value,
    effort: picker.effort,
    onMeta: (meta) => labels.raiseTo(meta.classification),
  });
  state.turn = turn;
  const outcome = await turn.run();
  state.turn = null;
  state.conversationId = conversation.id;
  setStreaming(false);
  offerReview(turn.view.el, OUTSIDE_USE);
  if (outcome.retracted) {
    if (outcome.policy) log.append(policyNotice(outcome.policy));
    else showAlert(outcome.message);
  }
  els.continueLink.href = `/?c=${encodeURIComponent(conversation.id)}`;
  els.continue.hidden = false;
}

async function init() {
  setUpMarkdown();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });
  els.stop.addEventListener("click", () => state.turn && state.turn.stop());
  els.messages.addEventListener("click", async (event) => {
    const button = event.target.closest("button.review-answer");
    if (!button || !state.conversationId) return;
    try {
      await confirmReview(els.dialog, state.conversationId, button.closest(".message.assistant"));
    } catch (err) {
      showAlert(err.message);
    }
  });
  form.addEventListener("keydown", (event) => {
    if (event.isComposing || event.keyCode === 229) return;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run();
    } else if (event.key === "Escape" && state.turn) {
      event.preventDefault();
      state.turn.stop();
    }
  });
  labels.show(null);
  const preferred = els.modelSelect && els.modelSelect.dataset.preferred;
  if (preferred) picker.select(preferred);
  setStreaming(false);
  if (knowledge) {
    try {
      await knowledge.load();
      knowledge.selectNames(JSON.parse(form.dataset.knowledgeBases || "[]"));
    } catch (err) {
      showAlert(err.message);
    }
  }
}

init();
