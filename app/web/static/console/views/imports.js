// Import runs (operators): every data provider's batches and file imports, newest first, in counts —
// whether the city's feeds arrive and how many rows each refused. Filters by channel and status.
import * as api from "../../resident/api.js";
import { card, errorLine, h, renderer, select, t, table, when } from "../ui.js";

const CHANNELS = ["", "api", "file"];
const STATUSES = ["", "running", "completed"];

export async function importsView({ go }) {
  const show = renderer();
  const wanted = new URLSearchParams(location.hash.split("?")[1] || "");
  const channel = wanted.get("channel") || "";
  const status = wanted.get("status") || "";
  const [channelLabel, channelSelect] = select(t("channel"), "channel", CHANNELS.map((c) => [c, c ? t(`channel_${c}`) : t("all")]), channel);
  const [statusLabel, statusSelect] = select(t("status"), "status", STATUSES.map((s) => [s, s ? t(`rstatus_${s}`) : t("all")]), status);
  const refilter = () => {
    const query = new URLSearchParams();
    if (channelSelect.value) query.set("channel", channelSelect.value);
    if (statusSelect.value) query.set("status", statusSelect.value);
    go(`/imports${query.size ? `?${query}` : ""}`);
  };
  channelSelect.addEventListener("change", refilter);
  statusSelect.addEventListener("change", refilter);
  const heading = h("h1", {}, t("imports_title"));
  const filters = h("div", { class: "form-grid" }, h("div", {}, channelLabel, channelSelect), h("div", {}, statusLabel, statusSelect));
  show(heading, filters, h("p", {}, t("loading")));
  const query = new URLSearchParams({ limit: "100" });
  if (channel) query.set("channel", channel);
  if (status) query.set("status", status);
  let page;
  try {
    page = await api.api(`/v1/admin/record-batches?${query}`);
  } catch (error) {
    show(heading, filters, errorLine(error));
    return;
  }
  const rows = page.data.map((run) => [
    h("span", { class: "mono" }, run.id), h("span", { class: "mono" }, run.source), t(`channel_${run.channel}`),
    run.file_name || "—", t(`rstatus_${run.status}`), String(run.received), String(run.created + run.updated),
    String(run.unchanged), h("span", { class: run.rejected ? "overdue" : "" }, String(run.rejected)),
    when(run.created_at), when(run.finished_at),
  ]);
  show(heading, filters, card(null, h("p", { class: "muted" }, t("imports_note")), rows.length
    ? table(t("imports_title"), [t("run"), t("partner"), t("channel"), t("file"), t("status"), t("received"), t("landed"),
      t("unchanged"), t("rejected"), t("created"), t("finished")], rows)
    : h("p", {}, t("no_imports"))));
}
