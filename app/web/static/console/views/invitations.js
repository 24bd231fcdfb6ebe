// Invitations waiting for the signed-in person (GET /v1/me/invitations): accept one to become a member
// with the invited role (its sections then join the menu), or decline it. Only the person who signs in
// with the invited number sees them.
import * as api from "../../resident/api.js";
import { card, errorLine, h, renderer, t, table, when } from "../ui.js";

/** ``done(partnerId)`` runs after an answer: the memberships and the menu are read again. */
export async function invitationsView({ done }, notice = null) {
  const show = renderer();
  const heading = h("h1", {}, t("invitations_title"));
  show(heading, notice, h("p", {}, t("loading")));
  let page;
  try {
    page = await api.api("/v1/me/invitations");
  } catch (error) {
    show(heading, notice, errorLine(error));
    return;
  }
  const rows = page.data.map((inv) => {
    const cell = h("td", {});
    const answer = (verb) => async () => {
      for (const b of cell.querySelectorAll("button")) b.disabled = true;
      try {
        await api.api(`/v1/me/invitations/${encodeURIComponent(inv.id)}/${verb}`, { method: "POST" });
        await done(verb === "accept" ? inv.partner.id : null);
      } catch (error) {
        cell.append(errorLine(error));
      }
    };
    cell.append(
      h("button", { type: "button", class: "small", onclick: answer("accept"), "aria-label": t("accept_named", { name: inv.partner.name }) }, t("accept")), " ",
      h("button", { type: "button", class: "secondary small", onclick: answer("decline"), "aria-label": t("decline_named", { name: inv.partner.name }) }, t("decline")));
    return [inv.partner.name, t(`pkind_${inv.partner.kind}`), t(`mrole_${inv.role}`), when(inv.expires_at), cell];
  });
  show(heading, notice, card(null, rows.length
    ? table(t("invitations_title"), [t("partner_name"), t("partner_kind"), t("member_role"), t("invitation_expires"), ""], rows)
    : h("p", {}, t("no_invitations"))));
}
