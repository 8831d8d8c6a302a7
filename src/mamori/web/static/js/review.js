// The "reviewed by" confirmation of an answer meant for outside use: asked in the page's
// confirm dialog, recorded on the answer and in the audit trail by the server.

import { api, conversationPath } from "./api.js";
import { confirmDialog } from "./dom.js";
import { showReviewed } from "./messages.js";
import { t } from "./strings.js";

/** Resolves to true once recorded; false when cancelled. Throws ApiError on failure. */
export async function confirmReview(dialog, conversationId, article) {
  const ok = await confirmDialog(dialog, t("chat.review_title"), t("chat.review_confirm"), t("chat.review_ok"));
  if (!ok) return false;
  const turn = encodeURIComponent(article.dataset.turn);
  const result = await api("POST", `${conversationPath(conversationId)}/turns/${turn}/review`);
  showReviewed(article, result.reviewed_by, result.reviewed_at);
  return true;
}
