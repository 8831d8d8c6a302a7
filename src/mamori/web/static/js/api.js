// The JSON API. Same-origin credentials; mutating requests carry the CSRF token from
// <meta name="csrf-token">. Failures become ApiError with a localised message.

import { t, errorText } from "./strings.js";

const CSRF = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

const STATUS_CODES = {
  400: "invalid_request",
  401: "unauthenticated",
  403: "forbidden",
  404: "not_found",
  422: "invalid_request",
};

export class ApiError extends Error {
  /** field: the form field the error is about; detail: what exactly to fix (both optional). */
  constructor(code, message, status, { field = "", detail = "" } = {}) {
    super(message);
    this.code = code;
    this.status = status;
    this.field = field;
    this.detail = detail;
  }
}

/** An ApiError from a non-2xx response carrying {"error": {"code", "message"}} (or not). */
export async function errorFromResponse(response) {
  let code = STATUS_CODES[response.status] || "internal_error";
  let message = "";
  const extra = {};
  try {
    const body = await response.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || "";
      if (typeof body.error.field === "string") extra.field = body.error.field;
      if (typeof body.error.detail === "string") extra.detail = body.error.detail;
    }
  } catch {
    /* not JSON: keep the status-based code */
  }
  return new ApiError(code, errorText(code, message), response.status, extra);
}

export function requestInit(method, body, signal) {
  const headers = { Accept: "application/json" };
  const init = { method, credentials: "same-origin", headers, signal };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = CSRF;
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return init;
}

/** Calls the API and returns the parsed JSON (null for 204); throws ApiError. */
export async function api(method, path, body) {
  let response;
  try {
    response = await fetch(path, requestInit(method, body));
  } catch {
    throw new ApiError("network", t("error.network"), 0);
  }
  if (!response.ok) throw await errorFromResponse(response);
  if (response.status === 204) return null;
  return response.json();
}

export const conversationPath = (id) => `/api/conversations/${encodeURIComponent(id)}`;
