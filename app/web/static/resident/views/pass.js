// 出示信用码: a full-screen QR that is renewed before it expires, with a countdown taken from the server's
// lifetime (expires_in, measured from the response with the page's monotonic clock: a phone whose clock is
// wrong still counts right); the screen kept awake; pre-fetched single-use offline codes when there is no
// network.
import { api, ApiError, serverNow } from "../api.js";
import { currentLanguage, errorLine, h, renderer, scanSentence, t, when } from "../ui.js";

const OFFLINE_PER_SCENARIO = 3;

function offlineKey(me) { return `xinyi.offline.${me.id}`; }

export function storedCodes(me) {
  try {
    const codes = JSON.parse(localStorage.getItem(offlineKey(me)) || "[]");
    return codes.filter((code) => Date.parse(code.expires_at) > serverNow());
  } catch {
    return [];
  }
}

function storeCodes(me, codes) { localStorage.setItem(offlineKey(me), JSON.stringify(codes)); }

export function forgetCodes(me) { localStorage.removeItem(offlineKey(me)); }

/** Keep a few offline codes of each low-value scenario the resident qualifies for now. */
async function topUpOffline(me) {
  const { data: mine } = await api("/v1/me/scenarios");
  let codes = storedCodes(me);
  for (const { scenario } of mine.filter((item) => item.scenario.low_value && item.eligible)) {
    const missing = OFFLINE_PER_SCENARIO - codes.filter((c) => c.scenario === scenario.id).length;
    if (missing <= 0) continue;
    try {
      const issued = await api("/v1/me/passes/offline", { method: "POST", json: { scenario: scenario.id, count: missing } });
      codes = codes.concat(issued.data.map((code) => ({
        id: code.id, scenario: scenario.id, name_zh: scenario.names.zh, name_en: scenario.names.en,
        svg: code.qr.svg_data_url, expires_at: code.expires_at,
      })));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error; // e.g. the live-code limit reached: keep what we have
    }
  }
  storeCodes(me, codes);
}

export async function passView({ me, go }) {
  const render = renderer();
  if (!me.identity) return go("/");
  const image = h("img", { alt: t("pass_alt"), width: 330, height: 330 });
  const kind = h("p", { class: "muted" }, t("pass_online"));
  const countdown = h("p", { class: "countdown", role: "timer", "aria-live": "off" });
  const scanned = h("p", { role: "status" });
  const message = h("div");
  const choices = h("div", { class: "row" });
  const awake = h("p", { class: "muted" });
  const close = h("a", { href: "#/", class: "button" }, t("back"));
  const panel = h("section", { class: "pass fullscreen", "aria-label": t("nav_pass") },
    h("h1", {}, t("pass_title")), kind, image, countdown, choices, message, scanned, awake, close);
  render(panel);

  let deadline = 0;
  let refreshAt = 0;
  let loading = false;
  let offline = false;
  let wakeLock = null;

  function showOffline(error) {
    const codes = storedCodes(me);
    offline = true;
    if (!codes.length) {
      image.removeAttribute("src");
      kind.textContent = t("pass_unavailable");
      message.replaceChildren(errorLine(error));
      return;
    }
    const scenarios = [...new Set(codes.map((c) => c.scenario))];
    const showCode = (scenario) => {
      const all = storedCodes(me);
      const code = all.find((c) => c.scenario === scenario);
      if (!code) return;
      storeCodes(me, all.filter((c) => c.id !== code.id)); // single use: once shown it may be spent
      image.src = code.svg;
      const name = currentLanguage() === "en" ? code.name_en : code.name_zh;
      kind.textContent = t("pass_offline", { scenario: name });
      kind.className = "banner offline-mark";
      countdown.textContent = t("offline_until", { time: when(code.expires_at), left: all.length - 1 });
    };
    choices.replaceChildren(...scenarios.map((scenario) => {
      const code = codes.find((c) => c.scenario === scenario);
      return h("button", { type: "button", class: "secondary", onclick: () => showCode(scenario) },
        t("next_offline_code", { scenario: currentLanguage() === "en" ? code.name_en : code.name_zh }));
    }));
    message.replaceChildren(h("p", { class: "muted" }, t("offline_explained")));
    showCode(scenarios[0]);
  }

  async function load() {
    loading = true;
    try {
      const pass = await api("/v1/me/passes", { method: "POST" });
      const received = performance.now();
      const margin = (Date.parse(pass.expires_at) - Date.parse(pass.refresh_after)) / 1000; // two server times
      deadline = received + pass.expires_in * 1000;
      refreshAt = received + Math.max(5, pass.expires_in - margin) * 1000;
      image.src = pass.qr.svg_data_url;
      offline = false;
      kind.textContent = t("pass_online");
      kind.className = "muted";
      choices.replaceChildren();
      message.replaceChildren();
      tick();
      topUpOffline(me).catch(() => {});
    } catch (error) {
      refreshAt = performance.now() + 5000;
      if (error instanceof ApiError) message.replaceChildren(errorLine(error));
      else if (!offline) showOffline(error);
    } finally {
      loading = false;
    }
  }

  function tick() {
    const now = performance.now();
    if (!offline) {
      const left = Math.max(0, Math.ceil((deadline - now) / 1000));
      countdown.textContent = left > 0 ? t("pass_countdown", { seconds: left }) : t("pass_renewing");
    }
    if (!loading && now >= refreshAt && (!offline || navigator.onLine)) load();
  }

  async function keepAwake() {
    if (!("wakeLock" in navigator) || document.visibilityState !== "visible") {
      awake.textContent = "wakeLock" in navigator ? "" : t("wake_lock_missing");
      return;
    }
    try {
      wakeLock = await navigator.wakeLock.request("screen");
      awake.textContent = t("wake_lock_on");
    } catch {
      awake.textContent = t("wake_lock_missing");
    }
  }

  const onScan = (event) => { scanned.textContent = scanSentence(event.detail); };
  const onOnline = () => { refreshAt = 0; tick(); };
  document.addEventListener("xinyi:scan", onScan);
  document.addEventListener("visibilitychange", keepAwake);
  window.addEventListener("online", onOnline);
  const timer = setInterval(tick, 250);
  keepAwake();
  load(); // not awaited: the clean-up below must be in place even if the person leaves first

  return () => {
    clearInterval(timer);
    document.removeEventListener("xinyi:scan", onScan);
    document.removeEventListener("visibilitychange", keepAwake);
    window.removeEventListener("online", onOnline);
    if (wakeLock) wakeLock.release().catch(() => {});
  };
}
