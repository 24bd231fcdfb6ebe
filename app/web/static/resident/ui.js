// The resident app's helpers: the shared ones (../web/dom.js) with the app's strings, and its own below.
import { STRINGS } from "./i18n.js";
import { currentLanguage, h, SHANGHAI, translator, when } from "../web/dom.js";

export { beginView, card, currentLanguage, field, h, render, renderer, setCurrentLanguage, when } from "../web/dom.js";

/** The string ``key`` in the current language, with ``{name}`` placeholders filled from ``vars``. */
export const t = translator(STRINGS);

/** Of a ``{zh, en}`` pair from the API, the current language's. */
export function pick(labels) { return labels ? labels[currentLanguage()] ?? labels.zh : ""; }

/** "14:02", in the city's time zone (the server's instants are UTC). */
export function clock(iso) {
  return new Intl.DateTimeFormat(currentLanguage() === "en" ? "en-GB" : "zh-CN", {
    timeZone: SHANGHAI, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).format(new Date(iso));
}

/** The calendar day of an instant in the city, "2026-12-06". */
export function day(iso) { return when(iso).slice(0, 10); }

export function yuan(fen) { return (fen / 100).toLocaleString(currentLanguage() === "en" ? "en" : "zh-CN"); }

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
