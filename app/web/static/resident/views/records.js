// My records; one record with its objection (异议: reason, evidence, the 20-day answer deadline) and
// credit repair (信用修复: from when, the commitment to sign, proof).
import { api } from "../api.js";
import { card, day, errorLine, field, h, pick, renderer, t } from "../ui.js";

function statusText(status) { return t(`status_${status}`); }

export async function recordsView({ me, go }) {
  const render = renderer();
  if (!me.identity) return go("/");
  try {
    const records = await api("/v1/me/records?limit=100");
    const items = records.data.map((record) => h("li", {},
      h("a", { href: `#/records/${record.id}` }, record.title || pick(record.category_labels)),
      h("div", { class: "muted" }, `${pick(record.category_labels)} · ${record.department || record.source} · ${record.decision_date} · ${statusText(record.status)}`)));
    render(h("h1", {}, t("nav_records")), card(null, items.length ? h("ul", { class: "plain" }, items) : h("p", {}, t("no_records"))));
  } catch (error) {
    render(errorLine(error));
  }
}

/** Upload the chosen files as evidence for ``purpose``; their ids. */
async function upload(input, purpose) {
  const ids = [];
  for (const file of input.files) {
    const form = new FormData();
    form.append("file", file);
    form.append("purpose", purpose);
    ids.push((await api("/v1/me/evidence", { method: "POST", form })).id);
  }
  return ids;
}

function objectionCard(objection) {
  return card(t("objection_title"),
    h("p", {}, t("objection_status", { status: t(`objection_${objection.status}`) })),
    h("p", {}, t("objection_due", { filed: day(objection.filed_at), due: day(objection.answer_due_at) })),
    objection.overdue ? h("p", { class: "banner bad" }, t("objection_overdue")) : null,
    h("p", { class: "muted" }, t("objection_reason", { reason: objection.reason })),
    h("p", { class: "muted" }, t("evidence_count", { count: objection.evidence.length })),
    objection.answer ? h("p", {}, t("objection_answer", { answer: objection.answer })) : null);
}

function objectionForm(record, reload) {
  const [reasonLabel, reason] = field(t("objection_reason_label"), "textarea", { required: true, minlength: 5, maxlength: 2000 });
  const [fileLabel, files] = field(t("evidence_label"), "input", { type: "file", accept: "application/pdf,image/png,image/jpeg", multiple: true });
  const message = h("div");
  const form = h("form", {}, h("p", {}, t("objection_note")), reasonLabel, reason, fileLabel, files, h("p"),
    h("button", { type: "submit" }, t("objection_submit")), message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const evidence = await upload(files, "objection");
      await api("/v1/me/objections", { method: "POST", json: { record_id: record.id, reason: reason.value.trim(), evidence_ids: evidence } });
      await reload();
    } catch (error) {
      message.replaceChildren(errorLine(error));
      button.disabled = false;
    }
  });
  return card(t("objection_title"), form);
}

function repairCard(repair) {
  return card(t("repair_title"),
    h("p", {}, t("repair_status", { status: t(`repair_${repair.status}`) })),
    h("p", {}, t("repair_due", { received: day(repair.received_at), due: repair.decision_due_on })),
    repair.decision_reasons ? h("p", {}, repair.decision_reasons) : null);
}

async function repairForm(record, improvement, reload) {
  if (!improvement || !improvement.available_now) {
    return card(t("repair_title"), h("p", {}, t("repair_from", { date: record.publicity_min_ends_on })));
  }
  const commitment = await api("/v1/repairs/commitment");
  const [statementLabel, statement] = field(t("repair_statement"), "textarea", { required: true, maxlength: 4000 });
  const [proofLabel, proof] = field(t("repair_proof"), "input", { type: "file", accept: "application/pdf,image/png,image/jpeg", multiple: true });
  const [nameLabel, name] = field(t("repair_signed_name"), "input", { autocomplete: "name", required: true, maxlength: 200 });
  const acceptId = `accept-${record.id}`;
  const accept = h("input", { type: "checkbox", id: acceptId, required: true });
  const message = h("div");
  const form = h("form", {},
    h("p", {}, t("repair_now_note", { points: improvement.points })),
    statementLabel, statement, proofLabel, proof,
    h("h3", {}, t("commitment_title")), h("div", { class: "commitment", tabindex: 0 }, commitment.text),
    nameLabel, name, h("label", { class: "check", for: acceptId }, accept, t("commitment_accept")), h("p"),
    h("button", { type: "submit" }, t("repair_submit")), message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const evidence = await upload(proof, "repair");
      await api("/v1/me/repairs", { method: "POST", json: {
        record_id: record.id, correction_statement: statement.value.trim(), evidence_ids: evidence,
        commitment: { version: commitment.version, signed_name: name.value.trim(), accepted: accept.checked },
      } });
      await reload();
    } catch (error) {
      message.replaceChildren(errorLine(error));
    }
  });
  return card(t("repair_title"), form);
}

export async function recordView({ me, params, go }) {
  const render = renderer();
  if (!me.identity) return go("/");
  const [recordId] = params;
  async function load() {
    const [records, objections, repairs, score] = await Promise.all([
      api("/v1/me/records?limit=100"), api("/v1/me/objections?limit=100"), api("/v1/me/repairs?limit=100"), api("/v1/me/score"),
    ]);
    const record = records.data.find((r) => r.id === recordId);
    if (!record) { render(h("p", { class: "error" }, t("record_missing"))); return; }
    const mine = objections.data.filter((o) => o.record_id === recordId);
    const repairsOf = repairs.data.filter((r) => r.record_id === recordId);
    const open = mine.find((o) => o.status === "open");
    const pending = repairsOf.find((r) => r.status === "pending");
    const improvement = score.improvements.find((i) => i.record_id === recordId && i.kind === "repair");
    const details = card(record.title || pick(record.category_labels),
      h("ul", { class: "plain" },
        h("li", {}, t("r_category", { value: pick(record.category_labels) })),
        h("li", {}, t("r_department", { value: record.department || record.source })),
        h("li", {}, t("r_decision_date", { value: record.decision_date })),
        record.severity ? h("li", {}, t("r_severity", { value: t(`severity_${record.severity}`) })) : null,
        h("li", {}, t("r_publicity", { from: record.publicity_starts_on, until: record.publicity_ends_on || t("no_end") })),
        h("li", {}, t("r_counts_until", { value: record.counts_until || t("no_end") })),
        h("li", {}, t("r_status", { value: statusText(record.status) }))));
    const sections = [h("p", {}, h("a", { href: "#/records" }, t("back_to_records"))), h("h1", {}, t("record_title")), details];
    sections.push(...mine.map(objectionCard));
    if (!open && record.status === "active") sections.push(objectionForm(record, load));
    sections.push(...repairsOf.map(repairCard));
    if (record.severity && record.status === "active" && !pending) sections.push(await repairForm(record, improvement, load));
    render(...sections);
  }
  try { await load(); } catch (error) { render(errorLine(error)); }
}
