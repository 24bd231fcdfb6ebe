// Records (data providers): upload a record file (CSV or JSON Lines, as `xinyi records import` reads
// one) and see each refused row named; the partner's batches and file import runs, newest first.
import * as api from "../../resident/api.js";
import { card, errorLine, field, h, idempotencyKey, renderer, select, t, table, when } from "../ui.js";

const PAGE = 50;

function resultCard(batch) {
  const summary = h("p", { class: batch.rejected ? "banner bad" : "banner good", role: "status" },
    t("upload_summary", { file: batch.file_name || "", received: batch.received, created: batch.created, updated: batch.updated, unchanged: batch.unchanged, rejected: batch.rejected }));
  const errors = batch.errors.length
    ? table(t("row_errors"), [t("row"), t("field_name"), t("source_record_id"), t("error_code"), t("detail")],
      batch.errors.map((e) => [String(e.row), e.field || "—", e.source_record_id || "—", h("span", { class: "mono" }, e.code), e.message]))
    : null;
  return card(t("upload_result"), summary, errors);
}

function uploadCard(ctx) {
  const [fileLabel, file] = field(t("record_file"), "input", { type: "file", name: "file", accept: ".csv,.jsonl", required: true });
  const [encodingLabel, encoding] = select(t("encoding"), "encoding", [["utf-8", "UTF-8"], ["gbk", "GBK"]], "utf-8");
  const message = h("div", { role: "status" });
  const submit = h("button", { type: "submit" }, t("upload"));
  const form = h("form", { novalidate: true }, h("div", { class: "form-grid" }, h("div", {}, fileLabel, file), h("div", {}, encodingLabel, encoding),
    h("div", {}, submit)), h("p", { class: "muted" }, t("upload_note")), message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.replaceChildren();
    if (!file.files.length) { message.replaceChildren(h("p", { class: "error", role: "alert" }, t("choose_file"))); return; }
    const body = new FormData();
    body.append("file", file.files[0]);
    body.append("encoding", encoding.value);
    submit.disabled = true;
    try {
      // One key per file sent: the upload is never landed twice, even when the answer is lost
      const batch = await api.api(`${ctx.base}/record-files`, { method: "POST", form: body, headers: { "Idempotency-Key": idempotencyKey() } });
      recordsView(ctx, resultCard(batch));
    } catch (error) {
      message.replaceChildren(errorLine(error));
      submit.disabled = false;
    }
  });
  return card(t("upload_title"), form);
}

export async function recordsView(ctx, notice = null) {
  const show = renderer();
  const heading = h("h1", {}, t("records_title"));
  // A member whose role may not send records is told which role may; a non-member is refused by the list
  let upload = null;
  if (ctx.can("records:write")) upload = uploadCard(ctx);
  else if (ctx.membership) upload = h("p", { class: "muted" }, t("upload_needs_manager"));
  const place = h("div", {}, t("loading"));
  show(heading, notice, upload, card(t("batches_title"), place));
  const columns = [t("created"), t("batch_file"), t("status"), t("received"), t("created_count"), t("updated"), t("unchanged_count"), t("rejected")];
  const rows = [];
  const draw = (page) => {
    rows.push(...page.data.map((b) => [when(b.created_at), b.file_name || t(`channel_${b.channel}`), b.status, String(b.received), String(b.created),
      String(b.updated), String(b.unchanged), h("span", { class: b.rejected ? "overdue" : null }, String(b.rejected))]));
    const more = page.has_more ? h("button", { type: "button", class: "secondary" }, t("load_more")) : null;
    if (more) {
      more.addEventListener("click", async () => {
        more.disabled = true;
        try {
          draw(await api.api(`${ctx.base}/record-batches?limit=${PAGE}&starting_after=${encodeURIComponent(page.data[page.data.length - 1].id)}`));
        } catch (error) {
          more.replaceWith(errorLine(error));
        }
      });
    }
    place.replaceChildren(rows.length ? table(t("batches_title"), columns, rows) : h("p", {}, t("no_batches")), more || "");
  };
  try {
    draw(await api.api(`${ctx.base}/record-batches?limit=${PAGE}`));
  } catch (error) {
    place.replaceChildren(errorLine(error));
  }
}
