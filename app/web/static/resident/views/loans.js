// 信易贷 for an enterprise admin: apply with a purpose-bound consent naming the banks (ending within 90
// days), then follow each bank's status and decision.
import { api, serverNow } from "../api.js";
import { card, currentLanguage, day, errorLine, field, h, pick, renderer, t, yuan } from "../ui.js";

// GB/T 4754 sections (the API takes the letter)
const INDUSTRIES = {
  A: ["农、林、牧、渔业", "Agriculture, forestry, fishing"], C: ["制造业", "Manufacturing"],
  E: ["建筑业", "Construction"], F: ["批发和零售业", "Wholesale and retail"],
  G: ["交通运输、仓储和邮政业", "Transport, storage, post"], H: ["住宿和餐饮业", "Hotels and catering"],
  I: ["信息传输、软件和信息技术服务业", "Information technology"], L: ["租赁和商务服务业", "Leasing and business services"],
  M: ["科学研究和技术服务业", "Research and technical services"], O: ["居民服务、修理和其他服务业", "Personal and repair services"],
};
const CONSENT_DAYS = [30, 60, 90];
const DAY_MS = 86400000;

function applicationCard(application) {
  const referrals = application.referrals.map((referral) => h("li", {},
    h("strong", {}, referral.bank.name), " · ", t(`referral_${referral.status}`),
    referral.status === "approved" ? h("div", { class: "muted" }, t("loan_approved", {
      amount: yuan(referral.decision.approved_amount_fen), rate: (referral.decision.annual_rate_bps / 100).toFixed(2),
      months: referral.decision.term_months,
    })) : null,
    referral.status === "declined" && referral.decision.decline_reason
      ? h("div", { class: "muted" }, pick(referral.decision.decline_reason.labels)) : null,
    h("div", { class: "muted" }, t("report_fetches", { count: referral.report_accesses.length }))));
  const unmatched = application.matches.filter((m) => !m.matched).map((m) => h("li", {},
    h("strong", {}, m.bank.name), " · ", t("bank_no_match"), h("div", { class: "muted" }, m.reasons.map((r) => pick(r.labels)).join("；"))));
  return card(t("loan_application", { amount: yuan(application.amount_fen), months: application.term_months }),
    h("p", {}, `${t(`application_${application.status}`)} · ${pick(application.reason.labels)}`),
    h("p", { class: "muted" }, t("loan_consent", {
      until: day(application.consent.expires_at), status: t(`consent_${application.consent.status}`),
    })),
    h("ul", { class: "plain" }, referrals, unmatched));
}

function applyForm(enterprise, banks, reload) {
  const [amountLabel, amount] = field(t("loan_amount"), "input", { type: "number", min: 1, step: 1, required: true, inputmode: "numeric" });
  const [termLabel, term] = field(t("loan_term"), "input", { type: "number", min: 1, max: 360, required: true, inputmode: "numeric" });
  const [purposeLabel, purpose] = field(t("loan_purpose"), "input", { required: true, maxlength: 200 });
  const [industryLabel, industry] = field(t("loan_industry"), "select", { required: true });
  industry.append(...Object.entries(INDUSTRIES).map(([code, names]) => h("option", { value: code }, `${code} ${currentLanguage() === "en" ? names[1] : names[0]}`)));
  const [daysLabel, days] = field(t("consent_days"), "select", {});
  days.append(...CONSENT_DAYS.map((n) => h("option", { value: n, selected: n === 90 }, t("days", { n }))));
  const bankBoxes = banks.map((bank) => {
    const box = h("input", { type: "checkbox", id: `bank-${enterprise.id}-${bank.id}`, value: bank.id });
    return [box, h("label", { class: "check", for: box.id }, box, bank.name)];
  });
  const agreeBox = h("input", { type: "checkbox", id: `agree-${enterprise.id}` });
  const message = h("div");
  const form = h("form", {}, amountLabel, amount, termLabel, term, purposeLabel, purpose, industryLabel, industry,
    h("fieldset", {}, h("legend", {}, t("consent_banks")), bankBoxes.map(([, label]) => label)),
    daysLabel, days,
    h("label", { class: "check", for: agreeBox.id }, agreeBox, t("consent_agree")),
    h("p"), h("button", { type: "submit" }, t("loan_submit")), message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    // From the server's clock, a minute short of the limit: never past 90 days by the server's reckoning
    const expires = new Date(serverNow() + Number(days.value) * DAY_MS - 60000).toISOString();
    try {
      await api(`/v1/enterprises/${enterprise.id}/loan-applications`, { method: "POST", json: {
        amount_fen: Math.round(Number(amount.value) * 100), term_months: Number(term.value), purpose: purpose.value.trim(),
        industry: industry.value,
        consent: { agreed: agreeBox.checked, banks: bankBoxes.filter(([box]) => box.checked).map(([box]) => box.value), expires_at: expires },
      } });
      await reload();
    } catch (error) {
      message.replaceChildren(errorLine(error));
    }
  });
  return card(t("loan_new"), form);
}

export async function loansView() {
  const render = renderer();
  const [mine, products] = await Promise.all([api("/v1/me/enterprises"), api("/v1/loan-products")]);
  const enterprises = mine.data;
  const banks = [...new Map(products.data.map((p) => [p.bank.id, p.bank])).values()];
  const sections = [h("p", {}, h("a", { href: "#/more" }, t("back"))), h("h1", {}, t("loans_title"))];
  if (!enterprises.length) sections.push(card(null, h("p", {}, t("not_an_admin"))));
  for (const enterprise of enterprises) {
    const applications = await api(`/v1/enterprises/${enterprise.id}/loan-applications?limit=20`);
    sections.push(h("h2", {}, enterprise.name), ...applications.data.map(applicationCard), applyForm(enterprise, banks, loansView));
  }
  render(...sections);
}
