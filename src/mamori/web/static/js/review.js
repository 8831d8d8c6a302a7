// The "reviewed by" confirmation of an answer before it leaves the organisation: asked in the
// page's confirm dialog, recorded on the answer and in the audit trail by the server. Any
// complete answer can be confirmed, since staff draft outside-bound text in the plain chat
// too; answers of outside-use use cases, which are meant to leave, ask for it more plainly.

import { api, conversationPath } from "./api.js";
import { confirmDialog } from "./dom.js";
import { showReviewed } from "./messages.js";
import { t } from "./strings.js";

/** Shows the confirmation on a complete answer nobody has confirmed yet, and hides it
 * otherwise; `meantForOutside` gives it the emphasis of an answer written to leave. */
export function offerReview(article, meantForOutside) {
  const button = article.querySelector(".review-answer");
  const reviewed = !article.querySelector(".reviewed-by").hidden;
  button.hidden = !(article.dataset.status === "complete" && article.dataset.turn && !reviewed);
  button.classList.toggle("review-needed", meantForOutside);
}

/** Resolves to true once recorded; false when cancelled. Throws ApiError on failure. */
export async function confirmReview(dialog, conversationId, article) {
  const ok = await confirmDialog(dialog, t("chat.review_title"), t("chat.review_confirm"), t("chat.review_ok"));
  if (!ok) return false;
  const turn = encodeURIComponent(article.dataset.turn);
  const result = await api("POST", `${conversationPath(conversationId)}/turns/${turn}/review`);
  showReviewed(article, result.reviewed_by, result.reviewed_at);
  return true;
}
