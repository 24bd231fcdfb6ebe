// The partner members' side of the console: the signed-in person's memberships (GET /v1/me/memberships),
// a partner picker when there are several, and the menu of the sections the role and the partner's kind
// permit. Member routes name the partner: "#/p/<partner id>/<section>". The API decides every call; the
// menu only leaves out what the member could not use anyway.
import * as api from "../resident/api.js";
import { h, roleName, t } from "./ui.js";
import { devicesView } from "./views/devices.js";
import { scansView } from "./views/scans.js";
import { rentalsView } from "./views/rentals.js";
import { recordsView } from "./views/records.js";
import { sourceObjectionsView } from "./views/source_objections.js";
import { referralsSection } from "./views/bank.js";
import { productsView } from "./views/bank_products.js";
import { endpointsView } from "./views/endpoints.js";
import { apiKeysView } from "./views/api_keys.js";
import { teamView } from "./views/team.js";

// [route, i18n key of the menu entry, the permitted action that shows it, view]. A partner's kind is
// already folded into permitted_actions by the API, so a section for another kind simply never shows:
// every kind (banks too) gets this one menu. Adding a section is one line here (and its strings).
export const MEMBER_SECTIONS = [
  ["devices", "nav_devices", "scanner_devices:read", devicesView],
  ["scans", "nav_scans", "verifications:read", scansView],
  ["rentals", "nav_rentals", "rentals:read", rentalsView],
  ["referrals", "bk_nav_referrals", "referrals:read", referralsSection],
  ["products", "bk_nav_products", "loan_products:read", productsView],
  ["records", "nav_records", "records:read", recordsView],
  ["record-objections", "nav_record_objections", "objections:read", sourceObjectionsView],
  ["webhook-endpoints", "nav_endpoints", "webhooks:read", endpointsView],
  ["api-keys", "nav_api_keys", "api_keys:read", apiKeysView],
  ["team", "nav_team", "members:read", teamView],
];

const CHOSEN = "xinyi.console.partner";
const state = { memberships: [], invitations: [] };

/** Reads the memberships and the invitations waiting afresh (a role changed or a removal counts from the
 * next view). */
export async function loadMemberships() {
  const [mine, waiting] = await Promise.allSettled([api.api("/v1/me/memberships"), api.api("/v1/me/invitations")]);
  state.memberships = mine.status === "fulfilled" ? mine.value.data : [];
  state.invitations = waiting.status === "fulfilled" ? waiting.value.data : [];
  return state.memberships;
}

export function memberships() { return state.memberships; }

/** Whether the menu has a member part: memberships, or invitations to answer. */
export function hasMemberNav() { return state.memberships.length > 0 || state.invitations.length > 0; }

export function membershipOf(partnerId) { return state.memberships.find((m) => m.partner.id === partnerId) || null; }

/** The sections this membership permits, in menu order. */
export function sectionsOf(membership) {
  const allowed = new Set(membership ? membership.permitted_actions : []);
  return MEMBER_SECTIONS.filter(([, , action]) => allowed.has(action));
}

/** The partner the console shows now: the one in the address, else the one chosen last, else the first. */
export function currentPartnerId(path) {
  const match = path.match(/^\/p\/([\w-]+)/);
  if (match) return match[1];
  const chosen = localStorage.getItem(CHOSEN);
  if (chosen && membershipOf(chosen)) return chosen;
  return state.memberships.length ? state.memberships[0].partner.id : null;
}

/** Where a member starts: the first section of their current partner (the partner's own page when none). */
export function memberStart(path = "/") {
  const id = currentPartnerId(path);
  if (!id) return state.invitations.length ? "/invitations" : null;
  const first = sectionsOf(membershipOf(id))[0];
  return first ? `/p/${id}/${first[0]}` : `/p/${id}`;
}

function partnerLabel(m) {
  return t("membership_label", { name: m.partner.name, role: roleName(m.partner.kind, m.role) });
}

/** The member part of the side menu: the partner (a picker when several) and its sections. */
export function renderMemberNav(container, path, go) {
  const id = currentPartnerId(path);
  const current = membershipOf(id);
  if (!hasMemberNav()) { container.replaceChildren(); container.hidden = true; delete container.dataset.drawn; return; }
  container.hidden = false;
  const invitations = state.invitations.length
    ? h("a", { href: "#/invitations" }, t("nav_invitations", { count: state.invitations.length }))
    : "";
  let picker = "";
  if (state.memberships.length > 1) {
    const select = h("select", { id: "partner-picker", name: "partner" },
      state.memberships.map((m) => h("option", { value: m.partner.id, selected: m.partner.id === id }, partnerLabel(m))));
    select.addEventListener("change", () => {
      localStorage.setItem(CHOSEN, select.value);
      go(memberStart(`/p/${select.value}`));
    });
    picker = h("div", { class: "picker" }, h("label", { for: "partner-picker" }, t("partner_picker")), select);
  } else if (state.memberships.length === 1) {
    picker = h("p", { class: "picker" }, partnerLabel(state.memberships[0]));
  }
  const links = sectionsOf(current).map(([route, key]) => h("a", { href: `#/p/${id}/${route}` }, t(key)));
  // Drawn again only when it changed: a link replaced between a click's press and release loses the click
  const drawn = JSON.stringify([picker && picker.textContent, id, [...links, invitations].map((a) => a && [a.getAttribute("href"), a.textContent])]);
  if (container.dataset.drawn !== drawn) {
    container.dataset.drawn = drawn;
    container.replaceChildren(picker, ...links, invitations);
  }
  for (const link of container.querySelectorAll("a")) {
    if (path.startsWith(link.getAttribute("href").slice(1))) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

/** A member route ("/p/<id>/<section>/<item>…"): the section's view, or the partner's own page. The parts
 * after the section (a referral's id, say) are the view's ``params``. */
export async function memberRoute(path, ctx) {
  const match = path.match(/^\/p\/([\w-]+)(?:\/([\w-]+))?((?:\/[\w-]+)*)$/);
  if (!match) return false;
  const [, partnerId, route, rest] = match;
  const membership = membershipOf(partnerId);
  if (membership) localStorage.setItem(CHOSEN, partnerId);
  const allowed = new Set(membership ? membership.permitted_actions : []);
  const member = {
    ...ctx,
    partnerId,
    params: rest.split("/").filter(Boolean),
    membership,
    base: `/v1/partners/${encodeURIComponent(partnerId)}`,
    can: (action) => allowed.has(action),
  };
  const section = MEMBER_SECTIONS.find(([r]) => r === route);
  // A section named in the address is shown even when the menu leaves it out: the API then says why not
  if (section) { await section[3](member); return true; }
  const first = sectionsOf(membership)[0];
  if (first && !route) { ctx.go(`/p/${partnerId}/${first[0]}`); return true; }
  return false;
}

/** What a member whose role (or suspended partner) permits nothing is told. */
export function nothingPermitted(membership) {
  if (membership && membership.partner.status !== "active") return t("partner_suspended_note", { name: membership.partner.name });
  return t("no_console_role");
}
