// The sources of an answer: "[n]" in the text becomes a button that opens source n below
// it, where its document, page, heading path and the passage itself are shown.
//
//   section.citations                     after the answer; h3 "出典" and
//     ol > li.citation[data-index=n]      one per source given to the model
//       details                           folded; opened by clicking [n] or its summary
//         summary .citation-title         "[n] title", .citation-page "p. 3", .citation-headings
//         blockquote.citation-snippet     the passage, as text
//   .answer button.citation-ref[data-index=n]   replaces "[n]" in the answer's text

import { el } from "./dom.js";
import { t } from "./strings.js";

const MARK = /\[(\d{1,2})\]/g;

/** Shows `citations` under the answer of `view` and links the answer's [n] to them. */
export function showCitations(view, citations) {
  if (!Array.isArray(citations) || citations.length === 0) return;
  view.el.querySelector("section.citations")?.remove();
  const byIndex = new Map();
  const section = el("section", "citations");
  section.setAttribute("aria-label", t("chat.citations"));
  section.appendChild(el("h3", "citations-heading", t("chat.citations")));
  const list = el("ol", "citation-list");
  for (const c of citations) {
    if (!c || typeof c.index !== "number") continue;
    const item = el("li", "citation");
    item.dataset.index = String(c.index);
    item.dataset.documentId = c.document_id || "";
    const details = el("details");
    const summary = el("summary");
    summary.appendChild(el("span", "citation-title", `[${c.index}] ${c.title || ""}`));
    if (c.page) summary.append(" ", el("span", "citation-page", t("chat.citation_page", { page: c.page })));
    if (c.headings) summary.append(" ", el("span", "citation-headings muted", c.headings));
    details.append(summary, el("blockquote", "citation-snippet", c.snippet || ""));
    item.appendChild(details);
    list.appendChild(item);
    byIndex.set(c.index, { item, details, summary, title: c.title || "" });
  }
  section.appendChild(list);
  view.el.insertBefore(section, view.actions);
  linkMarks(view.answer, byIndex);
}

function linkMarks(answer, byIndex) {
  const walker = document.createTreeWalker(answer, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) =>
      node.parentElement && node.parentElement.closest("code, pre, button")
        ? NodeFilter.FILTER_REJECT
        : NodeFilter.FILTER_ACCEPT,
  });
  const nodes = [];
  while (walker.nextNode()) if (MARK.test(walker.currentNode.data)) nodes.push(walker.currentNode);
  for (const node of nodes) {
    const parts = document.createDocumentFragment();
    let last = 0;
    for (const match of node.data.matchAll(MARK)) {
      const target = byIndex.get(Number(match[1]));
      if (!target) continue;
      parts.append(node.data.slice(last, match.index));
      parts.appendChild(refButton(match[0], Number(match[1]), target));
      last = match.index + match[0].length;
    }
    if (last === 0) continue;
    parts.append(node.data.slice(last));
    node.replaceWith(parts);
  }
}

function refButton(text, index, target) {
  const button = el("button", "citation-ref", text);
  button.type = "button";
  button.dataset.index = String(index);
  button.setAttribute("aria-label", t("chat.citation_open", { index, title: target.title }));
  button.addEventListener("click", () => {
    target.details.open = true;
    target.item.scrollIntoView({ block: "nearest" });
    target.summary.focus();
  });
  return button;
}
