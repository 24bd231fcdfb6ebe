// A bank's officers (partner members) work its 信易贷 referrals: the list by status, a referral with the
// enterprise's report (only while its consent is valid), the decision with a documented decline reason,
// and repayment outcomes. The API decides every call by membership and role; the page offers a form only
// to a role whose permitted_actions include it, and shows the API's refusal for anyone else.
import * as api from "../../resident/api.js";
import { card, currentLanguage, errorLine, field, h, idempotencyKey, select, t, table, when } from "../ui.js";
import { consentLine, heading, may, percent, roleName, shower, toBps, toFen, yuan } from "./bank_common.js";

// The API's documented decline reasons (app/loans/catalog.py DECLINE_REASONS), in its order.
export const DECLINE_REASONS = [
  "insufficient_repayment_capacity", "credit_history", "outside_risk_appetite", "incomplete_information",
  "collateral_required", "applicant_unreachable", "applicant_withdrew", "other",
];
const STATUSES = ["", "referred", "approved", "declined"];
const PAGE = 20;

/** The referrals section (members.js): "#/p/<bank>/referrals", or one referral "#/p/<bank>/referrals/<id>". */
export function referralsSection(ctx) {
  return ctx.params.length ? referralView(ctx) : referralsView(ctx);
}

async function referralsView({ partnerId, membership, base: partnerBase, go }) {
  const show = shower();
  const base = `${partnerBase}/referrals`;
  const status = new URLSearchParams(location.hash.split("?")[1] || "").get("status") || "";
  const [statusLabel, statusSelect] = select(t("status"), "status", STATUSES.map((s) => [s, s ? t(`bk_status_${s}`) : t("all")]), status);
  statusSelect.addEventListener("change", () => go(`/p/${partnerId}/referrals${statusSelect.value ? `?status=${statusSelect.value}` : ""}`));
  const filters = h("div", { class: "form-grid" }, h("div", {}, statusLabel, statusSelect));
  const list = h("div", {}, h("p", {}, t("loading")));
  const more = h("button", { type: "button", class: "secondary", hidden: true }, t("load_more"));
  show(...heading(t("bk_referrals_title"), membership), filters, card(null, list, more));
  const rows = [];
  let after = null;
  async function load() {
    const query = new URLSearchParams({ limit: String(PAGE) });
    if (status) query.set("status", status);
    if (after) query.set("starting_after", after);
    more.disabled = true;
    try {
      const page = await api.api(`${base}?${query}`);
      rows.push(...page.data);
      after = page.data.length ? page.data[page.data.length - 1].id : after;
      more.hidden = !page.has_more;
      list.replaceChildren(rows.length ? table(t("bk_referrals_title"),
        [t("bk_referral"), t("bk_enterprise"), t("bk_amount"), t("bk_term"), t("status"), t("bk_consent"), t("bk_received"), ""],
        rows.map((r) => [h("span", { class: "mono" }, r.id), [r.enterprise.name, h("br"), h("span", { class: "mono" }, r.enterprise.uscc)],
          yuan(r.amount_fen), t("bk_months", { n: r.term_months }), t(`bk_status_${r.status}`), consentLine(r.consent), when(r.created_at),
          h("a", { href: `#/p/${encodeURIComponent(partnerId)}/referrals/${encodeURIComponent(r.id)}`, "aria-label": `${t("bk_open")} ${r.id}` }, t("bk_open"))]))
        : h("p", {}, t("bk_no_referrals")));
    } catch (error) {
      more.hidden = true;
      list.replaceChildren(errorLine(error));
    }
    more.disabled = false;
  }
  more.addEventListener("click", load);
  await load();
}

function reportContent(report) {
  const content = report.content;
  const score = content.score;
  const records = content.records || [];
  const lang = currentLanguage() === "en" ? "en" : "zh";
  return h("div", {},
    h("p", { class: "banner good", role: "status" }, t("bk_report_valid_until", { until: when(report.consent_expires_at) })),
    h("p", { class: "muted" }, t("bk_report_generated", { at: when(report.generated_at) }), " · ", h("span", { class: "mono" }, report.id)),
    h("p", {}, h("strong", {}, t("bk_score", { score: score.score, level: score.level, label: score.level_labels[lang] }))),
    score.blocked ? h("p", { class: "error" }, t("bk_blocked")) : null,
    h("h3", {}, t("bk_records", { count: records.length })),
    records.length ? table(t("bk_records", { count: records.length }), [t("bk_record_category"), t("bk_record_title"), t("bk_record_date"), t("status")],
      records.map((r) => [r.category_labels[lang] || r.category, r.title || "—", r.decision_date, r.status])) : h("p", {}, t("bk_no_records")));
}

