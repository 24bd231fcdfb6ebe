// Objections (异议, answered within 20 days) and repair applications (信用修复, decided within 3 working
// days): the queue with each case's clock, overdue first, and one case with its evidence and the decision.
import * as api from "../../resident/api.js";
import { pdfViewer } from "../pdf_viewer.js";
import { card, errorLine, field, h, idempotencyKey, renderer, select, t, table, when } from "../ui.js";

const DAY = 24 * 60 * 60 * 1000;

const KINDS = {
  objection: {
    path: "/v1/admin/objections",
    open: "open",
    statuses: ["open", "upheld", "rejected"],
    // The answer is due at an instant
    dueAt: (c) => Date.parse(c.answer_due_at),
    filedAt: (c) => c.filed_at,
    text: (c) => c.reason,
  },
  repair: {
    path: "/v1/admin/repairs",
    open: "pending",
    statuses: ["pending", "approved", "rejected", "lapsed"],
    // Due on a working day in the city: late once that day has ended in Asia/Shanghai (UTC+8, no DST)
    dueAt: (c) => Date.parse(`${c.decision_due_on}T00:00:00+08:00`) + DAY,
    filedAt: (c) => c.received_at,
    text: (c) => c.correction_statement,
  },
};

/** The city's calendar day of an instant, "2026-12-06" (Asia/Shanghai: UTC+8, no DST). */
function cityDay(ms) { return new Date(ms + 8 * 60 * 60 * 1000).toISOString().slice(0, 10); }

/** "剩 3 天" / "逾期 2 天" on the server's clock (the API's own ``overdue`` decides which). An objection
 * is due at an instant: whole days, rounded, since the server's clock reaches the page only to the second
 * (its Date header). A repair is due on a day: days until that day in the city, "today" on it. */
function clockText(kind, item) {
  if (item.status !== KINDS[kind].open) return t(`status_${item.status}`);
  const now = api.serverNow();
  const left = KINDS[kind].dueAt(item) - now;
  if (item.overdue) return t("overdue_by", { days: Math.max(1, Math.ceil(-left / DAY)) });
  if (kind === "repair") {
    const days = Math.round((Date.parse(item.decision_due_on) - Date.parse(cityDay(now))) / DAY);
    return days <= 0 ? t("due_today") : t("days_left", { days });
  }
  return left < DAY ? t("due_within_a_day") : t("days_left", { days: Math.round(left / DAY) });
}

function dueText(kind, item) {
  return kind === "objection" ? when(item.answer_due_at) : item.decision_due_on;
}

async function allPages(path, params, limit = 10) {
  const rows = [];
  let after = null;
  for (let i = 0; i < limit; i += 1) {
    const query = new URLSearchParams({ ...params, limit: "100" });
    if (after) query.set("starting_after", after);
    const page = await api.api(`${path}?${query}`);
    rows.push(...page.data);
    if (!page.has_more || !page.data.length) break;
    after = page.data[page.data.length - 1].id;
  }
  return rows;
}

export async function queueView(kind, { go }) {
  const show = renderer();
  const config = KINDS[kind];
  const status = new URLSearchParams(location.hash.split("?")[1] || "").get("status") || config.open;
  const [statusLabel, statusSelect] = select(t("status"), "status", config.statuses.map((s) => [s, t(`status_${s}`)]), status);
  statusSelect.addEventListener("change", () => go(`/${kind}s?status=${statusSelect.value}`));
  const heading = h("h1", {}, t(`${kind}_queue`));
  const filters = h("div", { class: "form-grid" }, h("div", {}, statusLabel, statusSelect));
  show(heading, filters, h("p", {}, t("loading")));
  let rows;
  try {
    if (status === config.open) {
      // Overdue first, however old: asked for on their own, then the rest by how soon each is due
      const late = await allPages(config.path, { status, overdue: "true" });
      const seen = new Set(late.map((r) => r.id));
      const rest = (await allPages(config.path, { status })).filter((r) => !seen.has(r.id));
      rest.sort((a, b) => config.dueAt(a) - config.dueAt(b));
      late.sort((a, b) => config.dueAt(a) - config.dueAt(b));
      rows = [...late, ...rest];
    } else {
      rows = await allPages(config.path, { status }, 1);
    }
  } catch (error) {
    show(heading, filters, errorLine(error));
    return;
  }
  if (!rows.length) { show(heading, filters, card(null, h("p", {}, t("queue_empty")))); return; }
  const body = rows.map((item) => [
    h("a", { href: `#/${kind}s/${item.id}` }, item.id),
    h("span", { class: "mono" }, item.subject_id),
    when(config.filedAt(item)),
    dueText(kind, item),
    h("span", { class: item.overdue ? "overdue" : "" }, clockText(kind, item)),
  ]);
  show(heading, filters, table(t(`${kind}_queue`), [t("case_id"), t("subject"), t("filed"), t("due"), t("clock")], body),
    h("p", { class: "muted" }, t("queue_note", { count: rows.length })));
}

