// Small DOM and storage helpers.

export const $ = (selector, root = document) => root.querySelector(selector);

/** A new element; `text` (if given) goes in as text, never as HTML. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

/** Asks in #confirm-dialog (or window.confirm without <dialog>); resolves to true for OK. */
export function confirmDialog(dialog, title, text, okLabel) {
  if (!dialog || typeof dialog.showModal !== "function") {
    return Promise.resolve(window.confirm(text));
  }
  $("#confirm-title", dialog).textContent = title;
  $("#confirm-text", dialog).textContent = text;
  $("#confirm-ok", dialog).textContent = okLabel;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
  });
}

/** A page-level alert (role=alert): show(message) and hide(). */
export function pageAlert(element) {
  return {
    show(message) {
      element.textContent = message;
      element.hidden = false;
    },
    hide() {
      element.hidden = true;
      element.textContent = "";
    },
  };
}

export function escapeHtml(text) {
  return String(text)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

// Storage can be disabled by policy on managed PCs; nothing depends on it.
export function storageGet(store, key) {
  try {
    return store.getItem(key);
  } catch {
    return null;
  }
}

export function storageSet(store, key, value) {
  try {
    if (value) store.setItem(key, value);
    else store.removeItem(key);
  } catch {
    /* ignored: see above */
  }
}
