// The "check this text" box of the admin policy page (templates/admin_policy.html): sends the
// text to POST /api/admin/guard/scan and shows what the guard found — the text with each finding
// marked, a table of findings and the injection verdict. The text is the administrator's paste
// and may hold anything, including markup: it goes into the page as text nodes only.

import { api } from "./api.js";
import { $, el } from "./dom.js";
import { t } from "./strings.js";

// Literal t() calls, one per kind: the i18n test reads the keys from this source.
function kindText(label) {
  const names = {
    my_number: t("admin.kind.my_number"),
    corporate_number: t("admin.kind.corporate_number"),
    person: t("admin.kind.person"),
    phone: t("admin.kind.phone"),
    email: t("admin.kind.email"),
    postal_code: t("admin.kind.postal_code"),
    address: t("admin.kind.address"),
    birth_date: t("admin.kind.birth_date"),
    bank_account: t("admin.kind.bank_account"),
    credit_card: t("admin.kind.credit_card"),
    passport: t("admin.kind.passport"),
    driver_license: t("admin.kind.driver_license"),
    pension_number: t("admin.kind.pension_number"),
    "injection.override": t("admin.kind.injection_override"),
    "injection.system_prompt": t("admin.kind.injection_system_prompt"),
    "injection.jailbreak": t("admin.kind.injection_jailbreak"),
    "injection.exfiltration": t("admin.kind.injection_exfiltration"),
    "injection.tool_hijack": t("admin.kind.injection_tool_hijack"),
  };
  // A third-party detector's kind has no translation: show it as it is.
  return Object.prototype.hasOwnProperty.call(names, label) ? names[label] : String(label);
}

const isInjection = (label) => String(label).startsWith("injection.");

/**
 * The text as nodes, with a <mark> per finding. The server's spans count code points (Python
 * string indices) while JS strings count UTF-16 units, so the text is split into code points
 * first: a character outside the BMP (𠮷, an emoji) must not shift every later mark.
 */
function markedText(text, findings) {
  const chars = Array.from(text);
  const box = el("div", "scan-marked");
  box.id = "scan-marked";
  const sorted = [...findings].sort((a, b) => a.start - b.start || b.end - a.end);
  let cursor = 0;
  for (const f of sorted) {
    // Personal-data findings never overlap; an injection phrase may cover one. The first one
    // wins the highlight, and every finding is still listed in the table.
    if (f.start < cursor || f.end <= f.start || f.end > chars.length) continue;
    if (f.start > cursor) box.append(chars.slice(cursor, f.start).join(""));
    const name = kindText(f.label);
    const mark = el("mark", `scan-mark ${isInjection(f.label) ? "scan-injection" : "scan-pii"}`);
    mark.title = name;
    mark.dataset.label = f.label;
    mark.append(el("span", "scan-mark-text", chars.slice(f.start, f.end).join("")));
    mark.append(el("span", "scan-mark-label", name));
    box.append(mark);
    cursor = f.end;
  }
  if (cursor < chars.length) box.append(chars.slice(cursor).join(""));
  return box;
}

function findingsTable(findings) {
  if (!findings.length) return el("p", "muted scan-none", t("admin.scan.no_findings"));
  const table = el("table", "admin-table scan-findings");
  table.id = "scan-findings";
  const head = el("tr");
  const columns = [
    t("admin.scan.col.label"),
    t("admin.scan.col.text"),
    t("admin.scan.col.score"),
    t("admin.scan.col.position"),
  ];
  for (const name of columns) {
    const th = el("th", null, name);
    th.scope = "col";
    head.appendChild(th);
  }
  table.appendChild(el("thead")).appendChild(head);
  const body = table.appendChild(el("tbody"));
  for (const f of findings) {
    const tr = body.appendChild(el("tr"));
    tr.dataset.label = f.label;
    const text = el("td");
    text.appendChild(el("code", "scan-finding-text", f.text));
    tr.append(
      el("td", null, kindText(f.label)),
      text,
      el("td", null, String(f.score)),
      el("td", null, `${f.start}–${f.end}`),
    );
  }
  return table;
}

function verdictList(injection) {
  const list = el("dl", "sim-decision scan-verdict");
  const attack = Boolean(injection.attack);
  const badge = el(
    "span",
    `badge effect ${attack ? "action-deny" : "action-allow"}`,
    attack ? t("admin.scan.attack_yes") : t("admin.scan.attack_no"),
  );
  badge.id = "scan-attack";
  badge.dataset.attack = String(attack);
  const score = el(
    "span",
    null,
    t("admin.scan.score_value", { score: injection.score, threshold: injection.threshold }),
  );
  score.id = "scan-score";
  const kinds = Array.isArray(injection.kinds) ? injection.kinds : [];
  const kindList = el("span", null, kinds.map(kindText).join(", ") || t("admin.scan.none"));
  kindList.id = "scan-kinds";
  for (const [term, value] of [
    [t("admin.scan.verdict"), badge],
    [t("admin.scan.score"), score],
    [t("admin.scan.kinds"), kindList],
  ]) {
    const dd = el("dd");
    dd.appendChild(value);
    list.append(el("dt", null, term), dd);
  }
  return list;
}

function render(result, text, scanned) {
  const injection = scanned.injection || {};
  const pii = Array.isArray(scanned.findings) ? scanned.findings : [];
  const phrases = Array.isArray(injection.findings) ? injection.findings : [];
  const all = [...pii, ...phrases].sort((a, b) => a.start - b.start || a.end - b.end);
  result.replaceChildren(
    el("h3", null, t("admin.scan.result")),
    el("h4", null, t("admin.scan.marked")),
    markedText(text, all),
    el("h4", null, t("admin.scan.findings")),
    findingsTable(all),
    el("h4", null, t("admin.scan.injection")),
    verdictList(injection),
  );
}

async function check(form, result) {
  // Kept as sent: the spans index this exact string, whatever is typed meanwhile.
  const text = $("#scan-text", form).value;
  const source = $("#scan-source", form).value;
  const submit = $("#scan-submit", form);
  submit.disabled = true;
  try {
    render(result, text, await api("POST", "/api/admin/guard/scan", { text, source }));
  } catch (err) {
    const box = el("p", "alert", err.message);
    box.setAttribute("role", "alert");
    result.replaceChildren(box);
  } finally {
    submit.disabled = false;
  }
}

const form = $("#scan");
const result = $("#scan-result");
if (form && result) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    check(form, result);
  });
}
