// The console's shell: sign-in (the resident app's phone + SMS flow, cookie mode), the role-aware menu,
// the hash router and the language switch. The API decides every call by role; the menu only hides
// what the signed-in user could not use anyway.
import * as api from "../resident/api.js";
import { beginView, card, errorLine, h, render, t } from "./ui.js";
import { signInForm, startShell, translatePage } from "../web/dom.js";
import { caseView, queueView } from "./views/cases.js";
import { subjectsView } from "./views/subjects.js";
import { auditView } from "./views/audit.js";
import { partnersView } from "./views/partners.js";
import { webhooksView } from "./views/webhooks.js";
import { jobsView } from "./views/jobs.js";
import { importsView } from "./views/imports.js";
import { hasMemberNav, loadMemberships, memberRoute, memberStart, memberships, membershipOf, nothingPermitted, renderMemberNav } from "./members.js";
import { invitationsView } from "./views/invitations.js";

const ROUTES = [
  [/^\/objections$/, (ctx) => queueView("objection", ctx)],
  [/^\/objections\/([\w-]+)$/, (ctx) => caseView("objection", ctx)],
  [/^\/repairs$/, (ctx) => queueView("repair", ctx)],
  [/^\/repairs\/([\w-]+)$/, (ctx) => caseView("repair", ctx)],
  [/^\/subjects$/, subjectsView],
  [/^\/audit$/, auditView],
  [/^\/partners$/, partnersView],
  [/^\/webhooks$/, webhooksView],
  [/^\/jobs$/, jobsView],
  [/^\/imports$/, importsView],
];

const state = { me: null };

function allowedLinks() {
  const roles = new Set(state.me ? state.me.roles : []);
  // The staff's links; a partner member's menu is #member-nav (members.js)
  return [...document.querySelectorAll("#nav > a")].filter((a) => a.dataset.roles.split(" ").some((r) => roles.has(r)));
}

function translateShell() {
  translatePage(t, "nav");
  showWho();
}

function showWho() {
  const who = document.getElementById("who");
  if (!state.me) { who.textContent = ""; return; }
  const roles = state.me.roles.map((r) => t(`role_${r}`)).join("、") || (memberships().length ? t("role_member") : t("role_none"));
  who.textContent = t("signed_in_as", { phone: state.me.phone || "", roles });
}

function showShell() {
  const signedIn = state.me !== null;
  document.getElementById("sign-out").hidden = !signedIn;
  const nav = document.getElementById("nav");
  const allowed = new Set(allowedLinks());
  for (const link of nav.querySelectorAll(":scope > a")) link.hidden = !allowed.has(link);
  nav.hidden = !signedIn || (allowed.size === 0 && !hasMemberNav());
  showWho();
}

// Member views wait for the memberships first: a route left meanwhile must not draw over the next one
let routeCount = 0;

async function route() {
  beginView();
  const mine = ++routeCount;
  if (!api.signedIn() || !state.me) return signInView();
  // "#/webhooks?status=failed": the views read their filters from the part after "?"
  const path = (location.hash || "#/").slice(1).split("?")[0] || "/";
  for (const link of document.querySelectorAll("#nav > a")) {
    if (path.startsWith(link.getAttribute("href").slice(1))) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  renderMemberNav(document.getElementById("member-nav"), path, go);
  for (const [pattern, view] of ROUTES) {
    const match = path.match(pattern);
    if (match) return view({ me: state.me, params: match.slice(1), go });
  }
  // A partner member's sections: the memberships are read afresh, so a changed role shows at once
  if (path === "/invitations") {
    // After an answer: the menu is read again, and an accepted partner's first section opens
    const done = async (partnerId) => {
      await loadMemberships();
      showShell();
      if (partnerId && membershipOf(partnerId)) go(memberStart(`/p/${partnerId}`));
      else invitationsView({ done }, h("p", { class: "banner good", role: "status" }, t("declined")));
      renderMemberNav(document.getElementById("member-nav"), partnerId ? `/p/${partnerId}` : path, go);
    };
    return invitationsView({ done });
  }
  if (path.startsWith("/p/")) {
    await loadMemberships();
    if (mine !== routeCount) return;
    showShell();
    renderMemberNav(document.getElementById("member-nav"), path, go);
    if (await memberRoute(path, { me: state.me, go })) return;
    const partnerId = path.split("/")[2];
    render(h("h1", {}, t("console_name")), h("p", { class: "error", role: "alert" }, nothingPermitted(membershipOf(partnerId))));
    return;
  }
  // The start page: the first section this user may use, or a plain word that there is none
  const first = allowedLinks()[0];
  if (first) { go(first.getAttribute("href").slice(1)); return; }
  const start = memberStart();
  if (start) { go(start); return; }
  render(h("h1", {}, t("console_name")), h("p", { class: "error", role: "alert" }, t("no_console_role")));
}

export function go(path) {
  if (location.hash === `#${path}`) route(); else location.hash = path;
}

function signInView() {
  showShell();
  const form = signInForm(t, errorLine, start, "signin");
  render(h("h1", {}, t("sign_in_title")), card(null, form, h("p", { class: "muted" }, t("sign_in_note"))));
}

async function start() {
  state.me = await api.api("/v1/me");
  await loadMemberships();
  showShell();
  await route();
}

api.onSignedOut(() => {
  state.me = null;
  route();
});

document.getElementById("sign-out").addEventListener("click", () => api.signOut().catch(() => {}));
startShell({ translateShell, route, start, showError: (error) => render(errorLine(error)) });
