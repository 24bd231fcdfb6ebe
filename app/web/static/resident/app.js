// The resident app's shell: sign-in, the hash router, the language switch and the live scans.
import * as api from "./api.js";
import { beginView, card, errorLine, h, render, scanSentence, t } from "./ui.js";
import { signInForm, startShell, translatePage } from "../web/dom.js";
import { homeView } from "./views/home.js";
import { passView } from "./views/pass.js";
import { recordsView, recordView } from "./views/records.js";
import { scansView } from "./views/scans.js";
import { moreView } from "./views/more.js";

const ROUTES = [
  [/^\/$/, homeView],
  [/^\/pass$/, passView],
  [/^\/scans$/, scansView],
  [/^\/records$/, recordsView],
  [/^\/records\/([\w-]+)$/, recordView],
  [/^\/more(?:\/(\w+))?$/, moreView],
];

const state = { me: null, leave: null, live: null, liveTimer: null };

function translateShell() {
  translatePage(t, "tabs");
}

async function route() {
  if (state.leave) { state.leave(); state.leave = null; }
  beginView();
  if (!api.signedIn()) return signInView();
  const path = (location.hash || "#/").slice(1) || "/";
  for (const link of document.querySelectorAll("#tabs a")) {
    const target = link.getAttribute("href").slice(1);
    const current = target === "/" ? path === "/" : path.startsWith(target);
    if (current) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  for (const [pattern, view] of ROUTES) {
    const match = path.match(pattern);
    if (match) {
      const leave = await view({ me: state.me, params: match.slice(1), go, refreshMe });
      state.leave = typeof leave === "function" ? leave : null;
      return;
    }
  }
  go("/");
}

export function go(path) {
  if (location.hash === `#${path}`) route(); else location.hash = path;
}

async function refreshMe() {
  state.me = await api.api("/v1/me");
  return state.me;
}

function signInView() {
  document.getElementById("tabs").hidden = true;
  const form = signInForm(t, errorLine, start);
  render(h("h1", {}, t("sign_in_title")), card(null, form, h("p", { class: "muted" }, t("sign_in_note"))));
}

function showLive(scan) {
  const banner = document.getElementById("live");
  banner.textContent = scanSentence(scan);
  banner.classList.toggle("bad", scan.decision !== "eligible");
  banner.hidden = false;
  clearTimeout(state.liveTimer);
  state.liveTimer = setTimeout(() => { banner.hidden = true; }, 30000); // the history keeps it
  document.dispatchEvent(new CustomEvent("xinyi:scan", { detail: scan }));
}

function watchScans() {
  if (state.live) state.live.abort();
  state.live = new AbortController();
  api.stream("/v1/me/verifications/stream", (type, data) => {
    if (type === "verification") showLive(data);
  }, state.live.signal);
}

async function start() {
  await refreshMe();
  document.getElementById("tabs").hidden = false;
  if (state.me.identity) watchScans();
  await route();
}

api.onSignedOut(() => {
  if (state.live) state.live.abort();
  state.me = null;
  document.getElementById("live").hidden = true;
  route();
});

startShell({ translateShell, route, start, showError: (error) => render(errorLine(error)) });