async function scoreOf(subjectId, caseId) {
  const query = new URLSearchParams({ purpose: t("score_purpose", { id: caseId }), legal_basis: t("score_basis") });
  return api.api(`/v1/admin/subjects/${encodeURIComponent(subjectId)}/score?${query}`);
}

/** One evidence file, fetched with the operator's token: a PNG/JPEG shown as an image, a PDF drawn page by
 * page in the PDF viewer (pixels only: never markup, script or a link), with its download kept beside it.
 * The API sniffed the type. */
function evidenceItem(file) {
  const slot = h("div", { class: "evidence" });
  const name = file.file_name || file.id;
  const show = h("button", { type: "button", class: "secondary small" }, t("view_evidence"));
  show.addEventListener("click", async () => {
    show.disabled = true;
    try {
      const blob = await api.api(`/v1/evidence/${encodeURIComponent(file.id)}/content`, { as: "blob" });
      const url = URL.createObjectURL(blob);
      if (file.content_type === "image/png" || file.content_type === "image/jpeg") {
        slot.replaceChildren(h("img", { src: url, alt: t("evidence_alt", { name }) }));
      } else {
        const download = h("p", {}, h("a", { href: url, download: name }, t("download_pdf", { name })));
        // PDF.js that could not be loaded (a TypeError, as for any failed fetch) is the network's fault, not the file's
        const viewer = pdfViewer(await blob.arrayBuffer(), name, (error) => {
          viewer.replaceWith(error instanceof TypeError ? errorLine(error) : h("p", { class: "error", role: "alert" }, t("pdf_unreadable", { name })));
        });
        slot.replaceChildren(viewer, download);
      }
    } catch (error) {
      slot.replaceChildren(errorLine(error));
      show.disabled = false;
    }
  });
  return h("li", {}, h("div", { class: "row" }, h("span", {}, `${name} · ${file.content_type} · ${Math.ceil(file.size_bytes / 1024)} KB`), show),
    h("div", { class: "muted mono wrap" }, `SHA-256 ${file.sha256}`), slot);
}

