// The usage page (templates/usage.html): asks /api/usage for a month and draws tokens per day
// as an inline SVG bar chart (SVG attributes and CSS classes only: the CSP forbids style
// attributes). Everything from the server goes into the page as text.
// The page's own strings come from <script id="page-strings"> (routers/audit_pages.py).

import { api } from "./api.js";
import { $, el } from "./dom.js";

const STRINGS = JSON.parse(($("#page-strings") || {}).textContent || "{}");
const s = (key, params) =>
  String(STRINGS[key] || key).replace(/\{(\w+)\}/g, (whole, name) =>
    params && name in params ? String(params[name]) : whole,
  );

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 620;
const HEIGHT = 200;
const AXIS = 20;
const GUTTER = 56; // room on the left for the scale

function svgEl(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
  return node;
}

function chart(days) {
  const svg = svgEl("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT + AXIS}`,
    role: "img",
    "aria-label": s("usage.chart_label"),
    class: "usage-svg",
  });
  const most = Math.max(1, ...days.map((d) => d.tokens));
  const step = (WIDTH - GUTTER) / Math.max(1, days.length);
  const top = svgEl("text", { x: GUTTER - 6, y: 14, class: "axis-label", "text-anchor": "end" });
  top.textContent = most.toLocaleString();
  const zero = svgEl("text", { x: GUTTER - 6, y: HEIGHT, class: "axis-label", "text-anchor": "end" });
  zero.textContent = "0";
  svg.append(top, zero, svgEl("line", { x1: GUTTER, y1: 10, x2: GUTTER, y2: HEIGHT, class: "axis" }));
  days.forEach((d, i) => {
    const height = Math.round((d.tokens / most) * (HEIGHT - 10));
    const bar = svgEl("rect", {
      class: d.tokens ? "bar" : "bar bar-empty",
      x: (GUTTER + i * step + 1).toFixed(1),
      y: HEIGHT - height,
      width: Math.max(1, step - 2).toFixed(1),
      height: Math.max(height, 1),
      "data-day": d.day,
      "data-tokens": d.tokens,
    });
    const title = svgEl("title");
    title.textContent = s("usage.tokens_on", { day: d.day, tokens: d.tokens.toLocaleString() });
    bar.appendChild(title);
    svg.appendChild(bar);
    const day = Number(String(d.day).slice(8, 10));
    if (day === 1 || day % 5 === 0) {
      const label = svgEl("text", { x: (GUTTER + i * step + step / 2).toFixed(1), y: HEIGHT + 14, class: "axis-label", "text-anchor": "middle" });
      label.textContent = String(day);
      svg.appendChild(label);
    }
  });
  return svg;
}

function fillTable(table, rows, key) {
  if (!table) return;
  const body = $("tbody", table);
  body.replaceChildren();
  for (const row of rows) {
    const tr = el("tr");
    tr.dataset[key === "username" ? "user" : key] = row[key] || "";
    tr.appendChild(el("td", null, String(row[key] ?? "")));
    for (const value of [row.requests, row.prompt_tokens, row.completion_tokens]) {
      tr.appendChild(el("td", "num", Number(value || 0).toLocaleString()));
    }
    body.appendChild(tr);
  }
}

async function load() {
  const params = new URLSearchParams();
  const month = $("#usage-month").value;
  if (month) params.set("month", month);
  const group = $("#usage-group");
  if (group && group.value.trim()) params.set("group", group.value.trim());
  const errorBox = $("#usage-error");
  errorBox.hidden = true;
  try {
    const report = await api("GET", `/api/usage?${params}`);
    $("#usage-chart").replaceChildren(chart(report.days));
    $("#usage-total").textContent = report.total_requests
      ? s("usage.total", {
          tokens: report.total_tokens.toLocaleString(),
          requests: report.total_requests.toLocaleString(),
        })
      : s("usage.no_usage");
    fillTable($("#usage-models"), report.by_model, "model");
    fillTable($("#usage-groups"), report.by_group, "group");
    fillTable($("#usage-users"), report.by_user, "username");
    $("#usage-csv").href = `/api/usage/report.csv?${params}`;
  } catch (err) {
    errorBox.textContent = err.message;
    errorBox.hidden = false;
  }
}

const form = $("#usage-form");
if (form) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  load();
}
