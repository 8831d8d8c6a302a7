// What tests/web/test_page_audit.py checks on each page, evaluated in the page.
(() => {
  const visible = (el) => {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return style.visibility !== "hidden" && style.display !== "none" && box.width > 0 && box.height > 0;
  };
  const unlabelled = [];
  for (const el of document.querySelectorAll("input, select, textarea, button, a[href], summary")) {
    if (el.type === "hidden" || el.closest("[hidden], dialog:not([open])")) continue;
    const named = (el.labels && el.labels.length) || el.getAttribute("aria-label")
      || el.getAttribute("aria-labelledby") || el.getAttribute("title")
      || (["BUTTON", "A", "SUMMARY"].includes(el.tagName) && el.textContent.trim());
    if (!named && (visible(el) || el.classList.contains("visually-hidden"))) {
      unlabelled.push(el.outerHTML.slice(0, 120));
    }
  }
  const japanese = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const texts = [];
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.trim();
    const parent = node.parentElement;
    if (!text || !parent || parent.closest("script, [hidden], dialog:not([open]), option")) continue;
    if (!visible(parent)) continue;
    texts.push(text);
    // Japanese terms of art inside English text (機密性2, やさしい日本語) are meant; a text
    // that is mostly Japanese was not translated.
    const letters = text.replace(/[\s\d\p{P}\p{S}]/gu, "");
    const kana = (letters.match(/[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]/g) || []).length;
    if (kana && kana * 2 > letters.length && !parent.closest("[lang=ja], [aria-hidden=true]")) {
      japanese.push(text.slice(0, 60));
    }
  }
  const parse = (c) => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.length >= 3 && (c.length === 3 || c[3] > 0.5)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const lowContrast = [];
  for (const el of document.querySelectorAll("body *")) {
    if (!visible(el) || el.closest("[hidden]")) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const style = getComputedStyle(el);
    const fg = parse(style.color).slice(0, 3);
    const bg = background(el);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) lowContrast.push(`${el.tagName}.${el.className}: ${ratio.toFixed(2)} "${el.textContent.trim().slice(0, 30)}"`);
  }
  return { unlabelled, japanese, lowContrast, text: texts.join("\n"),
           overflow: document.documentElement.scrollWidth > window.innerWidth + 1 };
})