function facts(kind, item) {
  const rows = [
    [t("case_id"), item.id], [t("subject"), item.subject_id], [t("record"), item.record_id],
    [t("record_status"), item.record_status ?? "—"], [t("status"), t(`status_${item.status}`)],
    [t("filed"), when(KINDS[kind].filedAt(item))], [t("due"), dueText(kind, item)], [t("clock"), clockText(kind, item)],
  ];
  if (kind === "objection") {
    rows.push([t("reason"), item.reason]);
    if (item.answer) rows.push([t("answer"), item.answer]);
  } else {
    rows.push([t("correction_statement"), item.correction_statement], [t("commitment_signed"), `${item.commitment_signed_name} · ${when(item.commitment_signed_at)} · v${item.commitment_version}`]);
    if (item.decision_reasons) rows.push([t("decision_reasons"), item.decision_reasons]);
  }
  return h("dl", { class: "facts" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function scoreLine(score) {
  return score ? t("score_now", { score: score.score, level: score.level }) : t("score_unknown");
}

function radios(name, options, legend) {
  return h("fieldset", {}, h("legend", {}, legend), options.map(([value, text]) => {
    const id = `${name}-${value}`;
    return h("label", { class: "choice", for: id }, h("input", { type: "radio", name, value, id, required: true }), text);
  }));
}

function decisionForm(kind, item, onDone) {
  const message = h("div", { role: "status" });
  let form;
  if (kind === "objection") {
    const [resolutionLabel, resolution] = select(t("resolution"), "resolution", [["withdrawn", t("resolution_withdrawn")], ["corrected", t("resolution_corrected")]]);
    const [severityLabel, severity] = select(t("corrected_severity"), "severity", [["", t("unchanged")], ["minor", t("severity_minor")], ["general", t("severity_general")], ["serious", t("severity_serious")]]);
    const [answerLabel, answer] = field(t("answer_text"), "textarea", { name: "answer", maxlength: 4000, required: true });
    const upheldOnly = h("div", { class: "form-grid", hidden: true }, h("div", {}, resolutionLabel, resolution), h("div", {}, severityLabel, severity));
    form = h("form", { novalidate: true }, radios("decision", [["upheld", t("decision_upheld")], ["rejected", t("decision_rejected")]], t("decision")),
      upheldOnly, answerLabel, answer, h("p"), h("button", { type: "submit" }, t("submit_answer")), message);
    form.addEventListener("change", () => { upheldOnly.hidden = form.elements.decision.value !== "upheld"; });
    form.body = () => {
      const body = { decision: form.elements.decision.value || null, answer: answer.value.trim() };
      if (body.decision === "upheld") {
        body.resolution = resolution.value;
        if (resolution.value === "corrected" && severity.value) body.corrections = { severity: severity.value };
      }
      return body;
    };
    form.target = `/v1/admin/objections/${encodeURIComponent(item.id)}/answer`;
  } else {
    const [reasonsLabel, reasons] = field(t("decision_reasons"), "textarea", { name: "reasons", maxlength: 4000 });
    form = h("form", { novalidate: true }, radios("decision", [["approved", t("decision_approved")], ["rejected", t("decision_rejected_repair")]], t("decision")),
      reasonsLabel, reasons, h("p", { class: "muted" }, t("reasons_note")), h("button", { type: "submit" }, t("submit_decision")), message);
    form.body = () => ({ decision: form.elements.decision.value || null, reasons: reasons.value.trim() || null });
    form.target = `/v1/admin/repairs/${encodeURIComponent(item.id)}/decision`;
  }
  // One key per form: a second click after a lost answer repeats the same decision, never a new one
  const key = idempotencyKey();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    message.replaceChildren();
    try {
      const outcome = await api.api(form.target, { method: "POST", json: form.body(), headers: { "Idempotency-Key": key } });
      onDone(outcome);
    } catch (error) {
      message.replaceChildren(errorLine(error));
      button.disabled = false;
    }
  });
  return form;
}

export async function caseView(kind, { params }) {
  const show = renderer();
  const [id] = params;
  const back = h("p", {}, h("a", { href: `#/${kind}s` }, t(`back_to_${kind}s`)));
  const heading = h("h1", {}, t(`${kind}_title`, { id }));
  show(back, heading, h("p", {}, t("loading")));
  let item;
  try {
    item = await api.api(`${KINDS[kind].path}/${encodeURIComponent(id)}`);
  } catch (error) {
    show(back, heading, errorLine(error));
    return;
  }
  let before = null;
  let scoreProblem = null;
  try { before = await scoreOf(item.subject_id, item.id); } catch (error) { scoreProblem = error; }
  const evidence = item.evidence.length ? h("ul", {}, item.evidence.map(evidenceItem)) : h("p", { class: "muted" }, t("no_evidence"));
  const scoreCard = card(t("score_title"), h("p", {}, scoreLine(before)), scoreProblem ? errorLine(scoreProblem) : null);
  const parts = [back, heading, card(t("case_facts"), facts(kind, item)), card(t("evidence"), evidence), scoreCard];
  if (item.status === KINDS[kind].open) {
    parts.push(card(t(kind === "objection" ? "answer_title" : "decide_title"), decisionForm(kind, item, (outcome) => {
      const decided = outcome.objection || outcome.application;
      const result = h("div", { class: "banner good", role: "status" },
        t("decided", { status: t(`status_${decided.status}`) }), " ",
        t("score_moved", { before: outcome.score_before, level_before: outcome.level_before, after: outcome.score_after, level_after: outcome.level_after }));
      show(back, heading, result, card(t("case_facts"), facts(kind, decided)), card(t("evidence"), evidence));
    })));
  }
  show(...parts);
}
