/*
 * mamori workspace — chat page behaviour. Plain JS (native ES modules), no build step, no
 * framework. templates/chat.html loads vendor/marked and vendor/dompurify (classic, defer) and
 * then this module, which imports the parts in js/:
 *   strings.js  localised strings      api.js      JSON API + CSRF     sse.js   event streams
 *   markdown.js marked + DOMPurify     messages.js the message log     turn.js  one streamed turn
 *   sidebar.js  conversation list      models.js   the model picker
 *   knowledge_picker.js  knowledge bases of the conversation   citations.js  [n] and sources
 *   classification.js  labels (機密性): badges and the selector      policy.js  policy notices
 *   (admin_policy.js runs the simulator of templates/admin_policy.html, a page of its own, and
 *   admin_scan.js its "check this text" box)
 *
 * ── Stable hooks (tests and CSS rely on these; do not rename) ─────────────────────────────
 *   #sidebar                          the conversation sidebar (<aside>)
 *   #sidebar-toggle                   shows/hides the sidebar on narrow screens (aria-expanded)
 *   #new-conversation                 starts a new, empty conversation (created on first send)
 *   #conversation-list                <ul>; items: li.conversation-item[data-id]
 *     li.conversation-item.active     the open conversation (its link has aria-current="page")
 *     a.conversation-link             opens it (href "?c=ID"); holds span.conversation-title
 *                                     and the label's span.badge.classification
 *     button.conversation-rename      inline rename: input.conversation-rename-input
 *                                     (Enter or blur saves, Escape cancels)
 *     button.conversation-delete      asks in #confirm-dialog, then deletes
 *   #conversation-empty               "no conversations yet"
 *   #confirm-dialog                   <dialog>; #confirm-title, #confirm-text, #confirm-ok,
 *                                     #confirm-cancel
 *   #classification-select            the open conversation's label (0 公開 … 3 機密性3), or
 *                                     a new one's (data-default: the server's default); a
 *                                     lowering asks in #confirm-dialog, then is resent confirmed
 *   #conversation-classification      span.badge.classification.classification-{0..3}, with text
 *   #model-select                     <select>; options carry data-residency,
 *                                     data-residencies (space separated), data-supports-effort,
 *                                     data-default-effort, data-demo, data-description,
 *                                     data-policy (JSON, per label); options the label forbids
 *                                     are disabled, with the policy's message as their title
 *   #model-policy-notice              why the model was switched, or why nothing can be sent
 *   #effort-field / #effort-select    reasoning effort; the field is [hidden] when the selected
 *                                     model does not support it
 *   #kb-picker                        <details>: the conversation's knowledge bases
 *                                     (js/knowledge_picker.js); #kb-picker-summary, #kb-options
 *                                     with input.kb-option[value=ID], #kb-none
 *     .message.assistant section.citations li.citation[data-index]  its sources; the answer's
 *                                     [n] are button.citation-ref (js/citations.js)
 *   #model-residency                  residency badges: span.badge.residency.residency-{onprem|
 *                                     domestic_cloud|foreign}
 *   #model-demo, #model-notice, #model-demo-notice, #model-foreign-notice, #model-description
 *   #messages                         the message log (role=log); aria-busy="true" while
 *                                     streaming; #empty-state inside when there are no messages
 *   .message.user                     a user message; text in .message-body (inserted as text)
 *   .message.assistant                an answer; data-id (when known), data-status
 *                                     ("streaming"|"complete"|"incomplete"|"error"|"stopped")
 *     .message-meta .message-model    model name; .badge.residency.residency-* (from `meta`)
 *     .policy-notice.policy-{reroute|mask_then_allow}  the policy changed how it was sent
 *     .message-badges .badge.status-stopped (中断) | .status-incomplete (未完了) |
 *                     .status-error (エラー)
 *     details.reasoning               folded by default, [hidden] until reasoning arrives;
 *       summary .reasoning-count      live character count; .reasoning-body holds the text
 *     .answer                         the Markdown answer (DOMPurify output only)
 *     .message-pending                "writing the answer…" until the first delta
 *     .message-error                  error banner (role=alert when live)
 *     .message-actions .copy-answer   copies the answer's text with the AI生成 label;
 *                     .regenerate-answer (the last answer only) answers the last question
 *                     again; .review-answer / .reviewed-by: the "reviewed by" confirmation
 *                     of answers in outside-use conversations; .usage shows token counts
 *   #attach-input / #attachment-list  files for the next question (js/attachments.js);
 *                                     a sent question lists its files in
 *                                     .message.user ul.message-attachments
 *   #conversation-search              filters the list by title and message text (Escape
 *                                     clears); #conversation-no-match when nothing matches
 *   #chat-alert.message-error         page-level error (role=alert), e.g. an error before any
 *                                     answer arrived (the typed text is put back in the composer)
 *   #messages > .policy-notice.policy-deny[data-rule]  the policy refused the turn (role=alert;
 *                                     the typed text is put back in the composer too)
 *   #composer                         the <form>; #composer-input is its <textarea>
 *   #send, #stop                      send (disabled while streaming) / stop ([hidden] unless
 *                                     streaming)
 *
 * ── Localised strings: <script type="application/json" id="i18n"> ─────────────────────────
 * The router passes js_strings = mamori.web.i18n.js_strings(lang): catalog key -> text.
 * Keys used by the scripts (i18n.JS_KEYS) — placeholders in braces:
 *   chat.assistant, chat.citations, chat.citation_page {page}, chat.citation_open {index} {title},
 *   chat.kb_selected {count}, chat.kb_none_selected, chat.copied, chat.copy, chat.copy_help,
 *   chat.ai_label {model} {date}, chat.regenerate, chat.review, chat.reviewed_by {name} {when},
 *   chat.review_title, chat.review_confirm, chat.review_ok, chat.attachments,
 *   chat.attachment_uploading, chat.attachment_info {pages} {chars},
 *   chat.attachment_truncated {pages} {chars} {kept}, chat.attachment_failed {message},
 *   chat.attachment_remove {name}, chat.attachment_too_many {max}, chat.attachment_wait,
 *   chat.delete, chat.delete_confirm {title},
 *   chat.delete_title, chat.generating, chat.image_removed {alt}, chat.loading, chat.reasoning,
 *   chat.reasoning_count {count}, chat.reasoning_summary, chat.rename, chat.rename_label,
 *   chat.residency.onprem, chat.residency.domestic_cloud, chat.residency.foreign,
 *   chat.residency_help.onprem, chat.residency_help.domestic_cloud, chat.residency_help.foreign,
 *   chat.status.error, chat.status.incomplete, chat.stopped, chat.tokens {prompt} {completion},
 *   chat.thinking {seconds} {tokens}, chat.thought {seconds} {tokens}, chat.untitled, chat.you,
 *   classification.public, classification.c1, classification.c2, classification.c3,
 *   chat.classification_badge {label}, chat.label_lower_title, chat.label_lower_ok,
 *   chat.label_lower_confirm {from} {to}, chat.model_unusable {label},
 *   chat.model_switched {from} {to} {label}, chat.no_usable_model {label} {reason},
 *   policy.ui.denied_title, policy.ui.rerouted_title, policy.ui.masked_title,
 *   policy.ui.rule {rule}, policy.ui.text_kept,
 *   admin.sim.result, admin.sim.action, admin.sim.rule, admin.sim.data, admin.sim.endpoint_used,
 *   admin.sim.allowed, admin.sim.refused, admin.sim.reason, admin.sim.message, admin.sim.none,
 *   admin.action.allow, admin.action.reroute, admin.action.mask_then_allow, admin.action.deny,
 *   admin.scan.result, admin.scan.marked, admin.scan.findings, admin.scan.no_findings,
 *   admin.scan.col.label, admin.scan.col.score, admin.scan.col.text, admin.scan.col.position,
 *   admin.scan.injection, admin.scan.verdict, admin.scan.attack_yes, admin.scan.attack_no,
 *   admin.scan.score, admin.scan.score_value {score} {threshold}, admin.scan.kinds,
 *   admin.scan.none, admin.kind.my_number, admin.kind.corporate_number, admin.kind.person,
 *   admin.kind.phone, admin.kind.email, admin.kind.postal_code, admin.kind.address,
 *   admin.kind.birth_date, admin.kind.bank_account, admin.kind.credit_card, admin.kind.passport,
 *   admin.kind.driver_license, admin.kind.pension_number, admin.kind.injection_override,
 *   admin.kind.injection_system_prompt, admin.kind.injection_jailbreak,
 *   admin.kind.injection_exfiltration, admin.kind.injection_tool_hijack
 * plus every "error.<code>" key of the catalog (error.network is used when fetch itself fails).
 *
 * ── JSON API (same origin; mutating requests send X-CSRF-Token from <meta name=csrf-token>) ──
 *   GET    /api/conversations[?q=text]        -> {conversations: [{id,title,model,classification,use_case,updated_at}]}
 *   POST   /api/conversations/{id}/regenerate {model,reasoning_effort?} -> text/event-stream (as below)
 *   POST   /api/conversations/{id}/turns/{turn_id}/review -> {turn_id,reviewed_by,reviewed_at}
 *   POST   /api/conversations {title?,model?,classification?,knowledge_bases?} -> conversation
 *   PUT    /api/conversations/{id}/knowledge_bases {knowledge_bases: [id]} -> conversation
 *   GET    /api/kbs -> {knowledge_bases: [{id,name,classification,can_read,can_write}]}
 *   PUT    /api/conversations/{id}/classification {classification, confirm_lower} -> conversation
 *          (409 label_lowering_unconfirmed: a lowering not yet confirmed)
 *   PATCH  /api/conversations/{id} {title}    -> conversation
 *   DELETE /api/conversations/{id}            -> 204
 *   GET    /api/conversations/{id}/messages   -> {messages: [{id,role,content,reasoning,status,
 *                                                model,endpoint,error_code,created_at}]}
 *   POST   /api/conversations/{id}/messages {content,model,reasoning_effort?} -> text/event-stream
 *          events: meta {turn_id,model,endpoint,residency,classification,special_personal,
 *                        policy: null | {action,rule_id,classification,endpoint,message}} |
 *                  reasoning {t} (raw display) |
 *                  reasoning_status {ms,tokens,done} (hidden/summary) | reasoning_summary {t} |
 *                  content {t} |
 *                  usage {prompt_tokens,completion_tokens} |
 *                  citations {citations: [{index,kb_id,document_id,title,page,headings,snippet}]} |
 *                  error {code,message,partial_saved,policy} | done {status,turn_id}
 *   Non-2xx: {error: {code, message}}.
 */

