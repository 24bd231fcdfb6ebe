// What the bank officers' views share: the section's words, the member's own membership of the partner
// (which forms to offer), money and rate conversions. Refusals are the console's (ui.js errorLine), as in
// every member section.
import { STRINGS } from "../i18n.js";
import { h, renderer, roleName as roleWord, t, when } from "../ui.js";
import { BANK_STRINGS } from "./bank_strings.js";

// The section's words live beside it (bank_strings.js); the console's table takes them at load.
Object.assign(STRINGS, BANK_STRINGS);

/** The view's render, leaving out the parts not there (a notice not given, a membership not found). */
export function shower() {
  const show = renderer();
  return (...parts) => show(...parts.flat().filter(Boolean));
}

export function may(membership, action) { return Boolean(membership && membership.permitted_actions.includes(action)); }
export function roleName(membership) { return membership ? roleWord("bank", membership.role) : "—"; }

export function yuan(fen) {
  if (fen === null || fen === undefined) return "—";
  return `¥${(fen / 100).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}
/** "4,000.5" yuan typed by a person → fen, or null for nothing typed (the API then names the field). */
export function toFen(text) {
  const value = Number(String(text).replace(/[,，\s]/g, ""));
  return text.trim() === "" || Number.isNaN(value) ? null : Math.round(value * 100);
}
export function toBps(text) {
  const value = Number(String(text).trim());
  return text.trim() === "" || Number.isNaN(value) ? null : Math.round(value * 100);
}
export function percent(bps) { return (bps / 100).toFixed(2); }

export function heading(title, membership) {
  return [h("h1", {}, title), membership ? h("p", { class: "muted" }, t("bk_acting_as", { partner: membership.partner.name, role: roleName(membership) })) : null];
}

export function consentLine(consent) {
  if (consent.status === "withdrawn") return t("bk_consent_withdrawn", { at: when(consent.withdrawn_at) });
  if (consent.status === "expired") return t("bk_consent_expired", { at: when(consent.expires_at) });
  return t("bk_consent_active", { until: when(consent.expires_at) });
}

