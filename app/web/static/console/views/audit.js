// The audit log (auditors and operators), read-only and paged, with the chains verified by the server
// (the hashes are keyed, so only it can check them) and the signed checkpoints anyone may keep.
import * as api from "../../resident/api.js";
import { card, errorLine, field, h, renderer, t, table, when } from "../ui.js";

const PAGE = 50;

// Verifying walks every entry of every chain (as `xinyi audit verify` does), which takes longer the larger
// the log: it runs when asked, never on every visit to the page.
function verificationCard() {
  const body = h("div", { role: "status" }, h("p", { class: "muted" }, t("verify_prompt")));
  const button = h("button", { type: "button", class: "secondary small" }, t("verify_now"));
  async function run() {
    button.disabled = true;
    body.replaceChildren(h("p", {}, t("verifying")));
    try {
      const result = await api.api("/v1/admin/audit-verification");
      const summary = t("verify_summary", { chains: result.chains, entries: result.entries, checkpoints: result.checkpoints, at: when(result.checked_at) });
      if (result.ok) {
        body.replaceChildren(h("p", { class: "ok" }, t("chain_intact")), h("p", { class: "muted" }, summary));
      } else {
        body.replaceChildren(h("p", { class: "error" }, t("chain_broken", { count: result.problems.length })), h("p", { class: "muted" }, summary),
          table(t("problems"), [t("problem_kind"), t("chain"), "seq", t("entry"), t("detail")],
            result.problems.map((p) => [p.kind, h("span", { class: "mono wrap" }, p.chain), String(p.seq), h("span", { class: "mono wrap" }, p.entry_id ?? "—"), p.detail])));
      }
    } catch (error) {
      body.replaceChildren(errorLine(error));
    }
    button.textContent = t("verify_again");
    button.disabled = false;
  }
  button.addEventListener("click", run);
  return card(t("verification_title"), body, button);
}

function entriesCard() {
  const [subjectLabel, subject] = field(t("subject_id"), "input", { name: "subject_id", maxlength: 32, autocomplete: "off" });
  const [actionLabel, action] = field(t("action"), "input", { name: "action", maxlength: 64, autocomplete: "off" });
  const list = h("div");
  const more = h("button", { type: "button", class: "secondary", hidden: true }, t("load_more"));
  let after = null;
  let rows = [];
  async function load(reset) {
    if (reset) { after = null; rows = []; }
    const query = new URLSearchParams({ limit: String(PAGE) });
    if (subject.value.trim()) query.set("subject_id", subject.value.trim());
    if (action.value.trim()) query.set("action", action.value.trim());
    if (after) query.set("starting_after", after);
    more.disabled = true;
    try {
      const page = await api.api(`/v1/admin/audit-entries?${query}`);
      rows.push(...page.data);
      after = page.data.length ? page.data[page.data.length - 1].id : after;
      more.hidden = !page.has_more;
      list.replaceChildren(rows.length ? table(t("audit_entries"), [t("time"), t("chain"), "seq", t("actor"), t("action"), t("purpose"), t("legal_basis"), t("entry_hash")],
        rows.map((e) => [when(e.created_at), h("span", { class: "mono wrap" }, e.chain), String(e.seq), [`${e.actor_type} · `, h("span", { class: "mono wrap" }, e.actor_id)], e.action, e.purpose, e.legal_basis,
          h("span", { class: "mono" }, e.entry_hash.slice(0, 12))])) : h("p", {}, t("no_entries")));
    } catch (error) {
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
