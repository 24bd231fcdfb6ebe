// Scan statistics (merchants, government counters): scans per business day and the eligible rate per
// scenario over a date range (the last 30 days unless one is asked for); each as a chart above its table.
import * as api from "../../resident/api.js";
import { chart } from "../charts.js";
import { card, currentLanguage, errorLine, h, renderer, t, table } from "../ui.js";
import { figures, percent, rangeForm, rangeQuery } from "./figures.js";

export async function scansView(ctx) {
  const show = renderer();
  const heading = h("h1", {}, t("scans_title"));
  const form = rangeForm(`/p/${ctx.partnerId}/scans`, ctx.go);
  show(heading, form, h("p", {}, t("loading")));
  let stats;
  try {
    const query = rangeQuery();
    stats = await api.api(`${ctx.base}/scan-statistics${query ? `?${query}` : ""}`);
  } catch (error) {
    show(heading, form, errorLine(error));
    return;
  }
  const name = (s) => (currentLanguage() === "en" ? s.name_en : s.name_zh);
  const summary = card(t("range_summary", { from: stats.from, to: stats.to }),
    figures([[t("scans"), String(stats.totals.scans)], [t("eligible"), String(stats.totals.eligible)], [t("eligible_rate"), percent(stats.totals.eligible_rate)]]));
  const byScenario = card(t("by_scenario"), stats.by_scenario.length
    ? [rateChart(stats.by_scenario, name), table(t("by_scenario"), [t("scenario"), t("scans"), t("eligible"), t("eligible_rate")],
      stats.by_scenario.map((s) => [name(s), String(s.scans), String(s.eligible), percent(s.eligible_rate)]))]
    : h("p", {}, t("no_scans")));
  // Newest day first: the day a manager looks at most is today
  const days = [...stats.by_day].reverse();
  const byDay = card(t("by_day"), dayChart(stats.by_day), table(t("by_day"), [t("day"), t("scans"), t("eligible"), t("eligible_rate")],
    days.map((d) => [d.day, String(d.scans), String(d.eligible), percent(d.scans ? d.eligible / d.scans : null)])));
  show(heading, form, summary, byScenario, byDay);
}

const ELIGIBLE = "#2e7d32";
const NOT_ELIGIBLE = "#b0b7bf";

/** Scans per day, oldest first (time runs left to right), each bar eligible under not eligible. */
function dayChart(byDay) {
  return chart(t("chart_scans_by_day"), {
    xAxis: { type: "category", data: byDay.map((d) => d.day), axisLabel: { formatter: (day) => day.slice(5) } },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: t("eligible"), type: "bar", stack: "scans", color: ELIGIBLE, data: byDay.map((d) => d.eligible) },
      { name: t("not_eligible"), type: "bar", stack: "scans", color: NOT_ELIGIBLE, data: byDay.map((d) => d.scans - d.eligible) },
    ],
  });
}

/** The eligible rate of each scenario, in percent (one decimal, as the table shows it). */
function rateChart(byScenario, name) {
  return chart(t("chart_rate_by_scenario"), {
    legend: { show: false },
    xAxis: { type: "category", data: byScenario.map(name) },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    series: [{
      name: t("eligible_rate"), type: "bar", color: ELIGIBLE, barMaxWidth: 48, label: { show: true, position: "top", formatter: "{c}%" },
      data: byScenario.map((s) => (s.eligible_rate === null ? null : Math.round(s.eligible_rate * 1000) / 10)),
    }],
  });
}