import { api, conversationPath } from "./js/api.js";
import { AttachmentTray } from "./js/attachments.js";
import { LabelControl } from "./js/classification.js";
import { $, el, pageAlert, storageGet, storageSet } from "./js/dom.js";
import { setUpMarkdown } from "./js/markdown.js";
import { MessageLog } from "./js/messages.js";
import { KnowledgePicker } from "./js/knowledge_picker.js";
import { ModelPicker, pickerElements } from "./js/models.js";
import { policyNotice } from "./js/policy.js";
import { AnswerActions } from "./js/answer_actions.js";
import { ConversationList, SidebarOverlay } from "./js/sidebar.js";
import { t } from "./js/strings.js";
import { Turn } from "./js/turn.js";

const STORAGE_DRAFT = "mamori.draft";

const els = {
  list: $("#conversation-list"),
  listEmpty: $("#conversation-empty"),
  noMatch: $("#conversation-no-match"),
  search: $("#conversation-search"),
  newConversation: $("#new-conversation"),
  messages: $("#messages"),
  emptyState: $("#empty-state"),
  alert: $("#chat-alert"),
  composer: $("#composer"),
  input: $("#composer-input"),
  send: $("#send"),
  stop: $("#stop"),
  ...pickerElements(),
  dialog: $("#confirm-dialog"),
};

