// 更多: my report, consents, who read my data, where I can use my level, and 信易贷 for enterprise admins.
import { api, signOut } from "../api.js";
import { benefitText, card, day, errorLine, h, pick, renderer, t, when } from "../ui.js";
import { forgetCodes } from "./pass.js";
import { loansView } from "./loans.js";

const SECTIONS = {
  report: reportView, consents: consentsView, access: accessView, places: placesView, loans: loansView,
};

export async function moreView(ctx) {
  const render = renderer();
  const section = SECTIONS[ctx.params[0]];
  if (section) {
    try { return await section(ctx); } catch (error) { render(errorLine(error)); return; }
  }
  const out = h("button", { type: "button", class: "secondary" }, t("sign_out"));
  out.addEventListener("click", async () => {
    await api("/v1/me/passes/offline/revoke", { method: "POST" }).catch(() => {});
    forgetCodes(ctx.me);
    await signOut();
  });
  const links = [["places", "places_title"], ["report", "report_title"], ["consents", "consents_title"],
    ["access", "access_title"], ["loans", "loans_title"]];
  render(h("h1", {}, t("nav_more")),
    card(null, h("ul", { class: "plain" }, links.map(([id, key]) => h("li", {}, h("a", { href: `#/more/${id}` }, t(key)))))),
    card(null, h("p", { class: "muted" }, t("signed_in_as", { phone: ctx.me.phone })), out));
}

function back() { return h("p", {}, h("a", { href: "#/more" }, t("back"))); }

async function reportView() {
  const render = renderer();
  const report = await api("/v1/me/report");
  const download = h("button", { type: "button" }, t("report_download"));
  const message = h("div");
  download.addEventListener("click", async () => {
    try {
      const blob = await api("/v1/me/report?format=html", { as: "blob" });
      const link = h("a", { href: URL.createObjectURL(blob), download: `credit-report-${report.id}.html` });
      document.body.append(link);
      link.click();
      link.remove();
    } catch (error) {
      message.replaceChildren(errorLine(error));
    }
  });
  render(back(), h("h1", {}, t("report_title")),
    card(null,
      h("p", {}, t("report_generated", { time: when(report.generated_at), count: report.reports_this_year })),
      h("p", { class: "score" }, t("report_score", { level: report.score.level, score: report.score.score })),
      h("ul", { class: "plain" },
        h("li", {}, t("report_records", { count: report.records.length })),
        h("li", {}, t("report_lists", { count: report.lists.length })),
        h("li", {}, t("report_scans", { count: report.verifications.length })),
        h("li", {}, t("report_objections", { count: report.objections.length })),
        h("li", {}, t("report_repairs", { count: report.repairs.length }))),
      download, message));
}

async function consentsView() {
  const render = renderer();
  const consents = await api("/v1/me/consents");
  const list = h("ul", { class: "plain" });
  for (const consent of consents.data) {
    const withdraw = consent.status === "active"
      ? h("button", { type: "button", class: "secondary" }, t("consent_withdraw")) : null;
    withdraw?.addEventListener("click", async () => {
      try {
        await api(`/v1/me/consents/${consent.id}/withdraw`, { method: "POST" });
        await consentsView();
      } catch (error) {
        withdraw.replaceWith(errorLine(error));
      }
    });
    list.append(h("li", {},
      h("div", {}, pick(consent.purpose_labels)),
      h("div", { class: "muted" }, t("consent_line", {
        grantees: consent.grantee_names.join("、"), until: day(consent.expires_at), status: t(`consent_${consent.status}`),
      })),
      withdraw));
  }
  if (!consents.data.length) list.append(h("li", {}, t("no_consents")));
  render(back(), h("h1", {}, t("consents_title")), card(null, list));
}

function actionLabel(code) {
  const label = t(`action_${code}`);
  return label === `action_${code}` ? code : label; // an action without a label yet: its code
}

async function accessView() {
  const render = renderer();
  const list = h("ul", { class: "plain" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, t("load_more"));
  let last = null;
  async function page() {
    const query = last ? `&starting_after=${encodeURIComponent(last)}` : "";
    const entries = await api(`/v1/me/access-log?limit=20${query}`);
    list.append(...entries.data.map((entry) => h("li", {},
      h("div", {}, `${when(entry.created_at)} · ${entry.partner_name || t(`actor_${entry.actor_type}`)}`),
      h("div", { class: "muted" }, t("access_line", { action: actionLabel(entry.action), purpose: entry.purpose, basis: entry.legal_basis })))));
    if (entries.data.length) last = entries.data[entries.data.length - 1].id;
    more.hidden = !entries.has_more;
    if (!list.children.length) list.append(h("li", {}, t("no_access")));
  }
  more.addEventListener("click", () => page().catch(() => {}));
  render(back(), h("h1", {}, t("access_title")), card(null, h("p", { class: "muted" }, t("access_note")), list, more));
  await page();
}

async function placesView() {
  const render = renderer();
  const [places, mine] = await Promise.all([api("/v1/places"), api("/v1/me/scenarios")]);
  const sections = [];
  for (const item of mine.data) {
    const partners = places.data.filter((p) => p.scenarios.includes(item.scenario.id));
    sections.push(card(pick(item.scenario.names),
      h("p", { class: item.eligible ? "banner good" : "banner bad" },
        item.eligible ? t("unlocks", { benefit: benefitText(item.benefit) }) : t("not_unlocked", { reason: pick(item.reason_labels) })),
      h("p", { class: "muted" }, t("min_level", { level: item.scenario.min_level })),
      partners.length
        ? h("ul", { class: "plain" }, partners.map((p) => h("li", {},
          h("strong", {}, p.display_name), h("div", { class: "muted" }, `${p.district} · ${p.address}`))))
        : h("p", { class: "muted" }, t("no_places"))));
  }
  render(back(), h("h1", {}, t("places_title")), ...sections);
}
