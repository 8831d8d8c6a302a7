// Localised UI strings, read once from <script type="application/json" id="i18n"> (the router
// renders i18n.js_strings(lang) there). Keys are catalog keys; see the list in ../app.js.

const STRINGS = (() => {
  const block = document.getElementById("i18n");
  try {
    return block ? JSON.parse(block.textContent || "{}") : {};
  } catch {
    return {};
  }
})();

const has = (key) => Object.prototype.hasOwnProperty.call(STRINGS, key);

/** The text for `key`, with {name} placeholders filled from `params`; the key if unknown. */
export function t(key, params) {
  const text = has(key) ? STRINGS[key] : key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
  );
}

/** The server's (already localised) message if there is one, else ours for the code. */
export function errorText(code, message) {
  if (message) return message;
  const key = `error.${code}`;
  return has(key) ? STRINGS[key] : t("error.internal_error");
}

/** A page's own strings, from <script type="application/json" id="page-strings">, as a
 *  function like t(). */
export function pageStrings() {
  let strings = {};
  try {
    strings = JSON.parse((document.getElementById("page-strings") || {}).textContent || "{}");
  } catch {
    strings = {};
  }
  return (key, params) =>
    String(Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key).replace(
      /\{(\w+)\}/g,
      (whole, name) => (params && name in params ? String(params[name]) : whole),
    );
}