const state = {
  loadToken: 0, // bumps on every navigation, so a late answer for an old one is dropped
  turn: null, // the Turn being streamed
};

// ── page-level alert ─────────────────────────────────────────────────────────────────────────
const { show: showAlert, hide: hideAlert } = pageAlert(els.alert);

// ── URL (?c=ID) and the language links that return to it ───────────────────────────────────
function setUrl(id, mode) {
  const url = new URL(window.location.href);
  if (id) url.searchParams.set("c", id);
  else url.searchParams.delete("c");
  if (mode !== "none" && url.href !== window.location.href) {
    if (mode === "push") window.history.pushState({ c: id }, "", url);
    else window.history.replaceState({ c: id }, "", url);
  }
  updateLanguageLinks();
}

function updateLanguageLinks() {
  const here = window.location.pathname + window.location.search;
  for (const link of document.querySelectorAll("a.lang-link[data-lang]")) {
    link.href = `/lang/${encodeURIComponent(link.dataset.lang)}?next=${encodeURIComponent(here)}`;
  }
}

// ── composer ─────────────────────────────────────────────────────────────────────────────────
function saveDraft() {
  storageSet(window.sessionStorage, STORAGE_DRAFT, els.input.value);
}

function setStreaming(on) {
  els.send.disabled = on || !picker.value;
  els.stop.hidden = !on;
  els.composer.classList.toggle("is-streaming", on);
  log.setBusy(on);
}

function stopStreaming() {
  if (state.turn) state.turn.stop();
}