function reportCard(base, referral, membership) {
  const body = h("div");
  if (!may(membership, "reports:read")) {
    return card(t("bk_report_title"), h("p", { class: "muted" }, t("bk_no_report_role", { role: roleName(membership) })));
  }
  const fetchButton = h("button", { type: "button" }, t("bk_fetch_report"));
  fetchButton.addEventListener("click", async () => {
    fetchButton.disabled = true;
    body.replaceChildren(h("p", {}, t("loading")));
    try {
      body.replaceChildren(reportContent(await api.api(`${base}/report`)));
    } catch (error) {
      // Refused after withdrawal or expiry: say why, from the consent the referral carries
      const consent = referral.consent;
      const messages = {
        consent_withdrawn: () => t("bk_refused_withdrawn", { at: consent.withdrawn_at ? `（${when(consent.withdrawn_at)}）` : "" }),
        consent_expired: () => t("bk_refused_expired", { at: when(consent.expires_at) }),
        consent_not_covering: () => t("bk_refused_generic"),
      };
      body.replaceChildren(messages[error.code] ? h("p", { class: "error", role: "alert" }, messages[error.code]()) : errorLine(error));
    }
    fetchButton.disabled = false;
  });
  return card(t("bk_report_title"), h("p", { class: "muted" }, t("bk_report_note")),
    h("p", {}, t("bk_consent"), "：", consentLine(referral.consent)), fetchButton, body);
}

function decisionCard(base, referral, membership, reload) {
  const decided = referral.decision;
  if (referral.status === "approved") {
    return card(t("bk_decision_title"), h("p", { class: "ok" }, t("bk_decided_approved", {
      amount: yuan(decided.approved_amount_fen), rate: percent(decided.annual_rate_bps), term: decided.term_months, at: when(decided.decided_at),
    })));
  }
  if (referral.status === "declined") {
    const reason = decided.decline_reason;
    const label = reason ? (reason.labels[currentLanguage() === "en" ? "en" : "zh"] || reason.code) : "—";
    return card(t("bk_decision_title"), h("p", {}, t("bk_decided_declined", { reason: label, at: when(decided.decided_at) })));
  }
  if (!may(membership, "referrals:decide")) {
    return card(t("bk_decision_title"), h("p", { class: "muted" }, t("bk_no_decide_role", { role: roleName(membership) })));
  }
  const choice = (value, label) => {
    const id = `bk-decision-${value}`;
    return h("label", { class: "choice", for: id }, h("input", { type: "radio", name: "decision", id, value, checked: value === "approved" }), label);
  };
  const [amountLabel, amount] = field(t("bk_approved_amount"), "input", { name: "amount", inputmode: "decimal", value: String(referral.amount_fen / 100) });
  const [rateLabel, rate] = field(t("bk_rate"), "input", { name: "rate", inputmode: "decimal" });
  const [termLabel, term] = field(t("bk_term_months"), "input", { name: "term", inputmode: "numeric", value: String(referral.term_months) });
  const [reasonLabel, reason] = select(t("bk_decline_reason"), "reason", DECLINE_REASONS.map((code) => [code, t(`bk_reason_${code}`)]));
  const approveFields = h("div", { class: "form-grid" }, h("div", {}, amountLabel, amount), h("div", {}, rateLabel, rate), h("div", {}, termLabel, term));
  const declineFields = h("div", { hidden: true }, h("p", { class: "muted" }, t("bk_decline_note")), h("div", { class: "form-grid" }, h("div", {}, reasonLabel, reason)));
  const message = h("div", { role: "status" });
  const key = idempotencyKey();
  const form = h("form", { novalidate: true },
    h("fieldset", {}, h("legend", {}, t("bk_decision")), choice("approved", t("bk_approve")), choice("declined", t("bk_decline"))),
    approveFields, declineFields, h("button", { type: "submit" }, t("bk_submit_decision")), message);
  form.addEventListener("change", () => {
    const declining = form.elements.decision.value === "declined";
    approveFields.hidden = declining;
    declineFields.hidden = !declining;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const decision = form.elements.decision.value;
    const body = decision === "approved"
      ? { decision, amount_fen: toFen(amount.value), annual_rate_bps: toBps(rate.value), term_months: term.value.trim() === "" ? null : Number(term.value) }
      : { decision, reason: reason.value };
    const verb = decision === "approved" ? t("bk_approve") : t("bk_decline");
    if (!window.confirm(t("bk_confirm_decision", { decision: verb, id: referral.id }))) return;
    message.replaceChildren();
    try {
      await api.api(`${base}/decision`, { method: "POST", json: body, headers: { "Idempotency-Key": key } });
      reload();
    } catch (error) {
      message.replaceChildren(errorLine(error));
    }
  });
  return card(t("bk_decision_title"), form);
}

