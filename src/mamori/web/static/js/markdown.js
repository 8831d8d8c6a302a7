// Model answers as Markdown (marked), always sanitised (DOMPurify) before reaching the DOM.
// vendor/marked and vendor/dompurify are classic scripts loaded before this module.

import { escapeHtml } from "./dom.js";
import { t } from "./strings.js";

const PURIFY_CONFIG = {
  USE_PROFILES: { html: true },
  // No images (a manipulated model can leak data through an image URL), no forms, no embedded
  // documents, no inline styles (the page's CSP forbids them anyway), no ids (DOM clobbering).
  FORBID_TAGS: ["img", "picture", "source", "video", "audio", "iframe", "object", "embed",
    "form", "input", "button", "textarea", "select", "option", "style", "svg", "math", "link",
    "meta"],
  FORBID_ATTR: ["style", "srcset", "id", "name"],
  ALLOW_DATA_ATTR: false,
};

let ready = false;

/** Configures marked and DOMPurify once. Without them, answers are shown as plain text. */
export function setUpMarkdown() {
  if (ready || !window.marked || !window.DOMPurify || !window.DOMPurify.isSupported) return;
  window.marked.use({
    gfm: true,
    breaks: true,
    renderer: {
      image(token) {
        return escapeHtml(t("chat.image_removed", { alt: token.text || token.href || "" }));
      },
      // Raw HTML in an answer is shown as text, never parsed; only <br> (common inside table
      // cells) stays a line break. DOMPurify still cleans the whole result.
      html(token) {
        return escapeHtml(token.text).replace(/&lt;br\s*\/?&gt;/gi, "<br>");
      },
    },
  });
  window.DOMPurify.addHook("afterSanitizeAttributes", (node) => {
    if (node.tagName === "A" && node.hasAttribute("href")) {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer nofollow");
    }
  });
  ready = true;
}

/** Renders Markdown into `target`. innerHTML only ever receives DOMPurify's output. */
export function renderMarkdownInto(target, source) {
  if (!ready) {
    target.textContent = source;
    target.classList.add("plain");
    return;
  }
  const html = window.marked.parse(source, { async: false });
  target.innerHTML = window.DOMPurify.sanitize(html, PURIFY_CONFIG);
}