// ── the parts ────────────────────────────────────────────────────────────────────────────────
const log = new MessageLog(els.messages, els.emptyState);
const picker = new ModelPicker(els);
const labels = new LabelControl(
  { select: $("#classification-select"), badge: $("#conversation-classification"), dialog: els.dialog },
  {
    onChange(level, conversation) {
      picker.setLevel(level);
      if (conversation) list.update(conversation);
    },
    onError: showAlert,
    onOk: hideAlert,
  },
);
const knowledge = new KnowledgePicker({ root: $("#kb-picker"), onError: showAlert, onOk: hideAlert });
const tray = new AttachmentTray({ input: $("#attach-input"), list: $("#attachment-list"), onError: showAlert });
const overlay = new SidebarOverlay({
  toggle: $("#sidebar-toggle"),
  backdrop: $("#sidebar-backdrop"),
  main: $(".chat-main"),
  first: els.newConversation,
});
const list = new ConversationList(
  { list: els.list, empty: els.listEmpty, noMatch: els.noMatch, dialog: els.dialog },
  {
    onOpen(id) {
      overlay.close();
      if (id !== list.currentId) openConversation(id, "push");
    },
    onDeleted(id) {
      if (state.turn && state.turn.conversationId === id) stopStreaming();
      if (list.currentId === id) startNewConversation("replace");
      els.newConversation.focus();
    },
    onError: showAlert,
    onOk: hideAlert,
  },
);

const answers = new AnswerActions(
  {
    messages: els.messages,
    dialog: els.dialog,
    // Conversations started from these use cases hold answers meant for outside use.
    outsideUse: JSON.parse(els.messages.dataset.outsideUseCases || "[]"),
  },
  {
    conversation: () => list.find(list.currentId),
    busy: () => Boolean(state.turn),
    regenerate: () => regenerateLast(),
    onError: showAlert,
    onOk: hideAlert,
  },
);

// ── navigation ───────────────────────────────────────────────────────────────────────────────
/** An empty page; the conversation itself is created on the first send. */
function startNewConversation(historyMode) {
  stopStreaming();
  state.loadToken += 1;
  list.setCurrent(null);
  labels.show(null);
  knowledge.show(null);
  log.clear();
  log.showEmpty(true);
  hideAlert();
  setUrl(null, historyMode);
  overlay.close();
  els.input.focus();
}

async function openConversation(id, historyMode) {
  stopStreaming();
  const token = ++state.loadToken;
  list.setCurrent(id);
  setUrl(id, historyMode);
  hideAlert();
  log.clear();
  log.showEmpty(false);
  const loading = log.append(el("p", "messages-loading muted", t("chat.loading")));
  const conversation = list.find(id);
  labels.show(conversation || { id }); // first: the label decides which models may be chosen
  knowledge.show(conversation || { id });
  if (conversation && conversation.model) picker.select(conversation.model);
  let data;
  try {
    data = await api("GET", `/api/conversations/${encodeURIComponent(id)}/messages`);
  } catch (err) {
    if (token !== state.loadToken) return;
    loading.remove();
    log.showEmpty(true);
    showAlert(err.message);
    if (err.code === "not_found") {
      list.setCurrent(null);
      setUrl(null, "replace");
    }
    return;
  }
  if (token !== state.loadToken) return; // another conversation was opened meanwhile
  loading.remove();
  // The stored label decides, also for a conversation the sidebar does not list (?c=...).
  if (data && data.conversation && data.conversation.classification !== conversation?.classification) {
    labels.show(data.conversation);
  }
  if (data && data.conversation) knowledge.show(data.conversation);
  const messages = Array.isArray(data && data.messages) ? data.messages : [];
  for (const message of messages) log.addStored(message);
  log.showEmpty(messages.length === 0);
  answers.refresh();
  log.scrollToBottom();
}

// ── regenerating the last answer ─────────────────────────────────────────────────────────
async function regenerateLast() {
  const conversationId = list.currentId;
  if (state.turn || !conversationId || !picker.value) return;
  const users = els.messages.querySelectorAll(".message.user");
  const answers = els.messages.querySelectorAll(".message.assistant");
  const question = users[users.length - 1];
  if (!question) return;
  const text = question.querySelector(".message-body").textContent;
  const old = answers[answers.length - 1];
  // The old exchange leaves the screen; the server replaces it once the new answer arrives.
  question.remove();
  if (old) old.remove();
  const outcome = await runTurn(conversationId, text, `${conversationPath(conversationId)}/regenerate`);
  if (outcome.retracted) {
    // Nothing new was answered: the old answer stands, on the server and on screen again.
    await openConversation(conversationId, "none");
    if (outcome.policy) log.append(policyNotice(outcome.policy));
    else showAlert(outcome.message);
  }
}

