// Small DOM helpers. Text is always set as text (never parsed as HTML), so nothing the API returns can
// become markup; no inline style either (the page's CSP forbids it).
import { STRINGS } from "./i18n.js";

let lang = localStorage.getItem("xinyi.lang") === "en" ? "en" : "zh";

export function currentLanguage() { return lang; }
export function setCurrentLanguage(value) {
  lang = value;
  localStorage.setItem("xinyi.lang", value);
}

/** The string ``key`` in the current language, with ``{name}`` placeholders filled from ``vars``. */
export function t(key, vars = {}) {
  const table = STRINGS[lang] || STRINGS.zh;
  const text = table[key] ?? STRINGS.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** Of a ``{zh, en}`` pair from the API, the current language's. */
export function pick(labels) { return labels ? labels[lang] ?? labels.zh : ""; }

/** ``h("p", {class: "x"}, "text", child)``: an element; ``on*`` attributes become listeners. */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

let fieldCount = 0;
/** A labelled control: ``field(label, "input", {type: "tel"})`` → [label, control]. */
export function field(label, tag, attrs = {}) {
  const id = attrs.id || `f${++fieldCount}`;
  const control = h(tag, { ...attrs, id });
  return [h("label", { for: id }, label), control];
}

let cardCount = 0;
/** A titled card is a region named by its heading (screen readers list it; tests find it by name). */
export function card(title, ...children) {
  if (!title) return h("section", { class: "card" }, ...children);
  const id = `card${++cardCount}`;
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

let currentView = 0;

/** Called by the router as it shows another view. */
export function beginView() { currentView += 1; }

/** A render bound to the view shown now: an answer that arrives after the person moved on shows nothing. */
export function renderer() {
  const mine = currentView;
  return (...children) => { if (mine === currentView) render(...children); };
}

export function render(...children) {
  const view = document.getElementById("view");
  view.replaceChildren(...children);
}

const SHANGHAI = "Asia/Shanghai";

/** "14:02", in the city's time zone (the server's instants are UTC). */
export function clock(iso) {
  return new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "zh-CN", {
    timeZone: SHANGHAI, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).format(new Date(iso));
}

/** "2026-12-06 14:02", in the city's time zone. */
export function when(iso) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: SHANGHAI, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).formatToParts(new Date(iso));
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}`;
}

/** The calendar day of an instant in the city, "2026-12-06". */
export function day(iso) { return when(iso).slice(0, 10); }

export function yuan(fen) { return (fen / 100).toLocaleString(lang === "en" ? "en" : "zh-CN"); }

/** A message for a failed call: the API's own detail, or that the network is down. */
export function problem(error) {
  if (error instanceof TypeError) return t("network_down");
  return error.message || t("failed");
}

export function errorLine(error) { return h("p", { class: "error", role: "alert" }, problem(error)); }

/** "天山共享充电宝 checked your pass for 信易租 at 14:02 — eligible" */
export function scanSentence(scan) {
  return t(scan.decision === "eligible" ? "scan_live_eligible" : "scan_live_refused", {
    partner: scan.partner.name,
    scenario: currentLanguage() === "en" ? scan.scenario.name_en : scan.scenario.name_zh,
    time: clock(scan.created_at),
    reason: pick(scan.reason_labels),
  });
}


/** A benefit in a sentence: its label and its main figure ("免押金租用，最高 500 元"). */
export function benefitText(benefit) {
  if (!benefit) return "";
  const deposits = Object.values(benefit.waived_deposit_fen || {});
  const limit = deposits.length ? Math.max(...deposits) : benefit.credit_limit_fen ?? benefit.max_amount_fen;
  return limit ? t("benefit_up_to", { benefit: pick(benefit), amount: yuan(limit) }) : pick(benefit);
}
