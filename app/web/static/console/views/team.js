// A partner's team (owners and managers read it; owners change it): the members with their role, a role
// change, removal after a confirmation, an invitation by phone with a role, and the invitations still
// waiting, each revocable. The API keeps a partner's last owner (409 last_owner), and says so here.
import * as api from "../../resident/api.js";
import { actionButton, card, errorLine, field, h, idempotencyKey, onSubmit, renderer, roleName, select, t, table, when } from "../ui.js";

const ROLES = ["owner", "manager", "clerk"];

/** A role in the words of the partner's kind. */
function say(ctx, role) { return roleName(ctx.membership ? ctx.membership.partner.kind : "", role); }

function done(text) { return h("p", { class: "banner good", role: "status" }, text); }

function inviteCard(ctx) {
  const [phoneLabel, phone] = field(t("invite_phone"), "input", { type: "tel", inputmode: "numeric", name: "phone", required: true, maxlength: 20, autocomplete: "off" });
  const [roleLabel, role] = select(t("member_role"), "role", ROLES.map((r) => [r, say(ctx, r)]), "clerk");
  const message = h("div", { role: "status" });
  const key = idempotencyKey();
  const form = h("form", { novalidate: true }, h("p", { class: "muted" }, t("invite_note")),
    h("div", { class: "form-grid" }, h("div", {}, phoneLabel, phone), h("div", {}, roleLabel, role),
      h("div", {}, h("button", { type: "submit" }, t("invite_member")))), message);
  onSubmit(form, message, async () => {
    const sent = await api.api(`${ctx.base}/invitations`, { method: "POST", json: { phone: phone.value.trim(), role: role.value }, headers: { "Idempotency-Key": key } });
    teamView(ctx, done(t("member_invited", { phone: sent.phone, role: say(ctx, sent.role), until: when(sent.expires_at) })));
  });
  return card(t("invite_title"), form);
}

/** The role picker and the remove button of one member's row (owners only). An owner who changes their
 * own role, or leaves, starts the console afresh: the menu and the forms follow their memberships. */
function memberActions(ctx, m) {
  const mine = ctx.membership && m.id === ctx.membership.id;
  const cell = h("td", { class: "actions" });
  const [roleLabel, role] = select(t("role_of", { phone: m.phone }), "role", ROLES.map((r) => [r, say(ctx, r)]), m.role);
  roleLabel.classList.add("visually-hidden");
  const path = `${ctx.base}/members/${encodeURIComponent(m.id)}`;
  cell.append(roleLabel, role, " ",
    actionButton(cell, {
      text: t("change_role"), label: t("change_role_named", { phone: m.phone }), primary: true,
      call: () => api.api(path, { method: "PATCH", json: { role: role.value } }),
      after: (changed) => (mine ? location.reload() : teamView(ctx, done(t("role_changed", { phone: m.phone, role: say(ctx, changed.role) })))),
    }), " ",
    actionButton(cell, {
      text: t("remove"), label: t("remove_named", { phone: m.phone }), question: t("confirm_remove_member", { phone: m.phone }),
      call: () => api.api(path, { method: "DELETE" }),
      after: () => (mine ? location.assign("/console") : teamView(ctx, done(t("member_removed", { phone: m.phone })))),
    }));
  return cell;
}

function invitationActions(ctx, inv) {
  const cell = h("td", {});
  cell.append(actionButton(cell, {
    text: t("revoke_invitation"), label: t("revoke_invitation_named", { phone: inv.phone }), question: t("confirm_revoke_invitation", { phone: inv.phone }),
    call: () => api.api(`${ctx.base}/invitations/${encodeURIComponent(inv.id)}/revoke`, { method: "POST" }),
    after: () => teamView(ctx, done(t("invitation_revoked", { phone: inv.phone }))),
  }));
  return cell;
}

export async function teamView(ctx, notice = null) {
  const show = renderer();
  const heading = h("h1", {}, t("team_title"));
  const manage = ctx.can("members:manage");
  const invite = manage ? inviteCard(ctx) : null;
  show(heading, notice, h("p", {}, t("loading")));
  let members;
  let invitations;
  try {
    [members, invitations] = await Promise.all([api.api(`${ctx.base}/members?limit=100`), api.api(`${ctx.base}/invitations?limit=100`)]);
  } catch (error) {
    show(heading, notice, errorLine(error));
    return;
  }
  const me = ctx.membership ? ctx.membership.id : null;
  const memberRows = members.data.map((m) => [m.id === me ? t("member_you", { phone: m.phone }) : m.phone, say(ctx, m.role), when(m.created_at),
    manage ? memberActions(ctx, m) : ""]);
  const waiting = invitations.data.filter((i) => i.status === "pending");
  const invitationRows = waiting.map((i) => [i.phone, say(ctx, i.role), when(i.created_at), when(i.expires_at), manage ? invitationActions(ctx, i) : ""]);
  show(heading, notice,
    manage ? null : h("p", { class: "muted" }, t("team_read_only", { role: say(ctx, ctx.membership.role) })),
    card(t("members_list"), table(t("members_list"), [t("phone"), t("member_role"), t("joined"), ""], memberRows),
      members.has_more ? h("p", { class: "muted" }, t("first_100")) : null),
    invite,
    card(t("pending_invitations"), invitationRows.length
      ? table(t("pending_invitations"), [t("phone"), t("member_role"), t("invited_at"), t("invitation_expires"), ""], invitationRows)
      : h("p", {}, t("no_pending_invitations"))));
}
