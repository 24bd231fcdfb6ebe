// Objections to the data provider's records (data providers): each with its reason and outcome, newest
// first, by status. Each one listed is recorded in its subject's access log (the API does it).
import * as api from "../../resident/api.js";
import { card, errorLine, h, renderer, select, t, table, when } from "../ui.js";
import { hashQuery } from "./figures.js";

const STATUSES = ["", "open", "upheld", "rejected"];
const PAGE = 50;

export async function sourceObjectionsView(ctx) {
  const show = renderer();
  const heading = h("h1", {}, t("record_objections_title"));
  const path = `/p/${ctx.partnerId}/record-objections`;
  const status = hashQuery().get("status") || "";
  const [statusLabel, statusSelect] = select(t("status"), "status", STATUSES.map((s) => [s, s ? t(`status_${s}`) : t("all")]), status);
  statusSelect.addEventListener("change", () => ctx.go(statusSelect.value ? `${path}?status=${statusSelect.value}` : path));
  const place = h("div", {}, t("loading"));
  show(heading, h("div", { class: "form-grid" }, h("div", {}, statusLabel, statusSelect)),
    card(null, h("p", { class: "muted" }, t("record_objections_note")), place));
  const columns = [t("case_id"), t("source_record_id"), t("status"), t("reason"), t("filed"), t("due"), t("answered"), t("resolution")];
  const rows = [];
  const query = (after) => {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (status) q.set("status", status);
    if (after) q.set("starting_after", after);
    return q;
  };
  const draw = (page) => {
    rows.push(...page.data.map((o) => [h("span", { class: "mono" }, o.id), h("span", { class: "mono" }, o.source_record_id || o.record_id), t(`status_${o.status}`),
      o.reason, when(o.filed_at), when(o.answer_due_at), when(o.answered_at),
      o.resolution ? `${t(`resolution_${o.resolution}`)}${o.corrected_fields.length ? `（${o.corrected_fields.join("、")}）` : ""}` : "—"]));
    const more = page.has_more ? h("button", { type: "button", class: "secondary" }, t("load_more")) : null;
    if (more) {
      more.addEventListener("click", async () => {
        more.disabled = true;
        try {
          draw(await api.api(`${ctx.base}/objections?${query(page.data[page.data.length - 1].id)}`));
        } catch (error) {
          more.replaceWith(errorLine(error));
        }
      });
    }
    place.replaceChildren(rows.length ? table(t("record_objections_title"), columns, rows) : h("p", {}, t("no_record_objections")), more || "");
  };
  try {
    draw(await api.api(`${ctx.base}/objections?${query(null)}`));
  } catch (error) {
    place.replaceChildren(errorLine(error));
  }
}
