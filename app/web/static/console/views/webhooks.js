// Webhook deliveries (operators): every delivery with its outcome; a failed one is replayed with the same
// webhook-id, so a receiver that already has it drops the copy.
import * as api from "../../resident/api.js";
import { card, errorLine, h, renderer, select, t, table, when } from "../ui.js";

const STATUSES = ["", "pending", "succeeded", "failed"];

export async function webhooksView({ go }) {
  const show = renderer();
  const status = new URLSearchParams(location.hash.split("?")[1] || "").get("status") || "";
  const [statusLabel, statusSelect] = select(t("status"), "status", STATUSES.map((s) => [s, s ? t(`dstatus_${s}`) : t("all")]), status);
  statusSelect.addEventListener("change", () => go(`/webhooks${statusSelect.value ? `?status=${statusSelect.value}` : ""}`));
  const heading = h("h1", {}, t("webhooks_title"));
  const filters = h("div", { class: "form-grid" }, h("div", {}, statusLabel, statusSelect));
  show(heading, filters, h("p", {}, t("loading")));
  const query = new URLSearchParams({ limit: "100" });
  if (status) query.set("status", status);
  let page;
  try {
    page = await api.api(`/v1/admin/webhook-deliveries?${query}`);
  } catch (error) {
    show(heading, filters, errorLine(error));
    return;
  }
  const rows = page.data.map((d) => {
    const replay = h("button", { type: "button", class: "secondary small" }, t("replay"));
    const cell = h("td", {}, replay);
    replay.addEventListener("click", async () => {
      replay.disabled = true;
      try {
        const again = await api.api(`/v1/admin/webhook-deliveries/${encodeURIComponent(d.id)}/replay`, { method: "POST" });
        cell.replaceChildren(h("span", { role: "status" }, t("replayed", { status: t(`dstatus_${again.status}`) })));
      } catch (error) {
        cell.append(errorLine(error));
        replay.disabled = false;
      }
    });
    return [h("span", { class: "mono wrap" }, d.event_id), d.event_type, h("span", { class: "mono" }, d.partner_id), t(`dstatus_${d.status}`),
      String(d.attempts), d.last_status_code ? String(d.last_status_code) : (d.last_error || "—"), when(d.created_at), cell];
  });
  show(heading, filters, card(null, rows.length
    ? table(t("webhooks_title"), [t("event_id"), t("event_type"), t("partner"), t("status"), t("attempts"), t("last_result"), t("created"), ""], rows)
    : h("p", {}, t("no_deliveries"))));
}
