// What the admin console's pages share: the status and error lines, and buttons for table
// rows. Everything from the server goes in as text.

import { el } from "./dom.js";

/** say(message): a success line (role=status); fail(err): the error line (role=alert),
 *  with the server's detail when it sent one. */
export function statusLines(statusEl, errorEl) {
  return {
    say(message) {
      statusEl.textContent = message;
      statusEl.hidden = !message;
      errorEl.hidden = true;
    },
    fail(err) {
      errorEl.textContent = err.detail ? `${err.message} ${err.detail}` : err.message;
      errorEl.hidden = false;
      statusEl.hidden = true;
    },
    clear() {
      statusEl.hidden = true;
      errorEl.hidden = true;
    },
  };
}

/** A small button for a table row; `label` names the row for screen readers
 *  ("無効にする: tanaka"). */
export function actionButton(className, text, label, onClick) {
  const b = el("button", `btn btn-quiet btn-small ${className}`, text);
  b.type = "button";
  if (label) b.setAttribute("aria-label", `${text}: ${label}`);
  b.addEventListener("click", onClick);
  return b;
}

/** A secret shown once (a new password or API key), in a read-only field with a copy
 *  button; `box` is the container, filled anew each time. */
export function showSecret(box, labelText, secret, copyText, copiedText) {
  box.replaceChildren();
  const id = `secret-${Math.random().toString(36).slice(2)}`;
  const label = el("label", "secret-label", labelText);
  label.htmlFor = id;
  const input = el("input", "secret-value");
  input.id = id;
  input.type = "text";
  input.readOnly = true;
  input.value = secret;
  const copy = el("button", "btn btn-secondary btn-small", copyText);
  copy.type = "button";
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(secret);
      copy.textContent = copiedText;
    } catch {
      input.select();
    }
  });
  box.append(label, input, copy);
  box.hidden = false;
  input.focus();
  input.select();
}

/** Turns on the page's controls once its script has bound them (they are rendered
 *  disabled: a form submitted natively would put what was typed into the URL). */
export function enableControls() {
  for (const control of document.querySelectorAll("[data-needs-script]")) control.disabled = false;
}
