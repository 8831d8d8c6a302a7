// Files attached to the next question: each is uploaded at once (POST /api/attachments),
// read by the server's parsers, and shown as a chip with what the model will get; a chip's
// button takes it off again. The question then names the files by id.
//
//   ul#attachment-list > li.attachment-chip[data-id][data-state=uploading|ready|failed]
//     span.attachment-name, span.attachment-info, button.attachment-remove

import { api, errorFromResponse, requestInit } from "./api.js";
import { el } from "./dom.js";
import { t } from "./strings.js";

export const MAX_FILES = 5;

export class AttachmentTray {
  constructor({ input, list, onError }) {
    this.input = input;
    this.list = list;
    this.onError = onError;
    this.pending = 0;
    input.addEventListener("change", () => {
      const files = Array.from(input.files || []);
      input.value = "";
      for (const file of files) this.add(file);
    });
  }

  /** Ids of the files ready to go with the question. */
  get ids() {
    return Array.from(this.list.querySelectorAll("li.attachment-chip[data-state=ready]"), (li) => li.dataset.id);
  }

  get names() {
    return Array.from(this.list.querySelectorAll("li.attachment-chip[data-state=ready] .attachment-name"), (n) => n.textContent);
  }

  get busy() {
    return this.pending > 0;
  }

  async add(file) {
    if (this.list.querySelectorAll("li.attachment-chip").length >= MAX_FILES) {
      this.onError(t("chat.attachment_too_many", { max: MAX_FILES }));
      return;
    }
    const chip = el("li", "attachment-chip");
    chip.dataset.state = "uploading";
    const info = el("span", "attachment-info", t("chat.attachment_uploading"));
    const remove = el("button", "btn-icon attachment-remove", "×");
    remove.type = "button";
    remove.setAttribute("aria-label", t("chat.attachment_remove", { name: file.name }));
    remove.addEventListener("click", () => this.remove(chip));
    chip.append(el("span", "attachment-name", file.name), " ", info, remove);
    this.list.appendChild(chip);
    this.list.hidden = false;
    this.pending += 1;
    try {
      const init = requestInit("POST");
      init.body = file;
      init.headers["Content-Type"] = "application/octet-stream";
      const response = await fetch(`/api/attachments?filename=${encodeURIComponent(file.name)}`, init);
      if (!response.ok) throw await errorFromResponse(response);
      const done = await response.json();
      chip.dataset.id = done.id;
      chip.dataset.state = "ready";
      const params = { pages: done.pages, chars: done.chars.toLocaleString() };
      info.textContent = done.truncated
        ? t("chat.attachment_truncated", { ...params, kept: done.kept_chars.toLocaleString() })
        : t("chat.attachment_info", params);
    } catch (err) {
      chip.dataset.state = "failed";
      info.textContent = t("chat.attachment_failed", { message: err.message || t("error.network") });
      info.setAttribute("role", "alert");
    } finally {
      this.pending -= 1;
    }
  }

  async remove(chip) {
    const id = chip.dataset.id;
    chip.remove();
    this.list.hidden = !this.list.querySelector("li");
    if (id) {
      try {
        await api("DELETE", `/api/attachments/${encodeURIComponent(id)}`);
      } catch {
        /* already sent or gone: nothing left to take back */
      }
    }
  }

  /** After the question went: the files are the conversation's now. */
  clear() {
    this.list.replaceChildren();
    this.list.hidden = true;
  }
}
