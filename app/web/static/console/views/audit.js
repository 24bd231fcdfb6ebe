// The audit log (auditors and operators), read-only and paged, with the chains verified by the server's
// worker (the hashes are keyed, so only the platform can check them) and the signed checkpoints anyone may keep.
import * as api from "../../resident/api.js";
import { card, errorLine, field, h, renderer, t, table, when } from "../ui.js";

const PAGE = 50;

// Verifying walks every entry of every chain (as `xinyi audit verify` does): on a city's log that takes
// minutes to hours, so the worker walks it and the page follows the walk. The latest walk (an auditor's,
// or the worker's daily one) shows on arrival; a new one starts only when asked.
const POLL_MS = 1000;

function verificationCard() {
  const body = h("div", { role: "status" }, h("p", { class: "muted" }, t("verify_prompt")));
  const button = h("button", { type: "button", class: "secondary small" }, t("verify_now"));

  function show(run) {
    const by = t(`verify_by_${run.requested_by_type}`);
    if (run.status === "queued" || run.status === "running") {
      const progress = run.entries_total
        ? h("progress", { max: String(run.entries_total), value: String(run.entries_checked), "aria-label": t("verify_progress_label") })
        : null;
      body.replaceChildren(h("p", {}, t(run.status === "queued" ? "verify_queued" : "verifying")),
        ...(progress ? [progress, h("p", { class: "muted" }, t("verify_progress", { checked: run.entries_checked, total: run.entries_total }))] : []));
      return;
    }
    if (run.status === "failed") {
      body.replaceChildren(h("p", { class: "error" }, t("verify_failed", { at: when(run.finished_at) })));
      return;
    }
    const summary = t("verify_summary", { chains: run.chains, entries: run.entries_checked, checkpoints: run.checkpoints, at: when(run.finished_at), by });
    if (run.ok) {
      body.replaceChildren(h("p", { class: "ok" }, t("chain_intact")), h("p", { class: "muted" }, summary));
    } else {
      body.replaceChildren(h("p", { class: "error" }, t("chain_broken", { count: run.problems_total })), h("p", { class: "muted" }, summary),
        table(t("problems"), [t("problem_kind"), t("chain"), "seq", t("entry"), t("detail")],
          run.problems.map((p) => [p.kind, h("span", { class: "mono wrap" }, p.chain), String(p.seq), h("span", { class: "mono wrap" }, p.entry_id ?? "—"), p.detail])));
    }
  }

  // Follows a walk until it ends, or until the person leaves the page (the card is no longer shown)
  async function follow(run) {
    show(run);
    button.disabled = run.status === "queued" || run.status === "running";
    if (!button.disabled) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    if (!body.isConnected) return;
    try {
      await follow(await api.api(`/v1/admin/audit-verifications/${encodeURIComponent(run.id)}`));
    } catch (error) {
      body.replaceChildren(errorLine(error));
      button.disabled = false;
    }
  }

  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await follow(await api.api("/v1/admin/audit-verifications", { method: "POST", json: {} }));
    } catch (error) {
      body.replaceChildren(errorLine(error));
      button.disabled = false;
    }
  });
  api.api("/v1/admin/audit-verifications?limit=1").then((page) => {
    if (page.data.length) follow(page.data[0]);
  }).catch((error) => body.replaceChildren(errorLine(error)));
  return card(t("verification_title"), body, button);
}

function entriesCard() {
  const [subjectLabel, subject] = field(t("subject_id"), "input", { name: "subject_id", maxlength: 32, autocomplete: "off" });
  const [actionLabel, action] = field(t("action"), "input", { name: "action", maxlength: 64, autocomplete: "off" });
  const list = h("div");
  const more = h("button", { type: "button", class: "secondary", hidden: true }, t("load_more"));
  let after = null;
  let rows = [];
  let asked = 0;
  async function load(reset) {
    if (reset) { after = null; rows = []; }
    // Only the latest question's answer is shown: a filter asked while the first page loads must not
    // get that page's rows mixed into its own
    const mine = ++asked;
    const query = new URLSearchParams({ limit: String(PAGE) });
    if (subject.value.trim()) query.set("subject_id", subject.value.trim());
    if (action.value.trim()) query.set("action", action.value.trim());
    if (after) query.set("starting_after", after);
    more.disabled = true;
    try {
      const page = await api.api(`/v1/admin/audit-entries?${query}`);
      if (mine !== asked) return;
      rows.push(...page.data);
      after = page.data.length ? page.data[page.data.length - 1].id : after;
      more.hidden = !page.has_more;
      list.replaceChildren(rows.length ? table(t("audit_entries"), [t("time"), t("chain"), "seq", t("actor"), t("action"), t("purpose"), t("legal_basis"), t("entry_hash")],
        rows.map((e) => [when(e.created_at), h("span", { class: "mono wrap" }, e.chain), String(e.seq), [`${e.actor_type} · `, h("span", { class: "mono wrap" }, e.actor_id)], e.action, e.purpose, e.legal_basis,
          h("span", { class: "mono" }, e.entry_hash.slice(0, 12))])) : h("p", {}, t("no_entries")));
    } catch (error) {
      if (mine !== asked) return;
      list.replaceChildren(errorLine(error));
    }
    more.disabled = false;
  }
  const form = h("form", { novalidate: true }, h("div", { class: "form-grid" }, h("div", {}, subjectLabel, subject), h("div", {}, actionLabel, action),
    h("div", {}, h("button", { type: "submit" }, t("filter")))));
  form.addEventListener("submit", (event) => { event.preventDefault(); load(true); });
  more.addEventListener("click", () => load(false));
  load(true);
  return card(t("audit_entries"), h("p", { class: "muted" }, t("audit_note")), form, list, more);
}

function checkpointsCard() {
  const body = h("div", {}, h("p", {}, t("loading")));
  api.api("/v1/audit/checkpoints?limit=20").then((page) => {
    body.replaceChildren(page.data.length ? table(t("checkpoints"), ["seq", t("time"), t("chains_signed"), t("heads_sha256")],
      page.data.map((c) => [String(c.seq), when(c.created_at), String(c.chains), h("span", { class: "mono wrap" }, c.heads_sha256)])) : h("p", {}, t("no_checkpoints")));
  }).catch((error) => body.replaceChildren(errorLine(error)));
  return card(t("checkpoints"), h("p", { class: "muted" }, t("checkpoints_note")), body);
}

export function auditView() {
  const show = renderer();
  show(h("h1", {}, t("audit_title")), verificationCard(), entriesCard(), checkpointsCard());
}