/** A conversation for the first message, titled with its first ~30 characters. */
async function createConversationFor(text) {
  const chars = Array.from(text.replace(/\s+/g, " ").trim());
  const title = chars.length > 30 ? `${chars.slice(0, 30).join("")}…` : chars.join("");
  const body = { title, classification: labels.level, knowledge_bases: knowledge.selected };
  if (picker.value) body.model = picker.value;
  const conversation = await api("POST", "/api/conversations", body);
  state.loadToken += 1;
  list.add(conversation);
  list.setCurrent(conversation.id);
  labels.show(conversation);
  knowledge.show(conversation);
  setUrl(conversation.id, "push");
  return conversation.id;
}

// ── sending ──────────────────────────────────────────────────────────────────────────────────
/** Streams one turn (to `path`: a new message by default) and settles the page after it. */
async function runTurn(conversationId, text, path, attachments) {
  hideAlert();
  setStreaming(true);
  const onMeta = (meta) => {
    // The server keeps the higher of the label and what detection found in this turn.
    list.raiseLabel(conversationId, meta.classification);
    if (list.currentId === conversationId) labels.raiseTo(meta.classification);
  };
  const turn = new Turn({
    log, conversationId, text, model: picker.value, effort: picker.effort, onMeta, path, attachments,
  });
  state.turn = turn;
  const outcome = await turn.run();
  if (state.turn === turn) state.turn = null;
  setStreaming(false);
  answers.refresh();
  return outcome;
}

async function sendMessage() {
  if (state.turn || els.send.disabled) return;
  const text = els.input.value;
  if (!text.trim()) {
    els.input.focus();
    return;
  }
  if (!picker.value) return;
  if (tray.busy) {
    showAlert(t("chat.attachment_wait"));
    return;
  }
  // The picker greys out what the label forbids; this catches what slips past it.
  const verdict = picker.verdict(picker.value);
  if (picker.blocked || !verdict.usable) {
    showAlert(picker.blocked || verdict.message);
    return;
  }
  hideAlert();
  setStreaming(true);
  let conversationId = list.currentId;
  try {
    if (!conversationId) conversationId = await createConversationFor(text);
  } catch (err) {
    setStreaming(false);
    showAlert(err.message);
    return;
  }

  els.input.value = "";
  saveDraft();
  const files = { ids: tray.ids, names: tray.names };
  const outcome = await runTurn(conversationId, text, undefined, files);
  if (!outcome.retracted) tray.clear();
  if (outcome.retracted) {
    // Nothing was answered: give the text back (before anything typed meanwhile).
    const typed = els.input.value;
    els.input.value = typed.trim() ? `${text}\n${typed}` : text;
    saveDraft();
    if (outcome.policy) log.append(policyNotice(outcome.policy)).scrollIntoView({ block: "nearest" });
    else showAlert(outcome.message);
  }
  list.touch(conversationId);
  const focused = document.activeElement;
  if (!focused || focused === document.body || focused === els.stop) els.input.focus();
}

// ── wiring ───────────────────────────────────────────────────────────────────────────────────
function bindEvents() {
  els.composer.addEventListener("submit", (event) => {
    event.preventDefault();
    sendMessage();
  });
  els.input.addEventListener("keydown", (event) => {
    // Japanese IME: Enter confirms a conversion. Never act while composing.
    if (event.isComposing || event.keyCode === 229) return;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      sendMessage();
    } else if (event.key === "Escape" && state.turn) {
      event.preventDefault();
      stopStreaming();
    }
  });
  els.input.addEventListener("input", saveDraft);
  els.stop.addEventListener("click", stopStreaming);
  list.bindSearch(els.search);
  els.newConversation.addEventListener("click", () => startNewConversation("push"));
  window.addEventListener("popstate", () => {
    const id = new URL(window.location.href).searchParams.get("c");
    if (id) openConversation(id, "none");
    else startNewConversation("none");
  });
}

async function init() {
  setUpMarkdown();
  bindEvents();
  setStreaming(false);
  const draft = storageGet(window.sessionStorage, STORAGE_DRAFT);
  if (draft && !els.input.value) els.input.value = draft;
  updateLanguageLinks();
  labels.show(null);
  try {
    await Promise.all([list.load(), knowledge.load()]);
  } catch (err) {
    showAlert(err.message);
  }
  const wanted = new URL(window.location.href).searchParams.get("c");
  const target = wanted || (list.mostRecent() && list.mostRecent().id);
  if (target) await openConversation(target, "replace");
  else log.showEmpty(true);
}

init();
