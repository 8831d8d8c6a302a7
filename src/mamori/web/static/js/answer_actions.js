// What can be done with the answers in the message log: regenerate the last one, and confirm
// that an answer was reviewed before it leaves the organisation. Which buttons show depends
// on the answer (settled, complete, reviewed); the conversation (started from an outside-use
// use case) decides how plainly the confirmation asks. The page decides what regenerating
// means (app.js streams a new turn).

import { confirmReview, offerReview } from "./review.js";

const SETTLED = ["complete", "incomplete", "error", "stopped"];

export class AnswerActions {
  /**
   * outsideUse: ids of the use cases whose answers are meant for outside use.
   * hooks: conversation() — the open one (or null); busy() — a turn is streaming;
   * regenerate() — answer the last question again; onError(message) / onOk().
   */
  constructor({ messages, dialog, outsideUse }, hooks) {
    this.messages = messages;
    this.dialog = dialog;
    this.outsideUse = new Set(outsideUse);
    this.hooks = hooks;
    messages.addEventListener("click", (event) => {
      const button = event.target.closest("button");
      if (!button) return;
      if (button.matches(".regenerate-answer")) hooks.regenerate();
      else if (button.matches(".review-answer")) this.review(button.closest(".message.assistant"));
    });
  }

  refresh() {
    const answers = Array.from(this.messages.querySelectorAll(".message.assistant"));
    const conversation = this.hooks.conversation();
    const outside = Boolean(conversation && this.outsideUse.has(conversation.use_case));
    answers.forEach((article, index) => {
      const settled = SETTLED.includes(article.dataset.status);
      article.querySelector(".regenerate-answer").hidden =
        this.hooks.busy() || !settled || index !== answers.length - 1;
      offerReview(article, outside);
    });
  }

  async review(article) {
    const conversation = this.hooks.conversation();
    if (!conversation) return;
    try {
      if (await confirmReview(this.dialog, conversation.id, article)) this.hooks.onOk();
    } catch (err) {
      this.hooks.onError(err.message);
    }
  }
}