function outcomesCard(base, referral, membership, reload) {
  const rows = referral.outcomes.map((o) => [t(`bk_outcome_${o.kind}`), o.occurred_on, o.days_overdue === null ? "—" : String(o.days_overdue), o.reference, when(o.reported_at)]);
  const list = rows.length
    ? table(t("bk_outcomes_title"), [t("bk_outcome_kind"), t("bk_occurred_on"), t("bk_days_overdue"), t("bk_reference"), t("bk_reported_at")], rows)
    : h("p", {}, t("bk_no_outcomes"));
  if (referral.status !== "approved") return card(t("bk_outcomes_title"), list, h("p", { class: "muted" }, t("bk_outcomes_after_approval")));
  if (!may(membership, "referrals:decide")) return card(t("bk_outcomes_title"), list, h("p", { class: "muted" }, t("bk_no_decide_role", { role: roleName(membership) })));
  const [kindLabel, kind] = select(t("bk_outcome_kind"), "kind", ["on_time", "overdue", "settled"].map((k) => [k, t(`bk_outcome_${k}`)]));
  const [dateLabel, date] = field(t("bk_occurred_on"), "input", { type: "date", name: "occurred_on", required: true });
  const [daysLabel, days] = field(t("bk_days_overdue"), "input", { name: "days_overdue", inputmode: "numeric" });
  const [refLabel, reference] = field(t("bk_reference"), "input", { name: "reference", maxlength: 64, autocomplete: "off" });
  const message = h("div", { role: "status" });
  let key = idempotencyKey();
  const form = h("form", { novalidate: true }, h("h3", {}, t("bk_report_outcome")), h("p", { class: "muted" }, t("bk_outcome_note")),
    h("div", { class: "form-grid" }, h("div", {}, kindLabel, kind), h("div", {}, dateLabel, date), h("div", {}, daysLabel, days), h("div", {}, refLabel, reference)),
    h("button", { type: "submit" }, t("bk_report_outcome")), message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.replaceChildren();
    const body = { kind: kind.value, occurred_on: date.value, reference: reference.value.trim(), days_overdue: days.value.trim() === "" ? null : Number(days.value) };
    try {
      await api.api(`${base}/outcomes`, { method: "POST", json: body, headers: { "Idempotency-Key": key } });
      key = idempotencyKey();
      reload(h("p", { class: "banner good", role: "status" }, t("bk_outcome_saved")));
    } catch (error) {
      message.replaceChildren(errorLine(error));
    }
  });
  return card(t("bk_outcomes_title"), list, form);
}

async function referralView(ctx, notice = null) {
  const { partnerId, membership, params: [referralId] } = ctx;
  const show = shower();
  const base = `${ctx.base}/referrals/${encodeURIComponent(referralId)}`;
  const back = h("p", {}, h("a", { href: `#/p/${encodeURIComponent(partnerId)}/referrals` }, t("bk_back")));
  const title = t("bk_referral_title", { id: referralId });
  show(h("h1", {}, title), back, h("p", {}, t("loading")));
  let referral;
  try {
    referral = await api.api(base);
  } catch (error) {
    show(...heading(title, membership), back, errorLine(error));
    return;
  }
  const reload = (message = null) => referralView(ctx, message);
  const facts = [
    [t("bk_enterprise"), referral.enterprise.name], [t("bk_uscc"), referral.enterprise.uscc], [t("bk_amount"), yuan(referral.amount_fen)],
    [t("bk_term"), t("bk_months", { n: referral.term_months })], [t("bk_purpose"), referral.purpose], [t("bk_industry"), referral.industry],
    [t("bk_region"), referral.region], [t("bk_product"), referral.product_id], [t("status"), t(`bk_status_${referral.status}`)],
    [t("bk_consent"), consentLine(referral.consent)], [t("bk_received"), when(referral.created_at)],
  ];
  show(...heading(title, membership), back, notice,
    card(t("bk_facts"), h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]))),
    reportCard(base, referral, membership), decisionCard(base, referral, membership, reload), outcomesCard(base, referral, membership, reload));
}
