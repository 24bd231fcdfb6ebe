// Partners (operators): the list by kind, onboarding a new one, suspending and reactivating. Keys and
// members are managed on their own pages of the API; the console shows who is active.
import * as api from "../../resident/api.js";
import { card, errorLine, field, h, idempotencyKey, renderer, select, t, table, when } from "../ui.js";

const KINDS = ["merchant", "bank", "government_counter", "data_provider"];

/** Invite the partner's owner by phone: whoever signs in with that number accepts (members API). */
function inviteCell(partner) {
  const [label, phone] = field(t("owner_phone", { name: partner.name }), "input", { type: "tel", name: "phone", maxlength: 20, autocomplete: "off" });
  label.className = "visually-hidden";
  const message = h("div", { role: "status" });
  let key = idempotencyKey(); // a new one per invitation sent: a retry of the same one reuses it
  const form = h("form", { novalidate: true, class: "row" }, label, h("div", { class: "grow" }, phone), h("button", { type: "submit", class: "secondary small" }, t("invite")), message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.replaceChildren();
    try {
      const invitation = await api.api(`/v1/admin/partners/${encodeURIComponent(partner.id)}/invitations`, {
        method: "POST", json: { phone: phone.value.trim() }, headers: { "Idempotency-Key": key },
      });
      message.replaceChildren(h("span", { class: "ok" }, t("invited", { phone: invitation.phone, until: when(invitation.expires_at) })));
      key = idempotencyKey();
    } catch (error) {
      message.replaceChildren(errorLine(error));
    }
  });
  return h("td", {}, form);
}

export async function partnersView({ go }, notice = null) {
  const show = renderer();
  const heading = h("h1", {}, t("partners_title"));
  const [nameLabel, name] = field(t("partner_name"), "input", { name: "name", required: true, maxlength: 200 });
  const [kindLabel, kind] = select(t("partner_kind"), "kind", KINDS.map((k) => [k, t(`pkind_${k}`)]));
  const message = h("div", { role: "status" });
  const key = idempotencyKey();
  const onboard = h("form", { novalidate: true }, h("div", { class: "form-grid" }, h("div", {}, nameLabel, name), h("div", {}, kindLabel, kind),
    h("div", {}, h("button", { type: "submit" }, t("onboard")))), message);
  onboard.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const made = await api.api("/v1/admin/partners", { method: "POST", json: { name: name.value.trim(), kind: kind.value }, headers: { "Idempotency-Key": key } });
      partnersView({ go }, h("p", { class: "banner good", role: "status" }, t("onboarded", { name: made.name, id: made.id })));
    } catch (error) {
      message.replaceChildren(errorLine(error));
    }
  });
  const onboardCard = card(t("onboard_title"), onboard);
  show(heading, notice, onboardCard, h("p", {}, t("loading")));
  let page;
  try {
    page = await api.api("/v1/admin/partners?limit=100");
  } catch (error) {
    show(heading, notice, onboardCard, errorLine(error));
    return;
  }
  const rows = page.data.map((p) => {
    const action = p.status === "active" ? "suspend" : "reactivate";
    const button = h("button", { type: "button", class: "secondary small" }, t(action));
    const cell = h("td", {}, button);
    button.addEventListener("click", async () => {
      if (action === "suspend" && !window.confirm(t("confirm_suspend", { name: p.name }))) return;
      button.disabled = true;
      try {
        await api.api(`/v1/admin/partners/${encodeURIComponent(p.id)}/${action}`, { method: "POST" });
        partnersView({ go }, h("p", { class: "banner good", role: "status" }, t(`done_${action}`, { name: p.name })));
      } catch (error) {
        cell.append(errorLine(error));
        button.disabled = false;
      }
    });
    return [p.name, t(`pkind_${p.kind}`), t(`pstatus_${p.status}`), h("span", { class: "mono" }, p.id), when(p.created_at), cell, inviteCell(p)];
  });
  show(heading, notice, onboardCard, card(t("partners_list"), rows.length
    ? table(t("partners_list"), [t("partner_name"), t("partner_kind"), t("status"), "ID", t("created"), "", t("invite_owner")], rows)
    : h("p", {}, t("no_partners")), page.has_more ? h("p", { class: "muted" }, t("first_100")) : null));
}
