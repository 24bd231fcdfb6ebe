// Rentals (merchants): the figures over a date range (opened, by status, overdue now, the default rate)
// and the rentals themselves, newest first, filtered by status or overdue, fifty at a time.
import * as api from "../../resident/api.js";
import { chart } from "../charts.js";
import { card, errorLine, h, renderer, select, t, table, when } from "../ui.js";
import { figures, hashQuery, percent, rangeForm, rangeQuery } from "./figures.js";

const FILTERS = ["", "open", "overdue", "default_reported", "disputed", "defaulted", "returned", "dispute_upheld"];
const PAGE = 50;

function yuan(fen) { return `¥${(fen / 100).toFixed(2)}`; }

function rentalRow(r) {
  const late = r.status === "open" && Date.parse(r.due_at) < api.serverNow();
  const state = h("span", { class: late ? "overdue" : null }, late ? t("rstatus_overdue") : t(`rstatus_${r.status}`));
  const item = r.item.reference ? `${r.item.kind} · ${r.item.reference}` : r.item.kind;
  return [h("span", { class: "mono" }, r.id), state, item, h("span", { class: "mono" }, r.subject),
    r.credit_amount ? t("deposit_waived", { amount: yuan(r.credit_amount) }) : yuan(r.fund_amount), when(r.opened_at), when(r.due_at), when(r.returned_at)];
}

export async function rentalsView(ctx) {
  const show = renderer();
  const heading = h("h1", {}, t("rentals_title"));
  const path = `/p/${ctx.partnerId}/rentals`;
  const filter = hashQuery().get("status") || "";
  const form = rangeForm(path, ctx.go, filter ? { status: filter } : {});
  const [filterLabel, filterSelect] = select(t("status"), "status", FILTERS.map((s) => [s, s ? t(`rstatus_${s}`) : t("all")]), filter);
  filterSelect.addEventListener("change", () => {
    const next = new URLSearchParams(rangeQuery());
    if (filterSelect.value) next.set("status", filterSelect.value);
    ctx.go(next.toString() ? `${path}?${next}` : path);
  });
  const statsPlace = h("div", {}, t("loading"));
  const place = h("div", {}, t("loading"));
  show(heading, form, card(t("rental_figures"), statsPlace),
    card(t("rentals_list"), h("div", { class: "form-grid" }, h("div", {}, filterLabel, filterSelect)), place));

  const range = rangeQuery();
  const [stats, first] = await Promise.allSettled([
    api.api(`${ctx.base}/rental-statistics${range ? `?${range}` : ""}`),
    api.api(`${ctx.base}/rentals?${listQuery(filter, null)}`),
  ]);
  statsPlace.replaceChildren(...(stats.status === "rejected" ? [errorLine(stats.reason)] : statsBody(stats.value)));
  if (first.status === "rejected") { place.replaceChildren(errorLine(first.reason)); return; }
  const columns = [t("rental"), t("status"), t("item"), t("subject_pseudonym"), t("deposit"), t("opened"), t("due"), t("returned")];
  const rows = [];
  const draw = (page) => {
    rows.push(...page.data.map(rentalRow));
    const more = page.has_more ? h("button", { type: "button", class: "secondary" }, t("load_more")) : null;
    if (more) {
      more.addEventListener("click", async () => {
        more.disabled = true;
        try {
          draw(await api.api(`${ctx.base}/rentals?${listQuery(filter, page.data[page.data.length - 1].id)}`));
        } catch (error) {
          more.replaceWith(errorLine(error));
        }
      });
    }
    place.replaceChildren(rows.length ? table(t("rentals_list"), columns, rows) : h("p", {}, t("no_rentals")), more || "");
  };
  draw(first.value);
}

function listQuery(filter, after) {
  const query = new URLSearchParams({ limit: String(PAGE) });
  if (filter === "overdue") query.set("overdue", "true");
  else if (filter) query.set("status", filter);
  if (after) query.set("starting_after", after);
  return query;
}

function statsBody(s) {
  const counted = Object.entries(s.by_status).filter(([, n]) => n > 0);
  return [
    h("p", { class: "muted" }, t("range_summary", { from: s.from, to: s.to })),
    figures([[t("opened_count"), String(s.opened)], [t("rstatus_overdue"), String(s.overdue)], [t("ended_count"), String(s.ended)],
      [t("default_rate"), percent(s.default_rate)]]),
    counted.length ? statusChart(counted) : "",
    counted.length ? table(t("by_status"), [t("status"), t("count")], counted.map(([status, n]) => [t(`rstatus_${status}`), String(n)])) : "",
  ];
}

// The statuses that end in a default stand out: they are what the default rate counts
const DEFAULTED = new Set(["default_reported", "disputed", "defaulted"]);

/** The rentals opened in the range by their status now, as bars (the table below has the figures). */
function statusChart(counted) {
  return chart(t("chart_rentals_by_status"), {
    legend: { show: false },
    xAxis: { type: "category", data: counted.map(([status]) => t(`rstatus_${status}`)) },
    yAxis: { type: "value", minInterval: 1 },
    series: [{
      name: t("count"), type: "bar", barMaxWidth: 48, label: { show: true, position: "top" },
      data: counted.map(([status, n]) => ({ value: n, itemStyle: { color: DEFAULTED.has(status) ? "#b00020" : "#1f5fa8" } })),
    }],
  });
}
