// DOM helpers shared by the resident app (/app) and the console (/console). Text is always set as text
// (never parsed as HTML), so nothing the API returns can become markup; no inline style either (the pages'
// CSP forbids it). Each app's ui.js adds its own strings (``translator``) and helpers.
import * as api from "../resident/api.js";

const LANG_KEY = "xinyi.lang";
let lang = localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh";

export function currentLanguage() { return lang; }
export function setCurrentLanguage(value) {
  lang = value;
  localStorage.setItem(LANG_KEY, value);
}

/** Starts an app's shell (the resident app, the console): the language switch and the hash router, then
 * the first screen: ``start`` when the refresh cookie still signs the visitor in, else ``route``. */
export function startShell({ translateShell, route, start, showError }) {
  document.getElementById("lang").addEventListener("click", () => {
    setCurrentLanguage(currentLanguage() === "en" ? "zh" : "en");
    translateShell();
    route();
  });
  window.addEventListener("hashchange", route);

  translateShell();
  (async () => {
    try {
      if (await api.refresh()) { await start(); return; }
    } catch (error) {
      showError(error);
      return;
    }
    route();
  })();
}

/** Puts an app's fixed words in the current language: the page's lang, every ``[data-i18n]`` element, the
 * menu's label (the menu is ``#navId``) and the switch, which names the other language; the API is told too. */
export function translatePage(t, navId) {
  document.documentElement.lang = currentLanguage() === "en" ? "en" : "zh-CN";
  for (const element of document.querySelectorAll("[data-i18n]")) element.textContent = t(element.dataset.i18n);
  document.getElementById(navId).setAttribute("aria-label", t("nav_label"));
  const switcher = document.getElementById("lang");
  switcher.textContent = currentLanguage() === "en" ? "中文" : "English";
  switcher.setAttribute("lang", currentLanguage() === "en" ? "zh-CN" : "en");
  switcher.title = t("switch_language"); // the visible text stays its accessible name (axe: label-content-name-mismatch)
  api.setLanguage(currentLanguage());
}

/** ``t(key, vars)`` over ``strings`` ({key: {zh, en}}): the current language's string, else the Chinese
 * one, else the key, with ``{name}`` placeholders filled from ``vars``. */
export function translator(strings) {
  return (key, vars = {}) => {
    const entry = strings[key];
    const text = entry ? (entry[lang] ?? entry.zh) : key;
    return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
  };
}

/** ``h("p", {class: "x"}, "text", child)``: an element; ``on*`` attributes become listeners. */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

let fieldCount = 0;
/** A labelled control: ``field(label, "input", {name: "x"})`` → [label, control]. */
export function field(label, tag, attrs = {}, ...children) {
  const id = attrs.id || `f${++fieldCount}`;
  const control = h(tag, { ...attrs, id }, ...children);
  return [h("label", { for: id }, label), control];
}

let cardCount = 0;
/** A titled card is a region named by its heading (screen readers list it; tests find it by name). */
export function card(title, ...children) {
  if (!title) return h("section", { class: "card" }, ...children);
  const id = `card${++cardCount}`;
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

let currentView = 0;

/** Called by the router as it shows another view. */
export function beginView() { currentView += 1; }

/** A render bound to the view shown now: an answer that arrives after the person moved on shows nothing. */
export function renderer() {
  const mine = currentView;
  return (...children) => { if (mine === currentView) render(...children); };
}

export function render(...children) {
  const view = document.getElementById("view");
  // A part a view leaves out is null: nothing, not the text "null"
  const parts = children.filter((c) => c !== null && c !== undefined).map((c) => (c instanceof Node ? c : document.createTextNode(String(c))));
  // A part already in its place stays there: taken out and put back, a button pressed as the view's data
  // arrived would lose the click, and a field being typed in its focus.
  parts.forEach((part, i) => { if (view.childNodes[i] !== part) view.insertBefore(part, view.childNodes[i] ?? null); });
  while (view.childNodes.length > parts.length) view.lastChild.remove();
}

export const SHANGHAI = "Asia/Shanghai";

/** "2026-12-06 14:02", in the city's time zone (the server's instants are UTC); "—" for none. */
export function when(iso) {
  if (!iso) return "—";
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: SHANGHAI, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).formatToParts(new Date(iso));
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}`;
}

/** The sign-in form both apps show: phone, "send the code", the SMS code, sign in. ``t`` and ``errorLine``
 * are the app's own (its strings, its wording of refusals); ``signedIn`` runs once the session is made. */
export function signInForm(t, errorLine, signedIn, formClass = null) {
  const [phoneLabel, phone] = field(t("phone"), "input", {
    type: "tel", inputmode: "numeric", autocomplete: "tel", name: "phone", required: true, maxlength: 20,
  });
  const [codeLabel, code] = field(t("sms_code"), "input", {
    inputmode: "numeric", autocomplete: "one-time-code", name: "code", maxlength: 6, required: true,
  });
  const message = h("p", { role: "status" });
  const send = h("button", { type: "button", class: "secondary" }, t("send_code"));
  let challenge = "";
  send.addEventListener("click", async () => {
    message.replaceChildren();
    try {
      const sent = await api.requestCode(phone.value.trim());
      challenge = sent.challenge;
      message.textContent = t("code_sent", { phone: sent.phone, minutes: Math.round(sent.expires_in / 60) });
      code.focus();
    } catch (error) {
      message.replaceChildren(errorLine(error));
    }
  });
  const form = h("form", { novalidate: true, class: formClass }, phoneLabel, h("div", { class: "row" }, h("div", { class: "grow" }, phone), send),
    codeLabel, code, h("p"), h("button", { type: "submit" }, t("sign_in")), message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api.signIn(phone.value.trim(), code.value.trim(), challenge);
      await signedIn();
    } catch (error) {
      message.replaceChildren(errorLine(error));
    }
  });
  return form;
}
